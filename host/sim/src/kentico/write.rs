//! `PUT /rest/ecommerce.order/{id}` (docs/kentico.md §3.3, §3.5): the one write the simulated REST service
//! takes, with Kentico's permission model in front of it and every accepted write recorded, so a test can count
//! what an integration wrote back.
//!
//! Permissions, in the order Kentico checks them: the site setting `CMSRESTObjectsReadOnly`
//! ([`KenticoSimConfig::objects_read_only`](super::KenticoSimConfig)) refuses every write with 403; then the REST
//! user needs the modify permission for the object type ([`KenticoSimConfig::modify_types`], by default orders
//! only), else 403. Creating and deleting objects are never permitted here.
//!
//! The body uses the envelope of a single-object GET (`{"data":{…}}`), or the table-name root the PUT reply uses
//! (`{"COM_Order":{…}}`); `null` clears a column. The reply is the table-name root with the ID and GUID only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::class::Record;
use super::order::Order;
use super::render::Format;
use super::rest_error::RestError;
use super::store::{Event, Store, kind, order_event};

/// One write the REST service accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestWrite {
    /// `ecommerce.order`.
    pub object_type: String,
    /// The object's id.
    pub id: i64,
    /// The columns the body set, as sent.
    pub columns: BTreeMap<String, Json>,
    /// Whether the write changed anything (a PUT of the values already stored changes nothing).
    pub changed: bool,
    /// When it was accepted (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The order columns a PUT may set here.
// guess: Kentico lets the REST service write any column; the simulator takes the two a payment write-back needs
// and refuses the rest with 400 rather than silently ignoring them.
const WRITABLE: [&str; 2] = ["OrderIsPaid", "OrderStatusID"];

/// Checks the permission model for a write of `object_type` by `method`.
pub(crate) fn permitted(
    read_only: bool,
    modify_types: &[String],
    object_type: &str,
    method: &http::Method,
) -> Result<(), RestError> {
    if read_only {
        return Err(RestError::Forbidden(
            "The REST service is set to read-only mode.".into(),
        ));
    }
    // guess: the wording of Kentico's permission refusal; the reference names the status (403), not the text.
    let denied = |action: &str| {
        RestError::Forbidden(format!(
            "Access denied. You are not authorized to {action} objects of type '{object_type}'."
        ))
    };
    if method != http::Method::PUT {
        let action = if method == http::Method::DELETE {
            "delete"
        } else {
            "create"
        };
        return Err(denied(action));
    }
    if !modify_types
        .iter()
        .any(|t| t.eq_ignore_ascii_case(object_type))
    {
        return Err(denied("modify"));
    }
    Ok(())
}

/// The column values of a PUT body.
fn columns(body: &[u8]) -> Result<Map<String, Json>, RestError> {
    let parsed: Json = serde_json::from_slice(body)
        .map_err(|e| RestError::BadRequest(format!("The request body is not valid JSON: {e}")))?;
    let Json::Object(root) = parsed else {
        return Err(RestError::BadRequest(
            "The request body must be a JSON object.".into(),
        ));
    };
    // `{"data":{…}}` (the GET envelope) or `{"COM_Order":{…}}` (the reply's root); a flat object is taken as is.
    // guess: which roots K13 accepts; the reference says "the same envelope as GET single object".
    if root.len() == 1
        && let Some((key, Json::Object(inner))) = root.iter().next()
        && (key.eq_ignore_ascii_case("data") || key.eq_ignore_ascii_case("COM_Order"))
    {
        return Ok(inner.clone());
    }
    Ok(root)
}

fn as_bool(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::Number(n) => n.as_i64().map(|n| n != 0),
        Json::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn as_int(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What an accepted PUT did.
pub(crate) struct Applied {
    pub(crate) id: i64,
    pub(crate) guid: Uuid,
    pub(crate) changed: bool,
    pub(crate) columns: Map<String, Json>,
    pub(crate) events: Vec<Event>,
}

impl Store {
    /// Applies a PUT to order `i`: `OrderStatusID` (a status with "Mark order as paid" also sets `OrderIsPaid`, as
    /// the admin UI does) and `OrderIsPaid`; bumps `OrderLastModified` when anything changed and returns the
    /// webhook events the Kentico-side module raises for it.
    pub(crate) fn put_order(&mut self, i: usize, body: &[u8]) -> Result<Applied, RestError> {
        let cols = columns(body)?;
        let mut is_paid = None;
        let mut status_id = None;
        for (name, value) in &cols {
            let bad = |what: &str| {
                RestError::BadRequest(format!("Column '{name}' expects {what}, got {value}."))
            };
            match WRITABLE.iter().find(|w| w.eq_ignore_ascii_case(name)) {
                Some(&"OrderIsPaid") => is_paid = Some(as_bool(value).ok_or_else(|| bad("a bit"))?),
                Some(_) => {
                    let id = as_int(value).ok_or_else(|| bad("an integer"))?;
                    if !self.statuses.iter().any(|s| s.id == id) {
                        // guess: a foreign key violation surfaces as 400 with the database's message.
                        return Err(RestError::BadRequest(format!(
                            "The UPDATE statement conflicted with the FOREIGN KEY constraint \
                             \"FK_COM_Order_OrderStatusID_COM_OrderStatus\": no order status {id}."
                        )));
                    }
                    status_id = Some(id);
                }
                None if Order::CLASS.column(name).is_some() => {
                    return Err(RestError::BadRequest(format!(
                        "Column '{name}' is not writable in the simulator (only {}).",
                        WRITABLE.join(", ")
                    )));
                }
                None => {
                    return Err(RestError::BadRequest(format!(
                        "Column '{name}' does not belong to table COM_Order."
                    )));
                }
            }
        }
        let at = self.clock.now();
        let mut events = Vec::new();
        let mut changed = false;
        if let Some(to) = status_id {
            let paid_status = self.statuses.iter().any(|s| s.id == to && s.is_paid);
            let order = &mut self.orders[i];
            let from = order.status_id;
            if from != to {
                order.status_id = to;
                order.last_modified = at;
                changed = true;
                let mut c = Map::new();
                c.insert("OrderStatusID".into(), json!({"from": from, "to": to}));
                events.push(order_event(order, kind::ORDER_STATUS_CHANGED, c));
                if paid_status && is_paid.is_none() {
                    is_paid = Some(true);
                }
            }
        }
        if let Some(to) = is_paid {
            let order = &mut self.orders[i];
            let from = order.is_paid;
            if from != to {
                order.is_paid = to;
                order.last_modified = at;
                changed = true;
                let mut c = Map::new();
                c.insert("OrderIsPaid".into(), json!({"from": from, "to": to}));
                // guess: the module raises order.paid when an order becomes paid, order.updated when it stops.
                let k = if to {
                    kind::ORDER_PAID
                } else {
                    kind::ORDER_UPDATED
                };
                events.push(order_event(order, k, c));
            }
        }
        let order = &self.orders[i];
        Ok(Applied {
            id: order.id,
            guid: order.guid,
            changed,
            columns: cols,
            events,
        })
    }
}

/// The PUT reply: the table-name root with the ID and GUID.
pub(crate) fn reply(fmt: Format, id: i64, guid: Uuid) -> String {
    match fmt {
        Format::Json => json!({"COM_Order": {"OrderID": id, "OrderGUID": guid}}).to_string(),
        Format::Xml => {
            format!("<COM_Order><OrderID>{id}</OrderID><OrderGUID>{guid}</OrderGUID></COM_Order>")
        }
    }
}
