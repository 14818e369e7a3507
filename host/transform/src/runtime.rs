//! The process-wide plugin runtime: one Engine, one Linker, loading and caching plugins.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, InstancePre, Linker};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::{v0_1, v0_2};
use crate::cache::CwasmCache;
use crate::config::RuntimeConfig;
use crate::error::{Error, Hook, Result};
use crate::exports::HookExports;
use crate::hooks::HookSet;
use crate::host::{PluginCtx, wasi};

/// Bytes of each pooled linear memory reset in place (copied back from the memory image, or zeroed) when its slot
/// is freed, rather than decommitted and faulted in again by the next instance; anything above is decommitted.
/// With the PAGEMAP_SCAN reset below only the pages the instance wrote count, up to this much: a JavaScript plugin
/// writes about 1–2 MiB of its engine's heap per event (a Rust plugin well under 256 KiB), so 4 MiB keeps all of
/// it. Measured (languages bench, same hour): a JavaScript event took 115 page faults at 256 KiB and 51 at 4 MiB
/// (the same at 16 and 64 MiB: the rest are pages the scan's 32-region limit leaves to madvise); instantiate + one
/// map-item + drop 600 → 475 µs. Without PAGEMAP_SCAN (Linux before 6.7) the first 4 MiB are reset whole, which
/// costs about what the faults it saves cost (same per-event figures). What stays resident is what the last
/// instance of each slot wrote.
const KEEP_RESIDENT_MEMORY: usize = 4 << 20;

/// Bytes of each pooled table zeroed in place on reuse.
const KEEP_RESIDENT_TABLE: usize = 64 << 10;

/// Shared state behind [`PluginRuntime`] and every [`PluginHandle`].
pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    pub(crate) config: RuntimeConfig,
    linker: Linker<PluginCtx>,
    cache: CwasmCache,
    /// Content hash → linked plugin, so re-loading the same bytes (another tenant, a restart of
    /// a chain) costs a hash, not a compile or even a deserialize.
    loaded: Mutex<HashMap<String, Linked>>,
    /// Content hash → the lock its compile holds, so two tenants uploading the same plugin at once compile it
    /// once (the second waits and finds it in `loaded`), while different plugins compile side by side: a
    /// JavaScript or Python component takes seconds of Cranelift and must not hold up a small Rust one.
    compiling: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// Components compiled from their bytes by this runtime (not mapped from the disk cache nor found in
    /// memory): what shows that the same bytes uploaded twice were compiled once.
    compiles: AtomicU64,
    /// Stops the epoch ticker thread when the runtime is dropped.
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// A plugin version linked against the host: ready to instantiate, hooks found.
#[derive(Clone)]
pub(crate) struct Linked {
    pub(crate) pre: InstancePre<PluginCtx>,
    pub(crate) exports: HookExports,
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
    pub(crate) origin: LoadOrigin,
    /// Hooks the plugin declares; the chain never calls the others.
    pub(crate) hooks: HookSet,
    pub(crate) linked: Linked,
    pub(crate) runtime: Arc<RuntimeInner>,
}

impl std::fmt::Debug for PluginHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHandle")
            .field("name", &self.name)
            .field("hash", &self.hash)
            .field("origin", &self.origin)
            .field("hooks", &self.hooks)
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

    /// Whether the plugin implements `hook`. Plugins built with the SDK's
    /// `export_transform!(T: hook, …)` declare their hooks; the chain does not call (or
    /// instantiate) a plugin for a hook it leaves as pass-through. Without a declaration, every
    /// hook counts as implemented.
    pub fn implements(&self, hook: Hook) -> bool {
        self.hooks.contains(hook)
    }

    /// Where this load found the compiled plugin (compiled now, the disk cache, or memory).
    pub fn origin(&self) -> LoadOrigin {
        self.origin
    }

    /// The version of the `ferry:transform` contract the plugin was built against (`0.1.0` or `0.2.0`), found
    /// from the interface it exports. A 0.1.0 plugin gets the 0.1.0 records, without what 0.2.0 added.
    pub fn contract_version(&self) -> &'static str {
        self.linked.exports.contract().version()
    }
}

/// Where [`PluginRuntime::load`] found a plugin's compiled code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadOrigin {
    /// Compiled from the component bytes by this call (and written to the disk cache).
    Compiled,
    /// Mapped from the `.cwasm` disk cache (e.g. after a restart); no compile.
    DiskCache,
    /// Already loaded by this runtime (same content hash); only the handle is new.
    Memory,
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
            .max_memory_size(config.memory_limit_bytes)
            // Reset a freed slot in place rather than madvise + page faults on the next use: halves
            // the cost of a fresh instance for small plugins, a fifth of it for JavaScript ones.
            .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
            .table_keep_resident(KEEP_RESIDENT_TABLE)
            // On Linux 6.7+ the reset above touches only the pages the instance dirtied, found
            // with the PAGEMAP_SCAN ioctl, instead of the whole kept-resident range.
            .pagemap_scan(wasmtime::Enabled::Auto);
        let mut wasm = wasmtime::Config::new();
        wasm.consume_fuel(true)
            .epoch_interruption(true)
            .memory_init_cow(true)
            // Hooks are plain synchronous calls; without the component-model-async machinery a store
            // skips its task bookkeeping on every call into the guest, including each string's
            // `cabi_realloc` (about 5 % of the instructions of an event).
            .concurrency_support(false)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm).map_err(|e| Error::Setup(anyhow::anyhow!("{e}")))?;

        // Both contract versions' imports (`host@0.1.0` and `host@0.2.0`), so a component built against either
        // links; `HookExports::find` tells which one it exports.
        let mut linker = Linker::<PluginCtx>::new(&engine);
        v0_1::Transformer::add_to_linker::<_, HasSelf<PluginCtx>>(&mut linker, |s| s)
            .map_err(|e| Error::Setup(anyhow::anyhow!("link host interface 0.1: {e}")))?;
        v0_2::Transformer::add_to_linker::<_, HasSelf<PluginCtx>>(&mut linker, |s| s)
            .map_err(|e| Error::Setup(anyhow::anyhow!("link host interface 0.2: {e}")))?;
        wasi::add_to_linker(&mut linker)
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
            compiling: Mutex::default(),
            compiles: AtomicU64::new(0),
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

    /// The cheap checks of an upload, done without compiling: the bytes are a component (not precompiled code),
    /// import only our package and the allowed WASI subset, and export the `transform` interface of a contract
    /// version the host runs. Returns the content hash [`PluginRuntime::load`] would give the plugin.
    ///
    /// Passing does not promise that `load` succeeds: a function body that does not validate or a hook with the
    /// wrong signature is only found by compiling and linking.
    ///
    /// # Errors
    /// `InvalidPlugin` naming the cause (the forbidden imports, the missing export, not a component).
    pub fn check(&self, name: &str, bytes: &[u8]) -> Result<String> {
        crate::precheck::precheck(bytes).map_err(|reason| Error::InvalidPlugin {
            plugin: name.to_string(),
            reason,
        })?;
        Ok(hex(&Sha256::digest(bytes)))
    }

    /// Whether loading the component with this content hash costs no compile: it is loaded in memory already,
    /// or its compiled code is in the `.cwasm` cache.
    pub fn is_compiled(&self, hash: &str) -> bool {
        self.memoised(hash).is_some() || self.inner.cache.path(hash).exists()
    }

    /// How many components this runtime has compiled from their bytes (loads served from memory or the disk
    /// cache do not count).
    pub fn compiles(&self) -> u64 {
        self.inner.compiles.load(Ordering::Relaxed)
    }

    /// Load a plugin from component bytes: validate it against our world (0.2.0 or the frozen
    /// 0.1.0, whichever it exports), compile it (or map it
    /// from the `.cwasm` cache) and link it once. Loading the same bytes again (another tenant,
    /// a reloaded chain) reuses the linked plugin; a new runtime over the same cache directory
    /// maps the artifact instead of compiling ([`PluginHandle::origin`] tells which happened).
    ///
    /// # Errors
    /// `InvalidPlugin` naming the cause: not a component, precompiled bytes, an import outside
    /// our world and the allowed WASI set (named), or missing/mistyped exports. A cache write
    /// that fails is logged, not returned: the plugin still works, it is just compiled again on
    /// the next start.
    pub fn load(&self, name: &str, bytes: &[u8]) -> Result<PluginHandle> {
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
        let (linked, origin) = match self.memoised(&hash) {
            Some(linked) => (linked, LoadOrigin::Memory),
            None => {
                let gate = self.compile_gate(&hash);
                // A poisoned lock only means another compile panicked; compiling is still sound.
                let one_compile = gate.lock();
                let found = match self.memoised(&hash) {
                    Some(linked) => Ok((linked, LoadOrigin::Memory)),
                    None => self.compile_or_map(&hash, bytes).inspect(|(linked, _)| {
                        if let Ok(mut m) = self.inner.loaded.lock() {
                            m.insert(hash.clone(), linked.clone());
                        }
                    }),
                };
                drop(one_compile);
                if let Ok(mut gates) = self.inner.compiling.lock() {
                    // Waiters still hold their clone; they find the plugin in `loaded` (or compile again after
                    // a failure, which fails the same way).
                    gates.remove(&hash);
                }
                found.map_err(invalid)?
            }
        };
        tracing::debug!(plugin = name, hash = %hash, ?origin, "Plugin loaded.");
        Ok(PluginHandle {
            name: name.into(),
            hash,
            origin,
            hooks: HookSet::declared_by(bytes),
            linked,
            runtime: self.inner.clone(),
        })
    }

    /// The lock the compile of `hash` holds (made on first use).
    fn compile_gate(&self, hash: &str) -> Arc<Mutex<()>> {
        match self.inner.compiling.lock() {
            Ok(mut gates) => gates.entry(hash.to_owned()).or_default().clone(),
            // Another thread panicked while holding the map: compile without sharing rather than not at all.
            Err(_) => Arc::default(),
        }
    }

    fn memoised(&self, hash: &str) -> Option<Linked> {
        self.inner
            .loaded
            .lock()
            .ok()
            .and_then(|m| m.get(hash).cloned())
    }

    /// Map the plugin from the disk cache, or compile, validate and link it and then cache it.
    /// Nothing that fails validation is ever written to the cache.
    fn compile_or_map(&self, hash: &str, bytes: &[u8]) -> Result<(Linked, LoadOrigin), String> {
        let inner = &self.inner;
        let path = inner.cache.path(hash);
        if path.exists() {
            match inner.cache.load(&inner.engine, &path) {
                Ok(component) => return Ok((self.link(&component)?, LoadOrigin::DiskCache)),
                Err(error) => {
                    tracing::warn!(%error, path = %path.display(), "Cached plugin unusable, recompiling.");
                }
            }
        }
        inner.compiles.fetch_add(1, Ordering::Relaxed);
        let component =
            Component::new(&inner.engine, bytes).map_err(|e| format!("compile: {e:#}"))?;
        let linked = self.link(&component)?;
        let artifact = component
            .serialize()
            .map_err(|e| format!("serialize: {e:#}"))?;
        if let Err(error) = inner.cache.store(&path, &artifact) {
            // The plugin works without the cache; the next restart just compiles again.
            tracing::warn!(%error, "Could not cache compiled plugin.");
        }
        Ok((linked, LoadOrigin::Compiled))
    }

    /// Check imports, resolve them against the linker, type-check every export once and find
    /// the hooks.
    fn link(&self, component: &Component) -> Result<Linked, String> {
        wasi::check_imports(&self.inner.engine, component)?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(component)
            .map_err(|e| format!("link: {e:#}"))?;
        let exports = HookExports::find(&pre).map_err(|e| {
            format!(
                "not a ferry:transform/transformer@0.2 or @0.1 component (missing or mistyped export): {e}"
            )
        })?;
        Ok(Linked { pre, exports })
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
