//! The Kentico side of the payment write-back (FreshBooks → Kentico): the tenant's policy (`[tenants.payments]`),
//! what an order's paid state is, what it should become given its invoice's [`Standing`], and the `PUT` that makes
//! it so (docs/kentico.md §3.3; the REST user needs the modify permission for orders, nothing else).
//!
//! The rule is read, compare, write: an order that already shows what the standing asks for is not written, so a
//! repeated or reordered callback writes nothing more, and a payment Ferry itself posted for an order Kentico
//! already had paid changes nothing.

use crate::kentico::KenticoClient;
use crate::{Error, Result};
use ferry_model::Standing;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The tenant's `[tenants.payments]` section: payments recorded in FreshBooks marked in Kentico.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentsConfig {
    /// Write payments recorded in FreshBooks back to Kentico (off by default).
    pub enabled: bool,
    /// This host's public URL for FreshBooks callbacks, e.g. `https://ferry.example.com/hooks/freshbooks/acme`. Ferry
    /// registers `payment.create`, `payment.update`, `payment.delete` and `invoice.update` for it at start-up; unset,
    /// only the polling fallback finds payments.
    pub callback_url: Option<String>,
    /// The order status (code name) a fully paid order moves to, with `OrderIsPaid`; empty sets only `OrderIsPaid`.
    pub paid_status: String,
    /// The status a partly paid order moves to; unset leaves it as it is.
    pub partial_status: Option<String>,
    /// The status an order Kentico shows paid moves to when a FreshBooks payment on it is refunded (lowered, zeroed or
    /// deleted) so the invoice is no longer paid; `OrderIsPaid` is cleared with it. Unset leaves the order as it is.
    pub refunded_status: Option<String>,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            callback_url: None,
            paid_status: "PaymentReceived".to_owned(),
            partial_status: None,
            refunded_status: None,
        }
    }
}

/// An order's paid state in Kentico.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaidState {
    /// `OrderID`.
    pub order_id: i64,
    /// The order number (`OrderInvoiceNumber`, else the id), for the run history.
    pub number: String,
    /// `OrderIsPaid`.
    pub is_paid: bool,
    /// The status code name (`StatusName`).
    pub status: String,
}

/// What to write to the order; `None` fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaidWrite {
    /// New `OrderIsPaid`.
    pub is_paid: Option<bool>,
    /// New status code name.
    pub status: Option<String>,
}

/// What the order should become. `refund` says the event withdrew a payment (deleted, zeroed or lowered); only then
/// may a paid order go back. Cancelled orders (`cancelled_statuses`) are never touched.
pub fn decide(
    policy: &PaymentsConfig,
    standing: Standing,
    refund: bool,
    order: &PaidState,
    cancelled_statuses: &[String],
) -> Option<PaidWrite> {
    let is = |s: &str| order.status.eq_ignore_ascii_case(s);
    if cancelled_statuses.iter().any(|c| is(c)) {
        return None;
    }
    let status_change = |target: Option<&String>| {
        target
            .filter(|s| !s.trim().is_empty() && !is(s))
            .map(|s| s.trim().to_owned())
    };
    let write = match standing {
        // Already paid in Kentico (at checkout, or written back before): its status may have moved on since, and is
        // the shop's to keep.
        Standing::Paid if order.is_paid => return None,
        Standing::Paid => PaidWrite {
            is_paid: Some(true),
            status: status_change(Some(&policy.paid_status)),
        },
        _ if order.is_paid => {
            if !refund {
                return None;
            }
            let status = status_change(policy.refunded_status.as_ref());
            policy.refunded_status.as_ref()?;
            PaidWrite {
                is_paid: Some(false),
                status,
            }
        }
        // A withdrawn payment only ever takes an order back: an order it already took back to the refunded status
        // stays there (FreshBooks may send a deletion twice, and the second runs after the first's write).
        Standing::Partial
            if refund
                && policy
                    .refunded_status
                    .as_deref()
                    .is_some_and(|s| is(s.trim())) =>
        {
            return None;
        }
        Standing::Partial => PaidWrite {
            is_paid: None,
            status: status_change(policy.partial_status.as_ref()),
        },
        Standing::Unpaid => return None,
    };
    (write.is_paid.is_some() || write.status.is_some()).then_some(write)
}

/// Reads the paid state of the order with this GUID.
///
/// # Errors
/// [`Error::NotFound`] when Kentico has no such order; classified HTTP errors.
pub async fn paid_state(kentico: &KenticoClient, order_guid: Uuid) -> Result<PaidState> {
    let row = kentico
        .get_by_key("ecommerce.order", &order_guid.to_string())
        .await?;
    let what = format!("read order {order_guid}");
    let order_id = row
        .int("OrderID")
        .ok_or_else(|| Error::malformed(&what, "no OrderID"))?;
    let status_id = row
        .int("OrderStatusID")
        .ok_or_else(|| Error::malformed(&what, "no OrderStatusID"))?;
    let status = kentico
        .get_object("ecommerce.orderstatus", status_id)
        .await?
        .string("StatusName");
    let number = row
        .text("OrderInvoiceNumber")
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| order_id.to_string());
    Ok(PaidState {
        order_id,
        number,
        is_paid: row.bool("OrderIsPaid").unwrap_or(false),
        status,
    })
}

/// Writes `OrderIsPaid` and the status (by code name) to an order with one `PUT`.
///
/// # Errors
/// [`Error::NotFound`] for an unknown status code name or order; classified HTTP errors (403 when the REST user may
/// not modify orders).
pub async fn write_paid_state(
    kentico: &KenticoClient,
    order_id: i64,
    write: &PaidWrite,
) -> Result<()> {
    let mut columns = serde_json::Map::new();
    if let Some(status) = &write.status {
        let row = kentico
            .get_by_key("ecommerce.orderstatus/currentsite", status)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::NotFound {
                    what: format!("order status {status:?} (tenants.payments)"),
                },
                other => other,
            })?;
        let id = row.int("StatusID").ok_or_else(|| {
            Error::malformed(&format!("read order status {status}"), "no StatusID")
        })?;
        columns.insert("OrderStatusID".into(), id.into());
    }
    if let Some(paid) = write.is_paid {
        columns.insert("OrderIsPaid".into(), paid.into());
    }
    kentico
        .put_object("ecommerce.order", order_id, &columns)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(is_paid: bool, status: &str) -> PaidState {
        PaidState {
            order_id: 1,
            number: "1".into(),
            is_paid,
            status: status.into(),
        }
    }

    fn cancelled() -> Vec<String> {
        vec!["Canceled".into()]
    }

    #[test]
    fn a_paid_invoice_marks_an_unpaid_order_paid_with_the_mapped_status() {
        let p = PaymentsConfig::default();
        let w = decide(
            &p,
            Standing::Paid,
            false,
            &order(false, "New"),
            &cancelled(),
        )
        .unwrap();
        assert_eq!(w.is_paid, Some(true));
        assert_eq!(w.status.as_deref(), Some("PaymentReceived"));
        // Already paid: nothing, whatever its status now.
        assert_eq!(
            decide(
                &p,
                Standing::Paid,
                false,
                &order(true, "Shipped"),
                &cancelled()
            ),
            None
        );
        // Cancelled orders are left alone.
        assert_eq!(
            decide(
                &p,
                Standing::Paid,
                false,
                &order(false, "Canceled"),
                &cancelled()
            ),
            None
        );
    }

    /// FreshBooks sent a payment's deletion twice, the second after the first had run: the first took the paid order
    /// back to the refunded status; the second finds the invoice still partly paid (a deposit stays) and must leave
    /// the order there, not move it on to the partial status (found by the payments-back journey, whose duplicate
    /// delivery arrived after the first had started).
    #[test]
    fn a_refund_seen_again_leaves_the_order_it_already_took_back() {
        let p = PaymentsConfig {
            partial_status: Some("InProgress".into()),
            refunded_status: Some("PaymentFailed".into()),
            ..PaymentsConfig::default()
        };
        let first = decide(
            &p,
            Standing::Partial,
            true,
            &order(true, "PaymentReceived"),
            &cancelled(),
        )
        .unwrap();
        assert_eq!(
            (first.is_paid, first.status.as_deref()),
            (Some(false), Some("PaymentFailed"))
        );
        assert_eq!(
            decide(
                &p,
                Standing::Partial,
                true,
                &order(false, "PaymentFailed"),
                &cancelled()
            ),
            None
        );
        // A new payment on that invoice is news again: partly paid.
        let w = decide(
            &p,
            Standing::Partial,
            false,
            &order(false, "PaymentFailed"),
            &cancelled(),
        )
        .unwrap();
        assert_eq!((w.is_paid, w.status.as_deref()), (None, Some("InProgress")));
    }

    #[test]
    fn partial_and_refund_follow_the_policy_or_do_nothing() {
        let mut p = PaymentsConfig::default();
        assert_eq!(
            decide(
                &p,
                Standing::Partial,
                false,
                &order(false, "New"),
                &cancelled()
            ),
            None
        );
        assert_eq!(
            decide(
                &p,
                Standing::Unpaid,
                true,
                &order(true, "PaymentReceived"),
                &cancelled()
            ),
            None
        );
        p.partial_status = Some("InProgress".into());
        p.refunded_status = Some("Returned".into());
        let w = decide(
            &p,
            Standing::Partial,
            false,
            &order(false, "New"),
            &cancelled(),
        )
        .unwrap();
        assert_eq!((w.is_paid, w.status.as_deref()), (None, Some("InProgress")));
        assert_eq!(
            decide(
                &p,
                Standing::Partial,
                false,
                &order(false, "InProgress"),
                &cancelled()
            ),
            None
        );
        // An unpaid invoice on a paid order is a refund only when the event withdrew a payment.
        assert_eq!(
            decide(
                &p,
                Standing::Unpaid,
                false,
                &order(true, "PaymentReceived"),
                &cancelled()
            ),
            None
        );
        let w = decide(
            &p,
            Standing::Unpaid,
            true,
            &order(true, "PaymentReceived"),
            &cancelled(),
        )
        .unwrap();
        assert_eq!(
            (w.is_paid, w.status.as_deref()),
            (Some(false), Some("Returned"))
        );
    }
}
