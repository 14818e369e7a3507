//! The worker pool: one dispatcher claims events as run slots free up and runs each on its own task, with a
//! lease heartbeat, until shutdown. Idle, it sleeps on the store's work signal (an insert, a replay, a finished
//! predecessor; on Postgres also other hosts' `NOTIFY`), or, when its last claim found a tenant's limit holding
//! ready events back, until one of its own events finishes (that frees a slot of the event's tenant, which may have
//! been all the claim lacked), and polls only for work that becomes ready by time.

use crate::pipeline::Pipeline;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tracing::{info, warn};

/// Longest idle sleep: retries whose backoff ends and expired leases are found by this poll.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// Events claimed in one store round trip at most.
const CLAIM_BATCH: usize = 16;

/// How long shutdown waits for running events to reach an answer before leaving them to their leases.
const DRAIN: Duration = Duration::from_secs(30);

/// Runs the pipeline with at most `concurrency` events in flight until `shutdown` turns true, then lets the
/// running events finish (up to [`DRAIN`]).
pub async fn run(pipeline: Pipeline, concurrency: usize, mut shutdown: watch::Receiver<bool>) {
    let concurrency = concurrency.max(1);
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut waiter = pipeline.store().work_waiter();
    // Counts this loop's events as they finish (each after its answer committed): a tenant at its running limit
    // can take its next event then. A count, not a `Notify`: the finishes a claim already saw are marked seen
    // before it, where a `Notify` kept a permit from one of them and woke the loop for a claim that found nothing.
    let (finished, mut finishes) = watch::channel(0u64);
    let finished = Arc::new(finished);
    loop {
        if *shutdown.borrow() {
            break;
        }
        let first = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = shutdown.changed() => continue,
        };
        let mut permits = vec![first];
        while permits.len() < CLAIM_BATCH {
            match slots.clone().try_acquire_owned() {
                Ok(p) => permits.push(p),
                Err(_) => break,
            }
        }
        let asked = permits.len();
        // The claim reads everything committed before it: the signals raised until it reads are answered by it, and
        // so are the finishes counted until now.
        finishes.borrow_and_update();
        let (claimed, held_back) = match pipeline.claim(asked, &mut waiter).await {
            Ok(batch) => (batch.events, batch.held_back),
            Err(error) => {
                warn!(%error, "Claim failed.");
                (Vec::new(), true)
            }
        };
        // A claim that filled fewer slots than it had took everything that could run then (the rest waits for
        // time, for an event to finish or for a tenant's slot): claiming again at once would find nothing and
        // cost a write transaction. It waits for the signal instead, which a change since this claim began has
        // already raised.
        let idle = claimed.len() < asked;
        for (event, permit) in claimed.into_iter().zip(permits.drain(..)) {
            let pipeline = pipeline.clone();
            let finished = finished.clone();
            tokio::spawn(async move {
                pipeline.run_claimed(event).await;
                drop(permit);
                finished.send_modify(|n| *n = n.wrapping_add(1));
            });
        }
        drop(permits);
        if idle {
            // One of this loop's events finishing frees a slot of its tenant: that matters only when a tenant's
            // limit held ready events back. Otherwise the claim took all there was, and claiming again when an
            // event finishes (most of them, while the queue keeps up) would find nothing.
            tokio::select! {
                _ = waiter.wait(IDLE_POLL) => {}
                _ = finishes.changed(), if held_back => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN, slots.acquire_many(all))
        .await
        .is_err()
    {
        info!("Shutdown left running events to their leases.");
    }
}
