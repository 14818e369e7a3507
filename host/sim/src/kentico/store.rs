//! All objects of the simulated site, behind one lock, and the mutations the control API offers. Each mutation
//! stamps `*LastModified` from the server clock and returns the webhook events it causes.

use rust_decimal::Decimal;
use serde_json::{Map, Value as Json, json};
use time::{Duration, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use super::class::{Class, Record, Table};
use super::clock::{self, Clock};
use super::config::KenticoSimConfig;
use super::customer::{Address, Customer};
use super::order::{Order, OrderAddress, OrderItem, items_in};
use super::reference::{
    Country, Currency, OrderStatus, PaymentOption, ShippingOption, State, TaxClass,
    TaxClassCountry, TaxClassState,
};
use super::seed::{self, status};
use super::sku::Sku;
use super::spec::{CustomerInfo, CustomerPatch, SkuInfo};

/// Webhook event types (Ferry's contract, `host/model/src/event.rs`).
pub(crate) mod kind {
    pub(crate) const ORDER_CREATED: &str = "order.created";
    pub(crate) const ORDER_UPDATED: &str = "order.updated";
    pub(crate) const ORDER_STATUS_CHANGED: &str = "order.status_changed";
    pub(crate) const ORDER_PAID: &str = "order.paid";
    pub(crate) const CUSTOMER_UPDATED: &str = "customer.updated";
}

/// Something that happened to one object, to be sent as a webhook.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) kind: &'static str,
    pub(crate) object_type: &'static str,
    pub(crate) id: i64,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
    /// `{column: {from, to}}` hints.
    pub(crate) changes: Map<String, Json>,
}

/// The site's data.
pub(crate) struct Store {
    pub(crate) seed: u64,
    pub(crate) clock: Clock,
    pub(crate) currencies: Vec<Currency>,
    pub(crate) statuses: Vec<OrderStatus>,
    pub(crate) tax_classes: Vec<TaxClass>,
    pub(crate) tax_countries: Vec<TaxClassCountry>,
    pub(crate) tax_states: Vec<TaxClassState>,
    pub(crate) payment_options: Vec<PaymentOption>,
    pub(crate) shipping_options: Vec<ShippingOption>,
    pub(crate) countries: Vec<Country>,
    pub(crate) states: Vec<State>,
    pub(crate) skus: Vec<Sku>,
    pub(crate) customers: Vec<Customer>,
    pub(crate) addresses: Vec<Address>,
    pub(crate) orders: Vec<Order>,
    pub(crate) order_items: Vec<OrderItem>,
    pub(crate) order_addresses: Vec<OrderAddress>,
    /// Seeded (registered) customers: `random_order` picks among the first this many.
    pub(crate) registered: usize,
    /// Whether stock taken by an order is announced with `sku.updated` (off: only `SKULastModified` moves, and a
    /// poller finds it); see [`super::KenticoHandle::send_stock_webhooks`].
    pub(crate) stock_webhooks: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("customers", &self.customers.len())
            .field("orders", &self.orders.len())
            .finish()
    }
}

/// The object types served under `/rest`.
pub(crate) const CLASSES: &[&Class] = &[
    Order::CLASS,
    OrderItem::CLASS,
    OrderAddress::CLASS,
    Customer::CLASS,
    Address::CLASS,
    Sku::CLASS,
    OrderStatus::CLASS,
    Currency::CLASS,
    TaxClass::CLASS,
    TaxClassCountry::CLASS,
    TaxClassState::CLASS,
    PaymentOption::CLASS,
    ShippingOption::CLASS,
    Country::CLASS,
    State::CLASS,
];

/// Every object type the store serves (the names [`Store::table`] knows).
const OBJECT_TYPES: [&str; 15] = [
    "ecommerce.order",
    "ecommerce.orderitem",
    "ecommerce.orderaddress",
    "ecommerce.customer",
    "ecommerce.address",
    "ecommerce.sku",
    "ecommerce.orderstatus",
    "ecommerce.currency",
    "ecommerce.taxclass",
    "ecommerce.taxclasscountry",
    "ecommerce.taxclassstate",
    "ecommerce.paymentoption",
    "ecommerce.shippingoption",
    "cms.country",
    "cms.state",
];

impl Store {
    /// Generates the store for `config`: reference data, customers, and `config.orders` orders of history
    /// spread over the 60 days before now.
    pub(crate) fn new(config: &KenticoSimConfig) -> Self {
        let offset = UtcOffset::from_hms(config.utc_offset_hours.clamp(-12, 14), 0, 0)
            .unwrap_or(UtcOffset::UTC);
        let start = clock::truncate(OffsetDateTime::now_utc()).to_offset(offset);
        // The store looks as if it had been running for a while: configuration last edited a year ago.
        let configured = (start - Duration::days(365))
            .replace_nanosecond(0)
            .unwrap_or(start);
        let r = seed::reference(config.seed, configured);
        let mut store = Self {
            seed: config.seed,
            clock: Clock::new(offset, start),
            currencies: r.currencies,
            statuses: r.statuses,
            tax_classes: r.tax_classes,
            tax_countries: r.tax_countries,
            tax_states: r.tax_states,
            payment_options: r.payment_options,
            shipping_options: r.shipping_options,
            countries: r.countries,
            states: r.states,
            skus: r.skus,
            customers: Vec::with_capacity(config.customers),
            addresses: Vec::with_capacity(config.customers),
            orders: Vec::with_capacity(config.orders),
            order_items: Vec::with_capacity(config.orders * 3),
            order_addresses: Vec::with_capacity(config.orders * 2),
            registered: config.customers.max(1),
            stock_webhooks: false,
        };
        let history_start = start - Duration::days(60);
        for i in 0..config.customers.max(1) {
            let id = i as i64 + 1;
            let (c, a) = seed::customer(config.seed, id, id, &store.states, history_start);
            store.customers.push(c);
            store.addresses.push(a);
        }
        store.seed_history(config.orders, history_start, start - Duration::hours(1));
        store
    }

    /// The table serving `object_type`.
    pub(crate) fn table(&self, object_type: &str) -> Option<&dyn Table> {
        let t: &dyn Table = match object_type.to_ascii_lowercase().as_str() {
            "ecommerce.order" => &self.orders,
            "ecommerce.orderitem" => &self.order_items,
            "ecommerce.orderaddress" => &self.order_addresses,
            "ecommerce.customer" => &self.customers,
            "ecommerce.address" => &self.addresses,
            "ecommerce.sku" => &self.skus,
            "ecommerce.orderstatus" => &self.statuses,
            "ecommerce.currency" => &self.currencies,
            "ecommerce.taxclass" => &self.tax_classes,
            "ecommerce.taxclasscountry" => &self.tax_countries,
            "ecommerce.taxclassstate" => &self.tax_states,
            "ecommerce.paymentoption" => &self.payment_options,
            "ecommerce.shippingoption" => &self.shipping_options,
            "cms.country" => &self.countries,
            "cms.state" => &self.states,
            _ => return None,
        };
        Some(t)
    }

    /// The tables whose objects are children of `object_type` (their class names it as parent), each with its
    /// parent-id column: what `children=true` includes with an object.
    pub(crate) fn child_tables(&self, object_type: &str) -> Vec<(&dyn Table, usize)> {
        OBJECT_TYPES
            .iter()
            .filter_map(|t| self.table(t))
            .filter_map(|table| {
                let (parent, column) = table.class().parent?;
                if !parent.eq_ignore_ascii_case(object_type) {
                    return None;
                }
                table.class().column(column).map(|c| (table, c))
            })
            .collect()
    }

    /// The items of an order.
    pub(crate) fn items_of(&self, order: &Order) -> &[OrderItem] {
        items_in(&self.order_items, &order.item_ids)
    }

    pub(crate) fn order_index(&self, id: i64) -> Option<usize> {
        self.orders.index_of(id)
    }

    pub(crate) fn customer_index(&self, id: i64) -> Option<usize> {
        self.customers.index_of(id)
    }

    pub(crate) fn currency_by_code(&self, code: &str) -> Option<&Currency> {
        self.currencies
            .iter()
            .find(|c| c.code.eq_ignore_ascii_case(code))
    }

    pub(crate) fn main_currency(&self) -> &Currency {
        self.currencies
            .iter()
            .find(|c| c.is_main)
            .unwrap_or(&self.currencies[0])
    }

    pub(crate) fn status_by_name(&self, name: &str) -> Option<&OrderStatus> {
        let name = name.trim();
        self.statuses.iter().find(|s| {
            s.name.eq_ignore_ascii_case(name) || s.display_name.eq_ignore_ascii_case(name)
        })
    }

    pub(crate) fn status(&self, id: i64) -> Option<&OrderStatus> {
        self.statuses.iter().find(|s| s.id == id)
    }

    /// The catalogue.
    pub(crate) fn catalogue(&self) -> Vec<SkuInfo> {
        self.skus
            .iter()
            .map(|s| SkuInfo {
                id: s.id,
                number: s.number.clone(),
                name: s.name.clone(),
                price: s.price,
                kind: s.kind,
                option_for: s.option_for.clone(),
                available_items: s.available_items,
                tracks_inventory: s.track_inventory != "Disabled",
                enabled: s.enabled,
                deleted: s.deleted,
                parent_id: s.parent_id,
            })
            .collect()
    }

    /// Every customer, guests included.
    pub(crate) fn customer_infos(&self) -> Vec<CustomerInfo> {
        self.customers
            .iter()
            .map(|c| CustomerInfo {
                id: c.id,
                guid: c.guid,
                email: c.email.clone().unwrap_or_default(),
            })
            .collect()
    }

    /// Moves an order to the status called `name`; the status change event, then `order.paid` when the new
    /// status marks orders paid. `None` when the order or status does not exist.
    pub(crate) fn set_order_status(&mut self, order_id: i64, name: &str) -> Option<Vec<Event>> {
        let to = self.status_by_name(name)?.clone();
        let i = self.order_index(order_id)?;
        let from = self.orders[i].status_id;
        if from == to.id {
            return Some(Vec::new());
        }
        let at = self.clock.now();
        let order = &mut self.orders[i];
        order.status_id = to.id;
        order.last_modified = at;
        let mut changes = Map::new();
        changes.insert("OrderStatusID".into(), json!({"from": from, "to": to.id}));
        let mut events = vec![order_event(order, kind::ORDER_STATUS_CHANGED, changes)];
        // guess: entering a "Mark order as paid" status raises OrderPaid as the gateway path does.
        if to.is_paid && !order.is_paid {
            order.is_paid = true;
            let mut changes = Map::new();
            changes.insert("OrderIsPaid".into(), json!({"from": false, "to": true}));
            events.push(order_event(order, kind::ORDER_PAID, changes));
        }
        Some(events)
    }

    /// Records a completed payment: `OrderIsPaid`, the gateway result for gateway methods, and status New →
    /// the payment option's "succeeded" status. `None` when the order does not exist; no events when already paid.
    pub(crate) fn mark_paid(&mut self, order_id: i64) -> Option<Vec<Event>> {
        let i = self.order_index(order_id)?;
        if self.orders[i].is_paid {
            return Some(Vec::new());
        }
        let at = self.clock.now();
        let changes = self.pay(i, at);
        Some(vec![order_event(
            &self.orders[i],
            kind::ORDER_PAID,
            changes,
        )])
    }

    /// Applies a payment at `at` and returns the column changes.
    // guess: a payment moves a `New` order to the option's succeeded status (PaymentReceived for offline methods,
    // as an admin ticking "paid" would); other statuses are left alone. Offline methods write no gateway result.
    pub(crate) fn pay(&mut self, i: usize, at: OffsetDateTime) -> Map<String, Json> {
        let option = self.orders[i]
            .payment_option_id
            .and_then(|id| self.payment_options.iter().find(|p| p.id == id))
            .cloned();
        let paid_status = option
            .as_ref()
            .and_then(|p| p.succeeded_status_id)
            .or_else(|| self.status_by_name(status::PAYMENT_RECEIVED).map(|s| s.id));
        let new_status = self.status_by_name(status::NEW).map(|s| s.id);
        let seed = self.seed;
        let order = &mut self.orders[i];
        let mut changes = Map::new();
        changes.insert("OrderIsPaid".into(), json!({"from": false, "to": true}));
        order.is_paid = true;
        order.last_modified = at;
        if let Some(option) = option.filter(|o| o.gateway.is_some()) {
            let mut r = seed::rng(seed, seed::Stream::Guid, 1_000_000 + order.id as u64);
            order.payment = Some(super::order::PaymentResult {
                date: at,
                method_id: option.id,
                method_text: option.display_name.to_owned(),
                transaction_id: format!("txn_{}", seed::guid(&mut r).simple()),
            });
        }
        if let Some(to) = paid_status.filter(|_| Some(order.status_id) == new_status) {
            changes.insert(
                "OrderStatusID".into(),
                json!({"from": order.status_id, "to": to}),
            );
            order.status_id = to;
        }
        changes
    }

    /// Applies a customer patch; one `customer.updated` event listing the changed columns, or none when nothing
    /// changed. `None` when the customer does not exist.
    pub(crate) fn update_customer(
        &mut self,
        customer_id: i64,
        patch: &CustomerPatch,
    ) -> Option<Vec<Event>> {
        let i = self.customer_index(customer_id)?;
        let at = self.clock.now();
        let c = &mut self.customers[i];
        let mut changes = Map::new();
        let mut set_required = |col: &str, field: &mut String, value: &Option<String>| {
            if let Some(v) = value
                && v != field
            {
                changes.insert(col.into(), json!({"from": field.clone(), "to": v}));
                *field = v.clone();
            }
        };
        set_required("CustomerFirstName", &mut c.first_name, &patch.first_name);
        set_required("CustomerLastName", &mut c.last_name, &patch.last_name);
        let mut set_optional = |col: &str, field: &mut Option<String>, value: &Option<String>| {
            if let Some(v) = value {
                let new = (!v.is_empty()).then(|| v.clone());
                if new != *field {
                    changes.insert(col.into(), json!({"from": field.clone(), "to": new}));
                    *field = new;
                }
            }
        };
        set_optional("CustomerEmail", &mut c.email, &patch.email);
        set_optional("CustomerPhone", &mut c.phone, &patch.phone);
        set_optional("CustomerCompany", &mut c.company, &patch.company);
        set_optional(
            "CustomerTaxRegistrationID",
            &mut c.tax_registration_id,
            &patch.tax_registration_id,
        );
        set_optional(
            super::customer::LOYALTY_TIER,
            &mut c.loyalty_tier,
            &patch.loyalty_tier,
        );
        if changes.is_empty() {
            return Some(Vec::new());
        }
        c.last_modified = at;
        Some(vec![Event {
            kind: kind::CUSTOMER_UPDATED,
            object_type: Customer::CLASS.object_type,
            id: c.id,
            guid: c.guid,
            last_modified: at,
            changes,
        }])
    }

    /// The main-currency amount of `amount` in `currency`.
    pub(crate) fn to_main(currency: &Currency, amount: Decimal) -> Decimal {
        if currency.rate.is_zero() {
            return amount;
        }
        (amount / currency.rate).round_dp(2)
    }
}

/// An event about an order.
pub(crate) fn order_event(order: &Order, kind: &'static str, changes: Map<String, Json>) -> Event {
    Event {
        kind,
        object_type: Order::CLASS.object_type,
        id: order.id,
        guid: order.guid,
        last_modified: order.last_modified,
        changes,
    }
}
