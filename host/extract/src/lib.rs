//! ferry-extract: reads the authoritative order or customer from Kentico Xperience 13 over its REST
//! service and returns canonical [`ferry_model::Order`] / [`ferry_model::Customer`] values.
//!
//! Where it sits: webhook → store → **extract** → transform → load. The webhook only names the object;
//! the worker calls [`fetch_order`] / [`fetch_customer`] to re-read it, and the reconciliation poller
//! calls [`changed_orders_since`] / [`changed_customers_since`] to catch what webhooks missed.
//!
//! Layout:
//! - `config`: [`KenticoConfig`], the tenant's `[tenants.kentico]` section.
//! - `kentico`: the REST client (`KenticoClient`), response envelopes and rows, XML blobs, reference-data cache.
//! - `map`: Kentico rows → canonical types (no I/O).
//! - `fetch`: the stage's entry functions, joining order, items, addresses, customer, SKUs, tax classes.
//! - `catalogue`: [`fetch_product`] (one SKU as it is now) and [`changed_skus_since`], for the catalogue sync.
//! - `writeback`: the Kentico side of the payment write-back: [`writeback::PaymentsConfig`] (`[tenants.payments]`),
//!   an order's paid state, what it becomes for an invoice's standing, and the `PUT` that writes it.
//! - `error`: the crate's `Error` with `disposition()`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod catalogue;
mod config;
mod error;
mod fetch;
pub mod kentico;
mod map;
pub mod writeback;

pub use catalogue::{changed_skus_since, fetch_product};
pub use config::KenticoConfig;
pub use error::{Error, Result};
pub use fetch::{
    Changed, changed_customers_since, changed_orders_since, existing_orders, fetch_customer,
    fetch_order, fetch_order_since,
};
pub use kentico::KenticoClient;
