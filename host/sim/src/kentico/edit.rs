//! Changes after checkout, as K13's order editor makes them (`shared/reference/kentico/discounts.md` §7.2):
//! the items tab rebuilds the cart from the order, keeps the stored unit prices of lines it keeps, prices new lines by the order's
//! rules, re-runs cart-item discounts, order discounts, shipping, tax and gift cards, then deletes every
//! `COM_OrderItem` row and inserts them again (new `OrderItemID`s, same `OrderItemGuid`s). Address edits update
//! the `COM_OrderAddress` rows in place. Every edit bumps `OrderLastModified` and emits `order.updated`; the units
//! of removed or lowered lines return to stock (`stock`, discounts.md §7.2). Cancelling moves the order to
//! `Canceled` and emits `order.status_changed`; it restores no stock, coupon uses or gift-card balances (§7.4).

use rand::Rng;
use rust_decimal::Decimal;
use serde_json::{Map, json};

use super::checkout::Pricing;
use super::class::Table;
use super::order::{OrderItem, SHIPPING, invoice_html, items_in};
use super::promotion::Row;
use super::seed::{self, SimRng, Stream, status};
use super::spec::{AddressSpec, EditError, LineSpec, OrderEdit};
use super::stock::units_by_sku;
use super::store::{Event, Store, kind, order_event};

/// Grinds drawn for coffee lines added by an edit (as at checkout).
const GRINDS: &[&str] = &["Whole bean", "Espresso", "Filter", "French press"];

impl Store {
    /// Applies an admin edit to order `order_id` and recalculates it; one `order.updated` event (and the stock the
    /// changed lines move), none when the edit changes nothing. Nothing changes when the edit is refused.
    ///
    /// # Errors
    ///
    /// An unknown order, a line naming a SKU that is not an orderable product, an unknown country or state,
    /// or a shipping address for an order without one.
    pub(crate) fn edit_order(
        &mut self,
        order_id: i64,
        edit: &OrderEdit,
    ) -> Result<Vec<Event>, EditError> {
        let i = self
            .order_index(order_id)
            .ok_or(EditError::UnknownOrder(order_id))?;
        let lines = match &edit.lines {
            Some(lines) => Some(self.resolve_lines(lines)?),
            None => None,
        };
        let billing = edit
            .billing_address
            .as_ref()
            .map(|a| self.resolve_place(a))
            .transpose()?;
        let shipping = edit
            .shipping_address
            .as_ref()
            .map(|a| self.resolve_place(a))
            .transpose()?;
        let order = self.orders[i].clone();
        let address_rows: Vec<usize> = order
            .address_ids
            .clone()
            .filter_map(|id| self.order_addresses.index_of(id))
            .collect();
        let shipping_row = address_rows
            .iter()
            .copied()
            .find(|&a| self.order_addresses[a].address_type == SHIPPING);
        if shipping.is_some() && shipping_row.is_none() {
            return Err(EditError::NoShipping(order_id));
        }
        if lines.is_none() && billing.is_none() && shipping.is_none() {
            return Ok(Vec::new());
        }
        let at = self.clock.now();

        for (place, kind) in [(billing, super::order::BILLING), (shipping, SHIPPING)] {
            let Some((spec, country, state)) = place else {
                continue;
            };
            for &a in &address_rows {
                let row = &mut self.order_addresses[a];
                if row.address_type != kind {
                    continue;
                }
                row.line1 = spec.line1.clone();
                row.line2 = spec.line2.clone().filter(|l| !l.is_empty());
                row.city = spec.city.clone();
                row.zip = spec.zip.clone();
                row.country_id = country;
                row.state_id = state;
                if !spec.personal_name.is_empty() {
                    row.personal_name = spec.personal_name.clone();
                }
                row.last_modified = at;
            }
        }

        // The cart as stored, then the new lines.
        let old: Vec<OrderItem> = self.items_of(&order).to_vec();
        let mut rows = self.rows_of(&old);
        if let Some(lines) = lines {
            let salt = ((order_id as u64) << 32) | self.order_items.len() as u64;
            let mut r = seed::rng(self.seed, Stream::Promo, salt);
            rows = self.replan(&rows, &lines, &mut r);
        }

        // Recalculate.
        let currency = self
            .currencies
            .iter()
            .find(|c| c.id == order.currency_id)
            .unwrap_or_else(|| self.main_currency())
            .clone();
        let customer = self
            .customer_index(order.customer_id)
            .map(|c| self.customers[c].clone())
            .ok_or(EditError::UnknownOrder(order_id))?;
        let tax_row = shipping_row.or_else(|| address_rows.first().copied());
        let destination = tax_row.map_or((0, None), |a| {
            let row = &self.order_addresses[a];
            (row.country_id, row.state_id)
        });
        let ships = rows
            .iter()
            .any(|r| r.bundle.is_none() && self.skus[r.sku].needs_shipping);
        // guess: an order that starts shipping gets the standard delivery; one that stops keeps its option
        // at no cost.
        let option = order.shipping_option_id.or(ships.then_some(2));
        let pricing = Pricing {
            rules: Some(order.cart.clone().unwrap_or_default()),
            shipping: if ships {
                self.shipping_cost(option, &currency)
            } else {
                Decimal::ZERO
            },
            currency: currency.clone(),
            customer,
            destination,
        };
        for id in order.item_ids.clone() {
            if let Some(item) = self.order_items.get_mut(id as usize - 1) {
                item.deleted = true;
            }
        }
        let (priced, item_ids) = self.write_items(order_id, &rows, &pricing, at);

        let o = &mut self.orders[i];
        let mut changes = Map::new();
        let mut money = |col: &str, from: Decimal, to: Decimal| {
            if from != to {
                changes.insert(
                    col.into(),
                    json!({"from": from.round_dp(2).to_string(), "to": to.round_dp(2).to_string()}),
                );
            }
        };
        money("OrderTotalPrice", o.total_price, priced.total);
        money("OrderTotalTax", o.total_tax, priced.tax);
        money("OrderTotalShipping", o.total_shipping, priced.shipping);
        money("OrderGrandTotal", o.grand_total, priced.grand_total);
        if o.shipping_option_id != option {
            changes.insert(
                "OrderShippingOptionID".into(),
                json!({"from": o.shipping_option_id, "to": option}),
            );
        }
        o.shipping_option_id = option;
        o.total_shipping = priced.shipping;
        o.total_tax = priced.tax;
        o.total_price = priced.total;
        o.total_price_main = Store::to_main(&currency, priced.total);
        o.grand_total = priced.grand_total;
        o.grand_total_main = Store::to_main(&currency, priced.grand_total);
        o.tax_summary = priced.tax_summary;
        o.discounts = priced.order_discounts;
        o.other_payments = priced.other_payments;
        o.coupon_codes = priced.codes;
        o.cart = pricing.rules;
        o.item_ids = item_ids;
        o.invoice = invoice_html(
            &o.invoice_number,
            items_in(&self.order_items, &o.item_ids),
            o.total_price,
        );
        o.last_modified = at;
        let mut events = vec![order_event(o, kind::ORDER_UPDATED, changes)];
        let after = units_by_sku(self.items_of(&self.orders[i]));
        events.extend(self.restock_after_edit(&units_by_sku(&old), &after));
        Ok(events)
    }

    /// Moves an order to `Canceled` (items, totals, payments and gift-card use stay as they were). `None` when
    /// the order does not exist; no events when it already is.
    pub(crate) fn cancel_order(&mut self, order_id: i64) -> Option<Vec<Event>> {
        self.set_order_status(order_id, status::CANCELED)
    }

    /// Edit lines with their SKU index; lines of zero or fewer units are removals.
    fn resolve_lines(&self, lines: &[LineSpec]) -> Result<Vec<(i64, usize)>, EditError> {
        lines
            .iter()
            .filter(|l| l.quantity > 0)
            .map(|l| {
                self.skus
                    .iter()
                    .position(|s| s.id == l.sku_id && s.option_for.is_empty())
                    .map(|i| (i64::from(l.quantity), i))
                    .ok_or(EditError::UnknownSku(l.sku_id))
            })
            .collect()
    }

    /// An address with its country and state ids.
    fn resolve_place(&self, a: &AddressSpec) -> Result<(AddressSpec, i64, Option<i64>), EditError> {
        let country = self
            .countries
            .iter()
            .find(|c| {
                c.two_letter
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(a.country_code.trim()))
            })
            .ok_or_else(|| EditError::UnknownPlace(a.country_code.clone()))?;
        let state = match a.state_code.as_deref().filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(code) => Some(
                self.states
                    .iter()
                    .find(|s| {
                        s.country_id == country.id
                            && s.code
                                .as_deref()
                                .is_some_and(|c| c.eq_ignore_ascii_case(code.trim()))
                    })
                    .map(|s| s.id)
                    .ok_or_else(|| EditError::UnknownPlace(code.to_owned()))?,
            ),
        };
        Ok((a.clone(), country.id, state))
    }

    /// The stored items as cart rows: calculated rows keep their unit price and per-unit discounts.
    fn rows_of(&self, items: &[OrderItem]) -> Vec<Row> {
        let position = |guid| items.iter().position(|x| x.guid == guid);
        items
            .iter()
            .map(|item| {
                let sku = self
                    .skus
                    .iter()
                    .position(|s| s.id == item.sku_id)
                    .unwrap_or_default();
                let bundle = item.bundle_guid.and_then(position);
                let calculated = bundle.is_none() && self.skus[sku].is_calculated();
                Row {
                    sku,
                    quantity: item.unit_count,
                    parent: item.parent_guid.and_then(position),
                    bundle,
                    text: item.text.clone(),
                    guid: item.guid,
                    custom: item.custom.clone(),
                    kept: calculated.then(|| {
                        (
                            item.unit_price,
                            item.product_discounts.clone().unwrap_or_default(),
                        )
                    }),
                }
            })
            .collect()
    }

    /// The rows for the new `(quantity, SKU index)` lines: a line whose SKU a kept product row has takes that
    /// row (GUID, stored price, options and bundle contents, quantities following the new one); other lines
    /// are new rows priced by the rules.
    fn replan(&self, old: &[Row], lines: &[(i64, usize)], r: &mut SimRng) -> Vec<Row> {
        let mut used = vec![false; old.len()];
        let mut out = Vec::new();
        for &(quantity, sku) in lines {
            let top = |k: usize| old[k].parent.is_none() && old[k].bundle.is_none();
            let parent = out.len();
            match (0..old.len()).find(|&k| !used[k] && top(k) && old[k].sku == sku) {
                Some(k) => {
                    used[k] = true;
                    out.push(Row {
                        quantity,
                        ..old[k].clone()
                    });
                    for child in old.iter().filter(|c| c.parent == Some(k)) {
                        out.push(Row {
                            quantity,
                            parent: Some(parent),
                            ..child.clone()
                        });
                    }
                    let per_bundle = |child: usize| {
                        self.skus[sku]
                            .bundle_items
                            .iter()
                            .find(|(id, _)| *id == self.skus[child].id)
                            .map_or(1, |(_, per)| *per)
                    };
                    for child in old.iter().filter(|c| c.bundle == Some(k)) {
                        out.push(Row {
                            quantity: per_bundle(child.sku) * quantity,
                            bundle: Some(parent),
                            ..child.clone()
                        });
                    }
                }
                None => {
                    let custom = if self.skus[sku].tax_class_id == Some(2) {
                        vec![("Grind", GRINDS[r.gen_range(0..GRINDS.len())].to_owned())]
                    } else {
                        Vec::new()
                    };
                    out.push(Row {
                        sku,
                        quantity,
                        parent: None,
                        bundle: None,
                        text: None,
                        guid: seed::guid(r),
                        custom,
                        kept: None,
                    });
                    out.extend(self.bundle_rows(sku, parent, quantity, r));
                }
            }
        }
        out
    }
}
