//! The FreshBooks side of the payment write-back (FreshBooks → Kentico): what a payment or invoice event says about
//! the invoice it touches, and which FreshBooks objects Ferry itself created (by the ledger keys `sync` wrote), so a
//! payment Ferry posted for an order Kentico already had paid does not come back as news.

use crate::freshbooks::{FbInvoice, FreshBooksClient};
use crate::{Error, Result};
use ferry_model::{Decimal, EventKind, Standing};
use uuid::Uuid;

/// An invoice's standing after a FreshBooks payment or invoice event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvoiceStanding {
    /// The invoice.
    pub invoice_id: i64,
    /// The payment the event named, if it was a payment event.
    pub payment_id: Option<i64>,
    /// The payment was deleted or brought to zero (a refund).
    pub payment_withdrawn: bool,
    /// Invoice amount.
    pub amount: Decimal,
    /// Paid so far (amount less outstanding).
    pub paid: Decimal,
    /// Paid, partly paid or unpaid.
    pub standing: Standing,
    /// The invoice is deleted in FreshBooks.
    pub deleted: bool,
}

/// The invoice a FreshBooks event is about and its standing now. `None` when the payment is not against an invoice
/// (the credit half of an overpayment).
///
/// # Errors
/// FreshBooks errors, with their disposition.
pub async fn invoice_standing(
    fb: &FreshBooksClient,
    kind: EventKind,
    object_id: i64,
) -> Result<Option<InvoiceStanding>> {
    let (invoice_id, payment_id, withdrawn) = match kind {
        EventKind::InvoiceUpdated => (object_id, None, false),
        _ => {
            let p = fb.get_payment(object_id).await?;
            if p.invoiceid == 0 {
                return Ok(None);
            }
            let withdrawn = p.vis_state == 1 || p.amount.amount.is_zero();
            (p.invoiceid, Some(p.id), withdrawn)
        }
    };
    let inv = fb.get_invoice(invoice_id).await?;
    Ok(Some(standing_of(&inv, payment_id, withdrawn)))
}

fn standing_of(inv: &FbInvoice, payment_id: Option<i64>, withdrawn: bool) -> InvoiceStanding {
    let amount = inv.amount.as_ref().map(|m| m.amount).unwrap_or_default();
    let outstanding = inv
        .outstanding
        .as_ref()
        .map_or(amount, |m| m.amount)
        .max(Decimal::ZERO);
    let paid = (amount - outstanding).max(Decimal::ZERO);
    let standing = if paid.is_zero() {
        Standing::Unpaid
    } else if outstanding.is_zero() {
        Standing::Paid
    } else {
        Standing::Partial
    };
    InvoiceStanding {
        invoice_id: inv.id,
        payment_id,
        payment_withdrawn: withdrawn,
        amount,
        paid,
        standing,
        deleted: inv.vis_state == 1,
    }
}

/// The ledger key kinds `sync` records Ferry's own payments under (gateway, gift cards, the credit that settles a
/// withdrawn invoice).
const PAYMENT_KINDS: [&str; 3] = ["payment", "gift-card", "credit-settles"];

/// The Kentico order GUID of the invoice Ferry created, from the ledger keys whose FreshBooks id is the invoice's
/// (`{tenant}:invoice:{order guid}`).
pub fn order_of_invoice(tenant: &str, keys: &[String]) -> Option<Uuid> {
    let prefix = format!("{tenant}:invoice:");
    keys.iter().find_map(|k| {
        k.strip_prefix(&prefix)
            .and_then(|g| Uuid::parse_str(g).ok())
    })
}

/// Whether one of the ledger keys whose FreshBooks id is a payment's is one of Ferry's payment keys.
pub fn is_ferrys_payment(tenant: &str, keys: &[String]) -> bool {
    keys.iter().any(|k| {
        k.strip_prefix(tenant)
            .and_then(|rest| rest.strip_prefix(':'))
            .and_then(|rest| rest.split(':').next())
            .is_some_and(|kind| PAYMENT_KINDS.contains(&kind))
    })
}

impl Error {
    /// Whether FreshBooks answered that the object does not exist (a callback for something since removed).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(amount: &str, outstanding: &str) -> FbInvoice {
        serde_json::from_value(serde_json::json!({"id": 7, "customerid": 1, "status": 2,
            "amount": {"amount": amount, "code": "USD"},
            "outstanding": {"amount": outstanding, "code": "USD"}}))
        .unwrap()
    }

    #[test]
    fn standing_follows_what_is_outstanding() {
        assert_eq!(
            standing_of(&invoice("10.00", "10.00"), None, false).standing,
            Standing::Unpaid
        );
        assert_eq!(
            standing_of(&invoice("10.00", "4.00"), None, false).standing,
            Standing::Partial
        );
        let paid = standing_of(&invoice("10.00", "0.00"), Some(3), false);
        assert_eq!(paid.standing, Standing::Paid);
        assert_eq!(paid.paid, "10.00".parse().unwrap());
    }

    #[test]
    fn ferrys_own_objects_are_told_by_their_ledger_keys() {
        let guid = Uuid::from_u128(5);
        let keys = vec![
            format!("acme:client:{guid}"),
            format!("acme:invoice:{guid}"),
        ];
        assert_eq!(order_of_invoice("acme", &keys), Some(guid));
        assert_eq!(order_of_invoice("other", &keys), None);
        assert!(!is_ferrys_payment("acme", &keys));
        assert!(is_ferrys_payment("acme", &[format!("acme:payment:{guid}")]));
        assert!(is_ferrys_payment(
            "acme",
            &[format!("acme:gift-card:{guid}:0")]
        ));
    }
}
