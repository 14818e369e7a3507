//! Retention: finished events do not pile up forever. Done events and discarded (resolved) dead letters, with
//! their state history and steps, are purged `store.keep_done_days` after they finished: once when the host
//! starts and then every [`EVERY`]. Dead letters nobody resolved stay until someone replays or discards them, and
//! the idempotency ledger is never purged (it keeps a redelivered old event from writing to FreshBooks again).
//! `ferry store purge` runs the same purge by hand (`--dry-run` only counts).
//!
//! Several hosts on one Postgres each run the schedule; the purges do not conflict (each deletes what is still
//! there, in short batches).

use ferry_store::{PurgeReport, Store};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;
use tracing::{info, warn};

/// How often a serving host purges.
pub const EVERY: Duration = Duration::from_secs(3600);

/// The moment before which a finished event is old enough to purge, `keep_days` from now.
pub fn cutoff(keep_days: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::days(keep_days)
}

/// Purges (or with `dry_run` counts) what finished more than `keep_days` ago.
///
/// # Errors
/// The store failed; batches purged before the failure stay purged.
pub async fn purge(
    store: &Store,
    keep_days: i64,
    dry_run: bool,
) -> Result<PurgeReport, ferry_store::Error> {
    store.purge_finished(cutoff(keep_days), dry_run).await
}

/// Purges at once and then every `every` until `shutdown` turns true; a failed purge is logged and tried again
/// at the next turn.
pub async fn run(
    store: Store,
    keep_days: i64,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match purge(&store, keep_days, false).await {
            Ok(report) if report.is_empty() => {}
            Ok(report) => info!(
                keep_done_days = keep_days,
                done_events = report.done_events,
                discarded_dead_letters = report.discarded_dead_letters,
                transitions = report.transitions,
                steps = report.steps,
                "Retention purged old finished events."
            ),
            Err(error) => warn!(%error, "Retention purge failed; it runs again at the next turn."),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
