//! Checkout: turns an [`OrderSpec`] into an order the way K13's shopping cart does: item rows (products,
//! their options, bundle contents), prices converted to the order currency and run through the cart
//! calculation ([`super::pricing`]) with the promotions the spec asks for, shipping, tax from the SKU's tax
//! class at the destination, and billing and shipping address copies. `place_order` then applies the spec's
//! follow-ups (an admin edit, a cancellation).

use std::ops::Range;

use rand::Rng;
use rust_decimal::Decimal;
use time::OffsetDateTime;

use super::customer::Customer;
use super::order::{BILLING, Order, OrderAddress, OrderItem, SHIPPING, invoice_html, items_in};
use super::pricing::{self, Priced, TaxRate, round};
use super::promotion::{self, CartRules, Row};
use super::reference::Currency;
use super::seed::{self, SimRng, Stream, status};
use super::spec::{Defect, LineSpec, OrderSpec, PlacedOrder, SkuKind};
use super::store::{Event, Store, kind, order_event};

/// What a hand-edited total is off by (`Defect::TotalsMismatch`).
const MISMATCH: Decimal = Decimal::from_parts(1000, 0, 0, false, 2);

const NOTES: &[&str] = &[
    "Please ring twice",
    "Leave the parcel with the neighbour at no. 5",
    "Gift — please do not include the invoice",
    "Call before delivery",
];
const GRINDS: &[&str] = &["Whole bean", "Espresso", "Filter", "French press"];
const MESSAGES: &[&str] = &[
    "Happy birthday!",
    "Thanks for everything <3",
    "Enjoy & see you soon",
];

/// What prices an order's rows besides the rows themselves.
pub(crate) struct Pricing {
    /// `None` for a plain order.
    pub(crate) rules: Option<CartRules>,
    pub(crate) currency: Currency,
    pub(crate) customer: Customer,
    /// `(country, state)` of the tax address.
    pub(crate) destination: (i64, Option<i64>),
    /// Shipping price in the order currency, before offers.
    pub(crate) shipping: Decimal,
}

impl Store {
    /// Places an order now: `order.created`, then `order.paid` when the spec pays at checkout, then the stock it
    /// takes (`sku.updated` with stock webhooks on), then the spec's edit and cancellation.
    pub(crate) fn place_order(&mut self, spec: &OrderSpec) -> (PlacedOrder, Vec<Event>) {
        let at = self.clock.now();
        let (i, placed) = self.checkout(spec, at);
        let order = &self.orders[i];
        let mut changes = serde_json::Map::new();
        changes.insert(
            "OrderStatusID".into(),
            serde_json::json!({"from": null, "to": order.status_id}),
        );
        changes.insert(
            "OrderIsPaid".into(),
            serde_json::json!({"from": null, "to": order.is_paid}),
        );
        let mut events = vec![order_event(order, kind::ORDER_CREATED, changes)];
        if spec.paid && !self.orders[i].is_paid {
            let at = self.clock.now();
            let changes = self.pay(i, at);
            events.push(order_event(&self.orders[i], kind::ORDER_PAID, changes));
        }
        // The new order's units leave stock before any edit: an edit gives back what it removes.
        events.extend(self.take_stock(placed.id));
        if let Some(edit) = &spec.then_edit
            && let Ok(more) = self.edit_order(placed.id, edit)
        {
            events.extend(more);
        }
        if spec.then_cancel
            && let Some(more) = self.cancel_order(placed.id)
        {
            events.extend(more);
        }
        (placed, events)
    }

    /// Writes the order, its items and addresses with timestamp `at`; returns its index. No events.
    pub(crate) fn checkout(
        &mut self,
        spec: &OrderSpec,
        at: OffsetDateTime,
    ) -> (usize, PlacedOrder) {
        let id = self.orders.len() as i64 + 1;
        let mut r = seed::rng(self.seed, Stream::Order, id as u64);
        let customer_i = if spec.defect == Some(Defect::MissingEmail) {
            self.add_guest(&mut r, at)
        } else {
            spec.customer_id
                .and_then(|c| self.customer_index(c))
                .unwrap_or_else(|| r.gen_range(0..self.registered))
        };
        let customer = self.customers[customer_i].clone();
        let currency = spec
            .currency
            .as_deref()
            .and_then(|c| self.currency_by_code(c))
            .unwrap_or_else(|| self.main_currency())
            .clone();

        // Addresses: billing from the address book, shipping the same or a gift address.
        let book = customer
            .address_ids
            .first()
            .and_then(|a| self.addresses.iter().find(|x| x.id == *a))
            .cloned();
        let billing_place = match &book {
            Some(a) => seed::Place {
                line1: a.line1.clone(),
                line2: a.line2.clone(),
                city: a.city.clone(),
                zip: a.zip.clone(),
                country_id: a.country_id,
                state_id: a.state_id,
            },
            None => seed::place(&mut r, &self.states),
        };
        let personal = format!("{} {}", customer.first_name, customer.last_name);
        // Lines naming a SKU that cannot be ordered on its own (unknown, or an option) are left out.
        let lines: Vec<(usize, LineSpec, usize)> = spec
            .lines
            .iter()
            .enumerate()
            .filter_map(|(n, l)| {
                let i = self.skus.iter().position(|s| s.id == l.sku_id)?;
                self.skus[i].option_for.is_empty().then_some((n, *l, i))
            })
            .collect();
        let needs_shipping = lines.iter().any(|(n, _, i)| {
            self.skus[*i].needs_shipping
                || spec
                    .options
                    .iter()
                    .filter(|o| o.line == *n)
                    .filter_map(|o| self.option_index(*i, o.sku_id))
                    .any(|o| self.skus[o].needs_shipping)
        });
        let gift = r.gen_bool(0.25);
        let shipping_place = needs_shipping.then(|| {
            if gift {
                seed::place(&mut r, &self.states)
            } else {
                seed::Place {
                    line1: billing_place.line1.clone(),
                    line2: billing_place.line2.clone(),
                    city: billing_place.city.clone(),
                    zip: billing_place.zip.clone(),
                    country_id: billing_place.country_id,
                    state_id: billing_place.state_id,
                }
            }
        });
        let shipping_name = if gift {
            let (f, l) = seed::name(&mut r);
            format!("{f} {l}")
        } else {
            personal.clone()
        };
        // guess: tax follows the shipping address when there is one (CMSApplyTaxesBasedOn), else billing.
        let destination = shipping_place.as_ref().unwrap_or(&billing_place);
        let (dest_country, dest_state) = (destination.country_id, destination.state_id);

        // Items: the rows draw their GUIDs in line order, then shipping is chosen and the cart calculated.
        let rows = self.plan_rows(spec, &lines, &mut r);
        let shipping_option = needs_shipping.then(|| match r.gen_range(0..10) {
            0 => 1,
            1 | 2 => 3,
            _ => 2,
        });
        let seed = self.seed;
        let rules = CartRules::from_spec(spec, &self.skus, || promotion::gift_card_code(seed, id));
        let pricing = Pricing {
            rules: rules.clone(),
            shipping: self.shipping_cost(shipping_option, &currency),
            currency: currency.clone(),
            customer: customer.clone(),
            destination: (dest_country, dest_state),
        };
        let (priced, item_ids) = self.write_items(id, &rows, &pricing, at);
        let mut total_price = priced.total;
        if spec.defect == Some(Defect::TotalsMismatch) {
            total_price += MISMATCH;
        }
        let grand_total = priced.grand_total + (total_price - priced.total);

        // Addresses.
        let first_address = self.order_addresses.len() as i64 + 1;
        let mut push_address = |store: &mut Store, p: &seed::Place, name: &str, kind: i64| {
            let guid = seed::guid(&mut r);
            store.order_addresses.push(OrderAddress {
                id: store.order_addresses.len() as i64 + 1,
                line1: p.line1.clone(),
                line2: p.line2.clone(),
                city: p.city.clone(),
                zip: p.zip.clone(),
                phone: customer.phone.clone(),
                country_id: p.country_id,
                state_id: p.state_id,
                personal_name: name.to_owned(),
                guid,
                last_modified: at,
                order_id: id,
                address_type: kind,
            });
        };
        push_address(self, &billing_place, &personal, BILLING);
        if let Some(p) = &shipping_place {
            push_address(self, p, &shipping_name, SHIPPING);
        }
        let address_ids = first_address..self.order_addresses.len() as i64 + 1;

        let payment_option_id = Some(match (spec.paid, r.gen_range(0..20)) {
            (true, 0..=11) | (false, 0..=7) => 1,
            (true, 12..=16) | (false, 8..=11) => 2,
            (_, 17..=18) | (false, 12..=16) => 3,
            _ => 4,
        });
        let status = spec
            .status
            .as_deref()
            .and_then(|s| self.status_by_name(s))
            .or_else(|| self.status_by_name(status::NEW))
            .cloned();
        let (status_id, is_paid) = status.map_or((1, false), |s| (s.id, s.is_paid));
        let mut custom = vec![
            (
                "SalesChannel",
                if r.gen_bool(0.7) { "web" } else { "mobile" }.to_owned(),
            ),
            ("GiftWrap", gift.to_string()),
        ];
        if gift {
            custom.push((
                "GiftMessage",
                MESSAGES[r.gen_range(0..MESSAGES.len())].to_owned(),
            ));
        }
        let note = r
            .gen_bool(0.2)
            .then(|| NOTES[r.gen_range(0..NOTES.len())].to_owned());
        let guid = seed::guid(&mut r);
        let invoice = invoice_html(
            &id.to_string(),
            items_in(&self.order_items, &item_ids),
            total_price,
        );
        self.orders.push(Order {
            id,
            shipping_option_id: shipping_option,
            total_shipping: priced.shipping,
            total_price,
            total_tax: priced.tax,
            date: at,
            status_id,
            currency_id: currency.id,
            customer_id: customer.id,
            created_by_user_id: customer.user_id,
            note,
            site_id: seed::SITE_ID,
            payment_option_id,
            invoice_number: id.to_string(),
            invoice,
            tracking_number: None,
            custom,
            payment: None,
            guid,
            last_modified: at,
            total_price_main: Store::to_main(&currency, total_price),
            is_paid,
            culture: "en-US",
            grand_total,
            grand_total_main: Store::to_main(&currency, grand_total),
            tax_summary: priced.tax_summary,
            discounts: priced.order_discounts,
            other_payments: priced.other_payments,
            coupon_codes: priced.codes,
            cart: rules,
            item_ids,
            address_ids,
        });
        let placed = PlacedOrder {
            id,
            guid,
            number: id.to_string(),
            currency: currency.code.to_owned(),
            defect: spec.defect,
        };
        (self.orders.len() - 1, placed)
    }

    /// `(summary name, percent)` of a SKU's tax class at a destination: the state's rate wins over the
    /// country's; zero when the class is zero for customers with a tax registration id and this one has one.
    fn tax_rate(
        &self,
        class_id: Option<i64>,
        country: i64,
        state: Option<i64>,
        customer: &Customer,
    ) -> (Option<String>, Decimal) {
        let Some(class) = class_id.and_then(|c| self.tax_classes.iter().find(|t| t.id == c)) else {
            return (None, Decimal::ZERO);
        };
        let rate = state
            .and_then(|s| {
                self.tax_states
                    .iter()
                    .find(|t| t.class_id == class.id && t.state_id == s)
            })
            .map(|t| t.value)
            .or_else(|| {
                self.tax_countries
                    .iter()
                    .find(|t| t.class_id == class.id && t.country_id == country)
                    .map(|t| t.value)
            });
        let Some(mut rate) = rate else {
            return (None, Decimal::ZERO);
        };
        if class.zero_if_id_supplied && customer.tax_registration_id.is_some() {
            rate = Decimal::ZERO;
        }
        (
            Some(format!("{} {}%", class.display_name, rate.normalize())),
            rate,
        )
    }

    // guess: K13 lets a guest checkout through without an e-mail only when a site customises the form; this is
    // the realistic source of an e-mail-less customer.
    /// A guest checkout that left no e-mail: a new customer row with no user and no address book.
    fn add_guest(&mut self, r: &mut impl Rng, at: OffsetDateTime) -> usize {
        let (first, last) = seed::name(r);
        let id = self.customers.len() as i64 + 1;
        self.customers.push(Customer {
            id,
            first_name: first,
            last_name: last,
            email: None,
            phone: r.gen_bool(0.5).then(|| seed::phone(r)),
            company: None,
            user_id: None,
            guid: seed::guid(r),
            tax_registration_id: None,
            organization_id: None,
            last_modified: at,
            site_id: Some(seed::SITE_ID),
            created: at,
            loyalty_tier: None,
            marketing_opt_in: None,
            address_ids: Vec::new(),
        });
        self.customers.len() - 1
    }

    /// The index of option SKU `sku_id` when it can be chosen for the product at index `parent`.
    pub(crate) fn option_index(&self, parent: usize, sku_id: i64) -> Option<usize> {
        let parent_id = self.skus.get(parent)?.id;
        self.skus
            .iter()
            .position(|s| s.id == sku_id && s.option_for.contains(&parent_id))
    }

    /// The item rows of `lines` (`(index in spec.lines, line, SKU index)`): each product, then its options
    /// (same quantity; options a product does not allow are left out), then a bundle's contents. Draws, per
    /// row in that order, a grind for coffee and the row's GUID.
    fn plan_rows(
        &self,
        spec: &OrderSpec,
        lines: &[(usize, LineSpec, usize)],
        r: &mut SimRng,
    ) -> Vec<Row> {
        let mut rows = Vec::new();
        for (n, line, sku_i) in lines {
            let sku = &self.skus[*sku_i];
            let custom = if sku.tax_class_id == Some(2) {
                vec![("Grind", GRINDS[r.gen_range(0..GRINDS.len())].to_owned())]
            } else {
                Vec::new()
            };
            let quantity = i64::from(line.quantity);
            let parent = rows.len();
            rows.push(Row {
                sku: *sku_i,
                quantity,
                parent: None,
                bundle: None,
                text: None,
                guid: seed::guid(r),
                custom,
                kept: None,
            });
            for o in spec.options.iter().filter(|o| o.line == *n) {
                let Some(o_i) = self.option_index(*sku_i, o.sku_id) else {
                    continue;
                };
                let text = (self.skus[o_i].kind == SkuKind::TextOption)
                    .then(|| o.text.clone().unwrap_or_default());
                rows.push(Row {
                    sku: o_i,
                    quantity,
                    parent: Some(parent),
                    bundle: None,
                    text,
                    guid: seed::guid(r),
                    custom: Vec::new(),
                    kept: None,
                });
            }
            rows.extend(self.bundle_rows(*sku_i, parent, quantity, r));
        }
        rows
    }

    /// The content rows of a bundle row (none for other SKUs): unit price 0, `OrderItemBundleGUID` = the
    /// bundle row's GUID, quantity = units per bundle × bundles.
    pub(crate) fn bundle_rows(
        &self,
        sku_i: usize,
        parent: usize,
        quantity: i64,
        r: &mut SimRng,
    ) -> Vec<Row> {
        self.skus[sku_i]
            .bundle_items
            .iter()
            .filter_map(|(child, per)| {
                let c = self.skus.iter().position(|s| s.id == *child)?;
                Some(Row {
                    sku: c,
                    quantity: per * quantity,
                    parent: None,
                    bundle: Some(parent),
                    text: None,
                    guid: seed::guid(r),
                    custom: Vec::new(),
                    kept: None,
                })
            })
            .collect()
    }

    /// The price of a shipping option in `currency`, rounded; 0 without one.
    pub(crate) fn shipping_cost(&self, option: Option<i64>, currency: &Currency) -> Decimal {
        option
            .and_then(|o| self.shipping_options.iter().find(|s| s.id == o))
            .map(|s| round(s.cost * currency.rate))
            .unwrap_or_default()
    }

    /// Calculates `rows` and appends them as the items of order `order_id` (new ids, stamped `at`); returns
    /// the calculation and the new rows' ids.
    pub(crate) fn write_items(
        &mut self,
        order_id: i64,
        rows: &[Row],
        p: &Pricing,
        at: OffsetDateTime,
    ) -> (Priced, Range<i64>) {
        let (country, state) = p.destination;
        let tax = |class: Option<i64>| {
            let (name, percent) = self.tax_rate(class, country, state, &p.customer);
            name.map(|name| TaxRate { name, percent })
        };
        let (cart, index) = promotion::cart(
            rows,
            &self.skus,
            p.rules.as_ref(),
            &p.currency,
            p.shipping,
            tax,
        );
        let priced = pricing::calculate(&cart);
        let calculated = p.rules.is_some();
        let first = self.order_items.len() as i64 + 1;
        for (i, row) in rows.iter().enumerate() {
            let sku = &self.skus[row.sku];
            let line = index[i].and_then(|l| priced.lines.get(l));
            let (unit_price, total) =
                line.map_or((Decimal::ZERO, Decimal::ZERO), |l| (l.unit_price, l.total));
            let summaries = line.filter(|_| calculated);
            self.order_items.push(OrderItem {
                id: self.order_items.len() as i64 + 1,
                order_id,
                sku_id: sku.id,
                sku_name: sku.name.clone(),
                unit_price,
                unit_count: row.quantity,
                custom: row.custom.clone(),
                guid: row.guid,
                last_modified: at,
                total_price_main: Store::to_main(&p.currency, total),
                total_price: total,
                parent_guid: row.parent.map(|j| rows[j].guid),
                bundle_guid: row.bundle.map(|j| rows[j].guid),
                text: row.text.clone(),
                product_discounts: summaries.map(|l| l.unit_discounts.clone()),
                discount_summary: summaries.map(|l| l.line_discounts.clone()),
                deleted: false,
            });
        }
        (priced, first..self.order_items.len() as i64 + 1)
    }
}
