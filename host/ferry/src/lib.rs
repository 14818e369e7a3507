//! ferry: the host. It wires the stages together — webhook (`ferry-ingest`) → store (`ferry-store`) → extract
//! (`ferry-extract`) → transform (`ferry-transform`) → load (`ferry-load`) — and owns what surrounds them: the
//! CLI, configuration, the worker pool, reconciliation, the admin API and the sandbox. The stages own their logic
//! and their configuration sections; this crate composes them.
//!
//! Layout (dependencies point down this list, never up):
//! - `cli`: the command line, every subcommand's flags and output, and [`cli::run`].
//! - `app`: `App::build` / `run_until_stopped`: store, tenants, HTTP surfaces, workers.
//! - `admin`: the admin HTTP API (tenants, events, DLQ, breakers, plugin uploads) behind bearer tokens.
//! - `console`: the web console at `/console` (HTML pages over the admin API's store and token scopes).
//! - `sandbox`: the simulators for `ferry sandbox`, the end-to-end demo on them, and its audit.
//! - `config`: the configuration tree (TOML + environment), composed of the stages' sections.
//! - `connect`: connecting a tenant to FreshBooks (OAuth code flow with PKCE, sealed single-use state), shared
//!   by the browser routes and `ferry connect`.
//! - `worker`: the loop around the pipeline's step function.
//! - `reconcile`: polling Kentico for changes no webhook reported, and backfills.
//! - `audit`: the books audit per tenant (scheduled and on demand), its stored reports and repairs.
//! - `writeback`: FreshBooks callbacks registered and verified per tenant, and the payment poll; payments in
//!   FreshBooks written back to Kentico (the event itself runs in `pipeline`).
//! - `retention`: purging old finished events on a schedule (`store.keep_done_days`).
//! - `usage`: orders synced and calls per tenant and day (what an operator bills on): counted calls written to the
//!   store, and the reports the admin API and the console serve.
//! - `alerts`: wiring `ferry-alert` (the tenants' channels) and the watcher that raises and clears alerts for
//!   breakers, disconnected tenants and old backlogs.
//! - `pipeline`: one event through extract → validate → transform → load, and its answer to the store.
//! - `tenants`: each tenant's configuration, clients, transform stage and settings, built once.
//! - `services`: exchange rates and enrichment, called through `ferry-outbound`.
//! - `telemetry`: logs, metrics and the shutdown signal.

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub mod admin;
pub mod alerts;
pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod connect;
pub mod console;
pub mod pipeline;
pub mod reconcile;
pub mod retention;
pub mod services;
pub mod telemetry;
pub mod tenants;
pub mod usage;
pub mod worker;
pub mod writeback;

/// The memory allocator of every program built with this crate (the `ferry` binary, its benches and tests):
/// mimalloc. An order's run allocates and frees many small buffers on several threads (HTTP bodies, JSON, SQL rows),
/// where glibc's malloc cost about a tenth of the orders bench's CPU (issue 20); the price is a larger resident set.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
