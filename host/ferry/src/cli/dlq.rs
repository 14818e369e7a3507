//! `ferry dlq …`: the dead-letter queue from the command line, straight against the store.

use super::output;
use anyhow::Context as _;
use clap::Subcommand;
use ferry_model::ErrorClass;
use ferry_model::TenantId;
use ferry_store::{DeadLetterFilter, JobId, Store};
use std::io::Write;

/// `ferry dlq …`.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead-lettered events.
    List {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Only this error class (validation, plugin, authorization, rate_limit, upstream, not_found, conflict,
        /// review, internal).
        #[arg(long)]
        class: Option<ErrorClass>,
        /// Print JSON instead of tab-separated text.
        #[arg(long)]
        json: bool,
    },
    /// Show one event with every attempt's error.
    Show {
        /// Event key (as listed).
        id: String,
        /// Print JSON instead of tab-separated text.
        #[arg(long)]
        json: bool,
    },
    /// Put events back in the queue (after fixing config or plugins).
    Replay {
        /// Event key; omit with `--all`.
        id: Option<String>,
        /// Replay every dead-lettered event (of `--tenant`, if given).
        #[arg(long)]
        all: bool,
        /// Only this tenant (with `--all`).
        #[arg(long)]
        tenant: Option<String>,
        /// Only this error class (with `--all`).
        #[arg(long)]
        class: Option<ErrorClass>,
    },
    /// Discard an event for good, with a reason.
    Discard {
        /// Event key; omit with `--all`.
        id: Option<String>,
        /// Discard every dead-lettered event (of `--tenant` and `--class`, if given).
        #[arg(long)]
        all: bool,
        /// Only this tenant (with `--all`).
        #[arg(long)]
        tenant: Option<String>,
        /// Only this error class (with `--all`).
        #[arg(long)]
        class: Option<ErrorClass>,
        /// Why it is discarded.
        #[arg(long)]
        reason: String,
    },
}

/// Runs one `dlq` subcommand, writing a human-readable answer to `out`.
///
/// # Errors
/// Store failures, an unknown event or a malformed tenant id.
pub async fn run(store: &Store, cmd: DlqCommand, out: &mut impl Write) -> anyhow::Result<()> {
    let tenant = |t: &Option<String>| {
        t.as_deref()
            .map(TenantId::parse)
            .transpose()
            .context("--tenant")
    };
    match cmd {
        DlqCommand::List {
            tenant: t,
            class,
            json,
        } => {
            let filter = DeadLetterFilter {
                tenant: tenant(&t)?,
                class,
            };
            let dead = store.dead_letters_matching(&filter, 10_000).await?;
            if json {
                output::print(out, &serde_json::to_value(&dead)?, true)?;
                return Ok(());
            }
            writeln!(out, "{} dead-lettered event(s)", dead.len())?;
            for e in dead {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}:{}\tattempts={}\t{}",
                    e.job,
                    e.tenant,
                    e.error_class.map_or("-", ErrorClass::as_str),
                    e.kind,
                    e.object_type,
                    e.object_id,
                    e.attempts,
                    e.last_error.as_deref().unwrap_or("")
                )?;
            }
        }
        DlqCommand::Show { id, json } => {
            let job = JobId::parse(&id).context("event key")?;
            let detail = store.dead_letter_detail(job).await?;
            output::print(out, &serde_json::to_value(&detail)?, json)?;
        }
        DlqCommand::Replay { id: Some(id), .. } => {
            let job = JobId::parse(&id).context("event key")?;
            store.replay(job, "replayed from the CLI").await?;
            writeln!(out, "replayed {job}")?;
        }
        DlqCommand::Replay {
            id: None,
            all: true,
            tenant: t,
            class,
        } => {
            let filter = DeadLetterFilter {
                tenant: tenant(&t)?,
                class,
            };
            let n = store
                .replay_matching(&filter, "bulk replay from the CLI")
                .await?;
            writeln!(out, "replayed {n} event(s)")?;
        }
        DlqCommand::Replay {
            id: None,
            all: false,
            ..
        } => anyhow::bail!("give an event key or --all"),
        DlqCommand::Discard {
            id: Some(id),
            reason,
            ..
        } => {
            let job = JobId::parse(&id).context("event key")?;
            store.discard(job, &reason).await?;
            writeln!(out, "discarded {job}: {reason}")?;
        }
        DlqCommand::Discard {
            id: None,
            all: true,
            tenant: t,
            class,
            reason,
        } => {
            if reason.trim().is_empty() {
                anyhow::bail!("--reason must not be empty");
            }
            let filter = DeadLetterFilter {
                tenant: tenant(&t)?,
                class,
            };
            let n = store.discard_matching(&filter, &reason).await?;
            writeln!(out, "discarded {n} event(s): {reason}")?;
        }
        DlqCommand::Discard {
            id: None,
            all: false,
            ..
        } => anyhow::bail!("give an event key or --all"),
    }
    Ok(())
}
