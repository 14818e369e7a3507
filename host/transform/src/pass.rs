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

/// Passes drafts through the plugins' `map-client`, `map-invoice` and `map-item` hooks.
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
    Ok(Drafts {
        client,
        items,
        invoice,
        payment: drafts.payment,
    })
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

