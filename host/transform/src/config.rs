//! Runtime limits and cache location: [`PluginsConfig`] (the host's `[plugins]` section) and the
//! [`RuntimeConfig`] built from it.

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The host's `[plugins]` section: where compiled plugins are cached and how large the instance pool is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// Directory for precompiled plugin artifacts.
    pub cache_dir: PathBuf,
    /// Plugin instances alive at once across all tenants (the pooling allocator's slots). An event that finds
    /// them all taken is retried later; size it to about `worker.concurrency` × the longest chain.
    pub max_instances: u32,
    /// Largest linear memory of one plugin instance, in MiB (the size of a pool slot). A tenant's
    /// `limits.plugin_memory_mib` above it is cut to it.
    pub max_memory_mib: u32,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        Self {
            cache_dir: PathBuf::from(".ferry/plugin-cache"),
            max_instances: 64,
            max_memory_mib: 64,
        }
    }
}

impl PluginsConfig {
    /// The runtime configuration: these settings over the defaults of [`RuntimeConfig::new`].
    pub fn runtime(&self) -> RuntimeConfig {
        RuntimeConfig {
            max_instances: self.max_instances,
            memory_limit_bytes: mib(self.max_memory_mib),
            ..RuntimeConfig::new(self.cache_dir.clone())
        }
    }
}

/// `n` MiB in bytes.
pub(crate) fn mib(n: u32) -> usize {
    usize::try_from(u64::from(n) << 20).unwrap_or(usize::MAX)
}

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
