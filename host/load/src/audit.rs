//! The books audit: does FreshBooks still hold, for each order, what the sync wrote? The host gives the orders of a
//! window with the drafts the transform stage builds for them today (the same mapping and plugins as the sync, so
//! the same to-the-cent rule); this module reads FreshBooks in bulk ([`books`]) and the ledger, and classifies every
//! difference ([`ferry_model::AuditClass`]) with both sides' values and, where Ferry may fix it through its normal
//! idempotent paths, a [`Repair`].
//!
//! What a person did in FreshBooks (deleted an invoice, edited its lines, recorded a payment) is reported with no
//! repair: the sync would not overwrite it either. A change Ferry has not caught up with (the order changed in
//! Kentico after the state the ledger recorded, a create that never happened) is repaired by running the order
//! again; an object FreshBooks has whose ledger entry was lost is repaired by recording it.
//!
//! Layout:
//! - `books`: FreshBooks' invoices, deleted invoices, payments and credit notes, read in pages.
//! - `compare`: one order against the books.

mod books;
mod compare;

use crate::Result;
use crate::freshbooks::FreshBooksClient;
use crate::ledger::Ledger;
use crate::sync::Keys;
use books::Books;
use ferry_model::{AuditClass, Difference, Drafts, ManualChanges, Order, Repair, TenantId};
use std::collections::HashSet;
use time::Date;
use uuid::Uuid;

/// One order of the window with what FreshBooks should hold for it.
#[derive(Debug, Clone)]
pub struct Expected {
    /// The order as Kentico has it now.
    pub order: Order,
    /// The drafts the tenant's transform builds for it now.
    pub drafts: Drafts,
}

/// What one audit of the books found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Differences of the orders compared.
    pub differences: Vec<Difference>,
    /// Invoices and payments with a Ferry marker for an order neither compared nor known to the caller: orphans,
    /// unless Kentico has the order (the caller asks; the window may simply not hold it).
    pub unknown: Vec<Difference>,
    /// FreshBooks calls made.
    pub freshbooks_calls: u64,
}

/// Compares `orders` with FreshBooks: every invoice, payment and credit note updated on or after `updated_min` is
/// read in pages, then each order is checked against them and the ledger. `known` are orders of the window that are
/// not compared (invalid, held for review): their objects are no orphans.
///
/// `updated_min` must not be later than the day the earliest order was created: every object written for an order
/// was updated since. An invoice the ledger names but the lists miss is read by id.
///
/// # Errors
/// FreshBooks or ledger failures; nothing is written.
#[tracing::instrument(skip_all, fields(tenant = %tenant, orders = orders.len(), stage = "audit"))]
pub async fn audit_books(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    tenant: &TenantId,
    orders: &[Expected],
    known: &HashSet<Uuid>,
    updated_min: Date,
    manual: ManualChanges,
) -> Result<Findings> {
    let keys = Keys::of(tenant);
    let mut books = Books::read(fb, updated_min).await?;
    let mut findings = Findings::default();
    for expected in orders {
        let mut check = compare::Check::new(fb, ledger, &keys, &mut books, expected, manual);
        check.run().await?;
        findings.differences.extend(check.into_differences());
    }
    let mut ours: HashSet<Uuid> = known.clone();
    ours.extend(orders.iter().map(|e| e.order.guid));
    findings.unknown = unknown_markers(&books, &ours);
    findings.freshbooks_calls = books.calls;
    Ok(findings)
}

/// Records the object a [`Repair::RecordLedger`] names under its lost ledger key.
///
/// # Errors
/// The ledger could not be written.
pub async fn record_ledger(ledger: &dyn Ledger, repair: &Repair) -> Result<bool> {
    let Repair::RecordLedger { key, id } = repair else {
        return Ok(false);
    };
    crate::sync::done(ledger, key, *id).await?;
    Ok(true)
}

/// Readies the order's invoice for a [`Repair::Overwrite`]: restores it when it was deleted, records it under the
/// order's invoice key (it may have been found by marker only), and forgets the state the ledger recorded for it, so
/// the next sync of the order compares the invoice with the order and brings its lines and address back (through
/// the tenant's `paid_edit` policy when it has payments). The caller then runs the order again. False when `repair`
/// is no overwrite.
///
/// # Errors
/// FreshBooks refused the restore or the ledger could not be written; running it again is harmless.
pub async fn prepare_overwrite(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    tenant: &TenantId,
    order_guid: Uuid,
    repair: &Repair,
) -> Result<bool> {
    let Repair::Overwrite { invoice, restore } = *repair else {
        return Ok(false);
    };
    if restore {
        fb.restore_invoice(invoice).await?;
    }
    let keys = Keys::of(tenant);
    crate::sync::done(
        ledger,
        &crate::sync::invoice_key(&keys, order_guid),
        invoice,
    )
    .await?;
    crate::sync::forget_state(ledger, &keys, order_guid).await?;
    Ok(true)
}

/// The GUID after `prefix` in a Ferry marker found in `text`.
fn marker_guid(text: &str, prefix: &str) -> Option<Uuid> {
    text.split_whitespace()
        .find_map(|w| w.strip_prefix(prefix))
        .and_then(|rest| rest.get(..36))
        .and_then(|g| Uuid::parse_str(g).ok())
}

/// The invoices and payments carrying a Ferry order or gift-card marker for an order not in `ours`.
fn unknown_markers(books: &Books, ours: &HashSet<Uuid>) -> Vec<Difference> {
    let mut out = Vec::new();
    for inv in &books.invoices {
        if let Some(guid) = inv
            .notes
            .as_deref()
            .and_then(|n| marker_guid(n, ORDER_PREFIX))
            .filter(|g| !ours.contains(g))
        {
            out.push(orphan(guid, format!("invoice {}", inv.id), || {
                compare::money_text(inv.amount.as_ref())
            }));
        }
    }
    for p in &books.payments {
        let note = p.note.as_deref().unwrap_or_default();
        if let Some(guid) = marker_guid(note, ORDER_PREFIX)
            .or_else(|| marker_guid(note, GIFT_CARD_PREFIX))
            .filter(|g| !ours.contains(g))
        {
            out.push(orphan(guid, format!("payment {}", p.id), || {
                compare::money_text(Some(&p.amount))
            }));
        }
    }
    out
}

fn orphan(guid: Uuid, what: String, amount: impl FnOnce() -> String) -> Difference {
    Difference {
        class: AuditClass::Orphan,
        order_number: String::new(),
        order_id: 0,
        order_guid: guid.to_string(),
        actual: format!("{what} of {}", amount()),
        freshbooks: Some(what),
        expected: "no object: Kentico has no such order".to_owned(),
        repair: None,
    }
}

/// The start of `sync::order_marker`.
const ORDER_PREFIX: &str = "ferry:order:";
/// The start of `sync::gift_card_marker`.
const GIFT_CARD_PREFIX: &str = "ferry:gift-card:";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_guids_are_read_from_notes_and_gift_card_markers() {
        let g = Uuid::parse_str("3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51").unwrap();
        let notes = format!("Thanks\n{}", crate::order_marker(g));
        assert_eq!(marker_guid(&notes, ORDER_PREFIX), Some(g));
        assert_eq!(
            marker_guid(&crate::gift_card_marker(g, 1), GIFT_CARD_PREFIX),
            Some(g)
        );
        assert_eq!(marker_guid("no marker", ORDER_PREFIX), None);
        assert_eq!(
            marker_guid(&crate::gift_card_marker(g, 1), ORDER_PREFIX),
            None
        );
    }
}
