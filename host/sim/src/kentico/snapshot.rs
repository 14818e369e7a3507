//! Read-only views of stored orders and customers with ids resolved, for tests that check what a client read
//! against what the simulator holds.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::customer::Customer;
use super::order::{BILLING, OrderAddress, SHIPPING};
use super::store::Store;

/// An order with its lines, addresses and resolved references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimOrder {
    /// `OrderID`.
    pub id: i64,
    /// `OrderGUID`.
    pub guid: Uuid,
    /// `OrderInvoiceNumber`.
    pub number: String,
    /// `CurrencyCode`.
    pub currency: String,
    /// `StatusName`.
    pub status: String,
    /// `OrderIsPaid`.
    pub is_paid: bool,
    /// `OrderCustomerID`.
    pub customer_id: i64,
    /// `OrderTotalPrice`.
    pub total: Decimal,
    /// `OrderTotalTax`.
    pub tax: Decimal,
    /// `OrderTotalShipping`.
    pub shipping: Decimal,
    /// `OrderGrandTotal`.
    pub grand_total: Decimal,
    /// `PaymentOptionDisplayName`.
    pub payment_method: String,
    /// Gateway transaction id in `OrderPaymentResult`, empty when none.
    pub transaction_id: String,
    /// `OrderNote`, empty when none.
    pub note: String,
    /// `OrderCustomData` entries.
    pub custom_data: Vec<(String, String)>,
    /// Items in id order.
    pub lines: Vec<SimLine>,
    /// Billing address (`AddressType` 1).
    pub billing: Option<SimAddress>,
    /// Shipping address (`AddressType` 2).
    pub shipping_address: Option<SimAddress>,
    /// `OrderTaxSummary` items.
    #[serde(default)]
    pub tax_summary: Vec<(String, Decimal)>,
    /// `OrderDiscounts` items.
    #[serde(default)]
    pub order_discounts: Vec<(String, Decimal)>,
    /// `OrderOtherPayments` items (gift cards).
    #[serde(default)]
    pub other_payments: Vec<(String, Decimal)>,
    /// Codes in `OrderCouponCodes`, in order.
    #[serde(default)]
    pub coupon_codes: Vec<String>,
}

impl SimOrder {
    /// The order's top-level lines (no options, no bundle contents) as an edit sends them back.
    pub fn line_specs(&self) -> Vec<super::LineSpec> {
        self.lines
            .iter()
            .filter(|l| l.parent_guid.is_none() && l.bundle_guid.is_none())
            .map(|l| super::LineSpec {
                sku_id: l.sku_id,
                quantity: i32::try_from(l.quantity).unwrap_or(1),
            })
            .collect()
    }

    /// The same lines with one unit fewer (a line of one is dropped), `None` when that would empty the order.
    pub fn one_unit_fewer(&self) -> Option<Vec<super::LineSpec>> {
        let mut lines = self.line_specs();
        if let Some(l) = lines.iter_mut().find(|l| l.quantity > 1) {
            l.quantity -= 1;
            return Some(lines);
        }
        (lines.len() > 1).then(|| {
            lines.pop();
            lines
        })
    }
}

/// An order item joined with its SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimLine {
    /// `OrderItemID`.
    pub id: i64,
    /// `OrderItemSKUID`.
    pub sku_id: i64,
    /// `SKUNumber`.
    pub sku_number: String,
    /// `OrderItemSKUName`.
    pub name: String,
    /// `OrderItemUnitCount`.
    pub quantity: i64,
    /// `OrderItemUnitPrice`.
    pub unit_price: Decimal,
    /// `OrderItemTotalPrice`.
    pub total_price: Decimal,
    /// `OrderItemCustomData` entries.
    pub custom_data: Vec<(String, String)>,
    /// `OrderItemGuid`.
    #[serde(default)]
    pub guid: Uuid,
    /// `OrderItemParentGuid`: set on a product option's row.
    #[serde(default)]
    pub parent_guid: Option<Uuid>,
    /// `OrderItemBundleGUID`: set on a bundle's content rows.
    #[serde(default)]
    pub bundle_guid: Option<Uuid>,
    /// `OrderItemText` (a text option's text).
    #[serde(default)]
    pub text: Option<String>,
    /// `OrderItemProductDiscounts` items (per unit).
    #[serde(default)]
    pub unit_discounts: Vec<(String, Decimal)>,
    /// `OrderItemDiscountSummary` items (line total).
    #[serde(default)]
    pub line_discounts: Vec<(String, Decimal)>,
}

/// An address with country and state resolved to codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimAddress {
    /// `AddressPersonalName`.
    pub personal_name: String,
    /// `AddressLine1`.
    pub line1: String,
    /// `AddressLine2`, empty when none.
    pub line2: String,
    /// `AddressCity`.
    pub city: String,
    /// `AddressZip`.
    pub zip: String,
    /// `CountryTwoLetterCode`.
    pub country_code: String,
    /// `StateCode`, empty when none.
    pub state_code: String,
}

/// A customer with its custom columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimCustomer {
    /// `CustomerID`.
    pub id: i64,
    /// `CustomerGUID`.
    pub guid: Uuid,
    /// `CustomerFirstName`.
    pub first_name: String,
    /// `CustomerLastName`.
    pub last_name: String,
    /// `CustomerEmail`.
    pub email: Option<String>,
    /// `CustomerPhone`, empty when none.
    pub phone: String,
    /// `CustomerCompany`, empty when none.
    pub company: String,
    /// `CustomerTaxRegistrationID`, empty when none.
    pub tax_registration_id: String,
    /// Custom columns with a value: `CustomerLoyaltyTier`, `CustomerMarketingOptIn` (`true`/`false`).
    pub custom_fields: Vec<(String, String)>,
    /// First address-book entry.
    pub address: Option<SimAddress>,
}

fn address(
    store: &Store,
    personal_name: &str,
    parts: (&str, Option<&str>, &str, &str, i64, Option<i64>),
) -> SimAddress {
    let (line1, line2, city, zip, country_id, state_id) = parts;
    SimAddress {
        personal_name: personal_name.to_owned(),
        line1: line1.to_owned(),
        line2: line2.unwrap_or_default().to_owned(),
        city: city.to_owned(),
        zip: zip.to_owned(),
        country_code: store
            .countries
            .iter()
            .find(|c| c.id == country_id)
            .and_then(|c| c.two_letter.clone())
            .unwrap_or_default(),
        state_code: state_id
            .and_then(|s| store.states.iter().find(|x| x.id == s))
            .and_then(|s| s.code.clone())
            .unwrap_or_default(),
    }
}

fn order_address(store: &Store, a: &OrderAddress) -> SimAddress {
    address(
        store,
        &a.personal_name,
        (
            &a.line1,
            a.line2.as_deref(),
            &a.city,
            &a.zip,
            a.country_id,
            a.state_id,
        ),
    )
}

fn pairs(custom: &[(&'static str, String)]) -> Vec<(String, String)> {
    custom
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// The order `id`.
pub(crate) fn order(store: &Store, id: i64) -> Option<SimOrder> {
    let o = &store.orders[store.order_index(id)?];
    let start = usize::try_from(o.address_ids.start - 1).unwrap_or(0);
    let end = usize::try_from(o.address_ids.end - 1).unwrap_or(0);
    let addresses: Vec<&OrderAddress> = store
        .order_addresses
        .get(start..end)
        .unwrap_or(&[])
        .iter()
        .collect();
    let find = |kind: i64| {
        addresses
            .iter()
            .find(|a| a.address_type == kind)
            .map(|a| order_address(store, a))
    };
    let lines = store
        .items_of(o)
        .iter()
        .map(|i| SimLine {
            id: i.id,
            sku_id: i.sku_id,
            sku_number: store
                .skus
                .iter()
                .find(|s| s.id == i.sku_id)
                .map(|s| s.number.clone())
                .unwrap_or_default(),
            name: i.sku_name.clone(),
            quantity: i.unit_count,
            unit_price: i.unit_price,
            total_price: i.total_price,
            custom_data: pairs(&i.custom),
            guid: i.guid,
            parent_guid: i.parent_guid,
            bundle_guid: i.bundle_guid,
            text: i.text.clone(),
            unit_discounts: i.product_discounts.clone().unwrap_or_default(),
            line_discounts: i.discount_summary.clone().unwrap_or_default(),
        })
        .collect();
    Some(SimOrder {
        id,
        guid: o.guid,
        number: o.invoice_number.clone(),
        currency: store
            .currencies
            .iter()
            .find(|c| c.id == o.currency_id)
            .map(|c| c.code.to_owned())
            .unwrap_or_default(),
        status: store
            .status(o.status_id)
            .map(|s| s.name.to_owned())
            .unwrap_or_default(),
        is_paid: o.is_paid,
        customer_id: o.customer_id,
        total: o.total_price,
        tax: o.total_tax,
        shipping: o.total_shipping,
        grand_total: o.grand_total,
        payment_method: o
            .payment_option_id
            .and_then(|p| store.payment_options.iter().find(|x| x.id == p))
            .map(|p| p.display_name.to_owned())
            .unwrap_or_default(),
        transaction_id: o
            .payment
            .as_ref()
            .map(|p| p.transaction_id.clone())
            .unwrap_or_default(),
        note: o.note.clone().unwrap_or_default(),
        custom_data: pairs(&o.custom),
        lines,
        billing: find(BILLING),
        shipping_address: find(SHIPPING),
        tax_summary: o.tax_summary.clone(),
        order_discounts: o.discounts.clone(),
        other_payments: o.other_payments.clone(),
        coupon_codes: o.coupon_codes.iter().map(|c| c.code.clone()).collect(),
    })
}

/// The customer `id`.
pub(crate) fn customer(store: &Store, id: i64) -> Option<SimCustomer> {
    let c: &Customer = &store.customers[store.customer_index(id)?];
    let mut custom_fields = Vec::new();
    if let Some(t) = &c.loyalty_tier {
        custom_fields.push((super::customer::LOYALTY_TIER.to_owned(), t.clone()));
    }
    if let Some(m) = c.marketing_opt_in {
        custom_fields.push((super::customer::MARKETING_OPT_IN.to_owned(), m.to_string()));
    }
    let address = c
        .address_ids
        .first()
        .and_then(|a| store.addresses.iter().find(|x| x.id == *a))
        .map(|a| {
            address(
                store,
                &a.personal_name,
                (
                    &a.line1,
                    a.line2.as_deref(),
                    &a.city,
                    &a.zip,
                    a.country_id,
                    a.state_id,
                ),
            )
        });
    Some(SimCustomer {
        id,
        guid: c.guid,
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        email: c.email.clone(),
        phone: c.phone.clone().unwrap_or_default(),
        company: c.company.clone().unwrap_or_default(),
        tax_registration_id: c.tax_registration_id.clone().unwrap_or_default(),
        custom_fields,
        address,
    })
}
