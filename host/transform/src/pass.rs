//! The stage's entry points: one order (or customer) through the default mapping and the tenant's plugin chain.
//!
//! The worker and `ferry plugin test` both come through here, so what a tenant previews is what it gets.

use crate::mapping::{self, MappingConfig, line_sku};
use crate::validate::{ValidationRules, validate_order};
use crate::{Chain, TransformCtx, TransformError};
use ferry_model::{ClientDraft, Conversion, CurrencyCode, Customer, Drafts, Order};

/// Every reason the order may not be sent: the built-in rules, then the plugins' `validate-order` issues.
///
/// # Errors
/// A plugin failed (trap, budget, malformed output).
pub fn validate(
    chain: &Chain,
    ctx: &TransformCtx,
    order: &Order,
    rules: &ValidationRules,
) -> Result<Vec<String>, TransformError> {
    let mut reasons = validate_order(order, rules);
    reasons.extend(
        chain
            .validate_order(ctx, order)?
            .into_iter()
            .map(|i| format!("{} ({}): {}", i.message, i.field, i.plugin)),
    );
    Ok(reasons)
}

/// The FreshBooks drafts for an order: the default mapping (converted when `conversion` is given), then the
/// tenant's plugins.
///
/// # Errors
/// A plugin failed or rejected the record.
pub fn run(
    chain: &Chain,
    ctx: &TransformCtx,
    order: &Order,
    mapping: &MappingConfig,
    conversion: Option<&Conversion>,
) -> Result<Drafts, TransformError> {
    shape(
        chain,
        ctx,
        order,
        mapping::default_drafts(order, mapping, conversion),
    )
}

/// Passes drafts through the plugins' `map-client`, `map-invoice` and `map-item` hooks, then settles the payment
/// against the shaped invoice ([`mapping::settle_payment`]: a plugin may have changed lines or taxes).
///
/// One instance per plugin for the whole event (not one per hook call): fresh for every event, so nothing leaks
/// between orders, and instantiated once however many lines the order has.
///
/// # Errors
/// A plugin failed or rejected the record.
pub fn shape(
    chain: &Chain,
    ctx: &TransformCtx,
    order: &Order,
    drafts: Drafts,
) -> Result<Drafts, TransformError> {
    let mut run = chain.run(ctx);
    let client = run.map_client(&order.customer, drafts.client)?;
    let invoice = run.map_invoice(order, drafts.invoice)?;
    let mut items = Vec::with_capacity(drafts.items.len());
    for item in drafts.items {
        items.push(match order.lines.iter().find(|l| line_sku(l) == item.sku) {
            Some(line) => run.map_item(line, item)?,
            None => item,
        });
    }
    let mut drafts = Drafts {
        client,
        items,
        invoice,
        payment: drafts.payment,
        gift_cards: drafts.gift_cards,
        cancelled: drafts.cancelled,
    };
    mapping::settle_payment(&mut drafts);
    Ok(drafts)
}

/// The client draft for a customer update: the default mapping, then the plugins' `map-client`.
///
/// # Errors
/// A plugin failed or rejected the record.
pub fn map_customer(
    chain: &Chain,
    ctx: &TransformCtx,
    customer: &Customer,
    currency: &CurrencyCode,
) -> Result<ClientDraft, TransformError> {
    chain.map_client(
        ctx,
        customer,
        mapping::client_draft(customer, None, currency),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::sample_order;
    use crate::{StaticServices, TransformCtx};
    use std::str::FromStr;
    use std::sync::Arc;

    fn dec(s: &str) -> ferry_model::Decimal {
        ferry_model::Decimal::from_str(s).unwrap()
    }

    #[test]
    fn a_paid_order_in_another_currency_settles_its_invoice_to_the_cent() {
        // At 0.8001 the lines, shipping and tax converted one by one come to 45.32, while 56.65 converted at once
        // is 45.33: paying the latter left FreshBooks with an overpayment (or, the other way round, 0.01 due).
        let conversion = Conversion {
            to: CurrencyCode::parse("EUR").unwrap(),
            rate: dec("0.8001"),
            date: time::macros::date!(2026 - 11 - 20),
        };
        let ctx = TransformCtx::new(
            ferry_model::TenantId::parse("t").unwrap(),
            Arc::new(StaticServices::new()),
        );
        let drafts = run(
            &Chain::new(Vec::new()),
            &ctx,
            &sample_order(),
            &MappingConfig::default(),
            Some(&conversion),
        )
        .unwrap();
        assert_eq!(drafts.invoice.amount(), dec("45.32"));
        assert_eq!(drafts.payment.unwrap().amount.amount, dec("45.32"));
    }
}
