//! `ferry dlq …`: the dead-letter queue from the command line, straight against the store.

use super::output;
use anyhow::Context as _;
use clap::Subcommand;
use ferry_model::TenantId;
use ferry_store::{JobId, Store};
use std::io::Write;

/// `ferry dlq …`.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead-lettered events.
    List {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
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
    },
    /// Discard an event for good, with a reason.
    Discard {
        /// Event key.
        id: String,
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
        DlqCommand::List { tenant: t, json } => {
            let dead = store.dead_letters(tenant(&t)?.as_ref(), 10_000).await?;
            if json {
                output::print(out, &serde_json::to_value(&dead)?, true)?;
                return Ok(());
            }
            writeln!(out, "{} dead-lettered event(s)", dead.len())?;
            for e in dead {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}:{}\tattempts={}\t{}",
                    e.job,
                    e.tenant,
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
        } => {
            let n = store
                .replay_all(tenant(&t)?.as_ref(), "bulk replay from the CLI")
                .await?;
            writeln!(out, "replayed {n} event(s)")?;
        }
        DlqCommand::Replay {
            id: None,
            all: false,
            ..
        } => anyhow::bail!("give an event key or --all"),
        DlqCommand::Discard { id, reason } => {
            let job = JobId::parse(&id).context("event key")?;
            store.discard(job, &reason).await?;
            writeln!(out, "discarded {job}: {reason}")?;
        }
    }
    Ok(())
}
