//! `sync_product` / `archive_product`: a Kentico SKU's FreshBooks item kept as the catalogue has it — one item per
//! SKU code, under the same ledger key the order sync finds items by, so neither creates one the other made.
//!
//! The item is found by the ledger, else (after a lost reply, or a ledger that predates it) by `search[sku]`, else
//! created; it is written only when something differs (name, description, unit cost, tax, stock, active), so a
//! repeated event costs one read. A disabled or deleted SKU's item is archived.

use super::catalog::{ensure_tax_ids, item_key, tax_key};
use super::{Keys, Synced, create_under_intent, done, done_id, get, lock};
use crate::freshbooks::FbItem;
use crate::freshbooks::FreshBooksClient;
use crate::ledger::{Ledger, LedgerEntry};
use crate::{Error, Result};
use ferry_model::{Decimal, ProductDraft, TenantId};
use std::str::FromStr;

/// `vis_state` of an active item.
const ACTIVE: i64 = 0;
/// `vis_state` of an archived item. guess: FreshBooks documents 1 (deleted, restorable) for items; 2 (archived)
/// is unverified for them (docs/freshbooks.md §items), so a disabled SKU's item gets 1.
const ARCHIVED: i64 = 1;

/// What the catalogue sync did to a SKU's item.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ItemSynced {
    /// The item id (`None`: a disabled or deleted SKU that never had an item).
    pub item_id: Option<i64>,
    /// The SKU code the item is kept under.
    pub sku: String,
    /// `created`, `updated`, `archived`, `restored`, `unchanged` or `none`.
    pub action: &'static str,
    /// The stock written (`None`: not tracked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<i64>,
    /// Ledger keys resolved by adopting an item found by SKU (an earlier reply was lost).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adopted: Vec<String>,
}

/// The ledger key remembering which item a Kentico SKU id has: a deleted SKU can no longer be read for its code.
fn sku_key(keys: &Keys, sku_id: i64) -> String {
    keys.key("sku-item", &sku_id.to_string())
}

/// Brings SKU `sku_id`'s item to `draft`: created when it has none (unless the SKU is disabled), updated when a
/// field differs, archived when the SKU is disabled, restored when it is enabled again.
///
/// # Errors
/// [`Error`] with `disposition()`; after an unknown outcome the next call adopts the item found by SKU.
#[tracing::instrument(skip_all, fields(tenant = %tenant, sku_id, stage = "load"))]
pub async fn sync_product(
    client: &FreshBooksClient,
    ledger: &dyn Ledger,
    tenant: &TenantId,
    sku_id: i64,
    draft: &ProductDraft,
) -> Result<ItemSynced> {
    let keys = Keys {
        prefix: tenant.to_string(),
    };
    let mut synced = Synced::default();
    let tax_id = match &draft.item.tax {
        Some(tax) => {
            ensure_tax_ids(client, ledger, &keys, std::iter::once(tax), &mut synced).await?;
            synced.tax_ids.get(&tax_key(&tax.name)).copied()
        }
        None => None,
    };
    let key = item_key(&keys, &draft.item.sku);
    let _held = lock(ledger, &key).await?;
    let entry = get(ledger, &key).await?;
    let mut out = ItemSynced {
        sku: draft.item.sku.clone(),
        inventory: draft.inventory,
        ..ItemSynced::default()
    };
    // The ledger first; then the item this SKU id had under an earlier SKU code (a renumbered SKU keeps its item);
    // then a search, which also finds what a lost reply created.
    let mut known = done_id(&entry);
    if known.is_none() {
        known = done_id(&get(ledger, &sku_key(&keys, sku_id)).await?);
    }
    let current = match known {
        Some(id) => read_item(client, id).await?,
        None => None,
    };
    let current = match current {
        Some(item) => Some(item),
        None => {
            let found = client.find_items_by_sku(&draft.item.sku).await?;
            let first = found.into_iter().min_by_key(|i| i.id);
            if first.is_some() && matches!(entry, Some(LedgerEntry::Intent)) {
                out.adopted.push(key.clone());
            }
            first
        }
    };
    let id = match current {
        None if !draft.active => {
            out.action = "none";
            return Ok(out);
        }
        None => {
            let id = create_under_intent(ledger, &key, client.create_product_item(draft, tax_id))
                .await?
                .id;
            out.action = "created";
            id
        }
        Some(item) => {
            out.action = bring_up_to_date(client, &item, draft, tax_id).await?;
            item.id
        }
    };
    done(ledger, &key, id).await?;
    done(ledger, &sku_key(&keys, sku_id), id).await?;
    out.item_id = Some(id);
    tracing::info!(item_id = id, action = out.action, "Catalogue item synced.");
    Ok(out)
}

/// Archives the item of a SKU deleted in Kentico (known by its SKU id only).
///
/// # Errors
/// [`Error`] with `disposition()`.
#[tracing::instrument(skip_all, fields(tenant = %tenant, sku_id, stage = "load"))]
pub async fn archive_product(
    client: &FreshBooksClient,
    ledger: &dyn Ledger,
    tenant: &TenantId,
    sku_id: i64,
) -> Result<ItemSynced> {
    let keys = Keys {
        prefix: tenant.to_string(),
    };
    let mut out = ItemSynced {
        action: "none",
        ..ItemSynced::default()
    };
    let Some(id) = done_id(&get(ledger, &sku_key(&keys, sku_id)).await?) else {
        return Ok(out);
    };
    out.item_id = Some(id);
    if let Some(item) = read_item(client, id).await? {
        out.sku = item.sku.clone().unwrap_or_default();
        if item.vis_state != ARCHIVED {
            client.set_item_vis_state(id, ARCHIVED).await?;
            out.action = "archived";
        } else {
            out.action = "unchanged";
        }
    }
    Ok(out)
}

/// The item, or `None` when FreshBooks no longer has it.
async fn read_item(client: &FreshBooksClient, id: i64) -> Result<Option<FbItem>> {
    match client.get_item(id).await {
        Ok(item) => Ok(Some(item)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes what differs; returns what was done.
async fn bring_up_to_date(
    client: &FreshBooksClient,
    item: &FbItem,
    draft: &ProductDraft,
    tax_id: Option<i64>,
) -> Result<&'static str> {
    let wanted_vis = if draft.active { ACTIVE } else { ARCHIVED };
    let mut action = "unchanged";
    // An archived item takes no field edits (a patch carrying vis_state applies only that), so it is restored
    // first and archived last.
    if item.vis_state != ACTIVE && draft.active {
        client.set_item_vis_state(item.id, ACTIVE).await?;
        action = "restored";
    }
    if differs(item, draft, tax_id) {
        if item.vis_state == ACTIVE || draft.active {
            client.update_product_item(item.id, draft, tax_id).await?;
            if action == "unchanged" {
                action = "updated";
            }
        } else {
            // Archived and staying so: the fields wait until the SKU is enabled again.
        }
    }
    if item.vis_state != wanted_vis && !draft.active {
        client.set_item_vis_state(item.id, ARCHIVED).await?;
        action = "archived";
    }
    Ok(action)
}

/// Whether the item differs from the draft in anything the catalogue sync writes.
fn differs(item: &FbItem, draft: &ProductDraft, tax_id: Option<i64>) -> bool {
    let d = &draft.item;
    let cost = item.unit_cost.as_ref().map(|m| m.amount);
    let inventory = item
        .inventory
        .as_deref()
        .and_then(|s| Decimal::from_str(s).ok());
    item.name != d.name
        || item.description.as_deref().unwrap_or_default() != d.description
        || item.sku.as_deref() != Some(d.sku.as_str())
        || cost != Some(d.unit_cost.rounded(2).amount)
        || item.tax1.unwrap_or(0) != tax_id.unwrap_or(0)
        || inventory != draft.inventory.map(Decimal::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_model::{CurrencyCode, ItemDraft, Money};

    fn draft() -> ProductDraft {
        ProductDraft {
            item: ItemDraft {
                name: "Mug".into(),
                description: "A mug".into(),
                sku: "DG-MERC-007".into(),
                unit_cost: Money::new(Decimal::new(1100, 2), CurrencyCode::parse("USD").unwrap()),
                taxable: false,
                tax: None,
            },
            inventory: Some(12),
            active: true,
        }
    }

    fn item() -> FbItem {
        serde_json::from_value(serde_json::json!({
            "id": 5, "name": "Mug", "description": "A mug", "sku": "DG-MERC-007",
            "unit_cost": {"amount": "11.00", "code": "USD"}, "vis_state": 0, "inventory": "12", "tax1": 0
        }))
        .unwrap()
    }

    #[test]
    fn an_item_as_the_catalogue_has_it_differs_in_nothing() {
        assert!(!differs(&item(), &draft(), None));
    }

    #[test]
    fn stock_price_and_name_each_make_a_difference() {
        let mut d = draft();
        d.inventory = Some(11);
        assert!(differs(&item(), &d, None));
        let mut d = draft();
        d.inventory = None;
        assert!(differs(&item(), &d, None), "untracking stock is a change");
        let mut d = draft();
        d.item.unit_cost.amount = Decimal::new(1150, 2);
        assert!(differs(&item(), &d, None));
        let mut d = draft();
        d.item.name = "Big mug".into();
        assert!(differs(&item(), &d, None));
        assert!(differs(&item(), &draft(), Some(3)), "a new tax");
    }
}
