//! Withdrawing what an invoice bills once its order is cancelled, returned or edited down after it was sent or
//! paid (`docs/freshbooks.md` §14.1, §14.2.5).
//!
//! - A cancelled order's draft invoice is deleted. A sent, unpaid one gets a credit note spent on it as a `Credit`
//!   payment (or is deleted, `sent_cancellation = "delete"`). One with payments gets a credit note, its outstanding
//!   rest settled from it, so what the customer paid stays as the client's credit (or goes to review,
//!   `paid_cancellation = "review"`).
//! - A paid order edited down gets a credit note for the difference: the lines the edit removed, and the lines it
//!   added at a negative price, so the credit is exactly the old total less the new one (`paid_edit`).
//!
//! Every credit note is recorded in the ledger and carries a marker, so a change delivered twice, or retried after
//! a lost reply, writes nothing more. What an order still bills — its *standing* — is the invoice less the edit
//! credit notes written so far, so a later edit or a cancellation credits only what is left.

use super::invoice::{PaymentRef, ensure_payment, is_draft};
use super::lines::{self, LineDiff, invoice_currency, invoice_lines, take_one};
use super::{Keys, Synced, digest_of, done, done_id, get, intent, with_marker};
use crate::freshbooks::{FbCreditNote, FbInvoice, FreshBooksClient};
use crate::ledger::{Ledger, LedgerEntry};
use crate::{Error, Result, SyncOptions};
use ferry_model::{
    CurrencyCode, Decimal, InvoiceDraft, InvoiceLineDraft, Money, Order, PaidChange, PaymentDraft,
    SentCancellation,
};
use uuid::Uuid;

/// The marker stamped in the notes of the credit note that withdraws a cancelled order's invoice.
pub fn credit_marker(order_guid: Uuid) -> String {
    format!("ferry:credit:{order_guid}")
}

/// The marker of the credit note for an edit of a paid order; `lines` identifies the edit (the lines it brought
/// the order to).
pub fn edit_credit_marker(order_guid: Uuid, lines: &str) -> String {
    format!("{}{lines}", edit_credit_prefix(order_guid))
}

fn edit_credit_prefix(order_guid: Uuid) -> String {
    format!("ferry:edit-credit:{order_guid}:")
}

/// Credit-note line descriptions, read back to work out an order's standing.
const REMOVED: &str = "removed from the order";
const ADDED: &str = "added to the order";
/// The line that makes a credit note's total exact when FreshBooks' per-invoice tax rounding differs.
const ROUNDING: &str = "Rounding";

/// What a change after invoicing works with.
pub(super) struct Correction<'a> {
    pub(super) fb: &'a FreshBooksClient,
    pub(super) ledger: &'a dyn Ledger,
    pub(super) keys: &'a Keys,
    pub(super) order: &'a Order,
    pub(super) options: &'a SyncOptions,
}

/// What an order still bills in FreshBooks: its invoice less the edit credit notes written for it.
pub(crate) struct Standing {
    /// The invoice's lines less those the edit credit notes removed, plus those they added.
    pub(crate) lines: Vec<InvoiceLineDraft>,
    /// The invoice's amount less the edit credit notes' amounts.
    pub(crate) amount: Decimal,
    currency: CurrencyCode,
    /// The client's credit notes (all of them: the markers are looked for here).
    notes: Vec<FbCreditNote>,
}

impl Standing {
    async fn of(c: &Correction<'_>, inv: &FbInvoice) -> Result<Self> {
        let notes = c.fb.list_credit_notes_for_client(inv.customerid).await?;
        let mut standing = Self::from_notes(inv, &notes, c.order.guid)?;
        standing.notes = notes;
        Ok(standing)
    }

    /// The standing of `order_guid`'s invoice `inv`, given its client's credit notes (with their lines); the books
    /// audit reads the notes in bulk and calls this too, so both agree on what an order still bills.
    pub(crate) fn from_notes(
        inv: &FbInvoice,
        notes: &[FbCreditNote],
        order_guid: Uuid,
    ) -> Result<Self> {
        let currency = invoice_currency(inv).ok_or_else(|| Error::Invalid {
            what: format!("credit freshbooks invoice {}", inv.id),
            reason: "the invoice has no currency".to_owned(),
        })?;
        let mut standing = Self {
            lines: invoice_lines(inv, &currency),
            amount: inv.amount.as_ref().map_or(Decimal::ZERO, |m| m.amount),
            currency,
            notes: Vec::new(),
        };
        let prefix = edit_credit_prefix(order_guid);
        let mut edits: Vec<&FbCreditNote> = notes
            .iter()
            .filter(|n| n.notes.as_deref().is_some_and(|t| t.contains(&prefix)))
            .collect();
        edits.sort_by_key(|n| n.id);
        for note in edits {
            standing.amount -= note.amount.as_ref().map_or(Decimal::ZERO, |m| m.amount);
            for l in &note.lines {
                let mut line = lines::read(l, &standing.currency);
                match l.description.as_str() {
                    REMOVED => {
                        take_one(&mut standing.lines, &line);
                    }
                    ADDED => {
                        line.unit_cost.amount = -line.unit_cost.amount;
                        line.description.clear();
                        standing.lines.push(line);
                    }
                    _ => {}
                }
            }
        }
        Ok(standing)
    }

    /// The credit note among the client's carrying `marker` (the oldest, should a retry have made two).
    fn find(&self, marker: &str) -> Option<&FbCreditNote> {
        self.notes
            .iter()
            .filter(|n| n.notes.as_deref().is_some_and(|t| t.contains(marker)))
            .min_by_key(|n| n.id)
    }
}

/// `lines` plus a rounding line when FreshBooks would total them at other than `target`.
fn exact(
    mut lines: Vec<InvoiceLineDraft>,
    target: Decimal,
    currency: &CurrencyCode,
) -> Vec<InvoiceLineDraft> {
    let off = target - InvoiceLineDraft::total(&lines);
    if !off.is_zero() {
        lines.push(InvoiceLineDraft {
            name: ROUNDING.to_owned(),
            description: String::new(),
            quantity: Decimal::ONE,
            unit_cost: Money::new(off, currency.clone()),
            tax1: None,
            tax2: None,
            sku: String::new(),
        });
    }
    lines
}

/// The recorded credit note for `key`, else one carrying `marker` (adopted after a lost reply).
async fn recorded(
    c: &Correction<'_>,
    standing: &Standing,
    key: &str,
    marker: &str,
    synced: &mut Synced,
) -> Result<Option<i64>> {
    let entry = get(c.ledger, key).await?;
    if let Some(id) = done_id(&entry) {
        return Ok(Some(id));
    }
    let Some(note) = standing.find(marker) else {
        return Ok(None);
    };
    if matches!(entry, Some(LedgerEntry::Intent)) {
        synced.adopted.push(key.to_owned());
    }
    done(c.ledger, key, note.id).await?;
    Ok(Some(note.id))
}

/// Writes a credit note for the invoice's client, recorded under `key`.
async fn write(
    c: &Correction<'_>,
    inv: &FbInvoice,
    key: &str,
    lines: &[InvoiceLineDraft],
    currency: &CurrencyCode,
    notes: &str,
) -> Result<i64> {
    intent(c.ledger, key).await?;
    let id =
        c.fb.create_credit_note(inv.customerid, currency, lines, notes)
            .await?
            .id;
    done(c.ledger, key, id).await?;
    Ok(id)
}

/// Withdraws a cancelled order's invoice: none yet, or deleted already, nothing to do; a draft (or a sent one under
/// `sent_cancellation = "delete"`) deleted; otherwise a credit note for what the order still bills, spent on what
/// is outstanding — or [`Error::Review`] for an invoice with payments under `paid_cancellation =
/// "review"`.
pub(super) async fn cancel(
    c: &Correction<'_>,
    inv: Option<FbInvoice>,
    synced: &mut Synced,
) -> Result<()> {
    let Some(inv) = inv else {
        synced
            .changes
            .push("order cancelled before it was invoiced: nothing written".to_owned());
        return Ok(());
    };
    synced.invoice_id = inv.id;
    synced.invoice_number = inv.invoice_number.clone();
    if inv.vis_state == 1 {
        synced
            .changes
            .push(format!("invoice {} already deleted", inv.id));
        return Ok(());
    }
    let key = c.keys.key("credit-note", &c.order.guid.to_string());
    let marker = credit_marker(c.order.guid);
    // A credit note written before (its `Credit` payment makes the invoice look paid now) decides first.
    let known = done_id(&get(c.ledger, &key).await?);
    let deletes = is_draft(&inv) || c.options.sent_cancellation == SentCancellation::Delete;
    if known.is_none() && !inv.has_payments() && deletes {
        let deleted = c.keys.key("invoice-deleted", &c.order.guid.to_string());
        intent(c.ledger, &deleted).await?;
        c.fb.delete_invoice(inv.id).await?;
        done(c.ledger, &deleted, inv.id).await?;
        tracing::info!(invoice_id = inv.id, "Invoice of a cancelled order deleted.");
        synced
            .changes
            .push(format!("deleted invoice {} (order cancelled)", inv.id));
        return Ok(());
    }
    let standing = Standing::of(c, &inv).await?;
    let id = match recorded(c, &standing, &key, &marker, synced).await? {
        Some(id) => id,
        None if inv.has_payments() && c.options.paid_cancellation == PaidChange::Review => {
            return Err(Error::Review {
                what: format!("cancel freshbooks invoice {}", inv.id),
                reason:
                    "the order was cancelled in kentico but the invoice has payments; review it \
                         (credit note or refund)"
                        .to_owned(),
            });
        }
        None => {
            let lines = exact(standing.lines.clone(), standing.amount, &standing.currency);
            let notes = with_marker(
                &format!(
                    "Kentico order {} cancelled: withdraws invoice {}",
                    c.order.number,
                    inv.invoice_number.as_deref().unwrap_or_default()
                ),
                &marker,
            );
            let id = write(c, &inv, &key, &lines, &standing.currency, &notes).await?;
            tracing::info!(
                invoice_id = inv.id,
                credit_note_id = id,
                "Invoice of a cancelled order credited."
            );
            id
        }
    };
    synced
        .changes
        .push(format!("credit note {id} withdraws invoice {}", inv.id));
    settle_from_credit(c, &inv, id, standing.amount, &standing.currency, synced).await
}

/// Spends the withdrawing credit note on what the invoice still has outstanding: a `Credit` payment, so the invoice
/// the customer has seen is settled and the client owes nothing; whatever was paid stays as the client's credit.
async fn settle_from_credit(
    c: &Correction<'_>,
    inv: &FbInvoice,
    credit_note_id: i64,
    credited: Decimal,
    currency: &CurrencyCode,
    synced: &mut Synced,
) -> Result<()> {
    let outstanding = inv.outstanding.as_ref().map_or(Decimal::ZERO, |m| m.amount);
    let amount = outstanding.min(credited);
    if amount <= Decimal::ZERO {
        return Ok(());
    }
    let which = PaymentRef::settled_from_credit(c.keys, c.order.guid);
    let draft = PaymentDraft {
        amount: Money::new(amount, currency.clone()),
        date: c.order.last_modified.date(),
        method: "Credit".to_owned(),
        note: format!(
            "Kentico order {} cancelled: settled from credit note {credit_note_id}",
            c.order.number
        ),
        transaction_id: String::new(),
    };
    if let Some(id) = ensure_payment(c.fb, c.ledger, which, inv, &draft, synced).await? {
        synced.changes.push(format!(
            "payment {id} settles invoice {} from credit note {credit_note_id}",
            inv.id
        ));
    }
    Ok(())
}

/// Credits the difference an edit of a paid order makes: nothing when the order already stands at the edit (it
/// was credited before); a credit note with the removed lines, and the added ones at a negative price, when the
/// edit lowers the total; [`Error::Review`] when it raises it, which a credit note cannot carry.
pub(super) async fn credit_edit(
    c: &Correction<'_>,
    inv: &FbInvoice,
    draft: &InvoiceDraft,
    synced: &mut Synced,
) -> Result<()> {
    let standing = Standing::of(c, inv).await?;
    let Some(diff) = LineDiff::between(&standing.lines, &draft.lines).filter(|d| !d.is_reorder())
    else {
        return Ok(());
    };
    let digest = digest_of(&lines::keys(&draft.lines));
    let key = c
        .keys
        .key("edit-credit", &format!("{}:{digest}", c.order.guid));
    let marker = edit_credit_marker(c.order.guid, &digest);
    if let Some(id) = recorded(c, &standing, &key, &marker, synced).await? {
        synced.changes.push(format!(
            "credit note {id} credits the edit of invoice {}",
            inv.id
        ));
        return Ok(());
    }
    let target = standing.amount - draft.amount();
    if target < Decimal::ZERO {
        return Err(Error::Review {
            what: format!(
                "credit the kentico edit of paid freshbooks invoice {}",
                inv.id
            ),
            reason: format!(
                "the edit raises the total by {} {} after payment, which a credit note cannot carry; review it \
                 (e.g. a new invoice for the difference): {diff}",
                -target,
                standing.currency.as_str()
            ),
        });
    }
    let mut lines: Vec<InvoiceLineDraft> = diff
        .removed
        .iter()
        .cloned()
        .map(|mut l| {
            l.description = REMOVED.to_owned();
            l
        })
        .collect();
    lines.extend(diff.added.iter().cloned().map(|mut l| {
        l.description = ADDED.to_owned();
        l.unit_cost.amount = -l.unit_cost.amount;
        l
    }));
    let lines = exact(lines, target, &standing.currency);
    let notes = with_marker(
        &format!(
            "Kentico order {} edited after payment (invoice {}): {diff}",
            c.order.number,
            inv.invoice_number.as_deref().unwrap_or_default()
        ),
        &marker,
    );
    let id = write(c, inv, &key, &lines, &standing.currency, &notes).await?;
    tracing::info!(
        invoice_id = inv.id,
        credit_note_id = id,
        "Edit of a paid invoice credited."
    );
    synced.changes.push(format!(
        "credit note {id} credits the edit of invoice {}: {diff}",
        inv.id
    ));
    Ok(())
}
