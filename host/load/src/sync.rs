//! `sync_order` / `sync_customer`: find-or-create the client, taxes and items, create the invoice, mark it
//! sent, post the payment — each create recorded in the ledger before and after the call, each created
//! object stamped with a marker so a retry after an unknown outcome adopts it instead of duplicating it.

use crate::{
    Error, Result,
    freshbooks::{FbInvoice, FreshBooksClient},
    ledger::{Ledger, LedgerEntry},
};
use ferry_model::{
    ClientDraft, Customer, InvoiceDraft, InvoiceStatus, ItemDraft, LineTax, Order, PaymentDraft,
    TenantId,
};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Pages of a client's invoices scanned for a marker after an unknown outcome (newest first).
const ADOPT_SCAN_PAGES: i64 = 5;

/// Everything `load` sends for one order (built by the default mapping, shaped by plugins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drafts {
    /// The client to find or create.
    pub client: ClientDraft,
    /// One item per distinct SKU on the order.
    pub items: Vec<ItemDraft>,
    /// The invoice.
    pub invoice: InvoiceDraft,
    /// The payment, when the order is paid.
    pub payment: Option<PaymentDraft>,
}

/// What to do with an order line whose SKU has no FreshBooks item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownSku {
    /// Create the item from its draft.
    CreateItem,
    /// Map it to the existing item with this name (dead-letter if that item is missing).
    DefaultItem {
        /// The default item's name.
        name: String,
    },
}

/// Per-tenant sync settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// Unknown-SKU policy.
    pub unknown_sku: UnknownSku,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            unknown_sku: UnknownSku::CreateItem,
        }
    }
}

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
    /// SKU → item id.
    pub item_ids: BTreeMap<String, i64>,
    /// Tax name → tax id.
    pub tax_ids: BTreeMap<String, i64>,
    /// Ledger keys resolved by adopting an object found by its marker (an earlier reply was lost).
    pub adopted: Vec<String>,
}

/// The marker stamped in a client's note: the Kentico customer GUID.
pub fn customer_marker(guid: Uuid) -> String {
    format!("ferry:customer:{guid}")
}

/// The marker stamped in an invoice's notes and a payment's note: the Kentico order GUID.
pub fn order_marker(guid: Uuid) -> String {
    format!("ferry:order:{guid}")
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

struct Keys {
    prefix: String,
}

impl Keys {
    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:{kind}:{id}", self.prefix)
    }
}

async fn get(ledger: &dyn Ledger, key: &str) -> Result<Option<LedgerEntry>> {
    ledger
        .get(key)
        .await
        .map_err(|e| Error::store(&format!("read ledger {key}"), e))
}

async fn intent(ledger: &dyn Ledger, key: &str) -> Result<()> {
    ledger
        .intent(key)
        .await
        .map_err(|e| Error::store(&format!("record intent {key}"), e))
}

/// Exclusive use of `key` for one find-or-create; see [`Ledger::lock`].
async fn lock(ledger: &dyn Ledger, key: &str) -> Result<crate::LedgerLock> {
    ledger
        .lock(key)
        .await
        .map_err(|e| Error::store(&format!("lock {key}"), e))
}

async fn done(ledger: &dyn Ledger, key: &str, id: i64) -> Result<()> {
    ledger
        .done(key, &id.to_string())
        .await
        .map_err(|e| Error::store(&format!("record done {key}"), e))
}

fn done_id(entry: &Option<LedgerEntry>) -> Option<i64> {
    match entry {
        Some(LedgerEntry::Done { external_id }) => external_id.parse().ok(),
        _ => None,
    }
}

/// Syncs one order: client, taxes, items, invoice (+ mark sent), payment.
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
    let mut synced = Synced::default();
    synced.client_id = ensure_client(
        client,
        ledger,
        &keys,
        order.customer.guid,
        &drafts.client,
        &mut synced,
    )
    .await?;
    ensure_taxes(client, ledger, &keys, drafts, &mut synced).await?;
    ensure_items(client, ledger, &keys, drafts, options, &mut synced).await?;
    let invoice = ensure_invoice(
        client,
        ledger,
        &keys,
        order.guid,
        &drafts.invoice,
        &mut synced,
    )
    .await?;
    synced.invoice_id = invoice.id;
    synced.invoice_number = invoice.invoice_number.clone();
    if drafts.invoice.status == InvoiceStatus::Sent && is_draft(&invoice) {
        let key = keys.key("invoice-sent", &order.guid.to_string());
        intent(ledger, &key).await?;
        client.mark_invoice_sent(invoice.id).await?;
        done(ledger, &key, invoice.id).await?;
    }
    if let Some(p) = &drafts.payment {
        synced.payment_id =
            ensure_payment(client, ledger, &keys, order.guid, &invoice, p, &mut synced).await?;
    }
    tracing::info!(
        client_id = synced.client_id,
        invoice_id = synced.invoice_id,
        "Order synced to FreshBooks."
    );
    Ok(synced)
}

/// Finds the client by stored id, marker or e-mail; creates it (with the marker) otherwise.
async fn ensure_client(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    customer_guid: Uuid,
    draft: &ClientDraft,
    synced: &mut Synced,
) -> Result<i64> {
    let key = keys.key("client", &customer_guid.to_string());
    let _held = lock(ledger, &key).await?;
    let entry = get(ledger, &key).await?;
    if let Some(id) = done_id(&entry) {
        match fb.get_client(id).await {
            Ok(c) if c.vis_state != 1 => return Ok(c.id),
            // Deleted by a person: find or create a live one below.
            Ok(_) | Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    if let Some(id) = find_client(fb, customer_guid, &draft.email).await? {
        if matches!(entry, Some(LedgerEntry::Intent)) {
            synced.adopted.push(key.clone());
        }
        done(ledger, &key, id).await?;
        return Ok(id);
    }
    let mut stamped = draft.clone();
    stamped.note = with_marker(&draft.note, &customer_marker(customer_guid));
    intent(ledger, &key).await?;
    let created = fb.create_client(&stamped).await?;
    done(ledger, &key, created.id).await?;
    Ok(created.id)
}

/// The oldest active client with our marker, else with the e-mail.
async fn find_client(
    fb: &FreshBooksClient,
    customer_guid: Uuid,
    email: &str,
) -> Result<Option<i64>> {
    let by_marker = fb
        .find_clients_by_marker(&customer_marker(customer_guid))
        .await?;
    if let Some(id) = by_marker.iter().map(|c| c.id).min() {
        return Ok(Some(id));
    }
    if email.trim().is_empty() {
        return Ok(None);
    }
    Ok(fb
        .find_clients_by_email(email.trim())
        .await?
        .iter()
        .map(|c| c.id)
        .min())
}

fn tax_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Every tax named on items or lines exists once, found by name.
async fn ensure_taxes(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    drafts: &Drafts,
    synced: &mut Synced,
) -> Result<()> {
    let mut wanted: BTreeMap<String, &LineTax> = BTreeMap::new();
    let line_taxes = drafts
        .invoice
        .lines
        .iter()
        .flat_map(|l| [l.tax1.as_ref(), l.tax2.as_ref()]);
    for t in drafts
        .items
        .iter()
        .map(|i| i.tax.as_ref())
        .chain(line_taxes)
        .flatten()
    {
        wanted.entry(tax_key(&t.name)).or_insert(t);
    }
    for (name, tax) in wanted {
        let key = keys.key("tax", &name);
        let _held = lock(ledger, &key).await?;
        let entry = get(ledger, &key).await?;
        if let Some(id) = done_id(&entry) {
            synced.tax_ids.insert(name, id);
            continue;
        }
        // Listed under the lock: a tax created by whoever held it before must be seen.
        let found = fb
            .list_taxes()
            .await?
            .iter()
            .find(|t| tax_key(&t.name) == name)
            .map(|t| t.id);
        let id = match found {
            Some(id) => {
                if matches!(entry, Some(LedgerEntry::Intent)) {
                    synced.adopted.push(key.clone());
                }
                id
            }
            None => {
                intent(ledger, &key).await?;
                fb.create_tax(tax).await?.id
            }
        };
        done(ledger, &key, id).await?;
        synced.tax_ids.insert(name, id);
    }
    Ok(())
}

/// Every SKU has an item: found by SKU, else created or mapped to the default item.
async fn ensure_items(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    drafts: &Drafts,
    options: &SyncOptions,
    synced: &mut Synced,
) -> Result<()> {
    for item in drafts.items.iter().filter(|i| !i.sku.is_empty()) {
        let key = keys.key("item", &item.sku);
        let _held = lock(ledger, &key).await?;
        let entry = get(ledger, &key).await?;
        if let Some(id) = done_id(&entry) {
            synced.item_ids.insert(item.sku.clone(), id);
            continue;
        }
        let id = match fb
            .find_items_by_sku(&item.sku)
            .await?
            .iter()
            .map(|i| i.id)
            .min()
        {
            Some(id) => {
                if matches!(entry, Some(LedgerEntry::Intent)) {
                    synced.adopted.push(key.clone());
                }
                id
            }
            None => match &options.unknown_sku {
                UnknownSku::CreateItem => {
                    let tax_id = item
                        .tax
                        .as_ref()
                        .and_then(|t| synced.tax_ids.get(&tax_key(&t.name)).copied());
                    intent(ledger, &key).await?;
                    fb.create_item(item, tax_id).await?.id
                }
                UnknownSku::DefaultItem { name } => {
                    let found = fb
                        .find_items_by_name(name)
                        .await?
                        .iter()
                        .map(|i| i.id)
                        .min();
                    found.ok_or_else(|| Error::Invalid {
                        what: format!("map sku {} to the default item", item.sku),
                        reason: format!("default item {name:?} does not exist in freshbooks"),
                    })?
                }
            },
        };
        done(ledger, &key, id).await?;
        synced.item_ids.insert(item.sku.clone(), id);
    }
    Ok(())
}

/// Status 1 / `v3_status` "draft": FreshBooks creates every invoice this way.
fn is_draft(inv: &FbInvoice) -> bool {
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

/// The order's invoice: the recorded one, else one found by marker after an unknown outcome, else a new one.
async fn ensure_invoice(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    order_guid: Uuid,
    draft: &InvoiceDraft,
    synced: &mut Synced,
) -> Result<FbInvoice> {
    let key = keys.key("invoice", &order_guid.to_string());
    let marker = order_marker(order_guid);
    let entry = get(ledger, &key).await?;
    if let Some(id) = done_id(&entry) {
        let inv = fb.get_invoice(id).await?;
        if inv.vis_state == 1 {
            return Err(Error::Invalid {
                what: format!("sync invoice {id}"),
                reason:
                    "the invoice was deleted in freshbooks; restore it or clear the ledger entry"
                        .into(),
            });
        }
        return Ok(inv);
    }
    {
        // After a lost reply (entry = Intent) FreshBooks may hold the invoice already. Without an entry we look
        // too: one list call per new invoice guards against a lost or restored ledger and a second host.
        let candidates = fb
            .list_invoices_for_client(synced.client_id, ADOPT_SCAN_PAGES)
            .await?;
        if let Some(inv) = candidates
            .into_iter()
            .filter(|i| is_ours(i, &marker))
            .min_by_key(|i| i.id)
        {
            tracing::warn!(
                invoice_id = inv.id,
                "Adopted invoice created by an attempt whose reply was lost."
            );
            done(ledger, &key, inv.id).await?;
            synced.adopted.push(key);
            // A list reply may omit fields; read the invoice itself for its status.
            return fb.get_invoice(inv.id).await;
        }
    }
    intent(ledger, &key).await?;
    let notes = with_marker(&draft.notes, &marker);
    let inv = fb.create_invoice(synced.client_id, draft, &notes).await?;
    done(ledger, &key, inv.id).await?;
    Ok(inv)
}

/// The order's payment: the recorded one, else one on the invoice carrying the marker, else a new one.
async fn ensure_payment(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    order_guid: Uuid,
    invoice: &FbInvoice,
    draft: &PaymentDraft,
    synced: &mut Synced,
) -> Result<Option<i64>> {
    let invoice_id = invoice.id;
    let key = keys.key("payment", &order_guid.to_string());
    let marker = order_marker(order_guid);
    let entry = get(ledger, &key).await?;
    if let Some(id) = done_id(&entry) {
        return Ok(Some(id));
    }
    // Always look first: a lost reply, or a payment recorded by another attempt, must not be posted twice.
    let existing = fb.list_payments_for_invoice(invoice_id).await?;
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
    intent(ledger, &key).await?;
    let p = fb.create_payment(invoice_id, &stamped).await?;
    done(ledger, &key, p.id).await?;
    Ok(Some(p.id))
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
