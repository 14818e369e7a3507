//! ferry-transform: the transform stage of webhook → store → extract → **transform** → load.
//!
//! Runs each tenant's ordered chain of WebAssembly component plugins (WIT world
//! `ferry:transform/transformer@0.1.0`, see `wit/`) over the canonical order and the FreshBooks
//! drafts built from it. Every event gets fresh, pooled instances (one per plugin, at most; none
//! for a plugin whose declared hooks are not needed) in a `Store` of its own that is dropped with
//! the event; each instance's memory is capped and every call gets a fuel budget and an epoch
//! deadline, so a hostile plugin can only fail its own event, and the error says which tenant,
//! plugin, hook and why. Plugins reach the outside only through the WIT `host` imports plus a
//! locked-down stdio-only WASI subset.
//!
//! The API is synchronous: a hook call is CPU-bound and short (tens of µs), so the pipeline
//! calls it from `tokio::task::spawn_blocking` (or directly on a worker thread). Host imports
//! (`exchange-rate`, `enrich`) go through [`HostServices`], which the app implements.
//!
//! Layout:
//! - `artifacts`: where this repository's plugins are built, and [`artifacts::ensure_built`].
//! - `config`: [`RuntimeConfig`], the limits and cache location.
//! - `runtime`: [`PluginRuntime`] (Engine, Linker, load/validate/compile) and [`PluginHandle`].
//! - `cache`: the on-disk `.cwasm` cache keyed by content hash and engine compatibility.
//! - `limits`: the memory cap of each instance (the CPU budget is set per call in `invoke`).
//! - `chain`: [`Chain`], [`ChainRun`] (one event's pass) and [`TransformCtx`]: hooks through a
//!   tenant's plugins.
//! - `invoke`: the event's store, instantiation, one hook call and the classification of its outcome.
//! - `convert`: model ↔ WIT conversions, including validation of plugin output.
//! - `bindings`: `bindgen!` per supported WIT version (`v0_1`).
//! - `exports`: the hooks' export indices, found at load; each call type-checks only its hook.
//! - `hooks`: which hooks a plugin declares (SDK custom section), so the chain skips the rest.
//! - `host`: implementations of the WIT imports; [`HostServices`] and [`StaticServices`].
//! - `error`: [`Error`], [`TransformError`], [`Reason`] and their dispositions.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod artifacts;
mod bindings;
mod cache;
mod chain;
mod config;
mod convert;
mod error;
mod exports;
mod hooks;
mod host;
mod invoke;
mod limits;
mod runtime;

pub use chain::{Chain, ChainRun, PluginLimits, TransformCtx};
pub use config::RuntimeConfig;
pub use error::{Error, Hook, Reason, Result, TransformError};
pub use host::{HostServices, LogLevel, StaticServices, ValidationIssue};
pub use runtime::{LoadOrigin, PluginHandle, PluginRuntime};
