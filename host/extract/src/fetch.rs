//! The extract stage's entry points: re-read an order or customer, or list what changed since a watermark.

use crate::{
    Error, Result,
    kentico::{Children, KenticoClient, ListQuery, Row},
    map,
};
use ferry_model::{Address, CurrencyCode, Customer, Order, TaxClass};
use rust_decimal::Decimal;
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// `AddressType` of a billing address in `COM_OrderAddress`.
const BILLING: i64 = 1;
/// `AddressType` of a shipping address.
const SHIPPING: i64 = 2;
/// Page size used while polling for changes.
const POLL_PAGE: u64 = 100;

/// An object that changed since a watermark, as found by polling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// `OrderID` / `CustomerID`.
    pub id: i64,
    /// `OrderGUID` / `CustomerGUID`.
    pub guid: Uuid,
    /// `*LastModified` (the next watermark, in the server's offset).
    pub last_modified: OffsetDateTime,
}

fn malformed(what: &str) -> impl Fn(String) -> Error + '_ {
    move |reason| Error::malformed(what, reason)
}

/// The order as of an event that says it changed at `changed_at` (the envelope's `last_modified`): when this
/// client assembled the order from rows read at or after that change, the event is already answered by that read
/// and costs no Kentico call (issue 20: the paid webhook of a checkout processed after the created one read the
/// paid order). Any later change brings its own event with a later `last_modified` (a webhook, or the
/// reconciliation poll when the webhook is lost), which reads again. Otherwise as [`fetch_order`].
///
/// # Errors
/// As [`fetch_order`].
pub async fn fetch_order_since(
    client: &KenticoClient,
    order_id: i64,
    changed_at: OffsetDateTime,
) -> Result<Order> {
    if let Some(order) = client.order_seen_since(order_id, changed_at) {
        return Ok((*order).clone());
    }
    fetch_order(client, order_id).await
}

/// Reads order `order_id` with its items, addresses, customer, SKUs, tax classes (with the destination's
/// rate), status, currency and payment option, and maps it to a canonical [`Order`]. An order read lately whose
/// `OrderLastModified` has not moved is not read again beyond its row: the second webhook of a checkout (created,
/// paid) costs one call instead of eight (issue 20). Kentico bumps `OrderLastModified` on every change to the
/// order, its items and its addresses; a customer's own changes arrive as customer events. The order is read with
/// its child objects (`children=true`), so its items and addresses cost no call of their own when they come with it:
/// an order is two calls (order, customer) once the reference data and SKUs are cached.
///
/// # Errors
/// [`Error::NotFound`] when the order is gone (dead-letter); classified HTTP errors (retry); [`Error::Malformed`].
#[tracing::instrument(skip_all, fields(order_id, stage = "extract"))]
pub async fn fetch_order(client: &KenticoClient, order_id: i64) -> Result<Order> {
    let what = format!("fetch order {order_id} from kentico");
    let (row, mut children) = client
        .get_object_with_children("ecommerce.order", order_id)
        .await?;
    let stamp = row.string("OrderLastModified");
    if let Some(order) = client.recent_order(order_id, &stamp) {
        return Ok((*order).clone());
    }
    let mut children_of = async |child_type, parent_column| match inline_children(
        &mut children,
        child_type,
        parent_column,
        order_id,
    ) {
        Some(rows) => Ok(rows),
        None => {
            let all = ListQuery::default();
            client
                .children("ecommerce.order", order_id, child_type, &all)
                .await
        }
    };
    let items = children_of("ecommerce.orderitem", "OrderItemOrderID").await?;
    let addresses = children_of("ecommerce.orderaddress", "AddressOrderID").await?;

    let mut billing = None;
    let mut shipping = None;
    for a in &addresses {
        match a.int("AddressType") {
            Some(BILLING) if billing.is_none() => billing = Some(resolve_address(client, a).await?),
            Some(SHIPPING) if shipping.is_none() => {
                shipping = Some(resolve_address(client, a).await?)
            }
            _ => {}
        }
    }
    let destination = shipping.as_ref().or(billing.as_ref()).map(|a| a.1.clone());

    let customer_id = row
        .int("OrderCustomerID")
        .ok_or_else(|| Error::malformed(&what, "OrderCustomerID missing"))?;
    let customer_row = client.get_object("ecommerce.customer", customer_id).await?;
    let customer = map::customer(&customer_row, billing.as_ref().map(|b| b.0.clone()))
        .map_err(malformed(&what))?;

    let status = match row.int("OrderStatusID") {
        Some(id) => map::status(&client.get_object("ecommerce.orderstatus", id).await?)
            .map_err(malformed(&what))?,
        None => return Err(Error::malformed(&what, "OrderStatusID missing")),
    };
    let currency = match row.int("OrderCurrencyID") {
        Some(id) => {
            let c = client.get_object("ecommerce.currency", id).await?;
            CurrencyCode::parse(&c.string("CurrencyCode"))
                .map_err(|e| Error::malformed(&what, e.to_string()))?
        }
        None => return Err(Error::malformed(&what, "OrderCurrencyID missing")),
    };
    let payment_option = match row.int("OrderPaymentOptionID").filter(|id| *id > 0) {
        Some(id) => {
            let p = client.get_object("ecommerce.paymentoption", id).await?;
            let display = p.string("PaymentOptionDisplayName");
            if display.is_empty() {
                p.string("PaymentOptionName")
            } else {
                display
            }
        }
        None => String::new(),
    };

    let mut skus: HashMap<i64, Option<Row>> = HashMap::new();
    let mut classes: HashMap<i64, TaxClass> = HashMap::new();
    let mut lines = Vec::with_capacity(items.len());
    for item in &items {
        let sku_id = item.int("OrderItemSKUID").unwrap_or_default();
        if let std::collections::hash_map::Entry::Vacant(slot) = skus.entry(sku_id) {
            // A deleted SKU leaves the order line intact; the line still syncs without a SKU number.
            slot.insert(optional(client.get_object("ecommerce.sku", sku_id).await)?);
        }
        let sku = skus.get(&sku_id).and_then(Option::as_ref);
        let tax_class = match sku
            .and_then(|s| s.int("SKUTaxClassID"))
            .filter(|id| *id > 0)
        {
            Some(class_id) => {
                if let std::collections::hash_map::Entry::Vacant(slot) = classes.entry(class_id) {
                    slot.insert(tax_class(client, class_id, destination.as_ref(), &what).await?);
                }
                classes.get(&class_id).cloned()
            }
            None => None,
        };
        lines.push(map::line(item, sku, tax_class).map_err(malformed(&what))?);
    }

    let parts = map::OrderParts {
        status,
        currency,
        customer,
        billing: billing.map(|b| b.0),
        shipping: shipping.map(|s| s.0),
        lines,
        payment_option,
    };
    let order = map::order(&row, parts).map_err(malformed(&what))?;
    client.remember_order(order_id, stamp, std::sync::Arc::new(order.clone()));
    Ok(order)
}

/// The rows of `child_type` a read brought with its parent, when they can be taken as all of them: the list is
/// there, not empty (an empty one may be a type the server did not include, and an order without addresses costs
/// the separate read), and every row names `parent` in `parent_column`. `None` otherwise: read them on their own.
fn inline_children(
    children: &mut Children,
    child_type: &str,
    parent_column: &str,
    parent: i64,
) -> Option<Vec<Row>> {
    let rows = children.remove(child_type)?;
    let whole = !rows.is_empty() && rows.iter().all(|r| r.int(parent_column) == Some(parent));
    whole.then_some(rows)
}

/// Country and state ids of a destination, for tax rates.
#[derive(Debug, Clone)]
struct Destination {
    country_id: Option<i64>,
    state_id: Option<i64>,
}

async fn resolve_address(client: &KenticoClient, row: &Row) -> Result<(Address, Destination)> {
    let country_id = row.int("AddressCountryID").filter(|id| *id > 0);
    let state_id = row.int("AddressStateID").filter(|id| *id > 0);
    let country = match country_id {
        Some(id) => optional(client.get_object("cms.country", id).await)?,
        None => None,
    };
    let state = match state_id {
        Some(id) => optional(client.get_object("cms.state", id).await)?,
        None => None,
    };
    Ok((
        map::address(row, country.as_ref(), state.as_ref()),
        Destination {
            country_id,
            state_id,
        },
    ))
}

fn optional(r: Result<Row>) -> Result<Option<Row>> {
    match r {
        Ok(row) => Ok(Some(row)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The tax class with its rate for the destination: a state rate wins over the country rate.
async fn tax_class(
    client: &KenticoClient,
    class_id: i64,
    dest: Option<&Destination>,
    what: &str,
) -> Result<TaxClass> {
    let row = client.get_object("ecommerce.taxclass", class_id).await?;
    let mut rate: Option<Decimal> = None;
    if let Some(state_id) = dest.and_then(|d| d.state_id) {
        let q = ListQuery {
            where_clause: Some(format!("StateID = {state_id}")),
            ..ListQuery::default()
        };
        let rows = client
            .children(
                "ecommerce.taxclass",
                class_id,
                "ecommerce.taxclassstate",
                &q,
            )
            .await?;
        rate = pick_rate(&rows, "StateID", state_id);
    }
    if rate.is_none()
        && let Some(country_id) = dest.and_then(|d| d.country_id)
    {
        let q = ListQuery {
            where_clause: Some(format!("CountryID = {country_id}")),
            ..ListQuery::default()
        };
        let rows = client
            .children(
                "ecommerce.taxclass",
                class_id,
                "ecommerce.taxclasscountry",
                &q,
            )
            .await?;
        rate = pick_rate(&rows, "CountryID", country_id);
    }
    map::tax_class(&row, rate).map_err(|r| Error::malformed(what, r))
}

/// Filters again on our side: a server that ignores `where` on children must not give us another country's rate.
fn pick_rate(rows: &[Row], key: &str, id: i64) -> Option<Decimal> {
    rows.iter()
        .find(|r| r.int(key) == Some(id))
        .and_then(|r| r.decimal("TaxValue"))
}

/// Reads customer `customer_id` with the first address of its address book.
///
/// # Errors
/// As [`fetch_order`].
#[tracing::instrument(skip_all, fields(customer_id, stage = "extract"))]
pub async fn fetch_customer(client: &KenticoClient, customer_id: i64) -> Result<Customer> {
    let what = format!("fetch customer {customer_id} from kentico");
    let row = client.get_object("ecommerce.customer", customer_id).await?;
    let book = client
        .children(
            "ecommerce.customer",
            customer_id,
            "ecommerce.address",
            &ListQuery::default(),
        )
        .await?;
    let address = match book.first() {
        Some(a) => Some(resolve_address(client, a).await?.0),
        None => None,
    };
    map::customer(&row, address).map_err(malformed(&what))
}

/// A SQL datetime literal in the watermark's own offset: Kentico stores server-local `datetime2` and
/// returns it with the server's offset, so feeding back a value we read reproduces the stored value.
fn sql_datetime(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

pub(crate) async fn changed_since(
    client: &KenticoClient,
    object_type: &str,
    prefix: &str,
    watermark: OffsetDateTime,
) -> Result<Vec<Changed>> {
    let what = format!("list {object_type} changed since {watermark} from kentico");
    let modified = format!("{prefix}LastModified");
    let mut out = Vec::new();
    loop {
        let q = ListQuery {
            where_clause: Some(format!("{modified} > '{}'", sql_datetime(watermark))),
            order_by: Some(format!("{modified}, {prefix}ID")),
            columns: Some(format!("{prefix}ID,{prefix}GUID,{modified}")),
            offset: Some(out.len() as u64),
            max_records: Some(POLL_PAGE),
            ..ListQuery::default()
        };
        let page = client.list(object_type, &q).await?;
        let n = page.rows.len();
        for r in &page.rows {
            out.push(Changed {
                id: r
                    .int(&format!("{prefix}ID"))
                    .ok_or_else(|| Error::malformed(&what, "id missing"))?,
                guid: r
                    .uuid(&format!("{prefix}GUID"))
                    .ok_or_else(|| Error::malformed(&what, "guid missing"))?,
                last_modified: r
                    .datetime(&modified)
                    .ok_or_else(|| Error::malformed(&what, "last modified missing"))?,
            });
        }
        if n == 0 || out.len() as u64 >= page.total {
            return Ok(out);
        }
    }
}

/// Which of `guids` Kentico has as orders (the books audit asks before it calls an invoice an orphan), in pages of
/// 100 GUIDs per `OrderGUID IN (…)` query.
///
/// # Errors
/// Classified HTTP errors; [`Error::Malformed`].
pub async fn existing_orders(
    client: &KenticoClient,
    guids: &[uuid::Uuid],
) -> Result<std::collections::HashSet<uuid::Uuid>> {
    let what = "list orders by guid from kentico";
    let mut found = std::collections::HashSet::new();
    for chunk in guids.chunks(POLL_PAGE as usize) {
        // GUIDs are parsed values, so the condition carries nothing but hex digits and dashes.
        let list: Vec<String> = chunk.iter().map(|g| format!("'{g}'")).collect();
        let q = ListQuery {
            where_clause: Some(format!("OrderGUID IN ({})", list.join(","))),
            columns: Some("OrderID,OrderGUID".to_owned()),
            max_records: Some(POLL_PAGE),
            ..ListQuery::default()
        };
        for r in &client.list("ecommerce.order", &q).await?.rows {
            found.insert(
                r.uuid("OrderGUID")
                    .ok_or_else(|| Error::malformed(what, "guid missing"))?,
            );
        }
    }
    Ok(found)
}

/// Orders with `OrderLastModified > watermark`, oldest first, all pages.
///
/// # Errors
/// Classified HTTP errors; [`Error::Malformed`].
pub async fn changed_orders_since(
    client: &KenticoClient,
    watermark: OffsetDateTime,
) -> Result<Vec<Changed>> {
    changed_since(client, "ecommerce.order", "Order", watermark).await
}

/// Customers with `CustomerLastModified > watermark`, oldest first, all pages.
///
/// # Errors
/// Classified HTTP errors; [`Error::Malformed`].
pub async fn changed_customers_since(
    client: &KenticoClient,
    watermark: OffsetDateTime,
) -> Result<Vec<Changed>> {
    changed_since(client, "ecommerce.customer", "Customer", watermark).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn rows(json: &[&str]) -> Vec<Row> {
        json.iter().map(|j| Row::from_json(j).unwrap()).collect()
    }

    #[test]
    fn children_that_came_with_the_order_are_used_only_when_they_are_its_own_and_some() {
        let mut children = Children::new();
        children.insert(
            "ecommerce.orderitem".into(),
            rows(&[
                r#"{"OrderItemID":1,"OrderItemOrderID":7}"#,
                r#"{"OrderItemID":2,"OrderItemOrderID":7}"#,
            ]),
        );
        children.insert("ecommerce.orderaddress".into(), vec![]);
        children.insert(
            "ecommerce.orderstatususer".into(),
            rows(&[r#"{"OrderStatusUserID":1,"OrderID":8}"#]),
        );
        let items = inline_children(&mut children, "ecommerce.orderitem", "OrderItemOrderID", 7);
        assert_eq!(items.map(|r| r.len()), Some(2));
        // An empty list may be a type the server left out: read on its own.
        assert!(
            inline_children(&mut children, "ecommerce.orderaddress", "AddressOrderID", 7).is_none()
        );
        // A type that did not come at all, or rows of another parent: read on their own.
        assert!(
            inline_children(&mut children, "ecommerce.orderitem", "OrderItemOrderID", 7).is_none()
        );
        assert!(
            inline_children(&mut children, "ecommerce.orderstatususer", "OrderID", 7).is_none()
        );
    }

    #[test]
    fn watermark_is_written_in_its_own_offset() {
        assert_eq!(
            sql_datetime(datetime!(2026-11-20 14:03:12.01 +01:00)),
            "2026-11-20T14:03:12.0100000"
        );
    }
}
