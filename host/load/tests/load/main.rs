//! ferry-load's public API over real sockets, as one test binary (Wasmtime's `tests/all` pattern):
//! `freshbooks_sync` against our own mock FreshBooks (`support::mock_freshbooks`, with fault injection),
//! `sdk_fixtures` against the official SDK fixtures and Nango recordings, `sim_freshbooks` against the
//! independent ferry-sim FreshBooks simulator.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod freshbooks_sync;
mod sdk_fixtures;
mod sim_freshbooks;
mod support;
