//! FreshBooks-side drafts: what Ferry intends to create, before any id exists.
//!
//! Ferry builds a default draft from the canonical order; the tenant's plugins may change it; `load` sends it.

use crate::{CurrencyCode, Money, cents};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

/// A FreshBooks client to find or create. FreshBooks has no custom fields: extra data goes to `note`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientDraft {
    /// `fname`.
    pub first_name: String,
    /// `lname`.
    pub last_name: String,
    /// `email`: the lookup key besides the stored id.
    pub email: String,
    /// `organization`.
    pub organization: String,
    /// `bus_phone`.
    pub business_phone: String,
    /// `mob_phone`.
    pub mobile_phone: String,
    /// `p_street`.
    pub street: String,
    /// `p_street2`.
    pub street2: String,
    /// `p_city`.
    pub city: String,
    /// `p_province`.
    pub province: String,
    /// `p_code`.
    pub postal_code: String,
    /// `p_country`.
    pub country: String,
    /// `vat_name` (e.g. `VAT`), empty for none.
    pub vat_name: String,
    /// `vat_number`, empty for none.
    pub vat_number: String,
    /// `currency_code`.
    pub currency_code: Option<CurrencyCode>,
    /// `note`: where custom fields end up.
    pub note: String,
}

/// A tax on a line or item, as FreshBooks takes it: a name and a percentage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTax {
    /// Tax name, e.g. `VAT`; the FreshBooks tax is found or created by this name.
    pub name: String,
    /// Percentage, up to 3 decimals (e.g. `21`).
    pub percent: Decimal,
}

/// A FreshBooks item (catalogue product) to match or create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemDraft {
    /// `name`.
    pub name: String,
    /// `description`: product attributes land here.
    pub description: String,
    /// `sku`: the Kentico SKU number, the match key.
    pub sku: String,
    /// `unit_cost`.
    pub unit_cost: Money,
    /// Whether the item is taxable.
    pub taxable: bool,
    /// The tax that applies (`tax1`), when taxable.
    pub tax: Option<LineTax>,
}

/// Invoice status Ferry asks for; FreshBooks creates drafts and moves them with actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Leave as draft (status 1).
    Draft,
    /// Mark as sent (status 2, `action_mark_as_sent`).
    Sent,
}

/// One invoice line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLineDraft {
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: String,
    /// `qty`.
    pub quantity: Decimal,
    /// `unit_cost`.
    pub unit_cost: Money,
    /// First tax (`taxName1`/`taxAmount1`).
    pub tax1: Option<LineTax>,
    /// Second tax (`taxName2`/`taxAmount2`).
    pub tax2: Option<LineTax>,
    /// The SKU the line came from (empty for shipping or adjustments); matched to a FreshBooks item.
    pub sku: String,
}

impl InvoiceLineDraft {
    /// What FreshBooks totals these lines at, on an invoice or a credit note, by its totals rule
    /// (`docs/freshbooks.md` §6.4): each line's amount is `qty × unit_cost` in cents; each tax (same name and
    /// percentage) is summed over the lines that carry it and rounded to cents once; halves round away from zero.
    pub fn total(lines: &[Self]) -> Decimal {
        let mut subtotal = Decimal::ZERO;
        let mut taxes: Vec<(&LineTax, Decimal)> = Vec::new();
        for line in lines {
            let amount = cents(line.quantity * line.unit_cost.amount);
            subtotal += amount;
            for tax in [&line.tax1, &line.tax2].into_iter().flatten() {
                let due = amount * tax.percent / Decimal::ONE_HUNDRED;
                match taxes.iter_mut().find(|(t, _)| *t == tax) {
                    Some((_, sum)) => *sum += due,
                    None => taxes.push((tax, due)),
                }
            }
        }
        subtotal + taxes.iter().map(|(_, sum)| cents(*sum)).sum::<Decimal>()
    }
}

/// A FreshBooks invoice to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDraft {
    /// `create_date`.
    pub create_date: Date,
    /// `due_offset_days`.
    pub due_offset_days: u32,
    /// `currency_code`.
    pub currency_code: CurrencyCode,
    /// `po_number`: carries the Kentico order number (the marker found again after a lost reply).
    pub po_number: String,
    /// Requested `invoice_number`, if the tenant wants Kentico's numbering.
    pub invoice_number: Option<String>,
    /// The status to reach after creation.
    pub status: InvoiceStatus,
    /// `notes`: order custom attributes land here.
    pub notes: String,
    /// `terms`.
    pub terms: String,
    /// Lines in order.
    pub lines: Vec<InvoiceLineDraft>,
}

impl InvoiceDraft {
    /// What FreshBooks will total this invoice at: [`InvoiceLineDraft::total`] of its lines.
    pub fn amount(&self) -> Decimal {
        InvoiceLineDraft::total(&self.lines)
    }
}

/// A FreshBooks payment to post against the invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDraft {
    /// `amount`.
    pub amount: Money,
    /// `date`.
    pub date: Date,
    /// `type`, e.g. `Credit Card`.
    pub method: String,
    /// `note`: carries the Kentico order GUID marker.
    pub note: String,
    /// `transactionid`, when the gateway gave one.
    pub transaction_id: String,
}

/// Everything `load` sends for one order: built by the transform stage's default mapping, shaped by the tenant's
/// plugins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drafts {
    /// The client to find or create.
    pub client: ClientDraft,
    /// One item per distinct SKU on the order.
    pub items: Vec<ItemDraft>,
    /// The invoice.
    pub invoice: InvoiceDraft,
    /// The gateway payment, when the order is paid (and gift cards did not cover it all).
    pub payment: Option<PaymentDraft>,
    /// One payment per gift card the order was paid with (`OrderOtherPayments`), when the order is paid.
    #[serde(default)]
    pub gift_cards: Vec<PaymentDraft>,
    /// The order is cancelled (its status is one of the tenant's `mapping.cancelled_statuses`): nothing is created,
    /// and an invoice it already has is withdrawn.
    #[serde(default)]
    pub cancelled: bool,
}

/// What `load` does with an order line whose SKU has no FreshBooks item (`mapping.unknown_sku`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownSkuPolicy {
    /// Create the item in FreshBooks from its draft.
    #[default]
    CreateItem,
    /// Bill the line against the tenant's default item (`mapping.default_item`); the order is dead-lettered when
    /// that item does not exist.
    DefaultItem,
}

/// What `load` does when an order changes in Kentico after its invoice has payments: cancelled
/// (`mapping.paid_cancellation`) or edited (`mapping.paid_edit`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaidChange {
    /// A credit note for the client: mirroring the invoice for a cancellation, for the difference for an edit
    /// that lowers the total (an edit that raises it still goes to review).
    #[default]
    CreditNote,
    /// The event goes to the dead-letter queue for a person.
    Review,
}

/// What `load` does with the sent, unpaid invoice of an order cancelled in Kentico (`mapping.sent_cancellation`).
/// A draft invoice is always deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentCancellation {
    /// A credit note mirroring the invoice, spent on it as a `Credit` payment: the invoice the customer has seen
    /// stays, settled, and the client owes nothing.
    #[default]
    CreditNote,
    /// The invoice is deleted (`vis_state` 1) and leaves accounts receivable.
    Delete,
}
