//! The `ingest` section of Ferry's config.

use serde::Deserialize;

/// Limits of the webhook intake.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Largest accepted body in bytes; larger requests get 413 `payload_too_large`. Envelopes are thin
    /// (ids only), so the default is generous.
    pub max_body_bytes: usize,
    /// Largest allowed distance between `webhook-timestamp` and now, in seconds (replay protection).
    pub timestamp_tolerance_secs: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            timestamp_tolerance_secs: 300,
        }
    }
}
