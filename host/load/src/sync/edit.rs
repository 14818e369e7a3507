//! Orders changed or cancelled in Kentico after their invoice exists.
//!
//! An edited order's invoice gets the new lines while FreshBooks still takes them as an edit (nothing paid on it);
//! once a payment is recorded the change is for a person to review (the event is dead-lettered with a readable
//! diff). A cancelled order's unpaid invoice is deleted; a paid one goes to review. Both are idempotent: the
//! invoice is compared with the drafts first, so an edit delivered twice, or retried after a lost reply, writes
//! nothing the second time.

use super::Synced;
use crate::freshbooks::{FbInvoice, FbLine, FreshBooksClient};
use crate::{Error, Result};
use ferry_model::{Decimal, InvoiceDraft, InvoiceLineDraft, LineTax};
use std::str::FromStr;

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
    let tax = draft_tax;
    (
        l.name.clone(),
        l.quantity.normalize(),
        l.unit_cost.amount.normalize(),
        taxes([tax(&l.tax1), tax(&l.tax2)]),
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

/// Cancels an order's invoice: none yet, nothing to do; deleted already, nothing to do; unpaid, deleted; paid,
/// [`Error::Invalid`] (the order goes to review).
pub(super) async fn cancel(
    fb: &FreshBooksClient,
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
    if inv.has_payments() {
        return Err(Error::Invalid {
            what: format!("cancel freshbooks invoice {}", inv.id),
            reason: "the order was cancelled in kentico but the invoice has payments; review it (credit note or refund)"
                .to_owned(),
        });
    }
    fb.delete_invoice(inv.id).await?;
    tracing::info!(invoice_id = inv.id, "Invoice of a cancelled order deleted.");
    synced
        .changes
        .push(format!("deleted invoice {} (order cancelled)", inv.id));
    Ok(())
}
