//! `sync_order` / `sync_customer`: find-or-create the client, taxes and items, create the invoice, mark it
//! sent, post the payment — each create recorded in the ledger before and after the call, each created
//! object stamped with a marker so a retry after an unknown outcome adopts it instead of duplicating it.
//!
//! Layout:
//! - `client`: the customer's FreshBooks client (found by stored id, marker or e-mail; else created).
//! - `catalog`: taxes and items every line needs (found by name or SKU; else created or the default item).
//! - `product`: a catalogue SKU's item kept up to date (name, price, tax, stock; archived when disabled).
//! - `invoice`: the order's invoice and its payment.
//! - `edit`: an invoice brought to an order edited after it was written.
//! - `withdraw`: cancelled orders, and credit notes for paid orders edited down.
//! - `lines`: invoice lines compared as Ferry writes them.
//! - `state`: what the invoice was last brought to, so an event that changes nothing costs no call.

mod catalog;
mod client;
mod edit;
mod invoice;
mod lines;
mod prefetch;
mod product;
mod state;
mod withdraw;

use catalog::{ensure_items, ensure_taxes};
pub use client::sync_customer_client;
use client::{ensure_client, find_client};
pub use invoice::gift_card_marker;
use invoice::{ensure_invoice, ensure_payment, find_invoice, is_draft};
pub use product::{ItemSynced, archive_product, sync_product};
pub use withdraw::{credit_marker, edit_credit_marker};
// What the books audit reads back the way the sync wrote it.
pub(crate) use invoice::{PaymentRef, invoice_key};
pub(crate) use lines::{LineDiff, keys as line_keys};
pub(crate) use state::{forget as forget_state, invoice_state, recorded as recorded_state};
pub(crate) use withdraw::Standing;

use crate::{
    Error, Result, SyncOptions,
    freshbooks::FreshBooksClient,
    ledger::{Ledger, LedgerEntry},
};
use ferry_model::{ClientDraft, Customer, Drafts, InvoiceStatus, Order, TenantId};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The FreshBooks ids an order ended up with.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Synced {
    /// Client id.
    pub client_id: i64,
    /// Invoice id.
    pub invoice_id: i64,
    /// Invoice number FreshBooks assigned (or Ferry requested).
    pub invoice_number: Option<String>,
    /// Payment id, when the order is paid.
    pub payment_id: Option<i64>,
    /// The gift-card payments' ids, in the order of the order's gift cards.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gift_card_payment_ids: Vec<i64>,
    /// SKU → item id.
    pub item_ids: BTreeMap<String, i64>,
    /// Tax name → tax id.
    pub tax_ids: BTreeMap<String, i64>,
    /// Ledger keys resolved by adopting an object found by its marker (an earlier reply was lost).
    pub adopted: Vec<String>,
    /// The client was found in FreshBooks by e-mail or marker, not recorded or created here: its invoices may
    /// predate the ledger, so a new invoice is searched for before it is created.
    #[serde(skip)]
    pub client_found: bool,
    /// The invoice was found in FreshBooks by its marker, not recorded here: its payments may predate the ledger,
    /// so each is searched for before it is posted.
    #[serde(skip)]
    pub invoice_found: bool,
    /// What changed in FreshBooks besides creating: lines updated from an edited order, an invoice deleted for a
    /// cancelled one (for the run history).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

/// The marker stamped in a client's note: the Kentico customer GUID.
pub fn customer_marker(guid: Uuid) -> String {
    format!("ferry:customer:{guid}")
}

/// The marker stamped in an invoice's notes and a payment's note: the Kentico order GUID.
pub fn order_marker(guid: Uuid) -> String {
    format!("ferry:order:{guid}")
}

/// A short hex digest of a serialisable value: names a state or an edit in ledger keys and markers.
fn digest_of(value: &impl serde::Serialize) -> String {
    use sha2::{Digest, Sha256};
    let text = serde_json::to_string(value).unwrap_or_default();
    Sha256::digest(text.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn with_marker(text: &str, marker: &str) -> String {
    if text.contains(marker) {
        text.to_owned()
    } else if text.trim().is_empty() {
        marker.to_owned()
    } else {
        format!("{}\n{marker}", text.trim_end())
    }
}

/// Builds the tenant's ledger keys (`{tenant}:{kind}:{id}`).
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    /// The keys of `tenant`.
    pub(crate) fn of(tenant: &TenantId) -> Self {
        Self {
            prefix: tenant.to_string(),
        }
    }

    /// The key of `kind` `id`.
    pub(crate) fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:{kind}:{id}", self.prefix)
    }
}

pub(crate) async fn get(ledger: &dyn Ledger, key: &str) -> Result<Option<LedgerEntry>> {
    ledger
        .get(key)
        .await
        .map_err(|e| Error::store(&format!("read ledger {key}"), e))
}

/// Records the intent of a create of `key`; true when this call wrote it.
async fn intent(ledger: &dyn Ledger, key: &str) -> Result<bool> {
    ledger
        .intent(key)
        .await
        .map_err(|e| Error::store(&format!("record intent {key}"), e))
}

/// Sends `create` under the intent of `key`, written first. When the create certainly created nothing (FreshBooks
/// refused it, e.g. 429, or it never left) and the intent is this attempt's own, the intent is taken back: the next
/// attempt then creates at once instead of first searching FreshBooks for an object that cannot exist (issue 20: a
/// throttled create costs one call, not two). An intent an earlier attempt left stays: its outcome is still unknown.
/// Taking it back may fail; the intent then stays, which is safe.
async fn create_under_intent<T>(
    ledger: &dyn Ledger,
    key: &str,
    create: impl Future<Output = Result<T>>,
) -> Result<T> {
    let fresh = intent(ledger, key).await?;
    let result = create.await;
    if fresh
        && let Err(e) = &result
        && e.refused_for_certain()
        && let Err(error) = ledger.withdraw(key).await
    {
        tracing::warn!(%error, key, "Could not take back the intent of a refused create; the next attempt searches first.");
    }
    result
}

/// The FreshBooks id of `key` when the ledger already knows it is done, without asking the store
/// ([`Ledger::known_done`]).
fn known_done_id(ledger: &dyn Ledger, key: &str) -> Option<i64> {
    ledger.known_done(key).and_then(|id| id.parse().ok())
}

/// Exclusive use of `key` for one find-or-create; see [`Ledger::lock`].
async fn lock(ledger: &dyn Ledger, key: &str) -> Result<crate::LedgerLock> {
    ledger
        .lock(key)
        .await
        .map_err(|e| Error::store(&format!("lock {key}"), e))
}

pub(crate) async fn done(ledger: &dyn Ledger, key: &str, id: i64) -> Result<()> {
    ledger
        .done(key, &id.to_string())
        .await
        .map_err(|e| Error::store(&format!("record done {key}"), e))
}

/// [`done`] for a key only this event writes, recorded with the event's next ledger write
/// ([`Ledger::done_with_next_write`]).
pub(crate) async fn done_with_next_write(ledger: &dyn Ledger, key: &str, id: i64) -> Result<()> {
    ledger
        .done_with_next_write(key, &id.to_string())
        .await
        .map_err(|e| Error::store(&format!("record done {key}"), e))
}

pub(crate) fn done_id(entry: &Option<LedgerEntry>) -> Option<i64> {
    match entry {
        Some(LedgerEntry::Done { external_id }) => external_id.parse().ok(),
        _ => None,
    }
}

/// Syncs one order: client, taxes, items, invoice (+ mark sent), gift-card payments, payment.
///
/// # Errors
/// [`Error`] with `disposition()`; after an unknown outcome the next call adopts by marker.
#[tracing::instrument(skip_all, fields(tenant = %tenant, order_id = order.id, stage = "load"))]
pub async fn sync_order(
    client: &FreshBooksClient,
    ledger: &dyn Ledger,
    tenant: &TenantId,
    order: &Order,
    drafts: &Drafts,
    options: &SyncOptions,
) -> Result<Synced> {
    let keys = Keys {
        prefix: tenant.to_string(),
    };
    let prefetched = prefetch::Prefetched::read(ledger, order_keys(&keys, order, drafts)).await?;
    let ledger: &dyn Ledger = &prefetched;
    let mut synced = Synced::default();
    let correction = withdraw::Correction {
        fb: client,
        ledger,
        keys: &keys,
        order,
        options,
    };
    if drafts.cancelled {
        // Nothing is created for a cancelled order; an invoice it already has is withdrawn.
        let known = client::known_client(client, ledger, &keys, order.customer.guid).await?;
        synced.client_id = known.unwrap_or_default();
        let inv = find_invoice(client, ledger, &keys, order.guid, known, true, &mut synced).await?;
        withdraw::cancel(&correction, inv, &mut synced).await?;
        return Ok(synced);
    }
    let state = state::invoice_state(drafts);
    let recorded = state::recorded(ledger, &keys, order.guid).await?;
    // An order already invoiced needs its client only by id: the ledger's is trusted without a call.
    let invoiced = done_id(&get(ledger, &invoice::invoice_key(&keys, order.guid)).await?).is_some();
    synced.client_id = ensure_client(
        client,
        ledger,
        &keys,
        order.customer.guid,
        &drafts.client,
        !invoiced,
        &mut synced,
    )
    .await?;
    ensure_taxes(client, ledger, &keys, drafts, &mut synced).await?;
    ensure_items(client, ledger, &keys, drafts, options, &mut synced).await?;
    // Nothing to change (same lines, address and status as last time, every payment recorded): no more calls.
    if let Some(known) = &recorded
        && known.digest == state
        && state::recorded_payments(ledger, &keys, order.guid, drafts, &mut synced).await?
    {
        synced.invoice_number = known.invoice_number.clone();
        return Ok(synced);
    }
    let invoice = ensure_invoice(client, ledger, &keys, order.guid, drafts, &mut synced).await?;
    let invoice = edit::apply_edit(&correction, invoice, drafts, &mut synced).await?;
    synced.invoice_id = invoice.id;
    synced.invoice_number = invoice.invoice_number.clone();
    if drafts.invoice.status == InvoiceStatus::Sent && is_draft(&invoice) {
        let key = keys.key("invoice-sent", &order.guid.to_string());
        intent(ledger, &key).await?;
        client.mark_invoice_sent(invoice.id).await?;
        done_with_next_write(ledger, &key, invoice.id).await?;
    }
    for (n, card) in drafts.gift_cards.iter().enumerate() {
        let which = PaymentRef::gift_card(&keys, order.guid, n);
        if let Some(id) = ensure_payment(client, ledger, which, &invoice, card, &mut synced).await?
        {
            synced.gift_card_payment_ids.push(id);
        }
    }
    if let Some(p) = &drafts.payment {
        let gateway = PaymentRef::gateway(&keys, order.guid);
        synced.payment_id =
            ensure_payment(client, ledger, gateway, &invoice, p, &mut synced).await?;
    }
    if recorded.as_ref().is_none_or(|r| r.digest != state) {
        state::record(ledger, &keys, order.guid, &state, &synced).await?;
    }
    tracing::info!(
        client_id = synced.client_id,
        invoice_id = synced.invoice_id,
        "Order synced to FreshBooks."
    );
    Ok(synced)
}

/// Every ledger key [`sync_order`] may read for `order`: its state, invoice and payments, and the client, taxes and
/// items it names.
fn order_keys(keys: &Keys, order: &Order, drafts: &Drafts) -> Vec<String> {
    let guid = order.guid;
    let mut all = vec![
        state::state_key(keys, guid),
        invoice::invoice_key(keys, guid),
        keys.key("invoice-sent", &guid.to_string()),
        keys.key("client", &order.customer.guid.to_string()),
        PaymentRef::gateway(keys, guid).key().to_owned(),
    ];
    all.extend(
        (0..drafts.gift_cards.len()).map(|n| PaymentRef::gift_card(keys, guid, n).key().to_owned()),
    );
    all.extend(
        catalog::order_taxes(drafts)
            .into_iter()
            .map(|t| keys.key("tax", &catalog::tax_key(&t.name))),
    );
    all.extend(
        drafts
            .items
            .iter()
            .filter(|i| !i.sku.is_empty())
            .map(|i| catalog::item_key(keys, &i.sku)),
    );
    all.sort();
    all.dedup();
    all
}

/// Updates the customer's FreshBooks client on `customer.updated`. Returns `None` when the customer has
/// no client yet (it is created with the first order).
///
/// # Errors
/// [`Error`] with `disposition()`.
#[tracing::instrument(skip_all, fields(tenant = %tenant, customer_id = customer.id, stage = "load"))]
pub async fn sync_customer(
    client: &FreshBooksClient,
    ledger: &dyn Ledger,
    tenant: &TenantId,
    customer: &Customer,
    draft: &ClientDraft,
) -> Result<Option<i64>> {
    let keys = Keys {
        prefix: tenant.to_string(),
    };
    let key = keys.key("client", &customer.guid.to_string());
    let mut id = done_id(&get(ledger, &key).await?);
    if let Some(known) = id
        && !matches!(client.get_client(known).await, Ok(ref c) if c.vis_state != 1)
    {
        id = None;
    }
    if id.is_none() {
        id = find_client(client, customer.guid, &draft.email).await?;
    }
    let Some(id) = id else { return Ok(None) };
    let mut stamped = draft.clone();
    stamped.note = with_marker(&draft.note, &customer_marker(customer.guid));
    client.update_client(id, &stamped).await?;
    done(ledger, &key, id).await?;
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_appended_once() {
        let m = order_marker(Uuid::nil());
        assert_eq!(with_marker("", &m), m);
        let once = with_marker("Gift wrap", &m);
        assert_eq!(once, format!("Gift wrap\n{m}"));
        assert_eq!(with_marker(&once, &m), once);
    }
}
