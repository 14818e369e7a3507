//! ferry-load: writes a synced order into FreshBooks exactly once, even when FreshBooks committed a
//! request whose reply was lost.
//!
//! Where it sits: webhook → store → extract → transform → **load**. The worker calls [`sync_order`]
//! with the canonical order and the drafts the transform stage produced, and [`sync_customer`] on
//! `customer.updated`. Every create is recorded in the host's [`Ledger`] before and after the call,
//! and stamped with a deterministic marker (Kentico GUID); after an unknown outcome the retry searches
//! FreshBooks for the marker and adopts what it finds instead of creating a duplicate.
//!
//! Layout:
//! - `config`: [`FreshBooksConfig`] (the tenant's `[tenants.freshbooks]` section) and [`SyncOptions`] (unknown SKUs).
//! - `freshbooks`: the REST client (`FreshBooksClient`), OAuth2 with rotating refresh tokens behind a
//!   host-implemented `TokenStore`, response types, and one module per resource.
//! - `ledger`: the `Ledger` trait (intent / done / get) the host implements over its store.
//! - `sync`: `sync_order` / `sync_customer`: find-or-create client, taxes, items; invoice; mark sent; payment.
//! - `audit`: the books audit: FreshBooks read in bulk and compared with each order's drafts, every difference
//!   classified.
//! - `writeback`: the FreshBooks side of the payment write-back: an invoice's standing after a payment or invoice
//!   event, and which payments and invoices Ferry created (by their ledger keys).
//! - `error`: the crate's `Error` with `disposition()`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod audit;
mod config;
mod error;
pub mod freshbooks;
mod ledger;
mod sync;
pub mod writeback;

pub use config::{CatalogueConfig, CustomersConfig, FreshBooksConfig, SyncOptions};
pub use error::{Error, Result};
pub use freshbooks::{
    Access, FreshBooksClient, MemoryTokenStore, OAuthApp, Pkce, RefreshGuard, TokenStore,
    TokenStoreError, Tokens,
};
pub use ledger::{BoxFuture, Ledger, LedgerEntry, LedgerError, LedgerLock, MemoryLedger};
pub use sync::{
    ItemSynced, Synced, archive_product, credit_marker, customer_marker, edit_credit_marker,
    gift_card_marker, order_marker, sync_customer, sync_customer_client, sync_order, sync_product,
};
