//! The FreshBooks accounting API (docs/freshbooks.md §1–§8): client, OAuth2, response types, one module per resource;
//! `callbacks` is the events family (webhook registration, §10) and the payment reads of the write-back.

mod auth;
mod callbacks;
mod catalog;
mod client;
mod clients;
mod credits;
mod invoices;
mod types;

pub use auth::{
    MemoryTokenStore, OAuthApp, Pkce, RefreshGuard, TokenStore, TokenStoreError, Tokens,
};
pub use callbacks::FbCallback;
pub use client::{Access, DOWNSTREAM, FreshBooksClient};
pub(crate) use client::{pages as result_pages, take as take_result};
pub use types::{
    FbClient, FbCreditNote, FbInvoice, FbItem, FbLine, FbMoney, FbPayment, FbTax, InvoiceAddress,
    Membership,
};
