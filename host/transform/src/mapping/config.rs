//! The tenant's mapping settings (`[tenants.mapping]`): status table, lines, payment types, price tolerance.

use ferry_model::{InvoiceStatus, PaidChange, SentCancellation, UnknownSkuPolicy};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Mapping settings for one tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MappingConfig {
    /// Kentico status code name → invoice status (unlisted statuses leave the invoice a draft).
    pub status_map: BTreeMap<String, InvoiceStatus>,
    /// Policy for SKUs with no FreshBooks item.
    pub unknown_sku: UnknownSkuPolicy,
    /// Name of the default item used by the `default_item` policy.
    pub default_item: String,
    /// Days until an invoice is due.
    pub due_offset_days: u32,
    /// Invoice terms text.
    pub terms: String,
    /// Name of the shipping line.
    pub shipping_line_name: String,
    /// Use the Kentico order number as the FreshBooks invoice number.
    pub use_kentico_invoice_number: bool,
    /// Kentico payment option display name → FreshBooks payment type.
    pub payment_types: BTreeMap<String, String>,
    /// FreshBooks payment type for unlisted payment options.
    pub default_payment_type: String,
    /// Percent a line price may stray from the catalogue price before the order is refused.
    pub price_tolerance_percent: u32,
    /// Product options and bundle contents without a price of their own: folded into their parent line's
    /// description (`fold`), or zero-priced lines under it (`lines`). Priced options are always lines.
    pub options: OptionLines,
    /// FreshBooks payment type gift cards are recorded with (`OrderOtherPayments`). FreshBooks has no gift-card
    /// type; `Other` is one it lists (`docs/freshbooks.md` §6.7), and `Credit` would spend a FreshBooks client
    /// credit the card never was.
    pub gift_card_payment_type: String,
    /// Kentico status code names that mean the sale is reversed (`Canceled`, and `Returned`: goods sent back):
    /// nothing is created for the order, and an invoice it has is withdrawn (a draft deleted; a sent one per
    /// `sent_cancellation`; one with payments per `paid_cancellation`).
    pub cancelled_statuses: Vec<String>,
    /// A cancelled order whose invoice is sent but unpaid: a credit note spent on it (`credit_note`), or deleted
    /// (`delete`).
    pub sent_cancellation: SentCancellation,
    /// A cancelled order whose invoice has payments: a credit note mirroring the invoice (`credit_note`), or the
    /// dead-letter queue for a person (`review`).
    pub paid_cancellation: PaidChange,
    /// An order edited after its invoice has payments: a credit note for the difference when the edit lowers the
    /// total (`credit_note`; an increase still goes to review), or the dead-letter queue for a person (`review`).
    pub paid_edit: PaidChange,
}

/// Where unpriced options and bundle contents go on the invoice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionLines {
    /// Named in the parent line's description.
    #[default]
    Fold,
    /// Zero-priced lines after the parent line.
    Lines,
}

impl Default for MappingConfig {
    fn default() -> Self {
        let status_map = [
            ("New", InvoiceStatus::Draft),
            // guess: K13 ships no fixed status list (docs/kentico.md §7); these are the code names its sample
            // stores and the simulator use. `Canceled` and `Returned` are in `cancelled_statuses` instead.
            ("PaymentFailed", InvoiceStatus::Draft),
            ("InProgress", InvoiceStatus::Sent),
            ("Processing", InvoiceStatus::Sent),
            ("PaymentReceived", InvoiceStatus::Sent),
            ("Shipped", InvoiceStatus::Sent),
            ("Completed", InvoiceStatus::Sent),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let payment_types = [
            ("Credit card", "Credit Card"),
            ("Bank transfer", "Bank Transfer"),
            ("PayPal", "PayPal"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Self {
            status_map,
            unknown_sku: UnknownSkuPolicy::CreateItem,
            default_item: "Kentico product".to_owned(),
            due_offset_days: 30,
            terms: String::new(),
            shipping_line_name: "Shipping".to_owned(),
            use_kentico_invoice_number: false,
            payment_types,
            default_payment_type: "Credit Card".to_owned(),
            price_tolerance_percent: 50,
            options: OptionLines::Fold,
            gift_card_payment_type: "Other".to_owned(),
            cancelled_statuses: vec!["Canceled".to_owned(), "Returned".to_owned()],
            sent_cancellation: SentCancellation::CreditNote,
            paid_cancellation: PaidChange::CreditNote,
            paid_edit: PaidChange::CreditNote,
        }
    }
}
