//! The process-wide plugin runtime: one Engine, one Linker, loading and caching plugins.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::v0_1::{Transformer, TransformerPre};
use crate::cache::CwasmCache;
use crate::config::RuntimeConfig;
use crate::error::{Error, Result};
use crate::host::PluginCtx;

/// Imports a plugin may have besides our own `host`/`types`. Rust's `wasm32-wasip2` std pulls
/// in `wasi:cli` and `wasi:io` even when unused; they are linked against a WASI context with no
/// preopens, no environment and no network, stdout/stderr captured. `wasi:random` is allowed
/// because std's `HashMap` seeds from it. Filesystem, sockets, clocks and HTTP are refused.
const ALLOWED_IMPORT_PREFIXES: &[&str] = &[
    "ferry:transform/host@0.1.",
    "ferry:transform/types@0.1.",
    "wasi:cli/",
    "wasi:io/",
    "wasi:random/",
];

/// Shared state behind [`PluginRuntime`] and every [`PluginHandle`].
pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    pub(crate) config: RuntimeConfig,
    linker: Linker<PluginCtx>,
    cache: CwasmCache,
    /// Content hash → linked plugin, so re-loading the same bytes (another tenant, a restart of
    /// a chain) costs a hash, not a compile or even a deserialize.
    loaded: Mutex<HashMap<String, TransformerPre<PluginCtx>>>,
    /// Stops the epoch ticker thread when the runtime is dropped.
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// Loads, validates, compiles and caches plugins; cheap to clone and share across threads.
#[derive(Clone)]
pub struct PluginRuntime {
    inner: Arc<RuntimeInner>,
}

/// A loaded plugin version, ready to instantiate; cheap to clone.
#[derive(Clone)]
pub struct PluginHandle {
    pub(crate) name: Arc<str>,
    pub(crate) hash: String,
    pub(crate) pre: TransformerPre<PluginCtx>,
    pub(crate) runtime: Arc<RuntimeInner>,
}

impl std::fmt::Debug for PluginHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHandle")
            .field("name", &self.name)
            .field("hash", &self.hash)
            .finish()
    }
}

impl PluginHandle {
    /// Plugin name given at load.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// SHA-256 of the component bytes (hex): the plugin version.
    pub fn content_hash(&self) -> &str {
        &self.hash
    }
}

impl PluginRuntime {
    /// Build the engine (pooling allocator, fuel, epoch interruption), the linker and the cache,
    /// and start the epoch ticker thread.
    ///
    /// # Errors
    /// `Setup` if wasmtime rejects the configuration (e.g. the pool's address space cannot be
    /// reserved), `Cache` if the cache directory cannot be created.
    pub fn new(config: RuntimeConfig) -> Result<Self> {
        let n = config.max_instances.max(1);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(n)
            // a Rust wasip2 component is its main module plus a few adapter/shim instances
            .total_core_instances(n * 8)
            .total_memories(n * 2)
            .total_tables(n * 4)
            .max_memory_size(config.memory_limit_bytes);
        let mut wasm = wasmtime::Config::new();
        wasm.consume_fuel(true)
            .epoch_interruption(true)
            .memory_init_cow(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm).map_err(|e| Error::Setup(anyhow::anyhow!("{e}")))?;

        let mut linker = Linker::<PluginCtx>::new(&engine);
        Transformer::add_to_linker::<_, HasSelf<PluginCtx>>(&mut linker, |s| s)
            .map_err(|e| Error::Setup(anyhow::anyhow!("link host interface: {e}")))?;
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| Error::Setup(anyhow::anyhow!("link wasi: {e}")))?;

        let cache = CwasmCache::open(&config.cache_dir, &engine)?;
        let stop_ticker = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop_ticker.clone();
            let tick = config.epoch_tick;
            std::thread::Builder::new()
                .name("ferry-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| Error::Setup(anyhow::anyhow!("spawn epoch ticker: {e}")))?;
        }
        let inner = RuntimeInner {
            engine,
            config,
            linker,
            cache,
            loaded: Mutex::default(),
            stop_ticker,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// Load a plugin from component bytes: validate it against our world, compile it (or map it
    /// from the `.cwasm` cache) and link it once.
    ///
    /// # Errors
    /// `InvalidPlugin` naming the cause: not a component, precompiled bytes, an import outside
    /// our world and the allowed WASI set (named), or missing/mistyped exports. `Cache` if the
    /// compiled artifact cannot be written.
    pub fn load(&self, name: &str, bytes: &[u8]) -> Result<PluginHandle> {
        let inner = &self.inner;
        let invalid = |reason: String| Error::InvalidPlugin {
            plugin: name.to_string(),
            reason,
        };
        if Engine::detect_precompiled(bytes).is_some() {
            return Err(invalid(
                "precompiled artifacts are not accepted, upload the .wasm component".into(),
            ));
        }
        let hash = hex(&Sha256::digest(bytes));
        let memo = inner.loaded.lock().ok().and_then(|m| m.get(&hash).cloned());
        let pre = match memo {
            Some(pre) => pre,
            None => {
                let path = inner.cache.path(&hash);
                let cached = if path.exists() {
                    inner.cache.load(&inner.engine, &path).ok()
                } else {
                    None
                };
                let component = match cached {
                    Some(c) => c,
                    None => {
                        let c = Component::new(&inner.engine, bytes)
                            .map_err(|e| invalid(format!("compile: {e}")))?;
                        check_imports(&inner.engine, &c).map_err(invalid)?;
                        let art = c
                            .serialize()
                            .map_err(|e| invalid(format!("serialize: {e}")))?;
                        inner.cache.store(&path, &art)?;
                        c
                    }
                };
                let pre = self.link(&component).map_err(invalid)?;
                if let Ok(mut m) = inner.loaded.lock() {
                    m.insert(hash.clone(), pre.clone());
                }
                pre
            }
        };
        Ok(PluginHandle {
            name: name.into(),
            hash,
            pre,
            runtime: inner.clone(),
        })
    }

    /// Check imports, resolve them against the linker and type-check exports.
    fn link(&self, component: &Component) -> Result<TransformerPre<PluginCtx>, String> {
        check_imports(&self.inner.engine, component)?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(component)
            .map_err(|e| format!("link: {e:#}"))?;
        TransformerPre::new(pre)
            .map_err(|e| format!("not a ferry:transform/transformer@0.1 component: {e:#}"))
    }
}

fn check_imports(engine: &Engine, component: &Component) -> Result<(), String> {
    let ty = component.component_type();
    let forbidden: Vec<&str> = ty
        .imports(engine)
        .map(|(name, _)| name)
        .filter(|name| !ALLOWED_IMPORT_PREFIXES.iter().any(|p| name.starts_with(p)))
        .collect();
    if forbidden.is_empty() {
        Ok(())
    } else {
        Err(format!("forbidden import(s): {}", forbidden.join(", ")))
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
