//! The `[admin]` section: the per-token rate limit and the plugin upload size limit.

use serde::Deserialize;

/// Admin API settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Requests per second each admin token may make (sustained); 0 disables the limit.
    pub requests_per_second: u32,
    /// Requests a token may make in a burst above the sustained rate.
    pub burst: u32,
    /// Largest plugin component accepted by an upload, in bytes (larger uploads get 413).
    pub max_plugin_bytes: usize,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            requests_per_second: 10,
            burst: 50,
            max_plugin_bytes: 8 * 1024 * 1024,
        }
    }
}
