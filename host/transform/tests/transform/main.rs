//! ferry-transform's public API with real components built from `plugins/`, as one test binary (Wasmtime's
//! `tests/all` pattern): `components` (every plugin crate builds to a component), `disk_cache` (compile once
//! per content hash), `contract_versions` (plugins of contract 0.1.0 and 0.2.0 side by side), `example_plugins` (the example transforms alone and chained), `hook_declarations`,
//! `hostile_plugins` (each fixture contained with a typed error), `isolation` (fresh instances per event) and
//! `tenant_limits` (per-tenant fuel and memory on one runtime), `twins` (the TypeScript and Python example plugins
//! match their Rust originals); `support` is shared with the benches.

#![allow(clippy::unwrap_used)]

mod components;
mod contract_versions;
mod disk_cache;
mod example_plugins;
mod hook_declarations;
mod hostile_plugins;
mod isolation;
mod support;
mod tenant_limits;
mod twins;
mod upload_checks;
