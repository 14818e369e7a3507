//! One plugin instance in its own store, and the classification of a call's outcome.

use std::sync::Arc;

use wasmtime::{Store, Trap};

use crate::bindings::v0_1::Transformer;
use crate::chain::TransformCtx;
use crate::error::{Hook, Reason, TransformError};
use crate::host::log_pipe::LogPipe;
use crate::host::{LogLevel, PluginCtx, wasi};
use crate::limits::MemoryCap;
use crate::runtime::PluginHandle;

/// A live instance of one plugin for one tenant, in its own store. A [`crate::ChainRun`] makes
/// one per plugin per event and drops it with the event, since guest state persists between
/// calls on the same instance. After any failure the instance refuses further calls.
pub(crate) struct PluginInstance {
    store: Store<PluginCtx>,
    bindings: Transformer,
    handle: PluginHandle,
    plugin: Arc<str>,
    failed: bool,
    /// Bytes of stdout/stderr already forwarded and dropped bytes already reported, so a reused instance does
    /// not repeat lines.
    logged: [(usize, usize); 2],
}

impl PluginHandle {
    /// Instantiate with a fresh store: memory cap, locked-down WASI, captured stdio.
    pub(crate) fn instantiate(
        &self,
        ctx: &TransformCtx,
        hook: Hook,
    ) -> Result<PluginInstance, TransformError> {
        let cfg = &self.runtime.config;
        let stdout = LogPipe::new(cfg.max_log_bytes);
        let stderr = LogPipe::new(cfg.max_log_bytes);
        let wasi = wasi::locked_down_ctx(stdout.clone(), stderr.clone());
        let data = PluginCtx {
            tenant: ctx.tenant.clone(),
            plugin: self.name.clone(),
            services: ctx.services.clone(),
            wasi,
            table: Default::default(),
            memory: MemoryCap::new(cfg.memory_limit_bytes),
            stdout,
            stderr,
        };
        let mut store = Store::new(&self.runtime.engine, data);
        store.limiter(|s| &mut s.memory);
        let mut inst = PluginInstance {
            bindings: match self
                .arm(&mut store)
                .and_then(|()| self.pre.instantiate(&mut store))
            {
                Ok(b) => b,
                Err(e) => {
                    // A trap in the plugin's own start-up is the plugin's fault; anything else
                    // (pool slots exhausted, host resource limits) is host pressure, retried.
                    let reason = match classify(&e, store.data().memory.hit) {
                        Reason::Trapped { detail } if e.downcast_ref::<Trap>().is_none() => {
                            Reason::Unavailable { detail }
                        }
                        other => other,
                    };
                    return Err(TransformError {
                        tenant: ctx.tenant.clone(),
                        plugin: self.name.to_string(),
                        hook,
                        reason,
                    });
                }
            },
            store,
            handle: self.clone(),
            plugin: self.name.clone(),
            failed: false,
            logged: [(0, 0); 2],
        };
        inst.flush_logs();
        Ok(inst)
    }

    /// Give the store a full CPU budget for the next call.
    fn arm(&self, store: &mut Store<PluginCtx>) -> wasmtime::Result<()> {
        let cfg = &self.runtime.config;
        store.set_fuel(cfg.fuel_per_call)?;
        let tick = cfg.epoch_tick.as_micros().max(1);
        // The next tick may come at any moment, so one extra tick makes the deadline fall
        // between `call_timeout` and `call_timeout + epoch_tick`, never before.
        let ticks = cfg.call_timeout.as_micros().div_ceil(tick) + 1;
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();
        Ok(())
    }
}

impl PluginInstance {
    /// Run one export with a fresh CPU budget and turn the outcome into our error type.
    pub(crate) fn call<R>(
        &mut self,
        ctx: &TransformCtx,
        hook: Hook,
        f: impl FnOnce(&Transformer, &mut Store<PluginCtx>) -> wasmtime::Result<R>,
    ) -> Result<R, TransformError> {
        let plugin = self.plugin.clone();
        let err = |reason| TransformError {
            tenant: ctx.tenant.clone(),
            plugin: plugin.to_string(),
            hook,
            reason,
        };
        if self.failed {
            return Err(err(Reason::Trapped {
                detail: "instance unusable after an earlier failure".into(),
            }));
        }
        if let Err(e) = self.handle.arm(&mut self.store) {
            return Err(err(Reason::Unavailable {
                detail: e.to_string(),
            }));
        }
        let out = f(&self.bindings, &mut self.store);
        self.flush_logs();
        out.map_err(|e| {
            self.failed = true;
            err(classify(&e, self.store.data().memory.hit))
        })
    }

    /// Forward captured stdout/stderr to the tenant log, and say how much went past the cap.
    fn flush_logs(&mut self) {
        let data = self.store.data();
        let cap = self.handle.runtime.config.max_log_bytes;
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
                    data.services.log(&data.tenant, &data.plugin, level, line);
                }
            }
            if dropped > reported {
                let line = format!(
                    "{stream} past the {cap}-byte log cap dropped ({} bytes)",
                    dropped - reported
                );
                data.services
                    .log(&data.tenant, &data.plugin, LogLevel::Warn, &line);
            }
            self.logged[i] = (bytes.len(), dropped);
        }
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
        None => Reason::Trapped {
            detail: format!("{e:#}"),
        },
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
