//! Metric names recorded by the outbound client (labels: `tenant`, `downstream`, `outcome`).

/// Counter: outbound requests by tenant, downstream and outcome (`ok`, `timeout`, `connect`, `transport`, `unauthorized`,
/// `throttled`, `conflict`, `server_error`, `rejected`, `breaker_open`, `invalid`).
pub const REQUESTS_TOTAL: &str = "ferry_outbound_requests_total";
/// Histogram: seconds from send to the end of the reply body, by tenant and downstream.
pub const REQUEST_DURATION_SECONDS: &str = "ferry_outbound_request_duration_seconds";
/// Counter: breaker transitions to open, by tenant and downstream.
pub const BREAKER_OPENED_TOTAL: &str = "ferry_outbound_breaker_opened_total";
