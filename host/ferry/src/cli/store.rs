//! `ferry store purge [--dry-run]`: the retention purge by hand, straight against the store (a host need not run).
//! It purges what a serving host purges every hour (`crate::retention`): done events and discarded dead letters
//! that finished more than `store.keep_done_days` ago, with their history and steps.

use clap::Subcommand;
use ferry_store::{EventState, Store};
use std::io::Write;
use time::format_description::well_known::Rfc3339;

/// `ferry store …`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Purge done events and resolved dead letters older than `store.keep_done_days`, with their history;
    /// unresolved dead letters and the idempotency ledger are kept.
    Purge {
        /// Print what would be purged, and purge nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs one `ferry store` command, printing to `out`.
///
/// # Errors
/// The store failed, or the output could not be written.
pub async fn run(
    store: &Store,
    keep_days: i64,
    cmd: StoreCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let StoreCommand::Purge { dry_run } = cmd;
    let cutoff = crate::retention::cutoff(keep_days);
    let report = store.purge_finished(cutoff, dry_run).await?;
    let kept = store.count_in_state(None, EventState::Dead).await?;
    writeln!(
        out,
        "{} finished before {} (store.keep_done_days = {keep_days}):",
        if dry_run { "would purge" } else { "purged" },
        cutoff.format(&Rfc3339)?
    )?;
    writeln!(out, "  done events ............. {}", report.done_events)?;
    writeln!(
        out,
        "  resolved dead letters ... {}",
        report.discarded_dead_letters
    )?;
    writeln!(out, "  state changes ........... {}", report.transitions)?;
    writeln!(out, "  pipeline steps .......... {}", report.steps)?;
    writeln!(
        out,
        "kept: {kept} unresolved dead letters (replay or discard them), and the idempotency ledger"
    )?;
    Ok(())
}
