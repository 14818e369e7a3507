//! The webhook envelope the Kentico-side module sends (Ferry's own contract; Kentico has none).
//!
//! ```json
//! {"id":"evt_…","type":"order.created","occurred_at":"2026-11-20T13:03:12.010Z",
//!  "object":{"object_type":"ecommerce.order","id":27,"guid":"3f1c…","last_modified":"2026-11-20T14:03:12.01+01:00"}}
//! ```
//! Ferry re-reads the authoritative data over REST, so the envelope stays thin.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// The object type of events about a FreshBooks payment (`object.id` is the payment id).
pub const FRESHBOOKS_PAYMENT: &str = "freshbooks.payment";
/// The object type of events about a FreshBooks invoice (`object.id` is the invoice id).
pub const FRESHBOOKS_INVOICE: &str = "freshbooks.invoice";

/// What happened in Kentico, or (the `payment.*` and `invoice.*` kinds) in FreshBooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A new order was placed.
    #[serde(rename = "order.created")]
    OrderCreated,
    /// An order changed (items, addresses, notes).
    #[serde(rename = "order.updated")]
    OrderUpdated,
    /// An order moved to another status.
    #[serde(rename = "order.status_changed")]
    OrderStatusChanged,
    /// An order was marked paid.
    #[serde(rename = "order.paid")]
    OrderPaid,
    /// A customer's details changed.
    #[serde(rename = "customer.updated")]
    CustomerUpdated,
    /// A customer was registered (before any order, when the shop has sign-up).
    #[serde(rename = "customer.created")]
    CustomerCreated,
    /// A product, variant or option (`COM_SKU`) was added to the catalogue.
    #[serde(rename = "sku.created")]
    SkuCreated,
    /// A SKU changed: name, description, price, tax class, enabled, or stock (`SKUAvailableItems`).
    #[serde(rename = "sku.updated")]
    SkuUpdated,
    /// A SKU was deleted.
    #[serde(rename = "sku.deleted")]
    SkuDeleted,
    /// A payment was recorded in FreshBooks (a FreshBooks callback, `docs/freshbooks-callbacks.md`).
    #[serde(rename = "payment.create")]
    PaymentCreated,
    /// A FreshBooks payment changed (a refund lowers or zeroes it).
    #[serde(rename = "payment.update")]
    PaymentUpdated,
    /// A FreshBooks payment was deleted.
    #[serde(rename = "payment.delete")]
    PaymentDeleted,
    /// A FreshBooks invoice changed.
    #[serde(rename = "invoice.update")]
    InvoiceUpdated,
}

impl EventKind {
    /// The wire name, e.g. `order.created`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderCreated => "order.created",
            Self::OrderUpdated => "order.updated",
            Self::OrderStatusChanged => "order.status_changed",
            Self::OrderPaid => "order.paid",
            Self::CustomerUpdated => "customer.updated",
            Self::CustomerCreated => "customer.created",
            Self::SkuCreated => "sku.created",
            Self::SkuUpdated => "sku.updated",
            Self::SkuDeleted => "sku.deleted",
            Self::PaymentCreated => "payment.create",
            Self::PaymentUpdated => "payment.update",
            Self::PaymentDeleted => "payment.delete",
            Self::InvoiceUpdated => "invoice.update",
        }
    }

    /// The kind of a FreshBooks callback name (`payment.create`), for the names Ferry acts on.
    pub fn from_freshbooks(name: &str) -> Option<Self> {
        [
            Self::PaymentCreated,
            Self::PaymentUpdated,
            Self::PaymentDeleted,
            Self::InvoiceUpdated,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }

    /// The Kentico object type this event is about.
    pub fn object_type(self) -> &'static str {
        match self {
            Self::CustomerUpdated | Self::CustomerCreated => "ecommerce.customer",
            Self::SkuCreated | Self::SkuUpdated | Self::SkuDeleted => "ecommerce.sku",
            Self::PaymentCreated | Self::PaymentUpdated | Self::PaymentDeleted => {
                FRESHBOOKS_PAYMENT
            }
            Self::InvoiceUpdated => FRESHBOOKS_INVOICE,
            _ => "ecommerce.order",
        }
    }
}

/// The Kentico object an event refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventObject {
    /// `ecommerce.order`, `ecommerce.customer` or `ecommerce.sku`.
    pub object_type: String,
    /// The Kentico integer id (`OrderID`, `CustomerID`, `SKUID`), or the FreshBooks id (`freshbooks.payment`).
    pub id: i64,
    /// The Kentico GUID (`OrderGUID`, `CustomerGUID`, `SKUGUID`); nil for FreshBooks objects, which have none.
    pub guid: Uuid,
    /// The object's `*LastModified` when the event fired.
    #[serde(with = "time::serde::rfc3339")]
    pub last_modified: OffsetDateTime,
}

/// The signed envelope posted to `/hooks/kentico/{tenant}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Sender's event id; equal to the `webhook-id` header.
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// When it happened in Kentico (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The object concerned.
    pub object: EventObject,
}

/// Why a webhook body is not a valid envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseEventError {
    /// The body is not JSON of the envelope's shape.
    #[error("body is not a valid event envelope: {0}")]
    Shape(String),
    /// The object type does not belong with the event type.
    #[error("event type {kind} needs object_type {expected}, got {got}")]
    ObjectType {
        /// The event type.
        kind: &'static str,
        /// The object type it needs.
        expected: &'static str,
        /// The object type sent.
        got: String,
    },
}

impl EventEnvelope {
    /// Parses and checks an envelope from the raw webhook body.
    ///
    /// # Errors
    /// [`ParseEventError`] naming what is wrong.
    pub fn parse(body: &[u8]) -> Result<Self, ParseEventError> {
        let env: Self =
            serde_json::from_slice(body).map_err(|e| ParseEventError::Shape(e.to_string()))?;
        let expected = env.kind.object_type();
        if env.object.object_type != expected {
            return Err(ParseEventError::ObjectType {
                kind: env.kind.as_str(),
                expected,
                got: env.object.object_type.clone(),
            });
        }
        Ok(env)
    }

    /// The key that orders events: all events of one Kentico object run one at a time, in order.
    pub fn ordering_key(&self) -> String {
        format!("{}:{}", self.object.object_type, self.object.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposed_envelope_parses() {
        let body = br#"{"id":"evt_1","type":"order.created","occurred_at":"2026-11-20T13:03:12.010Z",
            "source":{"product":"kentico-xperience-13"},
            "object":{"object_type":"ecommerce.order","id":27,"guid":"3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51",
            "last_modified":"2026-11-20T14:03:12.01+01:00"},"changes":{},"snapshot":null}"#;
        let env = EventEnvelope::parse(body).unwrap();
        assert_eq!(env.kind, EventKind::OrderCreated);
        assert_eq!(env.ordering_key(), "ecommerce.order:27");
    }

    #[test]
    fn mismatched_object_type_is_refused() {
        let body = br#"{"id":"evt_1","type":"customer.updated","occurred_at":"2026-11-20T13:03:12Z",
            "object":{"object_type":"ecommerce.order","id":27,"guid":"3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51",
            "last_modified":"2026-11-20T14:03:12Z"}}"#;
        assert!(matches!(
            EventEnvelope::parse(body),
            Err(ParseEventError::ObjectType { .. })
        ));
    }

    #[test]
    fn sku_events_name_sku_objects() {
        let body = br#"{"id":"evt_2","type":"sku.updated","occurred_at":"2026-11-20T13:03:12Z",
            "object":{"object_type":"ecommerce.sku","id":12,"guid":"3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51",
            "last_modified":"2026-11-20T14:03:12Z"}}"#;
        let env = EventEnvelope::parse(body).unwrap();
        assert_eq!(env.kind, EventKind::SkuUpdated);
        assert_eq!(env.ordering_key(), "ecommerce.sku:12");
        let wrong = String::from_utf8_lossy(body).replace("ecommerce.sku", "ecommerce.order");
        assert!(matches!(
            EventEnvelope::parse(wrong.as_bytes()),
            Err(ParseEventError::ObjectType { .. })
        ));
    }
}
