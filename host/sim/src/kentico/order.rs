//! Orders (`COM_Order`), their items (`COM_OrderItem`) and addresses (`COM_OrderAddress`), with the XML blobs
//! Kentico keeps in text columns (docs/kentico.md §2.4), rendered when read.

use std::ops::Range;

use rust_decimal::Decimal;
use time::OffsetDateTime;
use uuid::Uuid;

use super::class::{Class, Record};
use super::pricing::{AppliedCode, SummaryItem};
use super::promotion::CartRules;
use super::summary::{coupon_codes_xml, summary_column, summary_xml};
use super::value::Kind::{Bool, Date, Guid, Int, Money, Text};
use super::value::{Value, custom_data_xml, xml_escape};

/// `AddressType` of a billing address.
pub(crate) const BILLING: i64 = 1;
/// `AddressType` of a shipping address.
pub(crate) const SHIPPING: i64 = 2;

/// What a payment gateway wrote to `OrderPaymentResult`.
#[derive(Debug, Clone)]
pub(crate) struct PaymentResult {
    /// Server-local time of the payment.
    pub(crate) date: OffsetDateTime,
    pub(crate) method_id: i64,
    pub(crate) method_text: String,
    pub(crate) transaction_id: String,
}

/// `COM_Order`.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) id: i64,
    pub(crate) shipping_option_id: Option<i64>,
    pub(crate) total_shipping: Decimal,
    pub(crate) total_price: Decimal,
    pub(crate) total_tax: Decimal,
    pub(crate) date: OffsetDateTime,
    pub(crate) status_id: i64,
    pub(crate) currency_id: i64,
    pub(crate) customer_id: i64,
    pub(crate) created_by_user_id: Option<i64>,
    pub(crate) note: Option<String>,
    pub(crate) site_id: i64,
    pub(crate) payment_option_id: Option<i64>,
    pub(crate) invoice_number: String,
    /// `OrderInvoice`: the invoice Kentico renders and stores when the order is placed, and again when an edit
    /// changes its items ([`invoice_html`]).
    pub(crate) invoice: String,
    pub(crate) tracking_number: Option<String>,
    pub(crate) custom: Vec<(&'static str, String)>,
    pub(crate) payment: Option<PaymentResult>,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) total_price_main: Decimal,
    pub(crate) is_paid: bool,
    pub(crate) culture: &'static str,
    pub(crate) grand_total: Decimal,
    pub(crate) grand_total_main: Decimal,
    /// `(tax name, amount)` for `OrderTaxSummary`.
    pub(crate) tax_summary: Vec<SummaryItem>,
    /// `OrderDiscounts`.
    pub(crate) discounts: Vec<SummaryItem>,
    /// `OrderOtherPayments` (gift cards).
    pub(crate) other_payments: Vec<SummaryItem>,
    /// `OrderCouponCodes`.
    pub(crate) coupon_codes: Vec<AppliedCode>,
    /// The promotions the cart ran, `None` for a plain order (never calculated by the cart: empty summaries
    /// are NULL, as the simulator always stored such orders; tax is rounded per class as for any order).
    pub(crate) cart: Option<CartRules>,
    /// Ids of its live `COM_OrderItem` rows (contiguous: an edit deletes every row and inserts them again).
    pub(crate) item_ids: Range<i64>,
    /// Ids of its `COM_OrderAddress` rows (contiguous: an edit updates them in place).
    pub(crate) address_ids: Range<i64>,
}

const ORDER: Class = Class {
    object_type: "ecommerce.order",
    table: "COM_Order",
    columns: &[
        ("OrderID", Int),
        ("OrderShippingOptionID", Int),
        ("OrderTotalShipping", Money),
        ("OrderTotalPrice", Money),
        ("OrderTotalTax", Money),
        ("OrderDate", Date),
        ("OrderStatusID", Int),
        ("OrderCurrencyID", Int),
        ("OrderCustomerID", Int),
        ("OrderCreatedByUserID", Int),
        ("OrderNote", Text),
        ("OrderSiteID", Int),
        ("OrderPaymentOptionID", Int),
        ("OrderInvoice", Text),
        ("OrderInvoiceNumber", Text),
        ("OrderTrackingNumber", Text),
        ("OrderCustomData", Text),
        ("OrderPaymentResult", Text),
        ("OrderGUID", Guid),
        ("OrderLastModified", Date),
        ("OrderTotalPriceInMainCurrency", Money),
        ("OrderIsPaid", Bool),
        ("OrderCulture", Text),
        ("OrderDiscounts", Text),
        ("OrderGrandTotal", Money),
        ("OrderGrandTotalInMainCurrency", Money),
        ("OrderOtherPayments", Text),
        ("OrderTaxSummary", Text),
        ("OrderCouponCodes", Text),
    ],
    guid: Some("OrderGUID"),
    code_name: None,
    site: Some("OrderSiteID"),
    parent: None,
};

impl Record for Order {
    const CLASS: &'static Class = &ORDER;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "OrderID" => Value::Int(self.id),
            "OrderShippingOptionID" => Value::int(self.shipping_option_id),
            "OrderTotalShipping" => Value::Money(self.total_shipping),
            "OrderTotalPrice" => Value::Money(self.total_price),
            "OrderTotalTax" => Value::Money(self.total_tax),
            "OrderDate" => Value::Date(self.date),
            "OrderStatusID" => Value::Int(self.status_id),
            "OrderCurrencyID" => Value::Int(self.currency_id),
            "OrderCustomerID" => Value::Int(self.customer_id),
            "OrderCreatedByUserID" => Value::int(self.created_by_user_id),
            "OrderNote" => Value::text(self.note.as_deref()),
            "OrderSiteID" => Value::Int(self.site_id),
            "OrderPaymentOptionID" => Value::int(self.payment_option_id),
            "OrderInvoice" => Value::Text(self.invoice.clone()),
            "OrderInvoiceNumber" => Value::Text(self.invoice_number.clone()),
            "OrderTrackingNumber" => Value::text(self.tracking_number.as_deref()),
            "OrderCustomData" => Value::text(custom_data_xml(&self.custom).as_deref()),
            "OrderPaymentResult" => {
                Value::text(self.payment.as_ref().map(payment_result_xml).as_deref())
            }
            "OrderGUID" => Value::Guid(self.guid),
            "OrderLastModified" => Value::Date(self.last_modified),
            "OrderTotalPriceInMainCurrency" => Value::Money(self.total_price_main),
            "OrderIsPaid" => Value::Bool(self.is_paid),
            "OrderCulture" => Value::Text(self.culture.into()),
            "OrderGrandTotal" => Value::Money(self.grand_total),
            "OrderGrandTotalInMainCurrency" => Value::Money(self.grand_total_main),
            "OrderTaxSummary" => Value::text(self.summary(&self.tax_summary).as_deref()),
            "OrderDiscounts" => Value::text(self.summary(&self.discounts).as_deref()),
            "OrderOtherPayments" => Value::text(self.summary(&self.other_payments).as_deref()),
            "OrderCouponCodes" => Value::text(coupon_codes_xml(&self.coupon_codes).as_deref()),
            _ => Value::Null,
        }
    }
}

impl Order {
    fn summary(&self, items: &[SummaryItem]) -> Option<String> {
        summary_column(items, self.cart.is_some())
    }
}

/// A short rendering of the invoice Kentico stores in `OrderInvoice` (the real one is the site's invoice
/// transformation): its number, each of `items` and the total.
pub(crate) fn invoice_html(
    invoice_number: &str,
    items: &[OrderItem],
    total_price: Decimal,
) -> String {
    let mut html = format!(
        "<table class=\"invoice\"><tr><th>Invoice number</th><td>{}</td></tr>",
        xml_escape(invoice_number)
    );
    for item in items {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            xml_escape(&item.sku_name),
            item.unit_count,
            item.total_price.round_dp(2)
        ));
    }
    html.push_str(&format!(
        "<tr><th>Total</th><td>{}</td></tr></table>",
        total_price.round_dp(2)
    ));
    html
}

/// The rows of `items` (every `COM_OrderItem`, by id) whose ids are `ids`.
pub(crate) fn items_in<'a>(items: &'a [OrderItem], ids: &Range<i64>) -> &'a [OrderItem] {
    let start = usize::try_from(ids.start - 1).unwrap_or(0);
    let end = usize::try_from(ids.end - 1).unwrap_or(0);
    items.get(start..end).unwrap_or(&[])
}

/// `OrderPaymentResult`: `<result><item name=… header=… value=… text=… />…</result>`; the date is written in
/// en-US culture format, server-local.
fn payment_result_xml(p: &PaymentResult) -> String {
    let (hour12, meridiem) = match p.date.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    let date = format!(
        "{}/{}/{} {}:{:02}:{:02} {}",
        u8::from(p.date.month()),
        p.date.day(),
        p.date.year(),
        hour12,
        p.date.minute(),
        p.date.second(),
        meridiem
    );
    format!(
        concat!(
            "<result>",
            "<item name=\"date\" header=\"{{$PaymentGateway.Result.Date$}}\" value=\"{date}\" />",
            "<item name=\"method\" header=\"{{$PaymentGateway.Result.PaymentMethod$}}\" text=\"{text}\" value=\"{method}\" />",
            "<item name=\"completed\" header=\"{{$PaymentGateway.Result.IsCompleted$}}\" value=\"1\" text=\"{{$PaymentGateway.Result.PaymentCompleted$}}\" />",
            // guess: header resource names of the status and transaction items follow the pattern of the others.
            "<item name=\"status\" header=\"{{$PaymentGateway.Result.Status$}}\" value=\"completed\" text=\"{{$PaymentGateway.Result.Status.Completed$}}\" />",
            "<item name=\"transactionid\" header=\"{{$PaymentGateway.Result.TransactionID$}}\" value=\"{txn}\" />",
            "</result>"
        ),
        date = date,
        text = xml_escape(&p.method_text),
        method = p.method_id,
        txn = xml_escape(&p.transaction_id),
    )
}

/// `COM_OrderItem`.
#[derive(Debug, Clone)]
pub(crate) struct OrderItem {
    pub(crate) id: i64,
    pub(crate) order_id: i64,
    pub(crate) sku_id: i64,
    pub(crate) sku_name: String,
    pub(crate) unit_price: Decimal,
    pub(crate) unit_count: i64,
    pub(crate) custom: Vec<(&'static str, String)>,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) total_price_main: Decimal,
    pub(crate) total_price: Decimal,
    /// `OrderItemParentGuid`: the row this option belongs to.
    pub(crate) parent_guid: Option<Uuid>,
    /// `OrderItemBundleGUID`: the bundle row this content row belongs to.
    pub(crate) bundle_guid: Option<Uuid>,
    /// `OrderItemText`: a text option's text.
    pub(crate) text: Option<String>,
    /// `OrderItemProductDiscounts` (per unit); `None` is NULL.
    pub(crate) product_discounts: Option<Vec<SummaryItem>>,
    /// `OrderItemDiscountSummary` (line total); `None` is NULL.
    pub(crate) discount_summary: Option<Vec<SummaryItem>>,
    /// Deleted by an edit of its order: no longer served.
    // guess: K13 deletes the row; the simulator keeps it out of every answer instead, so ids stay positions.
    pub(crate) deleted: bool,
}

const ORDER_ITEM: Class = Class {
    object_type: "ecommerce.orderitem",
    table: "COM_OrderItem",
    columns: &[
        ("OrderItemID", Int),
        ("OrderItemOrderID", Int),
        ("OrderItemSKUID", Int),
        ("OrderItemSKUName", Text),
        ("OrderItemUnitPrice", Money),
        ("OrderItemUnitCount", Int),
        ("OrderItemCustomData", Text),
        // The DB spells these two `Guid` but the bundle column `GUID` (docs/kentico.md §2.1).
        ("OrderItemGuid", Guid),
        ("OrderItemParentGuid", Guid),
        ("OrderItemLastModified", Date),
        ("OrderItemValidTo", Date),
        ("OrderItemBundleGUID", Guid),
        ("OrderItemTotalPriceInMainCurrency", Money),
        ("OrderItemSendNotification", Bool),
        ("OrderItemText", Text),
        ("OrderItemProductDiscounts", Text),
        ("OrderItemDiscountSummary", Text),
        ("OrderItemTotalPrice", Money),
    ],
    guid: Some("OrderItemGuid"),
    code_name: None,
    site: None,
    parent: Some(("ecommerce.order", "OrderItemOrderID")),
};

impl Record for OrderItem {
    const CLASS: &'static Class = &ORDER_ITEM;

    fn id(&self) -> i64 {
        self.id
    }

    fn is_live(&self) -> bool {
        !self.deleted
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "OrderItemID" => Value::Int(self.id),
            "OrderItemOrderID" => Value::Int(self.order_id),
            "OrderItemSKUID" => Value::Int(self.sku_id),
            "OrderItemSKUName" => Value::Text(self.sku_name.clone()),
            "OrderItemUnitPrice" => Value::Money(self.unit_price),
            "OrderItemUnitCount" => Value::Int(self.unit_count),
            "OrderItemCustomData" => Value::text(custom_data_xml(&self.custom).as_deref()),
            "OrderItemGuid" => Value::Guid(self.guid),
            "OrderItemLastModified" => Value::Date(self.last_modified),
            "OrderItemTotalPriceInMainCurrency" => Value::Money(self.total_price_main),
            "OrderItemSendNotification" => Value::Bool(false),
            "OrderItemParentGuid" => self.parent_guid.map_or(Value::Null, Value::Guid),
            "OrderItemBundleGUID" => self.bundle_guid.map_or(Value::Null, Value::Guid),
            "OrderItemText" => Value::text(self.text.as_deref()),
            "OrderItemProductDiscounts" => Value::text(
                self.product_discounts
                    .as_deref()
                    .map(summary_xml)
                    .as_deref(),
            ),
            "OrderItemDiscountSummary" => {
                Value::text(self.discount_summary.as_deref().map(summary_xml).as_deref())
            }
            "OrderItemTotalPrice" => Value::Money(self.total_price),
            _ => Value::Null,
        }
    }
}

/// `COM_OrderAddress`: a copy of an address made at checkout, typed billing or shipping.
#[derive(Debug, Clone)]
pub(crate) struct OrderAddress {
    pub(crate) id: i64,
    pub(crate) line1: String,
    pub(crate) line2: Option<String>,
    pub(crate) city: String,
    pub(crate) zip: String,
    pub(crate) phone: Option<String>,
    pub(crate) country_id: i64,
    pub(crate) state_id: Option<i64>,
    pub(crate) personal_name: String,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) order_id: i64,
    pub(crate) address_type: i64,
}

const ORDER_ADDRESS: Class = Class {
    object_type: "ecommerce.orderaddress",
    table: "COM_OrderAddress",
    columns: &[
        ("AddressID", Int),
        ("AddressLine1", Text),
        ("AddressLine2", Text),
        ("AddressCity", Text),
        ("AddressZip", Text),
        ("AddressPhone", Text),
        ("AddressCountryID", Int),
        ("AddressStateID", Int),
        ("AddressPersonalName", Text),
        ("AddressGUID", Guid),
        ("AddressLastModified", Date),
        ("AddressOrderID", Int),
        ("AddressType", Int),
    ],
    guid: Some("AddressGUID"),
    code_name: None,
    site: None,
    parent: Some(("ecommerce.order", "AddressOrderID")),
};

impl Record for OrderAddress {
    const CLASS: &'static Class = &ORDER_ADDRESS;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "AddressID" => Value::Int(self.id),
            "AddressLine1" => Value::Text(self.line1.clone()),
            "AddressLine2" => Value::text(self.line2.as_deref()),
            "AddressCity" => Value::Text(self.city.clone()),
            "AddressZip" => Value::Text(self.zip.clone()),
            "AddressPhone" => Value::text(self.phone.as_deref()),
            "AddressCountryID" => Value::Int(self.country_id),
            "AddressStateID" => Value::int(self.state_id),
            "AddressPersonalName" => Value::Text(self.personal_name.clone()),
            "AddressGUID" => Value::Guid(self.guid),
            "AddressLastModified" => Value::Date(self.last_modified),
            "AddressOrderID" => Value::Int(self.order_id),
            "AddressType" => Value::Int(self.address_type),
            _ => Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn payment_result_date_is_en_us() {
        let xml = payment_result_xml(&PaymentResult {
            date: datetime!(2008-01-27 17:01:41 +01:00),
            method_id: 230,
            method_text: "Credit card".into(),
            transaction_id: "ch_1".into(),
        });
        assert!(xml.contains("value=\"1/27/2008 5:01:41 PM\""), "{xml}");
        assert!(xml.contains("text=\"Credit card\" value=\"230\""));
    }
}
