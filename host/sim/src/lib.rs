//! ferry-sim: faithful simulators of the Kentico Xperience 13 REST service, the FreshBooks API and the ECB
//! exchange-rate feed, plus a marketing-segment enrichment service, with fault injection. Used by
//! `ferry sandbox`, the demo, the tests and the benchmarks.
//!
//! The simulators model the vendors' APIs with their own types (written from `shared/reference/`) and share no
//! request/response types with Ferry's clients, so a misreading of an API cannot hide on both sides.
//!
//! Layout:
//! - `faults`: the fault-injection layer and its control API, shared by every simulator.
//! - `kentico`: the K13 REST service, the seeded store and the signed webhook sender.
//! - `freshbooks`: OAuth, identity and the accounting API.
//! - `exchange`: ECB `eurofxref` daily and historical rates.
//! - `enrichment`: a marketing-segment lookup behind an API key (our own contract, for the `enrich` host import).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod enrichment;
pub mod exchange;
pub mod faults;
pub mod freshbooks;
pub mod kentico;
mod requests;
