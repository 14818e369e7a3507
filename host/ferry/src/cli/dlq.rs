//! `ferry dlq …`: the dead-letter queue from the command line, straight against the store.

use super::backlog::Counts;
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
        /// Stay until the replayed events (and whatever else waits, of `--tenant` if given) have run — a progress
        /// bar on a terminal — then print how many finished and how many were dead-lettered again. A host must be
        /// serving: this command only reads the store.
        #[arg(long)]
        wait: bool,
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
                order_number: None,
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
        DlqCommand::Replay {
            id: Some(id), wait, ..
        } => {
            let job = JobId::parse(&id).context("event key")?;
            store.replay(job, "replayed from the CLI").await?;
            writeln!(out, "replayed {job}")?;
            if wait {
                follow_replayed(store, None, 1, out).await?;
            }
        }
        DlqCommand::Replay {
            id: None,
            all: true,
            tenant: t,
            class,
            wait,
        } => {
            let filter = DeadLetterFilter {
                tenant: tenant(&t)?,
                class,
                order_number: None,
            };
            let n = store
                .replay_matching(&filter, "bulk replay from the CLI")
                .await?;
            writeln!(out, "replayed {n} event(s)")?;
            if wait {
                follow_replayed(store, filter.tenant.as_ref(), n, out).await?;
            }
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
                order_number: None,
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

/// Follows `replayed` events (of `tenant`, or every tenant's) until nothing waits, and prints how they ended.
async fn follow_replayed(
    store: &Store,
    tenant: Option<&TenantId>,
    replayed: u64,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let before = Counts::in_store(store, tenant).await?;
    let read = || Counts::in_store(store, tenant);
    let worked = super::backlog::follow(read, &before, replayed, "replay").await?;
    writeln!(
        out,
        "{} event(s) finished since the replay, {} of them dead-lettered again; nothing waits",
        worked.finished, worked.dead
    )?;
    Ok(())
}
