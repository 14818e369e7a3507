//! Orders edited in Kentico after their invoice exists.
//!
//! While nothing is paid on the invoice it follows the edit: one update with the new lines and/or the order's
//! billing address. Once a payment is recorded the invoice stays as issued and the tenant's `paid_edit` policy
//! decides: a credit note for the difference ([`super::withdraw::credit_edit`]) or review (the event is
//! dead-lettered with a readable diff). An address edit reaches a paid invoice too: it moves no money. Every path
//! compares FreshBooks with the drafts first, so an edit delivered twice writes nothing the second time.

use super::Synced;
use super::lines::{LineDiff, invoice_lines};
use super::withdraw::{Correction, credit_edit};
use crate::freshbooks::{FbInvoice, InvoiceAddress};
use crate::{Error, Result};
use ferry_model::{Drafts, PaidChange};

/// Brings an existing invoice to the drafts: nothing when they agree; the lines and address updated while nothing
/// is paid on it; with payments, the address updated and the lines left to the `paid_edit` policy.
pub(super) async fn apply_edit(
    c: &Correction<'_>,
    inv: FbInvoice,
    drafts: &Drafts,
    synced: &mut Synced,
) -> Result<FbInvoice> {
    // A freshly created invoice is read without its lines: nothing to compare.
    if inv.lines.is_empty() {
        return Ok(inv);
    }
    let draft = &drafts.invoice;
    let have = invoice_lines(&inv, &draft.currency_code);
    let diff = LineDiff::between(&have, &draft.lines);
    let mut lines = None;
    if let Some(diff) = &diff {
        if inv.has_payments() {
            match c.options.paid_edit {
                PaidChange::Review => {
                    return Err(Error::Review {
                        what: format!("apply the kentico edit to freshbooks invoice {}", inv.id),
                        reason: format!("the invoice has payments; review the change: {diff}"),
                    });
                }
                PaidChange::CreditNote => credit_edit(c, &inv, draft, synced).await?,
            }
        } else {
            synced
                .changes
                .push(format!("updated the lines of invoice {} ({diff})", inv.id));
            lines = Some(draft.lines.as_slice());
        }
    }
    let address = InvoiceAddress::from(&drafts.client);
    let address = (inv.address != address).then_some(address);
    if let Some(a) = &address {
        synced.changes.push(format!(
            "updated the address of invoice {} to {}, {} {}",
            inv.id, a.street, a.code, a.city
        ));
    }
    if lines.is_none() && address.is_none() {
        return Ok(inv);
    }
    tracing::info!(invoice_id = inv.id, "Invoice updated from an edited order.");
    c.fb.update_invoice(inv.id, lines, address.as_ref()).await
}
