//! ferry-model: the canonical types every stage speaks.
//!
//! Where it sits: webhook → store → extract → **model** → transform → load. `extract` turns Kentico
//! rows into these types, `transform` hands them to tenant plugins (mirrored in `wit/types.wit`),
//! and `load` turns the FreshBooks drafts into API calls. No I/O lives here.
//!
//! Layout:
//! - `ids`: validated identifiers (`TenantId`, `EventId`, `CurrencyCode`).
//! - `money`: `Money` (decimal amount + ISO 4217 code), `Conversion` between currencies; never floating point.
//! - `event`: the signed webhook envelope Ferry accepts from the Kentico-side module.
//! - `order`: canonical order, lines, customer, address, payment.
//! - `product`: a catalogue SKU (`Product`) and the FreshBooks item it becomes (`ProductDraft`).
//! - `draft`: the FreshBooks-side drafts a plugin may shape (client, item, invoice, payment), `Drafts` (all of one
//!   order) and the unknown-SKU policy.
//! - `disposition`: what the worker does with an error (retry or dead-letter).
//! - `standing`: how much of an invoice is paid (`Standing`), carried back to Kentico by the payment write-back.
//! - `error_class`: `ErrorClass`, the kind of failure a dead letter is filed under.
//! - `audit`: the books audit's findings (`AuditReport`, `Difference`, `AuditClass`, `Repair`,
//!   `ManualChanges`).

mod audit;
mod disposition;
mod draft;
mod error_class;
mod event;
mod ids;
mod money;
mod order;
mod product;
mod standing;

pub use audit::{AuditClass, AuditReport, Difference, ManualChanges, Repair};
pub use disposition::Disposition;
pub use draft::{
    ClientDraft, Drafts, InvoiceDraft, InvoiceLineDraft, InvoiceStatus, ItemDraft, LineTax,
    PaidChange, PaymentDraft, SentCancellation, UnknownSkuPolicy,
};
pub use error_class::{ErrorClass, UnknownErrorClass};
pub use event::{
    EventEnvelope, EventKind, EventObject, FRESHBOOKS_INVOICE, FRESHBOOKS_PAYMENT, ParseEventError,
};
pub use ids::{CurrencyCode, EventId, IdError, TenantId};
pub use money::{Conversion, Money, cents};
pub use order::{
    Address, CouponCode, CustomField, Customer, NamedAmount, Order, OrderLine, OrderStatus,
    OrderTotals, Payment, TaxClass,
};
pub use product::{Product, ProductDraft};
pub use rust_decimal::Decimal;
pub use standing::Standing;
