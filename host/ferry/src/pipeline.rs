//! The pipeline: claim an event → extract from Kentico → validate → map → tenant plugins → load into FreshBooks,
//! then answer the store (done, retry later, or dead-letter).
//!
//! [`Pipeline::try_execute_job`] claims and runs one event, so tests can drive the pipeline one event at a time;
//! the worker pool in `worker` claims with [`Pipeline::claim`] and runs each event with `run_claimed`.
//!
//! Layout:
//! - `process`: what one event does, stage by stage (extract → validate → anomaly → transform → load).
//! - `payment`: a FreshBooks payment or invoice event written back to the Kentico order (the other direction).
//! - `anomaly`: the tenant's anomaly checks, which hold an unusual order for review, and the history they use.
//! - `catalogue`: `sku.*` events (a SKU's FreshBooks item, with its stock) and customers' clients before any order.
//! - `step`: the error of one run, classified for retry or dead-letter.

mod anomaly;
mod catalogue;
mod payment;
mod process;
mod step;

pub(crate) use process::conversion;
pub use step::StepError;

use crate::services::ExchangeClient;
use crate::tenants::Tenants;
use ferry_alert::Alerts;
use ferry_model::Disposition;
use ferry_outbound::{AdaptiveLimits, Backoff};
use ferry_store::{ClaimBatch, ClaimRequest, Claimed, Outcome, Store, WorkWaiter};
use std::sync::Arc;
use std::time::Duration;
use tracing::{Instrument, info_span, warn};

/// When an event of a disconnected tenant is due again; the claim skips the tenant until it is reconnected, so
/// this only says how soon after a reconnect it runs.
const DISCONNECTED_RECHECK: Duration = Duration::from_secs(1);

/// What one step of the worker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionOutcome {
    /// Nothing was ready.
    EmptyQueue,
    /// The event finished: FreshBooks is in sync.
    Completed,
    /// The event failed transiently and was scheduled again.
    Retried,
    /// The event was parked in the dead-letter queue.
    DeadLettered,
}

/// Retry policy of the worker.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts before an event is dead-lettered.
    pub max_attempts: u32,
    /// Delay between attempts.
    pub backoff: Backoff,
    /// Times the load runs again within an attempt when FreshBooks failed in passing, before the attempt ends.
    pub load_retries: u32,
    /// Pause before such a rerun; a longer `Retry-After` than its cap ends the attempt instead.
    pub load_backoff: Backoff,
}

/// Everything a worker needs; cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    pub(crate) store: Store,
    pub(crate) tenants: Tenants,
    pub(crate) exchange: Arc<ExchangeClient>,
    pub(crate) retry: RetryPolicy,
    pub(crate) claim: ClaimRequest,
    /// Told of every dead letter and of plugin failures (`ferry_alert`); sends nothing unless set.
    pub(crate) alerts: Alerts,
    /// Each tenant's concurrency window (AIMD on FreshBooks' 429s) under its operator limit; the worker claims a
    /// paused tenant's events only once its `Retry-After` has passed.
    pub(crate) adaptive: AdaptiveLimits,
}

impl Pipeline {
    /// Builds a pipeline; `claim` says who claims, for how long, and the tenant limits.
    pub fn new(
        store: Store,
        tenants: Tenants,
        exchange: Arc<ExchangeClient>,
        retry: RetryPolicy,
        claim: ClaimRequest,
    ) -> Self {
        Self {
            store,
            tenants,
            exchange,
            retry,
            claim,
            alerts: Alerts::disabled(),
            adaptive: AdaptiveLimits::new(),
        }
    }

    /// Reads each tenant's concurrency window from `adaptive` (the outbound client's, which its calls feed).
    #[must_use]
    pub fn with_adaptive_limits(mut self, adaptive: AdaptiveLimits) -> Self {
        self.adaptive = adaptive;
        self
    }

    /// Reports dead letters and plugin failures to `alerts`.
    #[must_use]
    pub fn with_alerts(mut self, alerts: Alerts) -> Self {
        self.alerts = alerts;
        self
    }

    /// The store this pipeline answers to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Claims up to `max` ready events (fewer when the tenants' limits say so), and says whether a limit held
    /// ready events back ([`ClaimBatch::held_back`]). The signals `waiter` saw raised before the claim reads are
    /// answered by it.
    ///
    /// # Errors
    /// A store error while claiming (the events stay queued).
    pub async fn claim(
        &self,
        max: usize,
        waiter: &mut WorkWaiter,
    ) -> Result<ClaimBatch, ferry_store::Error> {
        let batch = self
            .store
            .claim_batch(&self.claim_request(max), Some(waiter))
            .await?;
        let found = if batch.events.is_empty() {
            "none"
        } else {
            "events"
        };
        metrics::counter!(crate::telemetry::metrics::CLAIMS_TOTAL, "found" => found).increment(1);
        Ok(batch)
    }

    /// The claim request for up to `max` events, with the limit of every tenant serving right now (tenants come
    /// and go through the admin API): its adaptive window, at most its `limits.concurrency`, and none while
    /// FreshBooks' `Retry-After` pauses it.
    fn claim_request(&self, max: usize) -> ClaimRequest {
        let mut req = self.claim.clone();
        req.max = max;
        for t in self.tenants.all() {
            let operator = u32::try_from(t.config.limits.concurrency).unwrap_or(u32::MAX);
            let limit = self.adaptive.limit(t.id.as_str(), operator);
            req.tenant_limits.entry(t.id.clone()).or_insert(limit);
        }
        req
    }

    /// Claims one event and runs it to an answer.
    ///
    /// # Errors
    /// A store error while claiming.
    pub async fn try_execute_job(&self) -> Result<ExecutionOutcome, ferry_store::Error> {
        let Some(claimed) = self.store.claim(&self.claim_request(1)).await?.pop() else {
            return Ok(ExecutionOutcome::EmptyQueue);
        };
        Ok(self.run_claimed(claimed).await)
    }

    /// Runs a claimed event to an answer, renewing its lease while it runs so that a slow event (a long
    /// `Retry-After`, a slow downstream) is not taken over by another worker or host.
    pub(crate) async fn run_claimed(&self, claimed: Claimed) -> ExecutionOutcome {
        let ev = &claimed.event;
        let span = info_span!("job", tenant_id = %ev.tenant, job_id = ev.job.0, event_id = %ev.event_id,
            kind = %ev.kind, attempt = claimed.lease.attempt);
        async {
            // On the heap: the stages' future is large (in a debug build it overflowed the 2 MiB stack of a test
            // that steps the pipeline on its own thread), and one allocation per event costs nothing next to it.
            let mut work = Box::pin(self.process(&claimed));
            let lease = self.claim.lease;
            let mut beat = tokio::time::interval(lease / 3);
            beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            beat.tick().await;
            let result = loop {
                tokio::select! {
                    result = &mut work => break result,
                    _ = beat.tick() => {
                        if let Err(error) = self.store.extend_lease(&claimed.lease, lease).await {
                            warn!(%error, "Could not renew the lease.");
                        }
                    }
                }
            };
            let plugin_failed =
                matches!(&result, Err(e) if e.class() == ferry_model::ErrorClass::Plugin);
            self.alerts.plugin_run(&claimed.event.tenant, plugin_failed);
            let outcome = self.settle(&claimed, result).await;
            count_run(&claimed.event.tenant, outcome);
            outcome
        }
        .instrument(span)
        .await
    }

    /// Marks `tenant` disconnected (logged once, by the host that marks it). A failure to record it is logged;
    /// the event still waits, and the next refused event tries again.
    async fn disconnect(&self, tenant: &ferry_model::TenantId, reason: &str) {
        let Some(t) = self.tenants.get(tenant) else {
            return;
        };
        let account = &t.config.freshbooks.account_id;
        match self
            .store
            .mark_disconnected(tenant, account, &t.credentials_digest(), reason)
            .await
        {
            Ok(true) => warn!(
                %tenant,
                account,
                reason,
                "FreshBooks refused the tenant's authorization: the tenant is disconnected and its events wait \
                 until it is reconnected (`ferry connect freshbooks <tenant>`, or a fixed client secret)."
            ),
            Ok(false) => {}
            Err(error) => warn!(%error, %tenant, "Could not record the tenant as disconnected."),
        }
    }

    /// Parks the event in the dead-letter queue under `class` and tells the alerts.
    async fn dead_letter(
        &self,
        claimed: &Claimed,
        reason: &str,
        class: ferry_model::ErrorClass,
    ) -> Result<ExecutionOutcome, ferry_store::Error> {
        self.store
            .dead_letter(&claimed.lease, reason, class)
            .await?;
        self.alerts.dead_lettered(&claimed.event.tenant, class);
        Ok(ExecutionOutcome::DeadLettered)
    }

    /// Tells the store how the run ended. A failure to record leaves the lease to expire (the event is retried).
    async fn settle(
        &self,
        claimed: &Claimed,
        result: Result<Outcome, StepError>,
    ) -> ExecutionOutcome {
        let lease = &claimed.lease;
        let answered = match result {
            Ok(outcome) => self.store.complete(lease, &outcome).await.map(|()| {
                Self::count_synced(claimed);
                ExecutionOutcome::Completed
            }),
            Err(error) => {
                let message = error.to_string();
                let class = error.class();
                match error.disposition() {
                    Disposition::DeadLetter { reason } => {
                        warn!(error = %message, %class, "Dead-lettered.");
                        self.dead_letter(claimed, &reason, class).await
                    }
                    Disposition::Disconnected { reason } => {
                        // Every event of the tenant would be refused the same way: it waits, unclaimed, until
                        // the tenant is reconnected; the attempt is not spent.
                        self.disconnect(&claimed.event.tenant, &reason).await;
                        self.store
                            .defer(lease, DISCONNECTED_RECHECK, &message)
                            .await
                            .map(|()| ExecutionOutcome::Retried)
                    }
                    Disposition::Retry { after } if !error.burns_attempt() => {
                        // The breaker is open: wait for it without spending one of the event's attempts.
                        let wait = after.unwrap_or(Duration::from_secs(1));
                        self.store
                            .defer(lease, wait, &message)
                            .await
                            .map(|()| ExecutionOutcome::Retried)
                    }
                    Disposition::Retry { .. } if lease.attempt >= self.retry.max_attempts => {
                        let reason = format!("gave up after {} attempts: {message}", lease.attempt);
                        warn!(error = %message, %class, "Retries exhausted; dead-lettered.");
                        self.dead_letter(claimed, &reason, class).await
                    }
                    Disposition::Retry { after } => {
                        let delay = self
                            .retry
                            .backoff
                            .delay(lease.attempt.saturating_sub(1), after);
                        warn!(error = %message, delay_ms = delay.as_millis() as u64, "Retry scheduled.");
                        self.store
                            .retry(lease, delay, &message)
                            .await
                            .map(|()| ExecutionOutcome::Retried)
                    }
                }
            }
        };
        answered.unwrap_or_else(|error| {
            warn!(%error, "Could not record the outcome; the lease will expire and the event run again.");
            ExecutionOutcome::Retried
        })
    }
}

/// Counts a run by how it ended, for its tenant (`ferry_worker_runs_total`).
fn count_run(tenant: &ferry_model::TenantId, outcome: ExecutionOutcome) {
    let label = match outcome {
        ExecutionOutcome::EmptyQueue => return,
        ExecutionOutcome::Completed => "completed",
        ExecutionOutcome::Retried => "retried",
        ExecutionOutcome::DeadLettered => "dead_lettered",
    };
    metrics::counter!(crate::telemetry::metrics::RUNS_TOTAL, "tenant" => tenant.to_string(), "outcome" => label)
        .increment(1);
}
