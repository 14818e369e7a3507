//! Metric names (one place, `ferry_<stage>_<what>_<unit>`) and the Prometheus exporter behind `/metrics`.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Events by final answer of a run (`outcome` = completed | retried | dead_lettered), per tenant.
pub const RUNS_TOTAL: &str = "ferry_worker_runs_total";
/// Duration of each pipeline step (`step` = extract | validate | transform | load).
pub const STEP_SECONDS: &str = "ferry_pipeline_step_seconds";
/// Events in each state, per tenant (gauge, refreshed periodically).
pub const EVENTS_IN_STATE: &str = "ferry_store_events";
/// Webhooks received, by result.
pub const WEBHOOKS_TOTAL: &str = "ferry_ingest_webhooks_total";
/// Orders enqueued by polling reconciliation because no webhook covered them.
pub const RECONCILED_TOTAL: &str = "ferry_reconcile_enqueued_total";
/// Breaker state per tenant and downstream (0 closed, 1 half-open, 2 open).
pub const BREAKER_STATE: &str = "ferry_outbound_breaker_state";

/// Installs the global recorder once and returns the handle that renders `/metrics`.
pub fn install() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests in one process); the handle still renders ours.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
