//! Checkout: turns an [`OrderSpec`] into an order the way K13's shopping cart does (prices converted to the
//! order currency and rounded, tax per line from the SKU's tax class and the destination, shipping, billing and
//! shipping address copies), plus `random_order` and the seeded history.

use rand::Rng;
use rust_decimal::{Decimal, RoundingStrategy};
use time::{Duration, OffsetDateTime};

use super::customer::Customer;
use super::order::{BILLING, Order, OrderAddress, OrderItem, SHIPPING};
use super::seed::{self, Stream, status};
use super::spec::{Defect, LineSpec, OrderMix, OrderSpec, PlacedOrder};
use super::store::{Event, Store, kind, order_event};

/// What a hand-edited total is off by (`Defect::TotalsMismatch`).
const MISMATCH: Decimal = Decimal::from_parts(1000, 0, 0, false, 2);

/// Currencies `random_order` uses for foreign orders.
// guess: CZK is served but not drawn: its prices are ~23× the catalogue's USD prices, which a validator comparing
// unit prices with SKUPrice (main currency) would flag.
const FOREIGN: &[&str] = &["EUR", "GBP", "CAD"];

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

fn round(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

impl Store {
    /// The `n`-th order of the deterministic stream: same seed and `n`, same spec.
    pub(crate) fn random_order(&self, n: u64, mix: &OrderMix) -> OrderSpec {
        let mut r = seed::rng(self.seed, Stream::RandomOrder, n);
        let customer = r.gen_range(0..self.registered) as i64 + 1;
        let foreign = r.gen_bool(mix.foreign_currency.clamp(0.0, 1.0));
        let currency = FOREIGN[r.gen_range(0..FOREIGN.len())];
        let count = r.gen_range(1..=3);
        let mut lines: Vec<LineSpec> = (0..count)
            .map(|_| LineSpec {
                sku_id: r.gen_range(0..self.skus.len()) as i64 + 1,
                quantity: r.gen_range(1..=3),
            })
            .collect();
        let paid = r.gen_bool(mix.paid.clamp(0.0, 1.0));
        let invalid = r.gen_bool(mix.invalid.clamp(0.0, 1.0));
        let defect = Defect::ALL[r.gen_range(0..Defect::ALL.len())];
        let defect = invalid.then_some(defect);
        match defect {
            Some(Defect::EmptyOrder) => lines.clear(),
            Some(Defect::NegativeQuantity) => {
                // A correction line taking one unit of the first product back.
                lines.truncate(1);
                lines[0].quantity = lines[0].quantity.max(2);
                lines.push(LineSpec {
                    sku_id: lines[0].sku_id,
                    quantity: -1,
                });
            }
            _ => {}
        }
        OrderSpec {
            customer_id: Some(customer),
            currency: foreign.then(|| currency.to_owned()),
            lines,
            paid,
            status: None,
            defect,
        }
    }

    /// Places an order now: `order.created`, then `order.paid` when the spec pays at checkout.
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
        let lines: Vec<(LineSpec, usize)> = spec
            .lines
            .iter()
            .filter_map(|l| {
                let i = self.skus.iter().position(|s| s.id == l.sku_id)?;
                Some((*l, i))
            })
            .collect();
        let needs_shipping = lines.iter().any(|(_, i)| self.skus[*i].needs_shipping);
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

        // Items.
        let first_item = self.order_items.len() as i64 + 1;
        let mut items_total = Decimal::ZERO;
        let mut tax_by_class: Vec<(String, Decimal)> = Vec::new();
        for (line, sku_i) in &lines {
            let sku = &self.skus[*sku_i];
            let unit_price = round(sku.price * currency.rate);
            let total = unit_price * Decimal::from(line.quantity);
            items_total += total;
            let (tax_name, rate) =
                self.tax_rate(sku.tax_class_id, dest_country, dest_state, &customer);
            // guess: tax is computed per line and rounded to the currency's 2 decimals, then summed per class.
            if let Some(name) = tax_name {
                let tax = round(total * rate / Decimal::ONE_HUNDRED);
                match tax_by_class.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, sum)) => *sum += tax,
                    None => tax_by_class.push((name, tax)),
                }
            }
            let custom = if sku.tax_class_id == Some(2) {
                vec![("Grind", GRINDS[r.gen_range(0..GRINDS.len())].to_owned())]
            } else {
                Vec::new()
            };
            self.order_items.push(OrderItem {
                id: self.order_items.len() as i64 + 1,
                order_id: id,
                sku_id: sku.id,
                sku_name: sku.name.clone(),
                unit_price,
                unit_count: i64::from(line.quantity),
                custom,
                guid: seed::guid(&mut r),
                last_modified: at,
                total_price_main: Store::to_main(&currency, total),
                total_price: total,
            });
        }
        let item_ids = first_item..self.order_items.len() as i64 + 1;

        let shipping_option = needs_shipping.then(|| match r.gen_range(0..10) {
            0 => 1,
            1 | 2 => 3,
            _ => 2,
        });
        let total_shipping = shipping_option
            .and_then(|o| self.shipping_options.iter().find(|s| s.id == o))
            .map(|s| round(s.cost * currency.rate))
            .unwrap_or_default();
        let total_tax: Decimal = tax_by_class.iter().map(|(_, t)| *t).sum();
        let mut total_price = items_total + total_shipping + total_tax;
        if spec.defect == Some(Defect::TotalsMismatch) {
            total_price += MISMATCH;
        }

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
        self.orders.push(Order {
            id,
            shipping_option_id: shipping_option,
            total_shipping,
            total_price,
            total_tax,
            date: at,
            status_id,
            currency_id: currency.id,
            customer_id: customer.id,
            created_by_user_id: customer.user_id,
            note,
            site_id: seed::SITE_ID,
            payment_option_id,
            invoice_number: id.to_string(),
            tracking_number: None,
            custom,
            payment: None,
            guid,
            last_modified: at,
            total_price_main: Store::to_main(&currency, total_price),
            is_paid,
            culture: "en-US",
            grand_total: total_price,
            grand_total_main: Store::to_main(&currency, total_price),
            tax_summary: tax_by_class,
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

    /// `n` valid orders spread over `[from, to)`, with the statuses a store accumulates: most completed and paid,
    /// some new, a few canceled or failed. No events.
    pub(crate) fn seed_history(&mut self, n: usize, from: OffsetDateTime, to: OffsetDateTime) {
        if n == 0 {
            return;
        }
        let span = (to - from).whole_seconds().max(1) as f64;
        let mix = OrderMix {
            invalid: 0.0,
            foreign_currency: 0.3,
            paid: 0.0,
        };
        let step = span / n as f64;
        for k in 0..n {
            let mut r = seed::rng(self.seed, Stream::History, k as u64);
            let spec = self.random_order(u64::MAX - k as u64, &mix);
            let offset = (step * k as f64) as i64 + r.gen_range(0..step.max(1.0) as i64);
            let at =
                from + Duration::seconds(offset) + Duration::milliseconds(r.gen_range(0..1000));
            let (i, _) = self.checkout(&spec, at);
            let later = at + Duration::minutes(r.gen_range(1..30));
            let target = match r.gen_range(0..20) {
                0..=2 => status::NEW,
                3..=7 => status::PAYMENT_RECEIVED,
                8..=10 => status::IN_PROGRESS,
                11..=17 => status::COMPLETED,
                18 => status::CANCELED,
                _ => status::PAYMENT_FAILED,
            };
            if [
                status::PAYMENT_RECEIVED,
                status::IN_PROGRESS,
                status::COMPLETED,
            ]
            .contains(&target)
            {
                self.pay(i, later);
            }
            if let Some(s) = self.status_by_name(target).map(|s| s.id) {
                let order = &mut self.orders[i];
                order.status_id = s;
                order.last_modified = later;
            }
        }
    }
}
