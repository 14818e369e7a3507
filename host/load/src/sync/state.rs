//! What an order's invoice was last brought to, kept in the ledger (`invoice-state:<guid>` → a digest of the
//! drafts' lines, address and status). An event that changes none of it, with every payment it needs recorded,
//! needs no FreshBooks call at all: the status change or the second webhook of an order already in its final state
//! (issue 20). Anything that would write — an edit, a payment not yet recorded, a new status — takes the full path,
//! which reads the invoice from FreshBooks first.

use super::invoice::{PaymentRef, invoice_key};
use super::{Keys, Synced, digest_of, done_id, get};
use crate::freshbooks::InvoiceAddress;
use crate::ledger::Ledger;
use crate::{Error, Result};
use ferry_model::Drafts;
use uuid::Uuid;

/// What the invoice is brought to: its lines, the address it prints and its status.
pub(crate) fn invoice_state(drafts: &Drafts) -> String {
    digest_of(&(
        &drafts.invoice.lines,
        InvoiceAddress::from(&drafts.client),
        drafts.invoice.status,
    ))
}

pub(super) fn state_key(keys: &Keys, order_guid: Uuid) -> String {
    keys.key("invoice-state", &order_guid.to_string())
}

/// What the ledger records of the invoice's last state.
pub(crate) struct Recorded {
    /// [`invoice_state`] of the drafts it was brought to.
    pub(crate) digest: String,
    /// The invoice number FreshBooks gave it.
    pub(super) invoice_number: Option<String>,
}

/// The state last recorded for the order's invoice, if any (`"<digest> <invoice number>"`).
pub(crate) async fn recorded(
    ledger: &dyn Ledger,
    keys: &Keys,
    order_guid: Uuid,
) -> Result<Option<Recorded>> {
    Ok(match get(ledger, &state_key(keys, order_guid)).await? {
        Some(crate::LedgerEntry::Done { external_id }) => {
            let (digest, number) = external_id
                .split_once(' ')
                .unwrap_or((external_id.as_str(), ""));
            Some(Recorded {
                digest: digest.to_owned(),
                invoice_number: (!number.is_empty()).then(|| number.to_owned()),
            })
        }
        _ => None,
    })
}

/// Fills in the invoice and payment ids when the ledger records the invoice and every payment the drafts ask
/// for; false (and `synced` partly filled) otherwise.
pub(super) async fn recorded_payments(
    ledger: &dyn Ledger,
    keys: &Keys,
    order_guid: Uuid,
    drafts: &Drafts,
    synced: &mut Synced,
) -> Result<bool> {
    let Some(invoice_id) = done_id(&get(ledger, &invoice_key(keys, order_guid)).await?) else {
        return Ok(false);
    };
    let mut cards = Vec::new();
    for n in 0..drafts.gift_cards.len() {
        let card = PaymentRef::gift_card(keys, order_guid, n);
        let Some(id) = done_id(&get(ledger, card.key()).await?) else {
            return Ok(false);
        };
        cards.push(id);
    }
    let mut payment = None;
    if drafts.payment.is_some() {
        let gateway = PaymentRef::gateway(keys, order_guid);
        let Some(id) = done_id(&get(ledger, gateway.key()).await?) else {
            return Ok(false);
        };
        payment = Some(id);
    }
    synced.invoice_id = invoice_id;
    synced.gift_card_payment_ids = cards;
    synced.payment_id = payment;
    Ok(true)
}

/// Records the state the invoice was brought to (after a full sync).
pub(super) async fn record(
    ledger: &dyn Ledger,
    keys: &Keys,
    order_guid: Uuid,
    state: &str,
    synced: &Synced,
) -> Result<()> {
    let key = state_key(keys, order_guid);
    let value = format!(
        "{state} {}",
        synced.invoice_number.as_deref().unwrap_or_default()
    );
    // Only this order's events write its state: it goes with the event's outcome.
    ledger
        .done_with_next_write(&key, value.trim_end())
        .await
        .map_err(|e| Error::store(&format!("record done {key}"), e))
}

async fn put(ledger: &dyn Ledger, key: &str, value: &str) -> Result<()> {
    ledger
        .done(key, value)
        .await
        .map_err(|e| Error::store(&format!("record done {key}"), e))
}

/// What the ledger records in place of a state to say none is known: no digest equals it, so the next sync of the
/// order takes the full path and compares the invoice with FreshBooks.
const FORGOTTEN: &str = "forgotten";

/// Forgets the state recorded for the order's invoice (an audit overwriting a person's change): the next sync
/// compares the invoice in FreshBooks with the order instead of trusting the ledger.
pub(crate) async fn forget(ledger: &dyn Ledger, keys: &Keys, order_guid: Uuid) -> Result<()> {
    put(ledger, &state_key(keys, order_guid), FORGOTTEN).await
}
