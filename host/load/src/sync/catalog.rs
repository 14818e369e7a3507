//! The taxes and items an order's lines need: found by name or SKU, else created (or, for an unknown SKU under
//! the default-item policy, mapped to the tenant's default item).

use super::{Keys, Synced, create_under_intent, done, done_id, get, known_done_id, lock};
use crate::freshbooks::FreshBooksClient;
use crate::ledger::{Ledger, LedgerEntry};
use crate::{Error, Result, SyncOptions};
use ferry_model::{Drafts, LineTax, UnknownSkuPolicy};
use std::collections::BTreeMap;

/// How taxes are matched by name: trimmed, case-insensitive.
pub(super) fn tax_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Every tax named on items or lines exists once, found by name.
pub(super) async fn ensure_taxes(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    drafts: &Drafts,
    synced: &mut Synced,
) -> Result<()> {
    // Collected first: an iterator of closures held across the awaits below makes the whole sync's future fail
    // `Send` for every lifetime (rustc's higher-ranked closure limitation), and the worker spawns it.
    let taxes = order_taxes(drafts);
    ensure_tax_ids(fb, ledger, keys, taxes.into_iter(), synced).await
}

/// Every tax the order names, on its items and on its lines (repeats included).
pub(super) fn order_taxes(drafts: &Drafts) -> Vec<&LineTax> {
    let line_taxes = drafts
        .invoice
        .lines
        .iter()
        .flat_map(|l| [l.tax1.as_ref(), l.tax2.as_ref()]);
    drafts
        .items
        .iter()
        .map(|i| i.tax.as_ref())
        .chain(line_taxes)
        .flatten()
        .collect()
}

/// Each of `taxes` exists once in FreshBooks, found by name (ledger first); their ids land in `synced.tax_ids`
/// under [`tax_key`].
pub(super) async fn ensure_tax_ids<'a>(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    taxes: impl Iterator<Item = &'a LineTax>,
    synced: &mut Synced,
) -> Result<()> {
    let mut wanted: BTreeMap<String, &LineTax> = BTreeMap::new();
    for t in taxes {
        wanted.entry(tax_key(&t.name)).or_insert(t);
    }
    for (name, tax) in wanted {
        let key = keys.key("tax", &name);
        if let Some(id) = known_done_id(ledger, &key) {
            synced.tax_ids.insert(name, id);
            continue;
        }
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
                create_under_intent(ledger, &key, fb.create_tax(tax))
                    .await?
                    .id
            }
        };
        done(ledger, &key, id).await?;
        synced.tax_ids.insert(name, id);
    }
    Ok(())
}

/// The ledger key of a SKU's item: one per SKU code, shared by the order sync and the catalogue sync.
pub(super) fn item_key(keys: &Keys, sku: &str) -> String {
    keys.key("item", sku)
}

/// Every SKU has an item: found by SKU, else created or mapped to the default item.
pub(super) async fn ensure_items(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    drafts: &Drafts,
    options: &SyncOptions,
    synced: &mut Synced,
) -> Result<()> {
    for item in drafts.items.iter().filter(|i| !i.sku.is_empty()) {
        let key = item_key(keys, &item.sku);
        if let Some(id) = known_done_id(ledger, &key) {
            synced.item_ids.insert(item.sku.clone(), id);
            continue;
        }
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
                UnknownSkuPolicy::CreateItem => {
                    let tax_id = item
                        .tax
                        .as_ref()
                        .and_then(|t| synced.tax_ids.get(&tax_key(&t.name)).copied());
                    create_under_intent(ledger, &key, fb.create_item(item, tax_id))
                        .await?
                        .id
                }
                UnknownSkuPolicy::DefaultItem => {
                    let name = &options.default_item;
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
