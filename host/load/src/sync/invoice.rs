//! The order's invoice and its payment: the recorded one, else one found by marker after an unknown outcome, else
//! a new one.

use super::{
    Keys, Synced, create_under_intent, done, done_id, done_with_next_write, get, lock,
    order_marker, with_marker,
};
use crate::freshbooks::{FbInvoice, FreshBooksClient, InvoiceAddress};
use crate::ledger::{Ledger, LedgerEntry};
use crate::{Error, Result};
use ferry_model::{Drafts, PaymentDraft};
use uuid::Uuid;

/// Pages of a client's invoices scanned for a marker after an unknown outcome (newest first).
const ADOPT_SCAN_PAGES: i64 = 5;

/// The ledger key of an order's invoice.
pub(crate) fn invoice_key(keys: &Keys, order_guid: Uuid) -> String {
    keys.key("invoice", &order_guid.to_string())
}

/// Status 1 / `v3_status` "draft": FreshBooks creates every invoice this way.
pub(super) fn is_draft(inv: &FbInvoice) -> bool {
    inv.status == 1 || inv.v3_status.as_deref() == Some("draft")
}

/// True when FreshBooks already shows the invoice settled (a person recorded the payment by hand).
fn is_settled(inv: &FbInvoice) -> bool {
    let positive = inv
        .amount
        .as_ref()
        .is_some_and(|a| a.amount > rust_decimal::Decimal::ZERO);
    let nothing_due = inv.outstanding.as_ref().is_some_and(|o| o.amount.is_zero());
    positive && nothing_due
}

/// Only the GUID marker identifies our invoice: a plugin may set `po_number` to a customer's own PO reference.
fn is_ours(inv: &FbInvoice, marker: &str) -> bool {
    inv.notes.as_deref().is_some_and(|n| n.contains(marker))
}

/// The order's invoice when FreshBooks has it (deleted ones included): the recorded one (with its lines), else one
/// of `client_id`'s carrying the order marker, found after an unknown outcome (an intent without a done) or, when
/// `search_new`, even without a ledger entry. `None` when there is none yet.
pub(super) async fn find_invoice(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    order_guid: Uuid,
    client_id: Option<i64>,
    search_new: bool,
    synced: &mut Synced,
) -> Result<Option<FbInvoice>> {
    let key = invoice_key(keys, order_guid);
    let marker = order_marker(order_guid);
    let entry = get(ledger, &key).await?;
    if let Some(id) = done_id(&entry) {
        return Ok(Some(fb.get_invoice_with_lines(id).await?));
    }
    let Some(client_id) = client_id else {
        return Ok(None);
    };
    // No entry: no attempt ever wrote an intent (every create is preceded by one, under the key's lock), so there
    // is nothing to find — unless the client itself came from a search, and its invoices may predate the ledger.
    if entry.is_none() && !search_new {
        return Ok(None);
    }
    // After a lost reply (entry = Intent) FreshBooks may hold the invoice already.
    let candidates = fb
        .list_invoices_for_client(client_id, ADOPT_SCAN_PAGES)
        .await?;
    let Some(inv) = candidates
        .into_iter()
        .filter(|i| is_ours(i, &marker))
        .min_by_key(|i| i.id)
    else {
        return Ok(None);
    };
    tracing::warn!(
        invoice_id = inv.id,
        "Adopted invoice created by an attempt whose reply was lost."
    );
    done(ledger, &key, inv.id).await?;
    synced.adopted.push(key);
    synced.invoice_found = true;
    // A list reply may omit fields; read the invoice itself for its status and lines.
    Ok(Some(fb.get_invoice_with_lines(inv.id).await?))
}

/// The order's invoice: the one FreshBooks has ([`find_invoice`]), else a new one. A recorded invoice a person
/// deleted is not recreated behind their back.
pub(super) async fn ensure_invoice(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    order_guid: Uuid,
    drafts: &Drafts,
    synced: &mut Synced,
) -> Result<FbInvoice> {
    let draft = &drafts.invoice;
    let client_id = Some(synced.client_id);
    // Find and create under the key's lock: a run whose lease was taken over while it was slow (not dead) may still
    // be between its search and its create; the lock makes the other run wait and then find what it created.
    let _held = lock(ledger, &invoice_key(keys, order_guid)).await?;
    let search_new = synced.client_found;
    if let Some(inv) =
        find_invoice(fb, ledger, keys, order_guid, client_id, search_new, synced).await?
    {
        if inv.vis_state == 1 {
            return Err(Error::Invalid {
                what: format!("sync invoice {}", inv.id),
                reason:
                    "the invoice was deleted in freshbooks; restore it or clear the ledger entry"
                        .into(),
            });
        }
        return Ok(inv);
    }
    let key = invoice_key(keys, order_guid);
    let notes = with_marker(&draft.notes, &order_marker(order_guid));
    let address = InvoiceAddress::from(&drafts.client);
    let inv = create_under_intent(
        ledger,
        &key,
        fb.create_invoice(synced.client_id, draft, &address, &notes),
    )
    .await?;
    done_with_next_write(ledger, &key, inv.id).await?;
    Ok(inv)
}

/// Which of an order's payments: its ledger key and the marker stamped in its note.
pub(crate) struct PaymentRef {
    key: String,
    marker: String,
}

impl PaymentRef {
    /// Its ledger key.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The gateway payment (`OrderGrandTotal`): marked with the order marker.
    pub(crate) fn gateway(keys: &Keys, order_guid: Uuid) -> Self {
        Self {
            key: keys.key("payment", &order_guid.to_string()),
            marker: order_marker(order_guid),
        }
    }

    /// The payment of the order's `n`th gift card. Its marker does not contain the order marker, so neither is
    /// ever taken for the other.
    pub(crate) fn gift_card(keys: &Keys, order_guid: Uuid, n: usize) -> Self {
        Self {
            key: keys.key("gift-card", &format!("{order_guid}:{n}")),
            marker: gift_card_marker(order_guid, n),
        }
    }
}

impl PaymentRef {
    /// The `Credit` payment that settles a cancelled order's invoice from its credit note.
    pub(super) fn settled_from_credit(keys: &Keys, order_guid: Uuid) -> Self {
        Self {
            key: keys.key("credit-settles", &order_guid.to_string()),
            marker: settled_marker(order_guid),
        }
    }
}

/// The marker of the `Credit` payment that settles a withdrawn invoice from its credit note.
fn settled_marker(order_guid: Uuid) -> String {
    format!("ferry:credit-settles:{order_guid}")
}

/// The marker stamped in the note of an order's `n`th gift-card payment.
pub fn gift_card_marker(order_guid: Uuid, n: usize) -> String {
    format!("ferry:gift-card:{order_guid}:{n}")
}

/// One of the order's payments: the recorded one, else one on the invoice carrying its marker, else a new one.
pub(super) async fn ensure_payment(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    which: PaymentRef,
    invoice: &FbInvoice,
    draft: &PaymentDraft,
    synced: &mut Synced,
) -> Result<Option<i64>> {
    let invoice_id = invoice.id;
    let PaymentRef { key, marker } = which;
    // As for the invoice: a taken-over run still between its search and its post must not post a second payment.
    let _held = lock(ledger, &key).await?;
    let entry = get(ledger, &key).await?;
    if let Some(id) = done_id(&entry) {
        return Ok(Some(id));
    }
    // After an unknown outcome (an intent without a done) look first: a lost reply must not be posted twice. With
    // no entry no attempt was ever made (each writes its intent first, under this lock), so there is nothing to find
    // — unless the invoice itself was found by its marker, and its payments may predate the ledger.
    let search = matches!(entry, Some(LedgerEntry::Intent)) || synced.invoice_found;
    let existing = if search {
        fb.list_payments_for_invoice(invoice_id).await?
    } else {
        Vec::new()
    };
    if let Some(p) = existing
        .iter()
        .filter(|p| p.note.as_deref().is_some_and(|n| n.contains(&marker)))
        .min_by_key(|p| p.id)
    {
        if matches!(entry, Some(LedgerEntry::Intent)) {
            synced.adopted.push(key.clone());
        }
        done(ledger, &key, p.id).await?;
        return Ok(Some(p.id));
    }
    if is_settled(invoice) {
        // Posting again would overpay and turn the excess into a client credit.
        tracing::warn!(
            invoice_id,
            "Invoice already settled in FreshBooks; payment not posted."
        );
        return Ok(None);
    }
    let mut stamped = draft.clone();
    stamped.note = with_marker(&draft.note, &marker);
    let p = create_under_intent(ledger, &key, fb.create_payment(invoice_id, &stamped)).await?;
    done_with_next_write(ledger, &key, p.id).await?;
    Ok(Some(p.id))
}
