//! Response types read from `{"response":{"result":{…}}}`. Our own reading of docs/freshbooks.md §6; unknown
//! fields are ignored.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `{"amount":"1500.00","code":"USD"}`: amount is a decimal string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FbMoney {
    /// Exact amount.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// ISO 4217 code (may be omitted on payment create).
    #[serde(default)]
    pub code: String,
}

/// A FreshBooks client (`users/clients`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FbClient {
    /// `id` (same as legacy `userid`).
    pub id: i64,
    /// E-mail (not unique in FreshBooks).
    #[serde(default)]
    pub email: Option<String>,
    /// First name.
    #[serde(default)]
    pub fname: Option<String>,
    /// Last name.
    #[serde(default)]
    pub lname: Option<String>,
    /// Organization.
    #[serde(default)]
    pub organization: Option<String>,
    /// Free-text note: carries Ferry's customer marker.
    #[serde(default)]
    pub note: Option<String>,
    /// 0 active, 1 deleted, 2 archived.
    #[serde(default)]
    pub vis_state: i64,
}

/// A catalogue item (`items/items`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FbItem {
    /// `id` (same as `itemid`).
    pub id: i64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// SKU (null when unset).
    #[serde(default)]
    pub sku: Option<String>,
    /// Unit cost.
    #[serde(default)]
    pub unit_cost: Option<FbMoney>,
    /// 0 active, 1 deleted, 2 archived.
    #[serde(default)]
    pub vis_state: i64,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Stock count as a decimal string; null when stock is not tracked.
    #[serde(default)]
    pub inventory: Option<String>,
    /// The first tax's id (0 for none).
    #[serde(default)]
    pub tax1: Option<i64>,
}

/// A tax (`taxes/taxes`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FbTax {
    /// `id` (same as `taxid`).
    pub id: i64,
    /// Name, e.g. `GST`.
    #[serde(default)]
    pub name: String,
    /// Percentage as a string, e.g. `"13"`.
    #[serde(default)]
    pub amount: Option<String>,
}

/// An invoice (`invoices/invoices`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FbInvoice {
    /// `id` (same as `invoiceid`).
    pub id: i64,
    /// Client id.
    #[serde(default)]
    pub customerid: i64,
    /// Invoice number (auto-assigned when not sent).
    #[serde(default)]
    pub invoice_number: Option<String>,
    /// PO number: carries the Kentico order number.
    #[serde(default)]
    pub po_number: Option<String>,
    /// Notes: carry Ferry's order marker.
    #[serde(default)]
    pub notes: Option<String>,
    /// 1 draft, 2 sent, 4 paid, …
    #[serde(default)]
    pub status: i64,
    /// `draft`, `sent`, `partial`, `paid`, …
    #[serde(default)]
    pub v3_status: Option<String>,
    /// Total.
    #[serde(default)]
    pub amount: Option<FbMoney>,
    /// Outstanding amount.
    #[serde(default)]
    pub outstanding: Option<FbMoney>,
    /// 0 active, 1 deleted, 2 archived.
    #[serde(default)]
    pub vis_state: i64,
    /// The lines, when asked for (`include[]=lines`).
    #[serde(default)]
    pub lines: Vec<FbLine>,
    /// The address printed on the invoice.
    #[serde(flatten)]
    pub address: InvoiceAddress,
}

/// The address an invoice prints (`street`, `street2`, `city`, `province`, `code`, `country`). FreshBooks copies
/// the client's at creation (`docs/freshbooks.md` §14.2.1); Ferry sets the order's billing address instead, and
/// sets it again when the order's address is edited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvoiceAddress {
    /// `street`.
    pub street: String,
    /// `street2`.
    pub street2: String,
    /// `city`.
    pub city: String,
    /// `province`: state code or name.
    pub province: String,
    /// `code`: postal code.
    pub code: String,
    /// `country`: country name.
    pub country: String,
}

impl From<&ferry_model::ClientDraft> for InvoiceAddress {
    fn from(c: &ferry_model::ClientDraft) -> Self {
        Self {
            street: c.street.clone(),
            street2: c.street2.clone(),
            city: c.city.clone(),
            province: c.province.clone(),
            code: c.postal_code.clone(),
            country: c.country.clone(),
        }
    }
}

/// An invoice line as FreshBooks returns it (`docs/freshbooks.md` §6.4): `qty` and `taxAmount*` may come as
/// strings or numbers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FbLine {
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `description`.
    #[serde(default)]
    pub description: String,
    /// `qty`.
    #[serde(default)]
    pub qty: serde_json::Value,
    /// `unit_cost`.
    #[serde(default)]
    pub unit_cost: Option<FbMoney>,
    /// `taxName1`.
    #[serde(default, rename = "taxName1")]
    pub tax_name1: Option<String>,
    /// `taxAmount1`, a percentage.
    #[serde(default, rename = "taxAmount1")]
    pub tax_amount1: serde_json::Value,
    /// `taxName2`.
    #[serde(default, rename = "taxName2")]
    pub tax_name2: Option<String>,
    /// `taxAmount2`, a percentage.
    #[serde(default, rename = "taxAmount2")]
    pub tax_amount2: serde_json::Value,
}

impl FbInvoice {
    /// Whether a payment (or a credit) has been recorded against it: `partial` or `paid`.
    pub fn has_payments(&self) -> bool {
        matches!(self.v3_status.as_deref(), Some("paid" | "partial"))
            || match (&self.amount, &self.outstanding) {
                (Some(a), Some(o)) => o.amount < a.amount,
                _ => false,
            }
    }
}

/// A credit note (`credit_notes/credit_notes`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FbCreditNote {
    /// `id` (same as `creditid`).
    pub id: i64,
    /// The client credited.
    #[serde(default)]
    pub clientid: i64,
    /// Notes: carry Ferry's marker.
    #[serde(default)]
    pub notes: Option<String>,
    /// Total credited.
    #[serde(default)]
    pub amount: Option<FbMoney>,
    /// 0 active, 1 deleted.
    #[serde(default)]
    pub vis_state: i64,
    /// The lines, when asked for (`include[]=lines`).
    #[serde(default)]
    pub lines: Vec<FbLine>,
}

/// A payment (`payments/payments`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FbPayment {
    /// `id` (same as `logid`).
    pub id: i64,
    /// The invoice paid; 0 for the credit half of an overpayment, which FreshBooks lists with `invoiceid: null`.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub invoiceid: i64,
    /// Amount.
    pub amount: FbMoney,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub date: Option<String>,
    /// Payment type, e.g. `Credit Card`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Note: carries Ferry's order marker.
    #[serde(default)]
    pub note: Option<String>,
    /// 0 active, 1 deleted.
    #[serde(default)]
    pub vis_state: i64,
    /// Last change, `YYYY-MM-DD HH:MM:SS` in US/Eastern (the polling fallback's watermark).
    #[serde(default)]
    pub updated: Option<String>,
}

/// A number FreshBooks may send as `null` (no such object), read as 0.
fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(Option::<i64>::deserialize(d)?.unwrap_or(0))
}

/// One business the connected user can access (`/auth/api/v1/users/me`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// `business.account_id`, the id in accounting paths.
    pub account_id: String,
    /// `business.id`.
    pub business_id: i64,
    /// Business name.
    pub name: String,
    /// The user's role, e.g. `owner`.
    pub role: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overpayment_credit_reads_with_no_invoice() {
        let p: FbPayment = serde_json::from_str(
            r#"{"id":9,"invoiceid":null,"amount":{"amount":"5.00","code":"USD"},"note":"Overpayment: invoice 7"}"#,
        )
        .unwrap();
        assert_eq!(p.invoiceid, 0);
    }

    #[test]
    fn invoice_reads_with_unknown_fields_and_string_money() {
        let v: FbInvoice = serde_json::from_str(
            r#"{"id":7,"invoiceid":7,"customerid":3,"po_number":"27","amount":{"amount":"41.94","code":"USD"},
            "status":2,"v3_status":"sent","lock_status":"x","vis_state":0}"#,
        )
        .unwrap();
        assert_eq!(v.amount.unwrap().amount, Decimal::new(4194, 2));
        assert_eq!(v.po_number.as_deref(), Some("27"));
    }
}
