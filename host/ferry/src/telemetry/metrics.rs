//! Metric names (one place, `ferry_<stage>_<what>_<unit>`), their HELP texts, and the Prometheus exporter behind
//! `/metrics`. The stage crates record their own families (`ferry_ingest::metrics`, `ferry_outbound::metrics`);
//! the gauges that describe state rather than events (events per state, breaker states) are read when `/metrics`
//! is scraped ([`refresh`]), so they are never staler than the scrape.

use ferry_model::TenantId;
use ferry_outbound::{BreakerRegistry, BreakerState};
use ferry_store::{EventState, Store};
use metrics::{KeyName, Recorder as _, SharedString};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::collections::BTreeSet;

/// Counter: runs of an event by how they ended (`outcome` = completed | retried | dead_lettered), per `tenant`.
pub const RUNS_TOTAL: &str = "ferry_worker_runs_total";
/// Counter: the worker's claims, by whether they `found` events (`events` | `none`: a write transaction for
/// nothing).
pub const CLAIMS_TOTAL: &str = "ferry_worker_claims_total";
/// Histogram: seconds each pipeline step took (`step` = extract | validate | anomaly | transform | load), per
/// `tenant`.
pub const STEP_SECONDS: &str = "ferry_pipeline_step_seconds";
/// Gauge: events in each `state`, per `tenant`, read from the store at each scrape.
pub const EVENTS_IN_STATE: &str = "ferry_store_events";
/// Counter: webhooks received, by `result`, per `tenant` (recorded by `ferry_ingest`).
pub const WEBHOOKS_TOTAL: &str = ferry_ingest::metrics::WEBHOOKS_TOTAL;
/// Counter: orders enqueued by polling reconciliation because no webhook covered them, per `tenant`.
pub const RECONCILED_TOTAL: &str = "ferry_reconcile_enqueued_total";
/// Gauge: breaker state per `tenant` and `downstream` (0 closed, 1 half-open, 2 open), read at each scrape.
pub const BREAKER_STATE: &str = "ferry_outbound_breaker_state";
/// Gauge: differences the tenant's latest books audit found, per `tenant` and `class` (0: the books match).
pub const AUDIT_DIFFERENCES: &str = "ferry_audit_differences";
/// Gauge: orders the tenant's latest books audit compared, per `tenant`.
pub const AUDIT_ORDERS: &str = "ferry_audit_orders_checked";
/// Gauge: when the tenant's latest books audit finished (Unix seconds), per `tenant`.
pub const AUDIT_FINISHED_SECONDS: &str = "ferry_audit_finished_timestamp_seconds";
/// Counter: plugin log lines dropped because the writer fell behind (the queue was full), per `tenant`.
pub const PLUGIN_LOG_DROPPED: &str = "ferry_transform_plugin_log_dropped_total";

/// Counter: orders synced to FreshBooks for the first time (what usage counts as an order synced), per `tenant`.
pub const USAGE_ORDERS_SYNCED_TOTAL: &str = "ferry_usage_orders_synced_total";
/// Counter: HTTP calls made to a billed `downstream` (`freshbooks`, `kentico`), per `tenant`, counted when they are
/// added to the store's usage (every `[usage] flush_every_ms`).
pub const USAGE_CALLS_TOTAL: &str = "ferry_usage_calls_total";

/// Bucket bounds in seconds of every `*_seconds` histogram: from a cached plugin call (sub-millisecond) to a
/// FreshBooks call that waited out a timeout.
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Each family's kind and HELP text.
const DESCRIPTIONS: &[(&str, Kind, &str)] = &[
    (
        PLUGIN_LOG_DROPPED,
        Kind::Counter,
        "Plugin log lines dropped because the store writer fell behind, per tenant.",
    ),
    (
        RUNS_TOTAL,
        Kind::Counter,
        "Runs of an event by how they ended (completed, retried, dead_lettered), per tenant.",
    ),
    (
        CLAIMS_TOTAL,
        Kind::Counter,
        "The worker's claims, by whether they found events (events) or not (none).",
    ),
    (
        STEP_SECONDS,
        Kind::Histogram,
        "Seconds each pipeline step took (extract, validate, anomaly, transform, load), per tenant.",
    ),
    (
        EVENTS_IN_STATE,
        Kind::Gauge,
        "Events in the store in each state, per tenant.",
    ),
    (
        WEBHOOKS_TOTAL,
        Kind::Counter,
        "Webhooks received, by result (accepted, duplicate, or the refusal's error code), per tenant.",
    ),
    (
        RECONCILED_TOTAL,
        Kind::Counter,
        "Orders and customers enqueued by polling reconciliation because no webhook covered them, per tenant.",
    ),
    (
        AUDIT_DIFFERENCES,
        Kind::Gauge,
        "Differences the latest books audit found, per tenant and class (0: FreshBooks matches Kentico).",
    ),
    (
        AUDIT_ORDERS,
        Kind::Gauge,
        "Orders the latest books audit compared, per tenant.",
    ),
    (
        AUDIT_FINISHED_SECONDS,
        Kind::Gauge,
        "When the latest books audit finished (Unix seconds), per tenant.",
    ),
    (
        BREAKER_STATE,
        Kind::Gauge,
        "Circuit breaker state per tenant and downstream: 0 closed, 1 half-open, 2 open.",
    ),
    (
        USAGE_ORDERS_SYNCED_TOTAL,
        Kind::Counter,
        "Orders synced to FreshBooks for the first time (usage: what an operator bills on), per tenant.",
    ),
    (
        USAGE_CALLS_TOTAL,
        Kind::Counter,
        "Calls made to FreshBooks and Kentico (usage: what an operator bills on), per tenant and downstream.",
    ),
    (
        ferry_outbound::metrics::REQUESTS_TOTAL,
        Kind::Counter,
        "Outbound calls by tenant, downstream and outcome (ok or the error class).",
    ),
    (
        ferry_outbound::metrics::REQUEST_DURATION_SECONDS,
        Kind::Histogram,
        "Seconds from sending an outbound call to the end of its reply, by tenant and downstream.",
    ),
    (
        ferry_outbound::metrics::BREAKER_OPENED_TOTAL,
        Kind::Counter,
        "Times a circuit breaker opened, by tenant and downstream.",
    ),
];

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every state an event can be in, so a state that empties reads 0 instead of keeping its last count.
const STATES: [EventState; 7] = [
    EventState::Received,
    EventState::Queued,
    EventState::Running,
    EventState::Retrying,
    EventState::Done,
    EventState::Dead,
    EventState::Discarded,
];

/// Installs the global recorder once and returns the handle that renders `/metrics`.
pub fn install() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests in one process); the handle still renders ours.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The recorder: histograms (not summaries) for every `*_seconds` family, and a HELP line for every family.
fn build_recorder() -> PrometheusRecorder {
    let builder = PrometheusBuilder::new();
    // Buckets are only refused when empty; these are not.
    let builder = builder
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), SECONDS_BUCKETS)
        .unwrap_or_else(|_| PrometheusBuilder::new());
    let recorder = builder.build_recorder();
    for (name, kind, help) in DESCRIPTIONS {
        let key = KeyName::from_const_str(name);
        let help = SharedString::const_str(help);
        match kind {
            Kind::Counter => recorder.describe_counter(key, None, help),
            Kind::Gauge => recorder.describe_gauge(key, None, help),
            Kind::Histogram => recorder.describe_histogram(key, None, help),
        }
    }
    recorder
}

/// Sets the scrape-time gauges: events per tenant and state from the store (0 for the states a tenant has no
/// events in, for every tenant in the store or in `tenants`), and every breaker's state.
///
/// # Errors
/// The store could not be read; the breaker gauges are set all the same.
pub async fn refresh(
    store: &Store,
    breakers: &BreakerRegistry,
    tenants: impl IntoIterator<Item = TenantId>,
) -> Result<(), ferry_store::Error> {
    for b in breakers.snapshot() {
        let value = match b.state {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        };
        metrics::gauge!(BREAKER_STATE, "tenant" => b.key.tenant, "downstream" => b.key.downstream)
            .set(value);
    }
    let counts = store.count_by_tenant_and_state().await?;
    let tenants: BTreeSet<TenantId> = tenants
        .into_iter()
        .chain(counts.iter().map(|(t, _, _)| t.clone()))
        .collect();
    for tenant in &tenants {
        for state in STATES {
            let n = counts
                .iter()
                .find(|(t, s, _)| t == tenant && *s == state)
                .map_or(0, |(_, _, n)| *n);
            metrics::gauge!(EVENTS_IN_STATE, "tenant" => tenant.to_string(), "state" => state.as_str())
                .set(n as f64);
        }
    }
    Ok(())
}
