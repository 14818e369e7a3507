//! Conversions between `ferry-model` and the WIT records of `ferry:transform@0.2.0`.
//!
//! A plugin of the frozen 0.1.0 contract gets the same records through the views of `bindings::v0_1` (its order and
//! lines without what 0.2.0 added; every other record has one shape in both versions), so there is one conversion.
//! The drafts carry every field of the model's drafts in both versions: a 0.1.0 plugin that rebuilds a draft sees,
//! and hands back, all of it (discount lines are lines like any other).
//!
//! Model → WIT cannot fail. WIT → model checks what a plugin returned (decimals, currency
//! codes, dates, size) and reports the first problem as a message for `InvalidOutput`.

use std::str::FromStr;

use ferry_model::{
    Address, ClientDraft, CouponCode, CurrencyCode, CustomField, Customer, InvoiceDraft,
    InvoiceLineDraft, InvoiceStatus, ItemDraft, LineTax, Money, NamedAmount, Order, OrderLine,
    OrderStatus, Payment, TaxClass,
};
use rust_decimal::Decimal;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::bindings::v0_2::types as wit;

fn rfc3339(t: &OffsetDateTime) -> String {
    // Formatting a valid OffsetDateTime as RFC 3339 only fails for years outside 0..=9999.
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn money(m: &Money) -> wit::Money {
    wit::Money {
        amount: m.amount.to_string(),
        code: m.code.as_str().to_string(),
    }
}

fn fields(f: &[CustomField]) -> Vec<wit::CustomField> {
    f.iter()
        .map(|f| wit::CustomField {
            name: f.name.clone(),
            value: f.value.clone(),
        })
        .collect()
}

fn amounts(a: &[NamedAmount]) -> Vec<wit::NamedAmount> {
    a.iter()
        .map(|a| wit::NamedAmount {
            name: a.name.clone(),
            amount: a.amount.to_string(),
        })
        .collect()
}

fn coupon_code(c: &CouponCode) -> wit::CouponCode {
    wit::CouponCode {
        code: c.code.clone(),
        gift_card_value: c.gift_card_value.map(|v| v.to_string()),
    }
}

fn address(a: &Address) -> wit::Address {
    wit::Address {
        personal_name: a.personal_name.clone(),
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        zip: a.zip.clone(),
        state_code: a.state_code.clone(),
        state_name: a.state_name.clone(),
        country_code: a.country_code.clone(),
        country_name: a.country_name.clone(),
        phone: a.phone.clone(),
    }
}

fn status(s: &OrderStatus) -> wit::OrderStatus {
    wit::OrderStatus {
        id: s.id,
        code: s.code.clone(),
        display_name: s.display_name.clone(),
        marks_paid: s.marks_paid,
    }
}

fn tax_class(t: &TaxClass) -> wit::TaxClass {
    wit::TaxClass {
        id: t.id,
        code: t.code.clone(),
        display_name: t.display_name.clone(),
        rate_percent: t.rate_percent.map(|d| d.to_string()),
        zero_if_tax_id: t.zero_if_tax_id,
    }
}

fn payment(p: &Payment) -> wit::Payment {
    wit::Payment {
        is_paid: p.is_paid,
        method: p.method.clone(),
        transaction_id: p.transaction_id.clone(),
        amount: money(&p.amount),
        paid_at: p.paid_at.as_ref().map(rfc3339),
    }
}

/// A customer as the plugin sees it.
pub(crate) fn customer(c: &Customer) -> wit::Customer {
    wit::Customer {
        id: c.id,
        guid: c.guid.to_string(),
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        email: c.email.clone(),
        phone: c.phone.clone(),
        company: c.company.clone(),
        tax_registration_id: c.tax_registration_id.clone(),
        organization_id: c.organization_id.clone(),
        custom_fields: fields(&c.custom_fields),
        address: c.address.as_ref().map(address),
        last_modified: rfc3339(&c.last_modified),
    }
}

/// An order line as the plugin sees it.
pub(crate) fn order_line(l: &OrderLine) -> wit::OrderLine {
    wit::OrderLine {
        id: l.id,
        sku_id: l.sku_id,
        sku_number: l.sku_number.clone(),
        name: l.name.clone(),
        description: l.description.clone(),
        quantity: l.quantity,
        unit_price: l.unit_price.to_string(),
        total_price: l.total_price.to_string(),
        sku_price: l.sku_price.map(|d| d.to_string()),
        tax_class: l.tax_class.as_ref().map(tax_class),
        attributes: fields(&l.attributes),
        guid: l.guid.to_string(),
        parent_guid: l.parent_guid.map(|g| g.to_string()),
        bundle_guid: l.bundle_guid.map(|g| g.to_string()),
        text: l.text.clone(),
        unit_discounts: amounts(&l.unit_discounts),
        discounts: amounts(&l.discounts),
    }
}

/// An order as the plugin sees it.
pub(crate) fn order(o: &Order) -> wit::Order {
    wit::Order {
        id: o.id,
        guid: o.guid.to_string(),
        number: o.number.clone(),
        status: status(&o.status),
        created_at: rfc3339(&o.created_at),
        last_modified: rfc3339(&o.last_modified),
        currency: o.currency.as_str().to_string(),
        totals: wit::OrderTotals {
            total: o.totals.total.to_string(),
            tax: o.totals.tax.to_string(),
            shipping: o.totals.shipping.to_string(),
            grand_total: o.totals.grand_total.to_string(),
        },
        customer: customer(&o.customer),
        billing_address: o.billing_address.as_ref().map(address),
        shipping_address: o.shipping_address.as_ref().map(address),
        lines: o.lines.iter().map(order_line).collect(),
        custom_attributes: fields(&o.custom_attributes),
        note: o.note.clone(),
        payment: payment(&o.payment),
        discounts: amounts(&o.discounts),
        coupon_codes: o.coupon_codes.iter().map(coupon_code).collect(),
        other_payments: amounts(&o.other_payments),
        taxes: amounts(&o.taxes),
    }
}

/// A client draft handed to a plugin.
pub(crate) fn client_draft(d: &ClientDraft) -> wit::ClientDraft {
    wit::ClientDraft {
        first_name: d.first_name.clone(),
        last_name: d.last_name.clone(),
        email: d.email.clone(),
        organization: d.organization.clone(),
        business_phone: d.business_phone.clone(),
        mobile_phone: d.mobile_phone.clone(),
        street: d.street.clone(),
        street2: d.street2.clone(),
        city: d.city.clone(),
        province: d.province.clone(),
        postal_code: d.postal_code.clone(),
        country: d.country.clone(),
        vat_name: d.vat_name.clone(),
        vat_number: d.vat_number.clone(),
        currency_code: d.currency_code.as_ref().map(|c| c.as_str().to_string()),
        note: d.note.clone(),
    }
}

fn line_tax(t: &LineTax) -> wit::LineTax {
    wit::LineTax {
        name: t.name.clone(),
        percent: t.percent.to_string(),
    }
}

/// An item draft handed to a plugin.
pub(crate) fn item_draft(d: &ItemDraft) -> wit::ItemDraft {
    wit::ItemDraft {
        name: d.name.clone(),
        description: d.description.clone(),
        sku: d.sku.clone(),
        unit_cost: money(&d.unit_cost),
        taxable: d.taxable,
        tax: d.tax.as_ref().map(line_tax),
    }
}

/// An invoice draft handed to a plugin.
pub(crate) fn invoice_draft(d: &InvoiceDraft) -> wit::InvoiceDraft {
    wit::InvoiceDraft {
        create_date: d.create_date.to_string(),
        due_offset_days: d.due_offset_days,
        currency_code: d.currency_code.as_str().to_string(),
        po_number: d.po_number.clone(),
        invoice_number: d.invoice_number.clone(),
        status: match d.status {
            InvoiceStatus::Draft => wit::InvoiceStatus::Draft,
            InvoiceStatus::Sent => wit::InvoiceStatus::Sent,
        },
        notes: d.notes.clone(),
        terms: d.terms.clone(),
        lines: d
            .lines
            .iter()
            .map(|l| wit::InvoiceLineDraft {
                name: l.name.clone(),
                description: l.description.clone(),
                quantity: l.quantity.to_string(),
                unit_cost: money(&l.unit_cost),
                tax1: l.tax1.as_ref().map(line_tax),
                tax2: l.tax2.as_ref().map(line_tax),
                sku: l.sku.clone(),
            })
            .collect(),
    }
}

/// Output checks shared by the `from_wit` conversions.
pub(crate) struct OutputCheck {
    max_bytes: usize,
    used: usize,
}

impl OutputCheck {
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self { max_bytes, used: 0 }
    }

    fn text(&mut self, field: &str, s: String) -> Result<String, String> {
        self.used += s.len();
        if self.used > self.max_bytes {
            return Err(format!(
                "output exceeds {} bytes (at `{field}`)",
                self.max_bytes
            ));
        }
        Ok(s)
    }

    fn decimal(&mut self, field: &str, s: &str) -> Result<Decimal, String> {
        Decimal::from_str(s.trim()).map_err(|_| format!("`{field}` is not a decimal"))
    }

    fn currency(&mut self, field: &str, s: &str) -> Result<CurrencyCode, String> {
        CurrencyCode::parse(s).map_err(|_| format!("`{field}` is not an ISO 4217 code"))
    }

    fn money(&mut self, field: &str, m: wit::Money) -> Result<Money, String> {
        Ok(Money {
            amount: self.decimal(field, &m.amount)?,
            code: self.currency(field, &m.code)?,
        })
    }

    fn tax(&mut self, field: &str, t: Option<wit::LineTax>) -> Result<Option<LineTax>, String> {
        t.map(|t| {
            Ok(LineTax {
                percent: self.decimal(field, &t.percent)?,
                name: self.text(field, t.name)?,
            })
        })
        .transpose()
    }

    /// A validation issue returned by a plugin, as (field, message).
    pub(crate) fn validation_issue(
        &mut self,
        i: wit::ValidationIssue,
    ) -> Result<(String, String), String> {
        Ok((
            self.text("issue.field", i.field)?,
            self.text("issue.message", i.message)?,
        ))
    }

    /// A client draft returned by a plugin.
    pub(crate) fn client_draft(&mut self, d: wit::ClientDraft) -> Result<ClientDraft, String> {
        Ok(ClientDraft {
            currency_code: d
                .currency_code
                .map(|c| self.currency("currency-code", &c))
                .transpose()?,
            first_name: self.text("first-name", d.first_name)?,
            last_name: self.text("last-name", d.last_name)?,
            email: self.text("email", d.email)?,
            organization: self.text("organization", d.organization)?,
            business_phone: self.text("business-phone", d.business_phone)?,
            mobile_phone: self.text("mobile-phone", d.mobile_phone)?,
            street: self.text("street", d.street)?,
            street2: self.text("street2", d.street2)?,
            city: self.text("city", d.city)?,
            province: self.text("province", d.province)?,
            postal_code: self.text("postal-code", d.postal_code)?,
            country: self.text("country", d.country)?,
            vat_name: self.text("vat-name", d.vat_name)?,
            vat_number: self.text("vat-number", d.vat_number)?,
            note: self.text("note", d.note)?,
        })
    }

    /// An item draft returned by a plugin.
    pub(crate) fn item_draft(&mut self, d: wit::ItemDraft) -> Result<ItemDraft, String> {
        Ok(ItemDraft {
            unit_cost: self.money("unit-cost", d.unit_cost)?,
            tax: self.tax("tax", d.tax)?,
            taxable: d.taxable,
            name: self.text("name", d.name)?,
            description: self.text("description", d.description)?,
            sku: self.text("sku", d.sku)?,
        })
    }

    /// An invoice draft returned by a plugin.
    pub(crate) fn invoice_draft(&mut self, d: wit::InvoiceDraft) -> Result<InvoiceDraft, String> {
        let create_date = Date::parse(&d.create_date, format_description!("[year]-[month]-[day]"))
            .map_err(|_| "`create-date` is not YYYY-MM-DD".to_string())?;
        let mut lines = Vec::with_capacity(d.lines.len());
        for (i, l) in d.lines.into_iter().enumerate() {
            lines.push(InvoiceLineDraft {
                quantity: self.decimal(&format!("lines[{i}].quantity"), &l.quantity)?,
                unit_cost: self.money(&format!("lines[{i}].unit-cost"), l.unit_cost)?,
                tax1: self.tax(&format!("lines[{i}].tax1"), l.tax1)?,
                tax2: self.tax(&format!("lines[{i}].tax2"), l.tax2)?,
                name: self.text("lines.name", l.name)?,
                description: self.text("lines.description", l.description)?,
                sku: self.text("lines.sku", l.sku)?,
            });
        }
        Ok(InvoiceDraft {
            create_date,
            due_offset_days: d.due_offset_days,
            currency_code: self.currency("currency-code", &d.currency_code)?,
            po_number: self.text("po-number", d.po_number)?,
            invoice_number: d
                .invoice_number
                .map(|n| self.text("invoice-number", n))
                .transpose()?,
            status: match d.status {
                wit::InvoiceStatus::Draft => InvoiceStatus::Draft,
                wit::InvoiceStatus::Sent => InvoiceStatus::Sent,
            },
            notes: self.text("notes", d.notes)?,
            terms: self.text("terms", d.terms)?,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> CurrencyCode {
        CurrencyCode::parse("USD").unwrap()
    }

    fn invoice() -> InvoiceDraft {
        InvoiceDraft {
            create_date: time::macros::date!(2026 - 11 - 25),
            due_offset_days: 30,
            currency_code: usd(),
            po_number: "PO-1".into(),
            invoice_number: None,
            status: InvoiceStatus::Draft,
            notes: "n".into(),
            terms: "t".into(),
            lines: vec![InvoiceLineDraft {
                name: "Mug".into(),
                description: String::new(),
                quantity: Decimal::from(2),
                unit_cost: Money::new(Decimal::from_str("9.50").unwrap(), usd()),
                tax1: Some(LineTax {
                    name: "VAT".into(),
                    percent: Decimal::from(20),
                }),
                tax2: None,
                sku: "MUG".into(),
            }],
        }
    }

    #[test]
    fn invoice_draft_round_trips_through_wit() {
        let d = invoice();
        let back = OutputCheck::new(1 << 20)
            .invoice_draft(invoice_draft(&d))
            .unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn an_order_carries_its_discounts_codes_gift_cards_and_line_guids() {
        let mut o = crate::fixtures::sample_order();
        let parent = uuid::Uuid::from_u128(0xA1);
        o.lines[0].guid = parent;
        o.lines[1].parent_guid = Some(parent);
        o.lines[1].discounts = vec![NamedAmount {
            name: "Buy 2 save".into(),
            amount: Decimal::from_str("2.50").unwrap(),
        }];
        o.discounts = vec![NamedAmount {
            name: "Welcome 10%".into(),
            amount: Decimal::from(3),
        }];
        o.coupon_codes = vec![CouponCode {
            code: "GIFT-1".into(),
            gift_card_value: Some(Decimal::from(10)),
        }];
        let w = order(&o);
        assert_eq!(w.lines[0].guid, parent.to_string());
        assert_eq!(w.lines[1].parent_guid, Some(parent.to_string()));
        assert_eq!(w.lines[0].parent_guid, None);
        assert_eq!(w.lines[1].discounts[0].amount, "2.50");
        assert_eq!(w.discounts[0].name, "Welcome 10%");
        assert_eq!(w.coupon_codes[0].gift_card_value.as_deref(), Some("10"));
    }

    #[test]
    fn oversized_or_malformed_output_is_refused_with_the_field() {
        let mut w = invoice_draft(&invoice());
        w.notes = "x".repeat(100);
        let e = OutputCheck::new(50).invoice_draft(w).unwrap_err();
        assert!(e.contains("exceeds 50 bytes"), "{e}");
        let mut w = invoice_draft(&invoice());
        w.lines[0].unit_cost.amount = "ten".into();
        let e = OutputCheck::new(1 << 20).invoice_draft(w).unwrap_err();
        assert!(e.contains("lines[0].unit-cost"), "{e}");
    }
}
