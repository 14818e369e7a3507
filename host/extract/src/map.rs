//! Kentico rows → canonical types. Pure functions: every lookup has already been fetched.

use crate::kentico::{
    Row, parse_coupon_codes, parse_custom_data, parse_payment_result, parse_summary,
};
use ferry_model::{
    Address, CouponCode, CurrencyCode, CustomField, Customer, Money, NamedAmount, Order, OrderLine,
    OrderStatus, OrderTotals, Payment, Product, TaxClass,
};
use rust_decimal::Decimal;
use time::OffsetDateTime;

/// Built-in `COM_Order` columns (K13); any other key is a developer's custom column.
const ORDER_COLUMNS: &[&str] = &[
    "OrderID",
    "OrderShippingOptionID",
    "OrderTotalShipping",
    "OrderTotalPrice",
    "OrderTotalTax",
    "OrderDate",
    "OrderStatusID",
    "OrderCurrencyID",
    "OrderCustomerID",
    "OrderCreatedByUserID",
    "OrderNote",
    "OrderSiteID",
    "OrderPaymentOptionID",
    "OrderInvoice",
    "OrderInvoiceNumber",
    "OrderTrackingNumber",
    "OrderCustomData",
    "OrderPaymentResult",
    "OrderGUID",
    "OrderLastModified",
    "OrderTotalPriceInMainCurrency",
    "OrderIsPaid",
    "OrderCulture",
    "OrderDiscounts",
    "OrderGrandTotal",
    "OrderGrandTotalInMainCurrency",
    "OrderOtherPayments",
    "OrderTaxSummary",
    "OrderCouponCodes",
    // K11 columns, harmless elsewhere
    "OrderBillingAddressID",
    "OrderShippingAddressID",
    "OrderCompanyAddressID",
];

/// Built-in `COM_Customer` columns (K13).
const CUSTOMER_COLUMNS: &[&str] = &[
    "CustomerID",
    "CustomerFirstName",
    "CustomerLastName",
    "CustomerEmail",
    "CustomerPhone",
    "CustomerFax",
    "CustomerCompany",
    "CustomerUserID",
    "CustomerGUID",
    "CustomerTaxRegistrationID",
    "CustomerOrganizationID",
    "CustomerLastModified",
    "CustomerSiteID",
    "CustomerCreated",
];

fn custom_columns(row: &Row, known: &[&str]) -> Vec<CustomField> {
    let mut fields: Vec<CustomField> = row
        .keys()
        .filter(|k| !known.iter().any(|c| c.eq_ignore_ascii_case(k)))
        .filter_map(|k| {
            row.text(k).map(|value| CustomField {
                name: k.to_owned(),
                value,
            })
        })
        .collect();
    // Row keys come from a hash table in Kentico and here: sort so output is stable.
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    fields
}

fn required_i64(row: &Row, key: &str) -> Result<i64, String> {
    row.int(key)
        .ok_or_else(|| format!("{key} missing or not an integer"))
}

fn required_time(row: &Row, key: &str) -> Result<OffsetDateTime, String> {
    row.datetime(key)
        .ok_or_else(|| format!("{key} missing or not a date"))
}

fn money_col(row: &Row, key: &str) -> Decimal {
    row.decimal(key).unwrap_or_default()
}

/// `cms.country` + optional `cms.state` + an address row (`COM_OrderAddress` or `COM_Address`) → [`Address`].
pub(crate) fn address(row: &Row, country: Option<&Row>, state: Option<&Row>) -> Address {
    Address {
        personal_name: row.string("AddressPersonalName"),
        line1: row.string("AddressLine1"),
        line2: row.string("AddressLine2"),
        city: row.string("AddressCity"),
        zip: row.string("AddressZip"),
        state_code: state.map(|s| s.string("StateCode")).unwrap_or_default(),
        state_name: state
            .map(|s| s.string("StateDisplayName"))
            .unwrap_or_default(),
        country_code: country
            .map(|c| c.string("CountryTwoLetterCode"))
            .unwrap_or_default(),
        country_name: country
            .map(|c| c.string("CountryDisplayName"))
            .unwrap_or_default(),
        phone: row.string("AddressPhone"),
    }
}

/// `COM_Customer` → [`Customer`]; unknown columns become custom fields.
pub(crate) fn customer(row: &Row, address: Option<Address>) -> Result<Customer, String> {
    Ok(Customer {
        id: required_i64(row, "CustomerID")?,
        guid: row
            .uuid("CustomerGUID")
            .ok_or("CustomerGUID missing or not a guid")?,
        first_name: row.string("CustomerFirstName"),
        last_name: row.string("CustomerLastName"),
        email: row
            .text("CustomerEmail")
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty()),
        phone: row.string("CustomerPhone"),
        company: row.string("CustomerCompany"),
        tax_registration_id: row.string("CustomerTaxRegistrationID"),
        organization_id: row.string("CustomerOrganizationID"),
        custom_fields: custom_columns(row, CUSTOMER_COLUMNS),
        address,
        last_modified: required_time(row, "CustomerLastModified")?,
    })
}

/// `COM_OrderStatus` → [`OrderStatus`].
pub(crate) fn status(row: &Row) -> Result<OrderStatus, String> {
    Ok(OrderStatus {
        id: required_i64(row, "StatusID")?,
        code: row.string("StatusName"),
        display_name: row.string("StatusDisplayName"),
        marks_paid: row.bool("StatusOrderIsPaid").unwrap_or(false),
    })
}

/// `COM_TaxClass` + the destination's `TaxValue` → [`TaxClass`].
pub(crate) fn tax_class(row: &Row, rate_percent: Option<Decimal>) -> Result<TaxClass, String> {
    Ok(TaxClass {
        id: required_i64(row, "TaxClassID")?,
        code: row.string("TaxClassName"),
        display_name: row.string("TaxClassDisplayName"),
        rate_percent,
        zero_if_tax_id: row.bool("TaxClassZeroIfIDSupplied").unwrap_or(false),
    })
}

/// Strips HTML tags and collapses whitespace (SKU descriptions are rich text).
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `COM_OrderItem` + its `COM_SKU` → [`OrderLine`].
pub(crate) fn line(
    item: &Row,
    sku: Option<&Row>,
    tax_class: Option<TaxClass>,
) -> Result<OrderLine, String> {
    let mut attributes = parse_custom_data(&item.string("OrderItemCustomData"))?;
    let description = match sku {
        Some(s) => {
            attributes.extend(parse_custom_data(&s.string("SKUCustomData"))?);
            let short = plain_text(&s.string("SKUShortDescription"));
            if short.is_empty() {
                plain_text(&s.string("SKUDescription"))
            } else {
                short
            }
        }
        None => String::new(),
    };
    let text = item.string("OrderItemText");
    if !text.is_empty() {
        attributes.push(CustomField {
            name: "OrderItemText".into(),
            value: text,
        });
    }
    Ok(OrderLine {
        id: required_i64(item, "OrderItemID")?,
        sku_id: item.int("OrderItemSKUID").unwrap_or_default(),
        sku_number: sku.map(|s| s.string("SKUNumber")).unwrap_or_default(),
        name: item.string("OrderItemSKUName"),
        description,
        quantity: item
            .int("OrderItemUnitCount")
            .ok_or("OrderItemUnitCount missing")?,
        unit_price: money_col(item, "OrderItemUnitPrice"),
        total_price: money_col(item, "OrderItemTotalPrice"),
        sku_price: sku.and_then(|s| s.decimal("SKUPrice")),
        tax_class,
        attributes,
        guid: item.uuid("OrderItemGUID").unwrap_or_default(),
        parent_guid: item.uuid("OrderItemParentGUID"),
        bundle_guid: item.uuid("OrderItemBundleGUID"),
        text: item.string("OrderItemText"),
        unit_discounts: summary(item, "OrderItemProductDiscounts")?,
        discounts: summary(item, "OrderItemDiscountSummary")?,
    })
}

/// `COM_SKU` (with its parent product, for a variant) → [`Product`]. Stock is tracked when the SKU says
/// `ByProduct`, or when it is a variant of a product that tracks `ByVariants`; a product tracked by variants has
/// no stock of its own.
pub(crate) fn product(
    row: &Row,
    parent: Option<&Row>,
    tax_class: Option<TaxClass>,
    currency: CurrencyCode,
) -> Result<Product, String> {
    let mode = |r: &Row| r.string("SKUTrackInventory").to_ascii_lowercase();
    let tracked = match mode(row).as_str() {
        "byproduct" => true,
        "byvariants" => parent.is_some(),
        // guess: a variant with no mode of its own follows its parent's `ByVariants`.
        "" => parent.is_some_and(|p| mode(p) == "byvariants"),
        _ => false,
    };
    let short = plain_text(&row.string("SKUShortDescription"));
    let description = if short.is_empty() {
        plain_text(&row.string("SKUDescription"))
    } else {
        short
    };
    // guess: a variant without a price of its own sells at its parent's (discounts.md §6, marked [G] there).
    let price = row
        .decimal("SKUPrice")
        .or_else(|| parent.and_then(|p| p.decimal("SKUPrice")))
        .unwrap_or_default();
    Ok(Product {
        id: required_i64(row, "SKUID")?,
        guid: row.uuid("SKUGUID").ok_or("SKUGUID missing")?,
        number: row.string("SKUNumber"),
        name: row.string("SKUName"),
        description,
        price,
        currency,
        tax_class,
        parent_id: row.int("SKUParentSKUID").filter(|id| *id > 0),
        option_category_id: row.int("SKUOptionCategoryID").filter(|id| *id > 0),
        // guess: a NULL SKUEnabled (the column is nullable) is an enabled SKU, as the admin shows it.
        enabled: row.bool("SKUEnabled").unwrap_or(true),
        stock: tracked.then(|| row.int("SKUAvailableItems").unwrap_or(0)),
        attributes: parse_custom_data(&row.string("SKUCustomData"))?,
        last_modified: required_time(row, "SKULastModified")?,
    })
}

/// A `ValuesSummary` column (`docs/kentico.md` §2.4) as named amounts; an empty or missing column is none.
fn summary(row: &Row, key: &str) -> Result<Vec<NamedAmount>, String> {
    Ok(parse_summary(&row.string(key))
        .map_err(|e| format!("{key}: {e}"))?
        .into_iter()
        .map(|(name, amount)| NamedAmount { name, amount })
        .collect())
}

/// Everything an order joins to, fetched by `fetch`.
pub(crate) struct OrderParts {
    pub(crate) status: OrderStatus,
    pub(crate) currency: CurrencyCode,
    pub(crate) customer: Customer,
    pub(crate) billing: Option<Address>,
    pub(crate) shipping: Option<Address>,
    pub(crate) lines: Vec<OrderLine>,
    /// `PaymentOptionDisplayName`, empty when the order has none.
    pub(crate) payment_option: String,
}

/// `COM_Order` + its parts → [`Order`].
pub(crate) fn order(row: &Row, parts: OrderParts) -> Result<Order, String> {
    let id = required_i64(row, "OrderID")?;
    let number = row
        .text("OrderInvoiceNumber")
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let mut custom_attributes = parse_custom_data(&row.string("OrderCustomData"))?;
    custom_attributes.extend(custom_columns(row, ORDER_COLUMNS));
    let result = parse_payment_result(&row.string("OrderPaymentResult"))?;
    let totals = OrderTotals {
        total: money_col(row, "OrderTotalPrice"),
        tax: money_col(row, "OrderTotalTax"),
        shipping: money_col(row, "OrderTotalShipping"),
        grand_total: money_col(row, "OrderGrandTotal"),
    };
    // "Paid" is the order flag, or the status's "mark as paid", or a completed gateway result.
    let is_paid = row.bool("OrderIsPaid").unwrap_or(false)
        || parts.status.marks_paid
        || result.is_completed();
    let method = if parts.payment_option.is_empty() {
        result.method_text()
    } else {
        parts.payment_option
    };
    let payment = Payment {
        is_paid,
        method,
        transaction_id: result.transaction_id(),
        amount: Money::new(totals.grand_total, parts.currency.clone()),
        paid_at: result.date(),
    };
    Ok(Order {
        id,
        guid: row
            .uuid("OrderGUID")
            .ok_or("OrderGUID missing or not a guid")?,
        number: number.unwrap_or_else(|| id.to_string()),
        status: parts.status,
        created_at: required_time(row, "OrderDate")?,
        last_modified: required_time(row, "OrderLastModified")?,
        currency: parts.currency,
        totals,
        customer: parts.customer,
        billing_address: parts.billing,
        shipping_address: parts.shipping,
        lines: parts.lines,
        custom_attributes,
        note: row.string("OrderNote"),
        payment,
        discounts: summary(row, "OrderDiscounts")?,
        coupon_codes: parse_coupon_codes(&row.string("OrderCouponCodes"))
            .map_err(|e| format!("OrderCouponCodes: {e}"))?
            .into_iter()
            .map(|(code, gift_card_value)| CouponCode {
                code,
                gift_card_value,
            })
            .collect(),
        other_payments: summary(row, "OrderOtherPayments")?,
        taxes: summary(row, "OrderTaxSummary")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn unknown_customer_columns_become_custom_fields() {
        let row = Row::from_json(
            r#"{"CustomerID":12,"CustomerGUID":"0f8e4d3c-2b1a-4c5d-8e7f-6a5b4c3d2e1f","CustomerFirstName":"Ana",
            "CustomerLastName":"Silva","CustomerEmail":" ana@example.com ","CustomerLastModified":"2026-11-20T14:03:11+01:00",
            "CustomerLoyaltyTier":"gold","CustomerSiteID":1,"CustomerNullCustom":null}"#,
        )
        .unwrap();
        let c = customer(&row, None).unwrap();
        assert_eq!(c.email.as_deref(), Some("ana@example.com"));
        assert_eq!(
            c.custom_fields,
            vec![CustomField {
                name: "CustomerLoyaltyTier".into(),
                value: "gold".into()
            }]
        );
    }

    #[test]
    fn line_joins_sku_number_description_and_attributes() {
        let item = Row::from_json(
            r#"{"OrderItemID":51,"OrderItemSKUID":33,"OrderItemSKUName":"Colombia","OrderItemUnitPrice":13.500000000,
            "OrderItemUnitCount":2,"OrderItemTotalPrice":27.000000000,"OrderItemCustomData":"<CustomData><Grind>fine</Grind></CustomData>"}"#,
        )
        .unwrap();
        let sku = Row::from_json(
            r#"{"SKUID":33,"SKUNumber":"COL-250","SKUPrice":13.5,"SKUShortDescription":"<p>Fruity &amp; bright</p>"}"#,
        )
        .unwrap();
        let l = line(&item, Some(&sku), None).unwrap();
        assert_eq!(l.sku_number, "COL-250");
        assert_eq!(l.description, "Fruity & bright");
        assert_eq!(l.total_price, Decimal::from_str("27").unwrap());
        assert_eq!(l.attributes[0].name, "Grind");
    }
}
