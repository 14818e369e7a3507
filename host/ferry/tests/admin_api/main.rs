//! The admin API over real HTTP: a real host on port 0 with the sandbox simulators and a real SQLite file.
//! `routes`: every route with both token scopes, 401 and 403; `plugins`: uploads, validation, activation and
//! rollback with the real components; `cli`: `ferry token` and `ferry plugin`; `connect`: `ferry connect
//! freshbooks`; `managed_tenants`: tenants created, replaced and deleted through the API and `ferry tenant
//! add|remove`; `backfill`: Kentico history enqueued on request; `redaction`: no plaintext secret in the database file or the logs after a full run.

// Helpers outside #[test] functions unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

mod backfill;
mod cli;
mod connect;
mod managed_tenants;
mod plugins;
mod redaction;
mod routes;
mod support;
