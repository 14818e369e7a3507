//! Bindings for `ferry:transform/transformer@0.1.0`, generated from the frozen `wit/deps/ferry-transform@0.1.0`,
//! plus the two records whose shape changed in 0.2.0 (`order`, `order-line`) as views over the 0.2.0 ones.
//!
//! Every other record (customer, drafts, validation issue, transform error…) has the same fields in both
//! versions, and Wasmtime type-checks records by their fields, not by their package; a 0.1.0 plugin's hooks are
//! therefore called with the 0.2.0 Rust types for those, checked against its own types once at load
//! (`exports::HookExports::find`). Only `order` and `order-line` need the views below, which borrow from the
//! 0.2.0 record and leave out what 0.2.0 added, so a 0.1.0 plugin receives byte for byte what it always did.
#![allow(missing_docs, unreachable_pub)]

use wasmtime::component::{ComponentType, Lower};

use super::v0_2::types as v2;

wasmtime::component::bindgen!({
    world: "transformer",
    path: "../../wit/deps/ferry-transform@0.1.0",
});

pub(crate) use ferry::transform::{host, types};

/// `order` of 0.1.0: the 0.2.0 order without `discounts`, `coupon-codes`, `other-payments` and `taxes`.
#[derive(ComponentType, Lower)]
#[component(record)]
pub(crate) struct Order<'a> {
    id: i64,
    guid: &'a str,
    number: &'a str,
    status: &'a v2::OrderStatus,
    #[component(name = "created-at")]
    created_at: &'a str,
    #[component(name = "last-modified")]
    last_modified: &'a str,
    currency: &'a str,
    totals: &'a v2::OrderTotals,
    customer: &'a v2::Customer,
    #[component(name = "billing-address")]
    billing_address: &'a Option<v2::Address>,
    #[component(name = "shipping-address")]
    shipping_address: &'a Option<v2::Address>,
    lines: Vec<OrderLine<'a>>,
    #[component(name = "custom-attributes")]
    custom_attributes: &'a [v2::CustomField],
    note: &'a str,
    payment: &'a v2::Payment,
}

impl<'a> Order<'a> {
    /// The 0.1.0 view of a 0.2.0 order.
    pub(crate) fn view(o: &'a v2::Order) -> Self {
        Self {
            id: o.id,
            guid: &o.guid,
            number: &o.number,
            status: &o.status,
            created_at: &o.created_at,
            last_modified: &o.last_modified,
            currency: &o.currency,
            totals: &o.totals,
            customer: &o.customer,
            billing_address: &o.billing_address,
            shipping_address: &o.shipping_address,
            lines: o.lines.iter().map(OrderLine::view).collect(),
            custom_attributes: &o.custom_attributes,
            note: &o.note,
            payment: &o.payment,
        }
    }
}

/// `order-line` of 0.1.0: the 0.2.0 line without its GUIDs, `text` and discounts.
#[derive(ComponentType, Lower)]
#[component(record)]
pub(crate) struct OrderLine<'a> {
    id: i64,
    #[component(name = "sku-id")]
    sku_id: i64,
    #[component(name = "sku-number")]
    sku_number: &'a str,
    name: &'a str,
    description: &'a str,
    quantity: i64,
    #[component(name = "unit-price")]
    unit_price: &'a str,
    #[component(name = "total-price")]
    total_price: &'a str,
    #[component(name = "sku-price")]
    sku_price: &'a Option<String>,
    #[component(name = "tax-class")]
    tax_class: &'a Option<v2::TaxClass>,
    attributes: &'a [v2::CustomField],
}

impl<'a> OrderLine<'a> {
    /// The 0.1.0 view of a 0.2.0 order line.
    pub(crate) fn view(l: &'a v2::OrderLine) -> Self {
        Self {
            id: l.id,
            sku_id: l.sku_id,
            sku_number: &l.sku_number,
            name: &l.name,
            description: &l.description,
            quantity: l.quantity,
            unit_price: &l.unit_price,
            total_price: &l.total_price,
            sku_price: &l.sku_price,
            tax_class: &l.tax_class,
            attributes: &l.attributes,
        }
    }
}
