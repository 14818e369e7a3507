//! A tenant's ordered plugin chain and the four hooks run through it.

use ferry_model::{ClientDraft, Customer, InvoiceDraft, ItemDraft, Order, OrderLine};

use wasmtime::Store;
use wasmtime::component::Instance;

use crate::context::{TransformCtx, failure};
use crate::convert::{self, OutputCheck};
use crate::error::{Hook, Reason, TransformError};
use crate::host::{PluginCtx, ValidationIssue};
use crate::invoke::EventStore;
use crate::runtime::PluginHandle;

/// A tenant's plugins in order; each hook passes the draft through every plugin that implements
/// it, in turn. The one-shot methods use a fresh instance per call; [`Chain::run`] shares one
/// instance per plugin across the hooks of one event.
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

    /// Whether any plugin of the chain implements one of `hooks`: when none does, running those hooks runs no
    /// plugin code at all (each passes the draft through untouched, without an instance).
    pub fn runs_any(&self, hooks: &[Hook]) -> bool {
        self.plugins
            .iter()
            .any(|p| hooks.iter().any(|&h| p.implements(h)))
    }

    /// Start one event's pass through the chain: each plugin is instantiated on first use and
    /// that instance serves every hook of this run; dropping the run drops the instances. Use one
    /// run per event (order) to pay instantiation once per plugin per event; never share a run
    /// between events or tenants, since guest state lives as long as the run.
    pub fn run<'a>(&'a self, ctx: &'a TransformCtx) -> ChainRun<'a> {
        ChainRun {
            chain: self,
            ctx,
            stores: Vec::new(),
            instances: self.plugins.iter().map(|_| None).collect(),
        }
    }

    /// Run `validate-order` on every plugin, each on a fresh instance, and collect their issues
    /// (empty = valid).
    ///
    /// # Errors
    /// The first plugin that traps, runs out of budget, returns oversized output or cannot be
    /// instantiated.
    pub fn validate_order(
        &self,
        ctx: &TransformCtx,
        order: &Order,
    ) -> Result<Vec<ValidationIssue>, TransformError> {
        self.run(ctx).validate_order(order)
    }

    /// Run `map-client` through the chain, each plugin on a fresh instance.
    ///
    /// # Errors
    /// The first plugin that rejects the customer, returns an invalid draft, traps or runs out of budget.
    pub fn map_client(
        &self,
        ctx: &TransformCtx,
        customer: &Customer,
        draft: ClientDraft,
    ) -> Result<ClientDraft, TransformError> {
        self.run(ctx).map_client(customer, draft)
    }

    /// Run `map-invoice` through the chain, each plugin on a fresh instance.
    ///
    /// # Errors
    /// The first plugin that rejects the order, returns an invalid draft, traps or runs out of budget.
    pub fn map_invoice(
        &self,
        ctx: &TransformCtx,
        order: &Order,
        draft: InvoiceDraft,
    ) -> Result<InvoiceDraft, TransformError> {
        self.run(ctx).map_invoice(order, draft)
    }

    /// Run `map-item` through the chain, each plugin on a fresh instance.
    ///
    /// # Errors
    /// The first plugin that rejects the line, returns an invalid draft, traps or runs out of budget.
    pub fn map_item(
        &self,
        ctx: &TransformCtx,
        line: &OrderLine,
        draft: ItemDraft,
    ) -> Result<ItemDraft, TransformError> {
        self.run(ctx).map_item(line, draft)
    }
}

/// One event's pass through a tenant's chain (see [`Chain::run`]): at most one live instance per
/// plugin, created on first use, all in the event's own store (one per engine), each with its
/// own memory cap and a CPU budget per call.
pub struct ChainRun<'a> {
    chain: &'a Chain,
    ctx: &'a TransformCtx,
    /// The event's stores, one per engine (normally one). A store a call failed in is replaced
    /// by a new one, and its instances go with it.
    stores: Vec<EventStore>,
    /// Instance per plugin, by chain position: the index of its store and its bindings.
    instances: Vec<Option<(usize, Instance)>>,
}

impl std::fmt::Debug for ChainRun<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainRun")
            .field("tenant", &self.ctx.tenant)
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

impl ChainRun<'_> {
    /// Chain positions of the plugins that implement `hook`, in order.
    fn implementing(&self, hook: Hook) -> Vec<usize> {
        (0..self.chain.plugins.len())
            .filter(|&i| self.chain.plugins[i].implements(hook))
            .collect()
    }

    /// Call `hook` on plugin `i` (instantiating it if needed).
    fn call<R>(
        &mut self,
        i: usize,
        hook: Hook,
        f: impl FnOnce(&Instance, &mut Store<PluginCtx>) -> wasmtime::Result<R>,
    ) -> Result<R, TransformError> {
        let plugin = &self.chain.plugins[i];
        debug_assert!(plugin.implements(hook));
        if self.instances[i].is_none() {
            let s = match self.stores.iter().position(|st| st.serves(plugin)) {
                Some(s) => s,
                None => {
                    self.stores.push(EventStore::new(&plugin.runtime, self.ctx));
                    self.stores.len() - 1
                }
            };
            match self.stores[s].instantiate(plugin, self.ctx, hook) {
                Ok(instance) => self.instances[i] = Some((s, instance)),
                Err(e) => {
                    self.reset_store(s);
                    return Err(e);
                }
            }
        }
        let Some((s, instance)) = &self.instances[i] else {
            unreachable!("plugin {i} was instantiated above")
        };
        let s = *s;
        let out = self.stores[s].call(plugin, instance, self.ctx, hook, f);
        if out.is_err() {
            self.reset_store(s);
        }
        out
    }

    /// Replace store `s` with a new one and forget every instance that lived in it; a store a
    /// call failed in may be poisoned (after a trap no instance in it can be entered again).
    fn reset_store(&mut self, s: usize) {
        for slot in &mut self.instances {
            if slot.as_ref().is_some_and(|(i, _)| *i == s) {
                *slot = None;
            }
        }
        self.stores[s] = EventStore::new(self.stores[s].runtime(), self.ctx);
    }

    /// Run `validate-order` on every plugin and collect their issues (empty = valid).
    ///
    /// # Errors
    /// The first plugin that traps, runs out of budget, returns oversized output or cannot be
    /// instantiated.
    pub fn validate_order(
        &mut self,
        order: &Order,
    ) -> Result<Vec<ValidationIssue>, TransformError> {
        let hook = Hook::ValidateOrder;
        let chain = self.chain;
        let plugins = self.implementing(hook);
        if plugins.is_empty() {
            return Ok(Vec::new());
        }
        let input = convert::order(order);
        let mut issues = Vec::new();
        for i in plugins {
            let exports = &chain.plugins[i].linked.exports;
            let found = self.call(i, hook, |inst, s| exports.validate_order(inst, s, &input))?;
            let p = &self.chain.plugins[i];
            let mut check = OutputCheck::new(p.runtime.config.max_output_bytes);
            for issue in found {
                let issue = check.validation_issue(issue).map_err(|detail| {
                    failure(self.ctx, p, hook, Reason::InvalidOutput { detail })
                })?;
                issues.push(ValidationIssue {
                    plugin: p.name().to_string(),
                    field: issue.0,
                    message: issue.1,
                });
            }
        }
        Ok(issues)
    }

    /// Run `map-client` through the chain.
    ///
    /// # Errors
    /// The first plugin that rejects the customer, returns an invalid draft, traps or runs out of budget.
    pub fn map_client(
        &mut self,
        customer: &Customer,
        mut draft: ClientDraft,
    ) -> Result<ClientDraft, TransformError> {
        let hook = Hook::MapClient;
        let chain = self.chain;
        let plugins = self.implementing(hook);
        if plugins.is_empty() {
            return Ok(draft);
        }
        let input = convert::customer(customer);
        for i in plugins {
            let wit_draft = convert::client_draft(&draft);
            let exports = &chain.plugins[i].linked.exports;
            let out = self.call(i, hook, |inst, s| {
                exports.map_client(inst, s, &input, &wit_draft)
            })?;
            draft = accept(self.ctx, &self.chain.plugins[i], hook, out, |c, d| {
                c.client_draft(d)
            })?;
        }
        Ok(draft)
    }

    /// Run `map-invoice` through the chain.
    ///
    /// # Errors
    /// The first plugin that rejects the order, returns an invalid draft, traps or runs out of budget.
    pub fn map_invoice(
        &mut self,
        order: &Order,
        mut draft: InvoiceDraft,
    ) -> Result<InvoiceDraft, TransformError> {
        let hook = Hook::MapInvoice;
        let chain = self.chain;
        let plugins = self.implementing(hook);
        if plugins.is_empty() {
            return Ok(draft);
        }
        let input = convert::order(order);
        for i in plugins {
            let wit_draft = convert::invoice_draft(&draft);
            let exports = &chain.plugins[i].linked.exports;
            let out = self.call(i, hook, |inst, s| {
                exports.map_invoice(inst, s, &input, &wit_draft)
            })?;
            draft = accept(self.ctx, &self.chain.plugins[i], hook, out, |c, d| {
                c.invoice_draft(d)
            })?;
        }
        Ok(draft)
    }

    /// Run `map-item` through the chain.
    ///
    /// # Errors
    /// The first plugin that rejects the line, returns an invalid draft, traps or runs out of budget.
    pub fn map_item(
        &mut self,
        line: &OrderLine,
        mut draft: ItemDraft,
    ) -> Result<ItemDraft, TransformError> {
        let hook = Hook::MapItem;
        let chain = self.chain;
        let plugins = self.implementing(hook);
        if plugins.is_empty() {
            return Ok(draft);
        }
        let input = convert::order_line(line);
        for i in plugins {
            let wit_draft = convert::item_draft(&draft);
            let exports = &chain.plugins[i].linked.exports;
            let out = self.call(i, hook, |inst, s| {
                exports.map_item(inst, s, &input, &wit_draft)
            })?;
            draft = accept(self.ctx, &self.chain.plugins[i], hook, out, |c, d| {
                c.item_draft(d)
            })?;
        }
        Ok(draft)
    }
}

/// Turn a plugin's `result<draft, transform-error>` into the next model draft.
fn accept<W, M>(
    ctx: &TransformCtx,
    p: &PluginHandle,
    hook: Hook,
    out: Result<W, crate::bindings::v0_2::types::TransformError>,
    check: impl FnOnce(&mut OutputCheck, W) -> Result<M, String>,
) -> Result<M, TransformError> {
    let err = |reason| failure(ctx, p, hook, reason);
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
