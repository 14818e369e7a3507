//! The worker pool: repeat [`Pipeline::try_execute_batch`] until shutdown, resting briefly when the queue is empty.

use crate::pipeline::{ExecutionOutcome, Pipeline};
use std::time::Duration;
use tokio::sync::watch;
use tracing::warn;

/// How long an idle worker waits before claiming again (new webhooks also wake it).
const IDLE_POLL: Duration = Duration::from_millis(50);

/// Runs the pipeline until `shutdown` turns true. `wake` is notified by ingest when events arrive.
pub async fn run(
    pipeline: Pipeline,
    wake: std::sync::Arc<tokio::sync::Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let idle = match pipeline.try_execute_batch().await {
            Ok(outcomes) => {
                for o in &outcomes {
                    let label = match o {
                        ExecutionOutcome::EmptyQueue => continue,
                        ExecutionOutcome::Completed => "completed",
                        ExecutionOutcome::Retried => "retried",
                        ExecutionOutcome::DeadLettered => "dead_lettered",
                    };
                    metrics::counter!(crate::metrics::RUNS_TOTAL, "outcome" => label).increment(1);
                }
                outcomes.iter().all(|o| *o == ExecutionOutcome::EmptyQueue)
            }
            Err(error) => {
                warn!(%error, "Claim failed.");
                true
            }
        };
        if idle {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
