//! ferry-transform: the transform stage of webhook → store → extract → **transform** → load.
//!
//! Turns a canonical order into the FreshBooks drafts `load` sends: checks it against the built-in
//! rules, builds the default drafts (status table, addresses, taxes, lines, payment, currency
//! conversion) and runs each tenant's ordered chain of WebAssembly component plugins (WIT world
//! `ferry:transform/transformer@0.2.0`, see `wit/`, or the frozen 0.1.0 beside it) over them.
//! [`validate`] and [`run`] are what the worker calls; `ferry plugin test` previews the same pass. Every event gets fresh, pooled instances (one per plugin, at most; none
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
//! - `mapping`: the default Kentico → FreshBooks mapping ([`default_drafts`]) and its [`MappingConfig`].
//! - `validate`: the built-in order rules every tenant gets ([`ValidationRules`]).
//! - `anomaly`: the per-tenant statistical checks that hold an order for review ([`AnomalyConfig`],
//!   [`anomaly::check`]).
//! - `pass`: the stage's entry points: [`validate`], [`run`] (default drafts + chain), [`shape`],
//!   [`map_customer`].
//! - `artifacts`: where this repository's plugins are built, and [`artifacts::ensure_built`].
//! - `catalogue`: a Kentico SKU → its FreshBooks item ([`map_product`]: default item + the plugins' `map-item`).
//! - `contract`: the WIT files plugin authors build against, embedded ([`contract::export`]).
//! - `config`: [`PluginsConfig`] (the `[plugins]` section) and [`RuntimeConfig`], the limits and cache location.
//! - `runtime`: [`PluginRuntime`] (Engine, Linker, load/validate/compile) and [`PluginHandle`].
//! - `precheck`: an upload's cheap checks (component, import and export names) read without compiling.
//! - `cache`: the on-disk `.cwasm` cache keyed by content hash and engine compatibility.
//! - `limits`: the memory cap of each instance (the CPU budget is set per call in `invoke`).
//! - `context`: [`TransformCtx`] (tenant, host services, [`PluginLimits`]) and the error naming them.
//! - `chain`: [`Chain`] and [`ChainRun`] (one event's pass): hooks through a tenant's plugins.
//! - `invoke`: the event's store, instantiation, one hook call and the classification of its outcome.
//! - `convert`: model ↔ WIT conversions, including validation of plugin output.
//! - `bindings`: `bindgen!` per supported WIT version (`v0_1`, `v0_2`).
//! - `exports`: the contract version a plugin targets and its hooks' export indices, found at load; each call
//!   type-checks only its hook.
//! - `hooks`: which hooks a plugin declares (SDK custom section), so the chain skips the rest.
//! - `host`: implementations of the WIT imports; [`HostServices`] and [`StaticServices`].
//! - `error`: [`Error`], [`TransformError`], [`Reason`] and their dispositions.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod anomaly;
pub mod artifacts;
mod bindings;
mod cache;
mod catalogue;
mod chain;
mod config;
mod context;
pub mod contract;
mod convert;
mod error;
mod exports;
#[cfg(test)]
mod fixtures;
mod hooks;
mod host;
mod invoke;
mod limits;
mod mapping;
mod pass;
mod precheck;
mod runtime;
mod validate;

pub use anomaly::AnomalyConfig;
pub use catalogue::{map_product, product_draft, product_line};
pub use chain::{Chain, ChainRun};
pub use config::{PluginsConfig, RuntimeConfig};
pub use context::{PluginLimits, TransformCtx};
pub use error::{Error, Hook, Reason, Result, TransformError};
pub use host::{HostServices, LogLevel, LogLine, StaticServices, ValidationIssue};
pub use mapping::{
    MappingConfig, OptionLines, client_draft, default_drafts, invoice_status, line_sku,
    settle_payment, unmapped_status,
};
pub use pass::{map_customer, run, shape, validate};
pub use runtime::{LoadOrigin, PluginHandle, PluginRuntime};
pub use validate::{ValidationRules, validate_order};
