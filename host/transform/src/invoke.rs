//! The store one event's plugins run in, and the classification of a call's outcome.

use std::sync::Arc;

use wasmtime::component::Instance;
use wasmtime::{Store, Trap};

use crate::context::{TransformCtx, failure};
use crate::error::{Hook, Reason, TransformError};
use crate::host::log_pipe::LogPipe;
use crate::host::{LogLevel, PluginCtx, wasi};
use crate::limits::MemoryCap;
use crate::runtime::{PluginHandle, RuntimeInner};

/// The `Store` of one event: every plugin of the event's chain is instantiated into it on first
/// use (each instance with its own linear memory, capped separately) and it is dropped with the
/// event, so no guest state outlives the order. One store per event rather than per plugin
/// saves a store's set-up and tear-down per plugin; isolation between plugins is the
/// instances' own, since a component instance can only reach its own memory and tables.
///
/// After any failed call the chain run replaces the whole store (a trap may leave it unusable).
pub(crate) struct EventStore {
    store: Store<PluginCtx>,
    runtime: Arc<RuntimeInner>,
    /// Bytes of stdout/stderr already forwarded and dropped bytes already reported, so later
    /// flushes do not repeat lines.
    logged: [(usize, usize); 2],
}

impl EventStore {
    /// A fresh store for `ctx`'s tenant on `runtime`: memory cap, locked-down WASI, captured stdio.
    pub(crate) fn new(runtime: &Arc<RuntimeInner>, ctx: &TransformCtx) -> Self {
        let cfg = &runtime.config;
        let stdout = LogPipe::new(cfg.max_log_bytes);
        let stderr = LogPipe::new(cfg.max_log_bytes);
        let wasi = wasi::locked_down_ctx(stdout.clone(), stderr.clone());
        let data = PluginCtx {
            tenant: ctx.tenant.clone(),
            // Named before every instantiation and call: the plugin that runs.
            plugin: Arc::from(""),
            event: ctx.event.clone(),
            services: ctx.services.clone(),
            wasi,
            table: Default::default(),
            memory: MemoryCap::new(
                ctx.limits
                    .memory_limit_bytes
                    .map_or(cfg.memory_limit_bytes, |m| m.min(cfg.memory_limit_bytes)),
            ),
            stdout,
            stderr,
        };
        let mut store = Store::new(&runtime.engine, data);
        store.limiter(|s| &mut s.memory);
        Self {
            store,
            runtime: runtime.clone(),
            logged: [(0, 0); 2],
        }
    }

    /// The runtime (engine) the store belongs to.
    pub(crate) fn runtime(&self) -> &Arc<RuntimeInner> {
        &self.runtime
    }

    /// Whether `plugin` can be instantiated here (same engine).
    pub(crate) fn serves(&self, plugin: &PluginHandle) -> bool {
        Arc::ptr_eq(&self.runtime, &plugin.runtime)
    }

    /// Instantiate `plugin` into this store.
    pub(crate) fn instantiate(
        &mut self,
        plugin: &PluginHandle,
        ctx: &TransformCtx,
        hook: Hook,
    ) -> Result<Instance, TransformError> {
        self.store.data_mut().plugin = plugin.name.clone();
        let mut out = plugin
            .arm(&mut self.store, ctx)
            .and_then(|()| plugin.linked.pre.instantiate(&mut self.store));
        if out.as_ref().is_err_and(refused_by_the_os) {
            // A module's memory image is made at its first instantiation: on Linux a memfd, sealed read-only. The
            // kernel refused that seal once under a loaded build ("cannot add seals to the memfd"; EBUSY while a
            // page is still briefly pinned) and took it on the next try. A failed image is not kept, so one more
            // try makes it again; a plugin's own fault is no OS error and is not tried twice.
            out = plugin.linked.pre.instantiate(&mut self.store);
        }
        self.flush_logs();
        out.map_err(|e| {
            // A trap in the plugin's own start-up is the plugin's fault; anything else
            // (pool slots exhausted, host resource limits) is host pressure, retried.
            let reason = match classify(&e, self.store.data().memory.hit) {
                Reason::Trapped { detail } if e.downcast_ref::<Trap>().is_none() => {
                    Reason::Unavailable { detail }
                }
                other => other,
            };
            failure(ctx, plugin, hook, reason)
        })
    }

    /// Run one export of `plugin` with a fresh CPU budget and turn the outcome into our error type.
    pub(crate) fn call<R>(
        &mut self,
        plugin: &PluginHandle,
        instance: &Instance,
        ctx: &TransformCtx,
        hook: Hook,
        f: impl FnOnce(&Instance, &mut Store<PluginCtx>) -> wasmtime::Result<R>,
    ) -> Result<R, TransformError> {
        let err = |reason| failure(ctx, plugin, hook, reason);
        self.store.data_mut().plugin = plugin.name.clone();
        if let Err(e) = plugin.arm(&mut self.store, ctx) {
            return Err(err(Reason::Unavailable {
                detail: e.to_string(),
            }));
        }
        let out = f(instance, &mut self.store);
        self.flush_logs();
        out.map_err(|e| err(classify(&e, self.store.data().memory.hit)))
    }

    /// Forward captured stdout/stderr to the tenant log under the plugin that last ran, and say
    /// how much went past the cap.
    fn flush_logs(&mut self) {
        let data = self.store.data();
        let cap = self.runtime.config.max_log_bytes;
        for (i, (pipe, level, stream)) in [
            (&data.stdout, LogLevel::Info, "stdout"),
            (&data.stderr, LogLevel::Warn, "stderr"),
        ]
        .into_iter()
        .enumerate()
        {
            let (bytes, dropped) = pipe.contents();
            let (sent, reported) = self.logged[i];
            if bytes.len() > sent {
                let text = String::from_utf8_lossy(&bytes[sent..]);
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    data.log_line(level, line);
                }
            }
            if dropped > reported {
                let line = format!(
                    "{stream} past the {cap}-byte log cap dropped ({} bytes)",
                    dropped - reported
                );
                data.log_line(LogLevel::Warn, &line);
            }
            self.logged[i] = (bytes.len(), dropped);
        }
    }
}

impl PluginHandle {
    /// Give the store a full CPU budget (the tenant's fuel, else the runtime's) for the next call.
    fn arm(&self, store: &mut Store<PluginCtx>, ctx: &TransformCtx) -> wasmtime::Result<()> {
        let cfg = &self.runtime.config;
        store.set_fuel(ctx.limits.fuel_per_call.unwrap_or(cfg.fuel_per_call))?;
        let tick = cfg.epoch_tick.as_micros().max(1);
        // The next tick may come at any moment, so one extra tick makes the deadline fall
        // between `call_timeout` and `call_timeout + epoch_tick`, never before.
        let ticks = cfg.call_timeout.as_micros().div_ceil(tick) + 1;
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();
        Ok(())
    }
}

/// Map a wasmtime error (a trap) onto the reason we report.
fn classify(e: &wasmtime::Error, memory_hit: bool) -> Reason {
    if memory_hit {
        return Reason::MemoryLimit;
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Reason::OutOfFuel,
        Some(Trap::Interrupt) => Reason::TimedOut,
        // The trap's own message first ("call stack exhausted", "wasm `unreachable` …"), then
        // the innermost frames of the wasm backtrace, which is what a plugin author needs.
        Some(trap) => Reason::Trapped {
            detail: format!("{trap}{}", backtrace_head(e)),
        },
        None => Reason::Trapped { detail: causes(e) },
    }
}

/// The first frames of the wasm backtrace attached to a trap, if any.
fn backtrace_head(e: &wasmtime::Error) -> String {
    e.downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| {
            let text = bt.to_string();
            let frames: Vec<&str> = text.lines().skip(1).take(TRAP_FRAMES).collect();
            if frames.is_empty() {
                String::new()
            } else {
                format!("\n{}", frames.join("\n"))
            }
        })
        .unwrap_or_default()
}

/// Backtrace frames kept in a trap's detail.
const TRAP_FRAMES: usize = 6;

/// `e` and every cause under it, `: `-joined. wasmtime's `{:#}` stops at an error of another crate (it shows
/// "cannot add seals to the memfd" without the OS error under it); the chain goes on into its sources.
fn causes(e: &wasmtime::Error) -> String {
    e.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// Whether an OS call failed somewhere in `e`'s chain of causes (an `io::Error`): the host's state, not the
/// plugin's fault.
fn refused_by_the_os(e: &wasmtime::Error) -> bool {
    e.chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What wasmtime 48 returns for a memory image it could not seal: the `memfd` crate's error, the OS error its
    /// source.
    #[derive(Debug)]
    struct Sealing(std::io::Error);

    impl std::fmt::Display for Sealing {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("cannot add seals to the memfd")
        }
    }

    impl std::error::Error for Sealing {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    /// The causes the host tries again: an OS refusal anywhere in the chain; never a plugin's trap or a plain
    /// error.
    #[test]
    fn only_an_os_refusal_counts_as_the_hosts_moment() {
        let busy = std::io::Error::from(std::io::ErrorKind::ResourceBusy);
        assert!(refused_by_the_os(&wasmtime::Error::new(Sealing(busy))));
        let wrapped = wasmtime::Error::from(std::io::Error::other("mmap")).context("instantiate");
        assert!(refused_by_the_os(&wrapped));
        let trap = wasmtime::Error::new(Trap::UnreachableCodeReached);
        assert!(!refused_by_the_os(&trap));
        assert!(!refused_by_the_os(&wasmtime::Error::msg(
            "start function failed"
        )));
    }

    /// A failure's detail names the OS error under it, so a refusal says which (EBUSY, EPERM, ENOMEM…).
    #[test]
    fn a_failures_detail_goes_down_to_the_os_error() {
        let busy = std::io::Error::from_raw_os_error(16);
        // As wasmtime returns it: the memfd crate's error turned into wasmtime's by `?`, with no context added.
        let e = wasmtime::Error::new(Sealing(busy));
        assert_eq!(
            classify(&e, false),
            Reason::Trapped {
                detail: "cannot add seals to the memfd: Device or resource busy (os error 16)"
                    .into()
            }
        );
    }
}
