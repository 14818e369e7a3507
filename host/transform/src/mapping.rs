//! Default mapping: the FreshBooks drafts Ferry builds from a canonical order before the tenant's plugins run.
//!
//! Covers order status → invoice status (tenant table), Kentico address → client address, tax class → line tax,
//! order lines → invoice lines (plus shipping), payment → payment draft, and currency conversion into the
//! FreshBooks base currency when the order currency differs.
//!
//! Conversion rule (one rule for every amount): each Kentico amount (a line's effective unit price, the shipping) is
//! converted at the order date's reference rate and rounded half away from zero to cents; FreshBooks computes the
//! taxes on the converted lines (`docs/freshbooks.md` §6.4). A paid order's payment is the invoice's amount by that
//! same totals rule ([`settle_payment`]), so lines, tax and payment agree and a paid invoice ends with nothing due.
//!
//! To the cent: in the order currency the invoice bills what Kentico billed (lines at Kentico's unit prices,
//! every discount a named negative line, shipping), so FreshBooks totals it at `OrderTotalPrice` when it computes
//! the tax as Kentico does, per tax once (`docs/kentico.md` §12.3, `docs/freshbooks.md` §6.4). Gift cards are
//! payments, not discounts.
//!
//! Layout:
//! - `config`: [`MappingConfig`], the tenant's `[tenants.mapping]` section.
//! - `lines`: invoice lines and items: products, options and bundles, discounts, shipping.
//! - `payments`: the gateway payment and one payment per gift card; [`settle_payment`].

mod config;
mod lines;
mod payments;

pub use config::{MappingConfig, OptionLines};
pub use payments::settle_payment;

use ferry_model::{
    Address, ClientDraft, Conversion, CurrencyCode, Customer, Decimal, Drafts, InvoiceDraft,
    InvoiceStatus, LineTax, Money, Order, OrderLine, cents,
};

/// The invoice status the tenant's table gives for a Kentico status code (draft when unlisted).
pub fn invoice_status(settings: &MappingConfig, status_code: &str) -> InvoiceStatus {
    settings
        .status_map
        .get(status_code)
        .copied()
        .unwrap_or(InvoiceStatus::Draft)
}

/// What run history says when the order's Kentico status is neither in the tenant's status table nor one of its
/// cancelled statuses: the invoice is left as it is (a new one stays a draft, an existing one keeps its status).
pub fn unmapped_status(settings: &MappingConfig, status_code: &str) -> Option<String> {
    let known = settings.status_map.contains_key(status_code)
        || settings.cancelled_statuses.iter().any(|c| c == status_code);
    (!known).then(|| {
        format!(
            "kentico status {status_code} is not in mapping.status_map: the invoice is left as it is"
        )
    })
}

/// The client draft for a customer, addressed from `billing` when given, else the customer's own address.
pub fn client_draft(
    customer: &Customer,
    billing: Option<&Address>,
    currency: &CurrencyCode,
) -> ClientDraft {
    let address = billing
        .or(customer.address.as_ref())
        .cloned()
        .unwrap_or_default();
    ClientDraft {
        first_name: customer.first_name.clone(),
        last_name: customer.last_name.clone(),
        email: customer.email.clone().unwrap_or_default().trim().to_owned(),
        organization: customer.company.clone(),
        business_phone: if customer.phone.is_empty() {
            address.phone.clone()
        } else {
            customer.phone.clone()
        },
        mobile_phone: String::new(),
        street: address.line1,
        street2: address.line2,
        city: address.city,
        province: if address.state_code.is_empty() {
            address.state_name
        } else {
            address.state_code
        },
        postal_code: address.zip,
        country: address.country_name,
        vat_name: if customer.tax_registration_id.is_empty() {
            String::new()
        } else {
            "VAT".to_owned()
        },
        vat_number: customer.tax_registration_id.clone(),
        currency_code: Some(currency.clone()),
        note: String::new(),
    }
}

/// How an order's amounts become FreshBooks money: in the invoice currency, converted when asked, in cents.
pub(crate) struct Pricing<'a> {
    order: &'a Order,
    conversion: Option<&'a Conversion>,
    currency: CurrencyCode,
}

impl Pricing<'_> {
    /// Converts (when asked) and rounds to cents, half away from zero as accountants do (not banker's rounding).
    fn money(&self, amount: Decimal) -> Money {
        let amount = self.conversion.map_or(amount, |c| amount * c.rate);
        Money::new(cents(amount), self.currency.clone())
    }

    /// The tax for a line: the tax class rate for the destination, none when exempt.
    fn tax(&self, line: &OrderLine) -> Option<LineTax> {
        let class = line.tax_class.as_ref()?;
        let rate = class.rate_percent.filter(|r| !r.is_zero())?;
        if class.zero_if_tax_id && !self.order.customer.tax_registration_id.is_empty() {
            return None;
        }
        Some(LineTax {
            name: format!("{} {}%", class.display_name, rate.normalize()),
            percent: rate.normalize(),
        })
    }
}

/// The SKU an order line is billed under: its Kentico SKU number, or `KENTICO-SKU-<id>` when it has none.
pub fn line_sku(line: &OrderLine) -> String {
    if line.sku_number.is_empty() {
        format!("KENTICO-SKU-{}", line.sku_id)
    } else {
        line.sku_number.clone()
    }
}

/// The invoice notes: the conversion, the coupon codes the customer entered, and Kentico's order note.
fn notes(order: &Order, conversion: Option<&Conversion>) -> String {
    let mut notes: Vec<String> = Vec::new();
    if let Some(c) = conversion {
        notes.push(format!(
            "Converted from {} at {} {}/{} (ECB reference rate of {}).",
            order.currency,
            c.rate.normalize(),
            c.to,
            order.currency,
            c.date
        ));
    }
    let coupons: Vec<&str> = order
        .coupon_codes
        .iter()
        .filter(|c| c.gift_card_value.is_none())
        .map(|c| c.code.as_str())
        .collect();
    if !coupons.is_empty() {
        notes.push(format!("Coupon codes: {}", coupons.join(", ")));
    }
    if !order.note.is_empty() {
        notes.push(order.note.clone());
    }
    notes.join("\n")
}

/// Builds the default drafts for an order.
pub fn default_drafts(
    order: &Order,
    settings: &MappingConfig,
    conversion: Option<&Conversion>,
) -> Drafts {
    let currency = conversion.map_or_else(|| order.currency.clone(), |c| c.to.clone());
    let price = Pricing {
        order,
        conversion,
        currency: currency.clone(),
    };
    let (lines, items) = lines::lines_and_items(order, settings, &price);
    let invoice = InvoiceDraft {
        create_date: order.created_at.date(),
        due_offset_days: settings.due_offset_days,
        currency_code: currency.clone(),
        po_number: order.number.clone(),
        invoice_number: settings
            .use_kentico_invoice_number
            .then(|| order.number.clone()),
        status: invoice_status(settings, &order.status.code),
        notes: notes(order, conversion),
        terms: settings.terms.clone(),
        lines,
    };
    let (payment, gift_cards) = payments::payments(order, settings, &price);
    let mut drafts = Drafts {
        client: client_draft(&order.customer, order.billing_address.as_ref(), &currency),
        items,
        invoice,
        payment,
        gift_cards,
        cancelled: settings.cancelled_statuses.contains(&order.status.code),
    };
    settle_payment(&mut drafts);
    drafts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample_order;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn processing_orders_become_sent_invoices() {
        let drafts = default_drafts(&sample_order(), &MappingConfig::default(), None);
        assert_eq!(drafts.invoice.status, InvoiceStatus::Sent);
        let mut order = sample_order();
        order.status.code = "SomethingNew".into();
        assert_eq!(
            default_drafts(&order, &MappingConfig::default(), None)
                .invoice
                .status,
            InvoiceStatus::Draft
        );
    }

    #[test]
    fn an_unmapped_status_is_named_and_mapped_or_cancelled_ones_are_not() {
        let settings = MappingConfig::default();
        assert_eq!(unmapped_status(&settings, "Processing"), None);
        assert_eq!(unmapped_status(&settings, "Canceled"), None);
        assert_eq!(unmapped_status(&settings, "Returned"), None);
        let note = unmapped_status(&settings, "OnHold").unwrap();
        assert!(
            note.contains("OnHold") && note.contains("left as it is"),
            "{note}"
        );
    }

    #[test]
    fn billing_address_becomes_the_client_address() {
        let c = default_drafts(&sample_order(), &MappingConfig::default(), None).client;
        assert_eq!(
            (c.street.as_str(), c.city.as_str(), c.province.as_str()),
            ("1 Analytical Way", "San Jose", "CA")
        );
        assert_eq!(
            (c.postal_code.as_str(), c.country.as_str()),
            ("95113", "United States")
        );
        assert_eq!(c.email, "ada@example.com");
    }

    #[test]
    fn taxable_lines_carry_the_tax_class_rate_and_shipping_is_a_line() {
        let d = default_drafts(&sample_order(), &MappingConfig::default(), None);
        assert_eq!(d.invoice.lines.len(), 3);
        let tax = d.invoice.lines[0].tax1.as_ref().unwrap();
        assert_eq!(
            (tax.name.as_str(), tax.percent),
            ("Standard rate 8.25%", dec("8.25"))
        );
        assert!(d.invoice.lines[1].tax1.is_none());
        assert_eq!(d.invoice.lines[2].unit_cost.amount, dec("5.00"));
        assert!(d.items[0].taxable && !d.items[1].taxable);
    }

    #[test]
    fn a_tax_exempt_customer_pays_no_tax_when_the_class_says_so() {
        let mut order = sample_order();
        order.customer.tax_registration_id = "DE123".into();
        if let Some(t) = order.lines[0].tax_class.as_mut() {
            t.zero_if_tax_id = true;
        }
        let d = default_drafts(&order, &MappingConfig::default(), None);
        assert!(d.invoice.lines[0].tax1.is_none());
        assert_eq!(d.client.vat_number, "DE123");
    }

    #[test]
    fn amounts_are_converted_into_the_base_currency() {
        let conv = Conversion {
            to: CurrencyCode::parse("EUR").unwrap(),
            rate: dec("0.9"),
            date: time::macros::date!(2026 - 11 - 20),
        };
        let d = default_drafts(&sample_order(), &MappingConfig::default(), Some(&conv));
        assert_eq!(d.invoice.currency_code.as_str(), "EUR");
        assert_eq!(d.invoice.lines[0].unit_cost.amount, dec("9.00"));
        assert_eq!(d.payment.unwrap().amount.amount, dec("50.99"));
        assert!(d.invoice.notes.contains("Converted from USD at 0.9"));
    }

    #[test]
    fn paid_orders_get_a_payment_draft_with_the_mapped_type() {
        let d = default_drafts(&sample_order(), &MappingConfig::default(), None);
        let p = d.payment.unwrap();
        assert_eq!(
            (p.method.as_str(), p.amount.amount),
            ("Credit Card", dec("56.65"))
        );
        let mut unpaid = sample_order();
        unpaid.payment.is_paid = false;
        assert!(
            default_drafts(&unpaid, &MappingConfig::default(), None)
                .payment
                .is_none()
        );
    }
}
