//! The `[admin]` section: the per-token rate limit, the plugin upload size limit and how often changes made through
//! other hosts are picked up.

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
    /// How often, in milliseconds, this host looks for tenants and plugin versions that another host on the same
    /// database created, replaced, deleted or activated, and starts serving them; 0 turns it off.
    pub sync_every_ms: u64,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            requests_per_second: 10,
            burst: 50,
            max_plugin_bytes: 8 * 1024 * 1024,
            sync_every_ms: 2_000,
        }
    }
}
