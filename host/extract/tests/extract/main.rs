//! ferry-extract's public API over real sockets, as one test binary (Wasmtime's `tests/all` pattern):
//! `kentico_rest` against a mock K13 REST service serving the recorded replies in `tests/fixtures/` (shared
//! with the unit tests of `src/kentico/rows.rs`), `against_sim` against the independent Kentico simulator.

#![allow(clippy::unwrap_used, missing_docs)]

mod against_sim;
mod kentico_rest;
