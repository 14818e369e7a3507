//! A tenant's ordered plugin chain and the four hooks run through it.

use std::sync::Arc;

use ferry_model::{ClientDraft, Customer, InvoiceDraft, ItemDraft, Order, OrderLine, TenantId};

use crate::convert::{self, OutputCheck};
use crate::error::{Hook, Reason, TransformError};
use crate::host::{HostServices, ValidationIssue};
use crate::runtime::PluginHandle;

/// Who the chain runs for and what host services its plugins can reach.
#[derive(Clone)]
pub struct TransformCtx {
    /// Tenant whose chain runs; names errors and scopes settings.
    pub tenant: TenantId,
    /// Host imports (settings, exchange rates, enrichment, logs).
    pub services: Arc<dyn HostServices>,
}

impl TransformCtx {
    /// Context for `tenant` backed by `services`.
    pub fn new(tenant: TenantId, services: Arc<dyn HostServices>) -> Self {
        Self { tenant, services }
    }
}

/// A tenant's plugins in order; each hook passes the draft through every plugin in turn, each
/// on a fresh instance.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    plugins: Vec<PluginHandle>,
}

impl Chain {
    /// A chain of `plugins`, run first to last.
    pub fn new(plugins: Vec<PluginHandle>) -> Self {
        Self { plugins }
    }

    /// The plugins in order.
    pub fn plugins(&self) -> &[PluginHandle] {
        &self.plugins
    }

    /// Run `validate-order` on every plugin and collect their issues (empty = valid).
    ///
    /// # Errors
    /// The first plugin that traps, runs out of budget or cannot be instantiated.
    pub fn validate_order(
        &self,
        ctx: &TransformCtx,
        order: &Order,
    ) -> Result<Vec<ValidationIssue>, TransformError> {
        let hook = Hook::ValidateOrder;
        let input = convert::order(order);
        let mut issues = Vec::new();
        for p in &self.plugins {
            let found = p.instantiate(ctx, hook)?.call(ctx, hook, |t, s| {
                t.ferry_transform_transform().call_validate_order(s, &input)
            })?;
            issues.extend(found.into_iter().map(|i| ValidationIssue {
                plugin: p.name().to_string(),
                field: i.field,
                message: i.message,
            }));
        }
        Ok(issues)
    }

    /// Run `map-client` through the chain.
    ///
    /// # Errors
    /// The first plugin that rejects the customer, returns an invalid draft, traps or runs out of budget.
    pub fn map_client(
        &self,
        ctx: &TransformCtx,
        customer: &Customer,
        draft: ClientDraft,
    ) -> Result<ClientDraft, TransformError> {
        let hook = Hook::MapClient;
        let input = convert::customer(customer);
        self.plugins.iter().try_fold(draft, |draft, p| {
            let wit_draft = convert::client_draft(&draft);
            let out = p.instantiate(ctx, hook)?.call(ctx, hook, |t, s| {
                t.ferry_transform_transform()
                    .call_map_client(s, &input, &wit_draft)
            })?;
            accept(ctx, p, hook, out, |c, d| c.client_draft(d))
        })
    }

    /// Run `map-invoice` through the chain.
    ///
    /// # Errors
    /// The first plugin that rejects the order, returns an invalid draft, traps or runs out of budget.
    pub fn map_invoice(
        &self,
        ctx: &TransformCtx,
        order: &Order,
        draft: InvoiceDraft,
    ) -> Result<InvoiceDraft, TransformError> {
        let hook = Hook::MapInvoice;
        let input = convert::order(order);
        self.plugins.iter().try_fold(draft, |draft, p| {
            let wit_draft = convert::invoice_draft(&draft);
            let out = p.instantiate(ctx, hook)?.call(ctx, hook, |t, s| {
                t.ferry_transform_transform()
                    .call_map_invoice(s, &input, &wit_draft)
            })?;
            accept(ctx, p, hook, out, |c, d| c.invoice_draft(d))
        })
    }

    /// Run `map-item` through the chain.
    ///
    /// # Errors
    /// The first plugin that rejects the line, returns an invalid draft, traps or runs out of budget.
    pub fn map_item(
        &self,
        ctx: &TransformCtx,
        line: &OrderLine,
        draft: ItemDraft,
    ) -> Result<ItemDraft, TransformError> {
        let hook = Hook::MapItem;
        let input = convert::order_line(line);
        self.plugins.iter().try_fold(draft, |draft, p| {
            let wit_draft = convert::item_draft(&draft);
            let out = p.instantiate(ctx, hook)?.call(ctx, hook, |t, s| {
                t.ferry_transform_transform()
                    .call_map_item(s, &input, &wit_draft)
            })?;
            accept(ctx, p, hook, out, |c, d| c.item_draft(d))
        })
    }
}

/// Turn a plugin's `result<draft, transform-error>` into the next model draft.
fn accept<W, M>(
    ctx: &TransformCtx,
    p: &PluginHandle,
    hook: Hook,
    out: Result<W, crate::bindings::v0_1::types::TransformError>,
    check: impl FnOnce(&mut OutputCheck, W) -> Result<M, String>,
) -> Result<M, TransformError> {
    let err = |reason| TransformError {
        tenant: ctx.tenant.clone(),
        plugin: p.name().to_string(),
        hook,
        reason,
    };
    let draft = out.map_err(|e| {
        err(Reason::Rejected {
            code: e.code,
            message: e.message,
        })
    })?;
    check(
        &mut OutputCheck::new(p.runtime.config.max_output_bytes),
        draft,
    )
    .map_err(|detail| err(Reason::InvalidOutput { detail }))
}
