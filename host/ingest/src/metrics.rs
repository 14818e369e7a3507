//! Metric names recorded by the webhook intake.

/// Counter: webhooks received, by `tenant` and `result` (`accepted`, `duplicate`, or the refusal's error code such
/// as `bad_signature`). A webhook for a tenant this host does not serve counts under `tenant="(unknown)"`, so that
/// made-up names in the URL cannot grow the label set.
pub const WEBHOOKS_TOTAL: &str = "ferry_ingest_webhooks_total";

/// The `tenant` label of a webhook for a tenant this host does not serve (no tenant id has parentheses).
pub const UNKNOWN_TENANT: &str = "(unknown)";
