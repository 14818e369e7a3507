//! Runtime limits and cache location.

use std::path::PathBuf;
use std::time::Duration;

/// Configuration of the plugin runtime (the `runtime` section of the app config).
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Directory for precompiled `.cwasm` files; created if missing. Only the host writes here.
    pub cache_dir: PathBuf,
    /// Linear memory cap per plugin instance, in bytes; growth beyond it traps as `MemoryLimit`.
    pub memory_limit_bytes: usize,
    /// Fuel (≈ wasm instructions) one hook call may burn before it traps as `OutOfFuel`.
    pub fuel_per_call: u64,
    /// Wall-clock budget of one hook call, including host imports; enforced by epoch interruption.
    pub call_timeout: Duration,
    /// Epoch tick period; a call is stopped between `call_timeout` and `call_timeout` + one tick.
    pub epoch_tick: Duration,
    /// Largest draft (sum of its string bytes) a plugin may return before it is `InvalidOutput`.
    pub max_output_bytes: usize,
    /// Plugin instances alive at once across all tenants (pooling allocator slots).
    pub max_instances: u32,
    /// Bytes of plugin stdout/stderr kept per call and forwarded to the tenant log.
    pub max_log_bytes: usize,
}

impl RuntimeConfig {
    /// Defaults suited to Rust plugins, caching under `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            memory_limit_bytes: 32 << 20,
            fuel_per_call: 50_000_000,
            call_timeout: Duration::from_secs(2),
            epoch_tick: Duration::from_millis(10),
            max_output_bytes: 1 << 20,
            max_instances: 64,
            max_log_bytes: 16 << 10,
        }
    }
}
