//! Settings-driven mapping of Kentico custom data onto FreshBooks drafts.
//!
//! Settings (all optional):
//! - `client-fields`: `KenticoField=target,...` where target is one of `note`, `vat-number`,
//!   `vat-name`, `organization`, `mobile-phone`, `business-phone`.
//! - `invoice-note-attributes`: `Name,...` or `*`: order custom attributes appended to invoice notes.
//! - `item-attributes`: `Name,...` or `*`: product attributes appended to the item description.
//! - `invoice-note-discounts`: `true` to append what the order saved and how it was paid to invoice notes, one
//!   line each: `Discount <name>: <amount> (on <product>)` per line discount, `Discount <name>: <amount>` per order
//!   discount, `Gift card <code>: <value>` per gift-card code and `Paid by <name>: <amount>` per gift card payment
//!   (contract 0.2.0: the order's discounts, coupon codes and other payments).
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use ferry_plugin_sdk::{
    ClientDraft, CustomField, Customer, InvoiceDraft, ItemDraft, Order, OrderLine, Transform,
    TransformError, append_line, host, reject,
};

fn selected<'a>(fields: &'a [CustomField], setting: &str) -> Vec<&'a CustomField> {
    match host::get_setting(setting) {
        None => Vec::new(),
        Some(list) if list.trim() == "*" => fields.iter().collect(),
        Some(list) => {
            let names: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            fields
                .iter()
                .filter(|f| names.contains(&f.name.as_str()) && !f.value.is_empty())
                .collect()
        }
    }
}

/// One note line per discount, gift-card code and gift-card payment of the order.
fn append_discounts(order: &Order, notes: &mut String) {
    for line in &order.lines {
        for d in &line.discounts {
            append_line(
                notes,
                &format!("Discount {}: {} (on {})", d.name, d.amount, line.name),
            );
        }
    }
    for d in &order.discounts {
        append_line(notes, &format!("Discount {}: {}", d.name, d.amount));
    }
    for c in &order.coupon_codes {
        if let Some(value) = &c.gift_card_value {
            append_line(notes, &format!("Gift card {}: {value}", c.code));
        }
    }
    for p in &order.other_payments {
        append_line(notes, &format!("Paid by {}: {}", p.name, p.amount));
    }
}

struct CustomFields;
impl Transform for CustomFields {
    fn map_client(
        customer: Customer,
        mut draft: ClientDraft,
    ) -> Result<ClientDraft, TransformError> {
        let Some(spec) = host::get_setting("client-fields") else {
            return Ok(draft);
        };
        for pair in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((source, target)) = pair.split_once('=') else {
                return Err(reject(
                    "bad-setting",
                    format!("client-fields entry `{pair}` is not Field=target"),
                ));
            };
            let Some(field) = customer
                .custom_fields
                .iter()
                .find(|f| f.name == source.trim())
            else {
                continue;
            };
            let value = field.value.clone();
            match target.trim() {
                "note" => append_line(&mut draft.note, &format!("{}: {value}", field.name)),
                "vat-number" => draft.vat_number = value,
                "vat-name" => draft.vat_name = value,
                "organization" => draft.organization = value,
                "mobile-phone" => draft.mobile_phone = value,
                "business-phone" => draft.business_phone = value,
                other => {
                    return Err(reject(
                        "bad-setting",
                        format!("unknown client field target `{other}`"),
                    ));
                }
            }
        }
        Ok(draft)
    }

    fn map_invoice(order: Order, mut draft: InvoiceDraft) -> Result<InvoiceDraft, TransformError> {
        for f in selected(&order.custom_attributes, "invoice-note-attributes") {
            append_line(&mut draft.notes, &format!("{}: {}", f.name, f.value));
        }
        if host::get_setting("invoice-note-discounts").is_some_and(|v| v.trim() == "true") {
            append_discounts(&order, &mut draft.notes);
        }
        Ok(draft)
    }

    fn map_item(line: OrderLine, mut draft: ItemDraft) -> Result<ItemDraft, TransformError> {
        let attrs: Vec<String> = selected(&line.attributes, "item-attributes")
            .iter()
            .map(|f| format!("{}: {}", f.name, f.value))
            .collect();
        if !attrs.is_empty() {
            let joined = attrs.join(", ");
            if draft.description.is_empty() {
                draft.description = joined;
            } else {
                draft.description = format!("{} ({joined})", draft.description);
            }
        }
        Ok(draft)
    }
}
ferry_plugin_sdk::export_transform!(CustomFields: map_client, map_invoice, map_item);
ferry_plugin_sdk::no_std_plugin!();
