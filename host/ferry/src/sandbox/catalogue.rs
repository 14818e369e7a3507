//! The demo's catalogue check, counted from the simulators: every live, enabled Kentico SKU has exactly one active
//! FreshBooks item under its SKU code, and a SKU that tracks stock has Kentico's count as the item's `inventory`
//! (after the orders took theirs).

use super::Sandbox;
use std::fmt;
use std::time::Duration;

/// What the FreshBooks simulator holds for the Kentico catalogue.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CatalogueReport {
    /// Live, enabled SKUs in Kentico.
    pub skus: usize,
    /// Of those, with exactly one active item (name and SKU code as Kentico has them).
    pub synced: usize,
    /// SKUs that track stock.
    pub tracked: usize,
    /// Of those, whose item's inventory equals Kentico's `SKUAvailableItems`.
    pub stock_equal: usize,
    /// Units the demo's orders took out of stock (Kentico's counts before and after).
    pub units_taken: i64,
    /// SKU codes with more than one item.
    pub duplicates: Vec<String>,
    /// SKUs whose item is missing or differs, with what differs.
    pub differ: Vec<String>,
}

impl CatalogueReport {
    /// Every SKU synced with its stock, nothing twice.
    pub fn is_clean(&self) -> bool {
        self.synced == self.skus && self.stock_equal == self.tracked && self.duplicates.is_empty()
    }
}

impl fmt::Display for CatalogueReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} SKUs, {} of {} with Kentico's stock ({} units taken by orders), {} duplicate items",
            self.synced,
            self.skus,
            self.stock_equal,
            self.tracked,
            self.units_taken,
            self.duplicates.len()
        )
    }
}

/// The SKU code an item is kept under.
fn code(s: &ferry_sim::kentico::SkuInfo) -> String {
    if s.number.is_empty() {
        format!("KENTICO-SKU-{}", s.id)
    } else {
        s.number.clone()
    }
}

/// Counts the catalogue once.
fn count(sandbox: &Sandbox, stock_before: &[(i64, i64)]) -> CatalogueReport {
    let items = sandbox.freshbooks.items(&sandbox.account_id);
    let mut r = CatalogueReport::default();
    for s in sandbox.kentico.catalogue() {
        if let Some((_, before)) = stock_before.iter().find(|(id, _)| *id == s.id) {
            r.units_taken += before - s.available_items;
        }
        if s.deleted || !s.enabled {
            continue;
        }
        r.skus += 1;
        let sku = code(&s);
        let mine: Vec<_> = items
            .iter()
            .filter(|i| i.sku.as_deref() == Some(sku.as_str()))
            .collect();
        if mine.iter().filter(|i| i.vis_state == 0).count() > 1 {
            r.duplicates.push(sku.clone());
        }
        let Some(item) = mine.iter().find(|i| i.vis_state == 0) else {
            r.differ.push(format!("{sku}: no active item"));
            continue;
        };
        if item.name == s.name {
            r.synced += 1;
        } else {
            r.differ
                .push(format!("{sku}: named {:?}, not {:?}", item.name, s.name));
        }
        if s.tracks_inventory {
            r.tracked += 1;
            let want = s.available_items.to_string();
            if item.inventory.as_deref() == Some(want.as_str()) {
                r.stock_equal += 1;
            } else {
                r.differ.push(format!(
                    "{sku}: inventory {:?}, Kentico has {want}",
                    item.inventory
                ));
            }
        }
    }
    r
}

/// Kentico's stock per SKU now (to count what the orders take).
pub fn stock(sandbox: &Sandbox) -> Vec<(i64, i64)> {
    sandbox
        .kentico
        .catalogue()
        .iter()
        .map(|s| (s.id, s.available_items))
        .collect()
}

/// Waits (up to `timeout`) until the catalogue is clean, then counts it; counts what it is at the timeout otherwise.
pub async fn settle(
    sandbox: &Sandbox,
    stock_before: &[(i64, i64)],
    timeout: Duration,
) -> CatalogueReport {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let r = count(sandbox, stock_before);
        if r.is_clean() || tokio::time::Instant::now() >= deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
