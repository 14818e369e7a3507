//! Kentico tax classes to FreshBooks taxes, per destination country and state.
//!
//! Settings: `rule.<TAXCLASS>[.<COUNTRY>[.<STATE>]]` = `exempt`, `<Tax name>:<percent>`, or `<Tax name>`
//! alone (Kentico's own rate for the destination under that name); the most specific key wins. A line
//! that discounts others (no SKU of its own, taxed like what it discounts) follows the rule of the lines
//! whose tax it carries, so the books keep Kentico's tax to the cent. Items (catalogue entries, no destination) use `home-country` / `home-state`.
//! Invoice lines use the shipping address, else billing, else the customer's address. A tax class
//! with `zero-if-tax-id` is exempt when the customer has a tax registration id.
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;
use ferry_plugin_sdk::{
    InvoiceDraft, ItemDraft, LineTax, Order, OrderLine, TaxClass, Transform, TransformError, host,
    reject,
};

enum Rule {
    Exempt,
    Tax(LineTax),
}

fn rule(class: &TaxClass, country: &str, state: &str) -> Result<Option<Rule>, TransformError> {
    rule_for(class, country, state).map(|r| match r {
        // `<Tax name>` alone: Kentico's rate at the destination, under the tenant's name.
        Some(Rule::Tax(tax)) if tax.percent.is_empty() => match &class.rate_percent {
            Some(rate) => Some(Rule::Tax(LineTax {
                name: tax.name,
                percent: rate.clone(),
            })),
            None => None,
        },
        other => other,
    })
}

fn rule_for(class: &TaxClass, country: &str, state: &str) -> Result<Option<Rule>, TransformError> {
    let keys = [
        format!("rule.{}.{country}.{state}", class.code),
        format!("rule.{}.{country}", class.code),
        format!("rule.{}", class.code),
    ];
    let Some(value) = keys.iter().find_map(|k| host::get_setting(k)) else {
        return Ok(None);
    };
    if value.trim() == "exempt" {
        return Ok(Some(Rule::Exempt));
    }
    let (name, percent) = value.rsplit_once(':').unwrap_or((value.as_str(), ""));
    if name.trim().is_empty() {
        return Err(reject(
            "bad-setting",
            format!("tax rule `{value}` is not `name[:percent]` or `exempt`"),
        ));
    }
    Ok(Some(Rule::Tax(LineTax {
        name: name.trim().to_string(),
        percent: percent.trim().to_string(),
    })))
}

/// The same tax: name and percentage.
fn same(a: &Option<LineTax>, b: &Option<LineTax>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.name == b.name && a.percent == b.percent,
        (None, None) => true,
        _ => false,
    }
}

struct TaxRules;
impl Transform for TaxRules {
    fn map_item(line: OrderLine, mut draft: ItemDraft) -> Result<ItemDraft, TransformError> {
        let Some(class) = &line.tax_class else {
            return Ok(draft);
        };
        let country = host::get_setting("home-country").unwrap_or_default();
        let state = host::get_setting("home-state").unwrap_or_default();
        match rule(class, &country, &state)? {
            Some(Rule::Exempt) => {
                draft.taxable = false;
                draft.tax = None;
            }
            Some(Rule::Tax(tax)) => {
                draft.taxable = true;
                draft.tax = Some(tax);
            }
            None => {}
        }
        Ok(draft)
    }

    fn map_invoice(order: Order, mut draft: InvoiceDraft) -> Result<InvoiceDraft, TransformError> {
        let addr = order
            .shipping_address
            .as_ref()
            .or(order.billing_address.as_ref())
            .or(order.customer.address.as_ref());
        let (country, state) = addr
            .map(|a| (a.country_code.as_str(), a.state_code.as_str()))
            .unwrap_or(("", ""));
        let has_tax_id = !order.customer.tax_registration_id.is_empty();
        // The tax each product line had before its rule, and what the rule made of it: discount lines carrying
        // the same tax get the same.
        let mut renamed: Vec<(Option<LineTax>, Option<LineTax>)> = Vec::new();
        for inv_line in &mut draft.lines {
            let class = order
                .lines
                .iter()
                .find(|l| !inv_line.sku.is_empty() && l.sku_number == inv_line.sku)
                .and_then(|l| l.tax_class.as_ref());
            let Some(class) = class else {
                if let Some((_, new)) = renamed.iter().find(|(old, _)| same(old, &inv_line.tax1)) {
                    inv_line.tax1 = new.clone();
                }
                continue;
            };
            let before = inv_line.tax1.clone();
            if class.zero_if_tax_id && has_tax_id {
                inv_line.tax1 = None;
            } else {
                match rule(class, country, state)? {
                    Some(Rule::Exempt) => inv_line.tax1 = None,
                    Some(Rule::Tax(tax)) => inv_line.tax1 = Some(tax),
                    None => {}
                }
            }
            if before.is_some() && !renamed.iter().any(|(old, _)| same(old, &before)) {
                renamed.push((before, inv_line.tax1.clone()));
            }
        }
        Ok(draft)
    }
}
ferry_plugin_sdk::export_transform!(TaxRules: map_invoice, map_item);
ferry_plugin_sdk::no_std_plugin!();
