//! The inspection view of one invoice: what tests and the demo check after Ferry writes, edits or pays it, with
//! the per-tax totals FreshBooks prints but the API does not return. Money is [`Decimal`] (a decimal string in
//! JSON).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::invoices::totals_of;
use super::ledger::amount;
use super::model::{Line, Payment};
use super::state::Account;

/// One tax's total over an invoice's lines, after the discount, rounded to cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxTotal {
    /// `taxName1`/`taxName2` of the lines it covers (`""` when the lines named none).
    pub name: String,
    /// Percentage.
    pub rate: Decimal,
    /// Σ over the lines of discounted line amount × rate, rounded once.
    pub amount: Decimal,
}

/// An invoice with its lines, totals and payments (`GET /_sim/freshbooks/accounts/<account>/invoices/<id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceView {
    /// Invoice id.
    pub id: u64,
    /// `invoice_number`.
    pub invoice_number: String,
    /// The client.
    pub customerid: u64,
    /// Currency of every amount below.
    pub currency_code: String,
    /// 1 draft, 2 sent (also when partly paid), 4 paid.
    pub status: i64,
    /// `draft`, `sent`, `partial`, `paid`.
    pub v3_status: String,
    /// `unpaid`, `partial`, `paid`.
    pub payment_status: String,
    /// `draft`, `sent`, `paid`.
    pub display_status: String,
    /// 0 active, 1 deleted, 2 archived.
    pub vis_state: i64,
    /// The stored lines (what `include[]=lines` returns).
    pub lines: Vec<Line>,
    /// Σ line amounts.
    pub subtotal: Decimal,
    /// `discount_value`, a percentage.
    pub discount_value: Decimal,
    /// `discount_total` (zero or negative).
    pub discount_total: Decimal,
    /// One entry per tax name and rate.
    pub taxes: Vec<TaxTotal>,
    /// `amount`: subtotal + discount_total + Σ taxes.
    pub amount: Decimal,
    /// `paid`: Σ live payments.
    pub paid: Decimal,
    /// `outstanding`: amount − paid, never below zero.
    pub outstanding: Decimal,
    /// `date_paid`, set once fully paid.
    pub date_paid: Option<String>,
    /// Every payment against the invoice, deleted ones included (check `vis_state`), oldest first.
    pub payments: Vec<Payment>,
    /// The address printed on the invoice (`street`, `street2`, `city`, `province`, `code`, `country`): a copy of
    /// the client's at creation unless the request or a later update set it.
    pub address: InvoiceAddress,
}

/// The address fields of an invoice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceAddress {
    /// `street`.
    pub street: String,
    /// `street2`.
    pub street2: String,
    /// `city`.
    pub city: String,
    /// `province`.
    pub province: String,
    /// `code` (postal code).
    pub code: String,
    /// `country`.
    pub country: String,
}

/// Builds the view from the stored invoice; `None` when there is no such invoice.
pub(crate) fn invoice_view(account: &Account, invoice_id: u64) -> Option<InvoiceView> {
    let invoice = account.invoices.get(&invoice_id)?;
    let totals = totals_of(invoice).ok()?;
    Some(InvoiceView {
        id: invoice.id,
        invoice_number: invoice.invoice_number.clone(),
        customerid: invoice.customerid,
        currency_code: invoice.currency_code.clone(),
        status: invoice.status,
        v3_status: invoice.v3_status.clone(),
        payment_status: invoice.payment_status.clone(),
        display_status: invoice.display_status.clone(),
        vis_state: invoice.vis_state,
        lines: invoice.lines.clone().unwrap_or_default(),
        subtotal: totals.subtotal,
        discount_value: invoice.discount_value.parse().unwrap_or_default(),
        discount_total: amount(&invoice.discount_total),
        taxes: totals
            .taxes
            .into_iter()
            .map(|t| TaxTotal {
                name: t.name,
                rate: t.rate,
                amount: t.amount,
            })
            .collect(),
        amount: amount(&invoice.amount),
        paid: amount(&invoice.paid),
        outstanding: amount(&invoice.outstanding),
        date_paid: invoice.date_paid.clone(),
        payments: account
            .payments
            .values()
            .filter(|p| p.invoiceid == invoice_id)
            .cloned()
            .collect(),
        address: InvoiceAddress {
            street: invoice.street.clone(),
            street2: invoice.street2.clone(),
            city: invoice.city.clone(),
            province: invoice.province.clone(),
            code: invoice.code.clone(),
            country: invoice.country.clone(),
        },
    })
}
