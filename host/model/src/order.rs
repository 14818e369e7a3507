//! The canonical order and customer, built by `extract` from Kentico's REST rows.

use crate::{CurrencyCode, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// A custom field or attribute: Kentico keeps these as extra columns or `<CustomData>` XML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    /// Field (column or element) name as Kentico has it.
    pub name: String,
    /// Value as text.
    pub value: String,
}

/// A postal address with ids already resolved to names and codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// `AddressPersonalName`: one string, Kentico does not split it.
    pub personal_name: String,
    /// First street line.
    pub line1: String,
    /// Second street line (may be empty).
    pub line2: String,
    /// City.
    pub city: String,
    /// Postal code.
    pub zip: String,
    /// State/province code such as `CA` (empty when the country has none).
    pub state_code: String,
    /// State/province display name.
    pub state_name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: String,
    /// Country display name.
    pub country_name: String,
    /// Phone on the address (may be empty).
    pub phone: String,
}

/// A Kentico customer (`COM_Customer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// `CustomerID`.
    pub id: i64,
    /// `CustomerGUID`: the stable key used to find the FreshBooks client again.
    pub guid: Uuid,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// E-mail, when Kentico has one.
    pub email: Option<String>,
    /// Phone (may be empty).
    pub phone: String,
    /// Company name (may be empty).
    pub company: String,
    /// VAT / tax registration id (may be empty).
    pub tax_registration_id: String,
    /// Organization id (may be empty).
    pub organization_id: String,
    /// Custom columns added to `ecommerce.customer` by the site developer.
    pub custom_fields: Vec<CustomField>,
    /// The customer's default (billing) address, if any.
    pub address: Option<Address>,
    /// `CustomerLastModified`.
    #[serde(with = "time::serde::rfc3339")]
    pub last_modified: OffsetDateTime,
}

/// An order status (`COM_OrderStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderStatus {
    /// `StatusID`.
    pub id: i64,
    /// `StatusName` code name, e.g. `PaymentReceived`.
    pub code: String,
    /// `StatusDisplayName`.
    pub display_name: String,
    /// `StatusOrderIsPaid`: entering this status marks the order paid.
    pub marks_paid: bool,
}

/// A tax class with the rate that applies to the order's destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxClass {
    /// `TaxClassID`.
    pub id: i64,
    /// `TaxClassName` code name.
    pub code: String,
    /// `TaxClassDisplayName`.
    pub display_name: String,
    /// Percentage for the destination country/state (`TaxValue`), if Kentico defines one.
    pub rate_percent: Option<Decimal>,
    /// `TaxClassZeroIfIDSupplied`: no tax when the customer has a tax registration id.
    pub zero_if_tax_id: bool,
}

/// One order line (`COM_OrderItem`) joined with its SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// `OrderItemID`.
    pub id: i64,
    /// `OrderItemSKUID`.
    pub sku_id: i64,
    /// `SKUNumber`, the merchant's SKU code (empty when the SKU has none).
    pub sku_number: String,
    /// `OrderItemSKUName`.
    pub name: String,
    /// `SKUDescription` / short description, plain text.
    pub description: String,
    /// `OrderItemUnitCount` (negative values are kept so validation can refuse them).
    pub quantity: i64,
    /// `OrderItemUnitPrice` in the order currency.
    pub unit_price: Decimal,
    /// `OrderItemTotalPrice` in the order currency (after item discounts).
    pub total_price: Decimal,
    /// `SKUPrice` in the main currency, to catch prices far from the catalogue.
    pub sku_price: Option<Decimal>,
    /// The SKU's tax class, if any.
    pub tax_class: Option<TaxClass>,
    /// Product attributes: `OrderItemCustomData` and `SKUCustomData` entries.
    pub attributes: Vec<CustomField>,
    /// `OrderItemGUID`: stable across edits of the order (Kentico re-inserts rows with new ids, same GUIDs).
    #[serde(default)]
    pub guid: Uuid,
    /// `OrderItemParentGuid`: the line this product option belongs to (`None` for a product line).
    #[serde(default)]
    pub parent_guid: Option<Uuid>,
    /// `OrderItemBundleGUID`: the bundle line this row is content of; such rows carry no price.
    #[serde(default)]
    pub bundle_guid: Option<Uuid>,
    /// `OrderItemText`: the customer's text for a text option.
    #[serde(default)]
    pub text: String,
    /// `OrderItemProductDiscounts`: catalog and volume discounts per **unit**, already taken off `unit_price`.
    #[serde(default)]
    pub unit_discounts: Vec<NamedAmount>,
    /// `OrderItemDiscountSummary`: product-coupon and Buy X Get Y discounts on the **line total**, already taken
    /// off `total_price`.
    #[serde(default)]
    pub discounts: Vec<NamedAmount>,
}

/// One item of a Kentico `ValuesSummary` (a discount, a gift card, a tax class): its display name and its amount
/// in the order currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedAmount {
    /// `Name`, as the shop shows it (e.g. `Welcome 10%`, `VAT 20%`).
    pub name: String,
    /// `Value`, positive.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// A code the customer entered (`OrderCouponCodes`): a coupon, or a gift card with the value it paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponCode {
    /// The code as entered.
    pub code: String,
    /// `ValueInMainCurrency`: set for gift-card codes (the value used), `None` for discount coupons.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub gift_card_value: Option<Decimal>,
}

/// Order totals in the order currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTotals {
    /// `OrderTotalPrice`: items, discounts, shipping and tax.
    pub total: Decimal,
    /// `OrderTotalTax`.
    pub tax: Decimal,
    /// `OrderTotalShipping`.
    pub shipping: Decimal,
    /// `OrderGrandTotal`: total less other payments (gift cards).
    pub grand_total: Decimal,
}

/// Payment state of an order. K13 has no payment table: this comes from `OrderIsPaid` and `OrderPaymentResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// `OrderIsPaid`.
    pub is_paid: bool,
    /// Payment option display name (e.g. `Credit card`).
    pub method: String,
    /// Gateway transaction id from the payment result, when known.
    pub transaction_id: String,
    /// Amount paid (the grand total) when paid.
    pub amount: Money,
    /// When the payment was recorded, if the result says.
    #[serde(with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
}

/// A Kentico order in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// `OrderID`.
    pub id: i64,
    /// `OrderGUID`: the deterministic marker stamped on what Ferry creates.
    pub guid: Uuid,
    /// The order number shown to people: `OrderInvoiceNumber`, else `OrderID`.
    pub number: String,
    /// Current status.
    pub status: OrderStatus,
    /// `OrderDate`.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// `OrderLastModified`.
    #[serde(with = "time::serde::rfc3339")]
    pub last_modified: OffsetDateTime,
    /// Order currency (`COM_Currency.CurrencyCode`).
    pub currency: CurrencyCode,
    /// Totals in the order currency.
    pub totals: OrderTotals,
    /// The customer.
    pub customer: Customer,
    /// Billing address (`AddressType` 1).
    pub billing_address: Option<Address>,
    /// Shipping address (`AddressType` 2).
    pub shipping_address: Option<Address>,
    /// Lines, product options included as their own lines.
    pub lines: Vec<OrderLine>,
    /// `OrderCustomData` entries and custom order columns.
    pub custom_attributes: Vec<CustomField>,
    /// `OrderNote`.
    pub note: String,
    /// Payment state.
    pub payment: Payment,
    /// `OrderDiscounts`: order-level discounts, taken off the item subtotal (not pushed into lines).
    #[serde(default)]
    pub discounts: Vec<NamedAmount>,
    /// `OrderCouponCodes`: every code applied, in the order Kentico applied them.
    #[serde(default)]
    pub coupon_codes: Vec<CouponCode>,
    /// `OrderOtherPayments`: gift cards, paid before the grand total (`grand_total = total − Σ`).
    #[serde(default)]
    pub other_payments: Vec<NamedAmount>,
    /// `OrderTaxSummary`: tax per tax class (`Σ = totals.tax`).
    #[serde(default)]
    pub taxes: Vec<NamedAmount>,
}
