//! Stock moved by orders, as K13 moves it (`shared/reference/kentico/discounts.md` §7): saving a new order takes
//! its units out of stock (§7.1); the admin's order editor deletes every item and inserts them again, and "removed
//! items return to inventory per tracking mode" (§7.2), so a line removed or lowered gives its units back. A
//! status change or the paid flag moves no stock (§7.3), so a cancelled order keeps its units out: "cancelling via
//! status keeps … inventory deduction" (§7.4).
//!
//! Only SKUs that track inventory (`SKUTrackInventory` not `Disabled`) and are not deleted move; a bundle's contents
//! do not (the seeded bundles remove the bundle only). Each SKU whose stock moved gets `SKULastModified` bumped and,
//! with stock webhooks on, one `sku.updated` naming `SKUAvailableItems` from and to.

use serde_json::{Map, json};

use super::catalogue::{kind, sku_event};
use super::order::OrderItem;
use super::store::{Event, Store};

/// Units per SKU id in an order's items, bundle contents left out, in first-seen order.
pub(crate) fn units_by_sku(items: &[OrderItem]) -> Vec<(i64, i64)> {
    let mut units: Vec<(i64, i64)> = Vec::new();
    for item in items {
        if item.bundle_guid.is_some() {
            continue;
        }
        match units.iter_mut().find(|(id, _)| *id == item.sku_id) {
            Some((_, n)) => *n += item.unit_count,
            None => units.push((item.sku_id, item.unit_count)),
        }
    }
    units
}

impl Store {
    /// Takes a new order's units out of stock, as K13 does when it saves a new order.
    pub(crate) fn take_stock(&mut self, order_id: i64) -> Vec<Event> {
        let Some(o) = self.order_index(order_id) else {
            return Vec::new();
        };
        let taken = units_by_sku(self.items_of(&self.orders[o]))
            .into_iter()
            .map(|(sku, n)| (sku, -n))
            .collect();
        self.move_stock(taken)
    }

    /// What an edit that replaced items holding `before` units by items holding `after` does to stock: removed
    /// units return, added ones are taken.
    // guess: the reference names only the return of removed items; the items inserted again take their units as at
    // checkout, so each SKU moves by its units before less its units after (a raised quantity takes more).
    pub(crate) fn restock_after_edit(
        &mut self,
        before: &[(i64, i64)],
        after: &[(i64, i64)],
    ) -> Vec<Event> {
        let mut moves: Vec<(i64, i64)> = before.to_vec();
        for (sku, n) in after {
            match moves.iter_mut().find(|(id, _)| id == sku) {
                Some((_, m)) => *m -= n,
                None => moves.push((*sku, -n)),
            }
        }
        self.move_stock(moves)
    }

    /// Adds `delta` units to each SKU's stock (negative: takes them).
    fn move_stock(&mut self, moves: Vec<(i64, i64)>) -> Vec<Event> {
        let at = self.clock.now();
        let mut events = Vec::new();
        for (sku_id, delta) in moves {
            if delta == 0 {
                continue;
            }
            let Some(sku) = self
                .skus
                .iter_mut()
                .find(|s| s.id == sku_id && !s.deleted && s.track_inventory != "Disabled")
            else {
                continue;
            };
            let from = sku.available_items;
            sku.available_items += delta;
            sku.last_modified = at;
            let mut changes = Map::new();
            changes.insert(
                "SKUAvailableItems".into(),
                json!({"from": from, "to": sku.available_items}),
            );
            events.push(sku_event(sku, kind::SKU_UPDATED, changes));
        }
        if !self.stock_webhooks {
            events.clear();
        }
        events
    }
}
