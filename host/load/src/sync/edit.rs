//! Orders changed or cancelled in Kentico after their invoice exists.
//!
//! An edited order's invoice gets the new lines while FreshBooks still takes them as an edit (nothing paid on it);
//! once a payment is recorded the change is for a person to review (the event is dead-lettered with a readable
//! diff). A cancelled order's unpaid invoice is deleted; a paid one gets a credit note mirroring it
//! (`mapping.paid_cancellation = "credit_note"`) or goes to review. All are idempotent: the invoice is compared
//! with the drafts first, and the credit note is recorded in the ledger and found again by its marker, so a change
//! delivered twice, or retried after a lost reply, writes nothing the second time.

use super::{Keys, Synced, done, done_id, get, intent, with_marker};
use crate::freshbooks::{FbInvoice, FbLine, FreshBooksClient};
use crate::ledger::{Ledger, LedgerEntry};
use crate::{Error, Result};
use ferry_model::{
    CurrencyCode, Decimal, InvoiceDraft, InvoiceLineDraft, LineTax, Money, PaidCancellation,
};
use std::str::FromStr;
use uuid::Uuid;

/// The marker stamped in the notes of the credit note that withdraws a cancelled order's paid invoice.
pub fn credit_marker(order_guid: Uuid) -> String {
    format!("ferry:credit:{order_guid}")
}

/// What Ferry sets on a line, normalised: name, quantity, unit cost and taxes.
type LineKey = (String, Decimal, Decimal, Vec<(String, Decimal)>);

fn decimal(v: &serde_json::Value) -> Decimal {
    match v {
        serde_json::Value::String(s) => Decimal::from_str(s.trim()).unwrap_or_default(),
        serde_json::Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

fn taxes(pairs: [(Option<&str>, Decimal); 2]) -> Vec<(String, Decimal)> {
    pairs
        .into_iter()
        .filter_map(|(name, pct)| {
            let name = name.unwrap_or("").trim();
            (!name.is_empty()).then(|| (name.to_owned(), pct.normalize()))
        })
        .collect()
}

fn fb_key(l: &FbLine) -> LineKey {
    (
        l.name.clone(),
        decimal(&l.qty).normalize(),
        l.unit_cost
            .as_ref()
            .map_or(Decimal::ZERO, |m| m.amount.normalize()),
        taxes([
            (l.tax_name1.as_deref(), decimal(&l.tax_amount1)),
            (l.tax_name2.as_deref(), decimal(&l.tax_amount2)),
        ]),
    )
}

fn draft_tax(t: &Option<LineTax>) -> (Option<&str>, Decimal) {
    (
        t.as_ref().map(|t| t.name.as_str()),
        t.as_ref().map_or(Decimal::ZERO, |t| t.percent),
    )
}

fn draft_key(l: &InvoiceLineDraft) -> LineKey {
    (
        l.name.clone(),
        l.quantity.normalize(),
        l.unit_cost.amount.normalize(),
        taxes([draft_tax(&l.tax1), draft_tax(&l.tax2)]),
    )
}

fn show(k: &LineKey) -> String {
    let taxes: Vec<String> = k.3.iter().map(|(n, p)| format!("{n} {p}%")).collect();
    format!("{} × {} {} [{}]", k.1, k.0, k.2, taxes.join(", "))
}

/// A readable diff of the invoice's lines against the draft's, `None` when they are the same.
pub(super) fn line_changes(inv: &FbInvoice, draft: &InvoiceDraft) -> Option<String> {
    let have: Vec<LineKey> = inv.lines.iter().map(fb_key).collect();
    let want: Vec<LineKey> = draft.lines.iter().map(draft_key).collect();
    if have == want {
        return None;
    }
    let removed: Vec<String> = have
        .iter()
        .filter(|k| !want.contains(k))
        .map(show)
        .collect();
    let added: Vec<String> = want
        .iter()
        .filter(|k| !have.contains(k))
        .map(show)
        .collect();
    Some(format!(
        "removed: {}; added: {}",
        if removed.is_empty() {
            "nothing".to_owned()
        } else {
            removed.join("; ")
        },
        if added.is_empty() {
            "nothing".to_owned()
        } else {
            added.join("; ")
        }
    ))
}

/// Brings an existing invoice's lines to the draft's: nothing when they agree, an update while nothing is paid on
/// it, else [`Error::Invalid`] with the diff (the order goes to review).
pub(super) async fn apply_edit(
    fb: &FreshBooksClient,
    inv: FbInvoice,
    draft: &InvoiceDraft,
    synced: &mut Synced,
) -> Result<FbInvoice> {
    // A freshly created invoice is read without its lines: nothing to compare.
    if inv.lines.is_empty() {
        return Ok(inv);
    }
    let Some(diff) = line_changes(&inv, draft) else {
        return Ok(inv);
    };
    if inv.has_payments() {
        return Err(Error::Invalid {
            what: format!("apply the kentico edit to freshbooks invoice {}", inv.id),
            reason: format!("the invoice has payments; review the change: {diff}"),
        });
    }
    tracing::info!(
        invoice_id = inv.id,
        "Invoice lines updated from an edited order."
    );
    synced
        .changes
        .push(format!("updated the lines of invoice {} ({diff})", inv.id));
    fb.update_invoice_lines(inv.id, &draft.lines).await
}

/// What a cancellation works with.
pub(super) struct Cancellation<'a> {
    pub(super) fb: &'a FreshBooksClient,
    pub(super) ledger: &'a dyn Ledger,
    pub(super) keys: &'a Keys,
    pub(super) order_guid: Uuid,
    pub(super) paid: PaidCancellation,
}

/// Cancels an order's invoice: none yet, nothing to do; deleted already, nothing to do; unpaid, deleted; paid, a
/// credit note mirroring it, or [`Error::Invalid`] (the order goes to review) under the `review` policy.
pub(super) async fn cancel(
    c: &Cancellation<'_>,
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
    if !inv.has_payments() {
        c.fb.delete_invoice(inv.id).await?;
        tracing::info!(invoice_id = inv.id, "Invoice of a cancelled order deleted.");
        synced
            .changes
            .push(format!("deleted invoice {} (order cancelled)", inv.id));
        return Ok(());
    }
    match c.paid {
        PaidCancellation::Review => Err(Error::Invalid {
            what: format!("cancel freshbooks invoice {}", inv.id),
            reason: "the order was cancelled in kentico but the invoice has payments; review it \
                     (credit note or refund)"
                .to_owned(),
        }),
        PaidCancellation::CreditNote => credit(c, &inv, synced).await,
    }
}

/// The credit note withdrawing a paid invoice: the recorded one, else one of the client's carrying the marker,
/// else a new one with the invoice's lines.
async fn credit(c: &Cancellation<'_>, inv: &FbInvoice, synced: &mut Synced) -> Result<()> {
    let key = c.keys.key("credit-note", &c.order_guid.to_string());
    let marker = credit_marker(c.order_guid);
    let entry = get(c.ledger, &key).await?;
    if let Some(id) = done_id(&entry) {
        synced
            .changes
            .push(format!("credit note {id} withdraws invoice {}", inv.id));
        return Ok(());
    }
    let found =
        c.fb.list_credit_notes_for_client(inv.customerid)
            .await?
            .into_iter()
            .filter(|n| n.notes.as_deref().is_some_and(|t| t.contains(&marker)))
            .min_by_key(|n| n.id);
    let id = match found {
        Some(note) => {
            if matches!(entry, Some(LedgerEntry::Intent)) {
                synced.adopted.push(key.clone());
            }
            note.id
        }
        None => {
            let currency = inv
                .amount
                .as_ref()
                .and_then(|m| CurrencyCode::parse(&m.code).ok())
                .ok_or_else(|| Error::Invalid {
                    what: format!("credit freshbooks invoice {}", inv.id),
                    reason: "the invoice has no currency".to_owned(),
                })?;
            let lines: Vec<InvoiceLineDraft> = inv
                .lines
                .iter()
                .map(|l| credit_line(l, &currency))
                .collect();
            let notes = with_marker(
                &format!("Kentico order cancelled: withdraws invoice {}", inv.id),
                &marker,
            );
            intent(c.ledger, &key).await?;
            c.fb.create_credit_note(inv.customerid, &currency, &lines, &notes)
                .await?
                .id
        }
    };
    done(c.ledger, &key, id).await?;
    tracing::info!(
        invoice_id = inv.id,
        credit_note_id = id,
        "Paid invoice of a cancelled order credited."
    );
    synced
        .changes
        .push(format!("credit note {id} withdraws invoice {}", inv.id));
    Ok(())
}

/// An invoice line as a credit-note line: the same name, quantity, price and taxes.
fn credit_line(l: &FbLine, currency: &CurrencyCode) -> InvoiceLineDraft {
    let tax = |name: &Option<String>, pct: &serde_json::Value| {
        name.as_deref()
            .filter(|n| !n.trim().is_empty())
            .map(|n| LineTax {
                name: n.to_owned(),
                percent: decimal(pct),
            })
    };
    InvoiceLineDraft {
        name: l.name.clone(),
        description: String::new(),
        quantity: decimal(&l.qty),
        unit_cost: Money::new(
            l.unit_cost.as_ref().map_or(Decimal::ZERO, |m| m.amount),
            currency.clone(),
        ),
        tax1: tax(&l.tax_name1, &l.tax_amount1),
        tax2: tax(&l.tax_name2, &l.tax_amount2),
        sku: String::new(),
    }
}
