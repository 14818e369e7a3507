//! ferry: the host. It wires webhook → store → extract → transform → load, and owns the CLI, configuration,
//! the worker pool, the admin API and the sandbox.
//!
//! Layout:
//! - `cli`, `commands`: the command line and what each subcommand does.
//! - `config`: the configuration tree (TOML + environment).
//! - `app`: `App::build` / `run_until_stopped`: store, tenants, HTTP surfaces, workers.
//! - `tenants`: each tenant's clients, plugin chain and settings, built once.
//! - `managed_tenants`: tenants stored in the database (SaaS mode): validation naming the field, sealed secrets.
//! - `plugins`: the plugin runtime, the host services plugins may call, async hook wrappers.
//! - `adapters`: the store behind `load`'s ledger and sealed token store.
//! - `pipeline`: the worker's step function and the pure steps it calls (validation, default mapping).
//! - `worker`: the loop around the step function.
//! - `reconcile`: polling Kentico for changes no webhook reported.
//! - `exchange`: ECB reference rates for currency conversion, cached per day.
//! - `enrichment`: the tenant's enrichment service, called and cached by the host for its plugins.
//! - `secrets`: sealing credentials and tokens at rest (AEAD, key rotation).
//! - `secrets_cli`: `ferry secrets reseal` (seal every stored secret with the newest master key).
//! - `dlq`: the dead-letter queue from the command line.
//! - `admin`: the admin HTTP API (tenants, events, DLQ, breakers, plugin uploads) behind bearer tokens.
//! - `connect_cli`: `ferry connect freshbooks <tenant>` (OAuth authorization code flow).
//! - `token_cli`, `plugin_cli`, `tenant_cli`: `ferry token …` (admin tokens), `ferry plugin …` (uploads through the
//!   API, local test) and `ferry tenant list|show|add|remove` (through the API).
//! - `sandbox`, `demo`: the simulators, and the end-to-end demo on them.
//! - `metrics`, `telemetry`: metric names and exporter; logs and shutdown signal.

pub mod adapters;
pub mod admin;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connect_cli;
pub mod demo;
pub mod dlq;
pub mod enrichment;
pub mod exchange;
pub mod managed_tenants;
pub mod metrics;
pub mod pipeline;
pub mod plugin_cli;
pub mod plugins;
pub mod reconcile;
pub mod sandbox;
pub mod secrets;
pub mod secrets_cli;
pub mod telemetry;
pub mod tenant_cli;
pub mod tenants;
pub mod token_cli;
pub mod worker;
