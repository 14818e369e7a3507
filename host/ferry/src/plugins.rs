//! The tenants' plugin chains: loading components from config, the host services they may call, and the
//! async wrappers the pipeline uses (hook calls are short CPU work, run on the blocking pool).

use crate::config::{PluginRuntimeConfig, TenantConfig};
use crate::enrichment::EnrichmentClient;
use crate::exchange::ExchangeClient;
use crate::pipeline::mapping::Drafts;
use anyhow::Context as _;
use ferry_model::{ClientDraft, CurrencyCode, Customer, Decimal, Order, TenantId};
use ferry_outbound::HttpClient;
use ferry_transform::{
    Chain, HostServices, PluginLimits, PluginRuntime, RuntimeConfig, TransformCtx, TransformError,
};
use std::collections::HashMap;
use std::sync::Arc;
use time::Date;

/// The one plugin runtime of this host, shared by every tenant.
pub struct PluginHost {
    runtime: PluginRuntime,
    exchange: Arc<ExchangeClient>,
    /// Carries the tenants' enrichment calls; shared with the app (see [`PluginHost::with_outbound`]) so their
    /// breakers sit with the other downstreams'.
    http: HttpClient,
    handle: tokio::runtime::Handle,
}

impl PluginHost {
    /// Starts the runtime (one engine, pooling allocator, on-disk compile cache).
    ///
    /// # Errors
    /// The runtime could not start (cache directory, engine configuration).
    pub fn new(
        config: &PluginRuntimeConfig,
        exchange: Arc<ExchangeClient>,
    ) -> anyhow::Result<Self> {
        let mut runtime_config = RuntimeConfig::new(config.cache_dir.clone());
        runtime_config.max_instances = config.max_instances;
        runtime_config.memory_limit_bytes = mib(config.max_memory_mib);
        let runtime = PluginRuntime::new(runtime_config)?;
        let http = HttpClient::new(&ferry_outbound::OutboundConfig::default())?;
        Ok(Self {
            runtime,
            exchange,
            http,
            handle: tokio::runtime::Handle::current(),
        })
    }

    /// Sends the tenants' enrichment calls through `http` (the app's outbound client, so that their breakers and
    /// metrics sit with the other downstreams') instead of a client with default settings.
    pub fn with_outbound(mut self, http: HttpClient) -> Self {
        self.http = http;
        self
    }

    /// The runtime, for uploads and `ferry plugin test`.
    pub fn runtime(&self) -> &PluginRuntime {
        &self.runtime
    }

    /// Loads a tenant's chain from the files its config names (compiled once per content hash).
    ///
    /// # Errors
    /// A plugin file is unreadable or not a valid component for our world (the error names it), or the tenant's
    /// enrichment section is invalid.
    pub fn chain_for(&self, tenant: &TenantConfig) -> anyhow::Result<TenantPlugins> {
        let mut handles = Vec::new();
        let mut settings = HashMap::new();
        for p in &tenant.plugins {
            let name = p
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&p.path)
                .with_context(|| format!("read plugin {}", p.path.display()))?;
            handles.push(self.runtime.load(&name, &bytes)?);
            for (k, v) in &p.settings {
                settings.insert((name.clone(), k.clone()), v.clone());
            }
        }
        let enrichment = tenant
            .enrichment
            .as_ref()
            .map(|e| EnrichmentClient::new(self.http.clone(), tenant.id.as_str(), e))
            .transpose()
            .with_context(|| format!("tenants.{}.enrichment", tenant.id))?;
        let services = Arc::new(TenantServices {
            settings,
            exchange: self.exchange.clone(),
            enrichment,
            handle: self.handle.clone(),
        });
        let limits = PluginLimits {
            fuel_per_call: Some(tenant.limits.plugin_fuel),
            memory_limit_bytes: Some(mib(tenant.limits.plugin_memory_mib)),
        };
        Ok(TenantPlugins {
            chain: Chain::new(handles),
            ctx: TransformCtx::new(tenant.id.clone(), services).with_limits(limits),
        })
    }
}

/// `n` MiB in bytes.
fn mib(n: u32) -> usize {
    usize::try_from(u64::from(n) << 20).unwrap_or(usize::MAX)
}

/// What a tenant's plugins may reach: their own settings, exchange rates, enrichment. Nothing else.
struct TenantServices {
    /// (plugin, key) → value, from the tenant's config.
    settings: HashMap<(String, String), String>,
    exchange: Arc<ExchangeClient>,
    /// The tenant's enrichment service with its key and cache; `None` when the tenant has none configured.
    enrichment: Option<EnrichmentClient>,
    /// Hook calls run on blocking threads; async lookups are driven on the app's runtime from there.
    handle: tokio::runtime::Handle,
}

impl HostServices for TenantServices {
    fn setting(&self, _tenant: &TenantId, plugin: &str, key: &str) -> Option<String> {
        self.settings
            .get(&(plugin.to_owned(), key.to_owned()))
            .cloned()
    }

    fn exchange_rate(
        &self,
        _tenant: &TenantId,
        base: &str,
        quote: &str,
        date: Date,
    ) -> Result<Decimal, String> {
        let from = CurrencyCode::parse(base).map_err(|e| e.to_string())?;
        let to = CurrencyCode::parse(quote).map_err(|e| e.to_string())?;
        self.handle
            .block_on(self.exchange.rate(&from, &to, date))
            .map(|(r, _)| r)
            .map_err(|e| e.to_string())
    }

    fn enrich(
        &self,
        tenant: &TenantId,
        kind: &str,
        key: &str,
    ) -> Result<Vec<(String, String)>, String> {
        let Some(enrichment) = &self.enrichment else {
            // A clear refusal, not silence: the plugin decides whether to carry on without the data.
            return Err(format!(
                "no {kind} enrichment provider is configured for this tenant"
            ));
        };
        // The key (an e-mail) and the API key stay out of the log; the error never carries either.
        self.handle
            .block_on(enrichment.lookup(kind, key))
            .map_err(|error| {
                tracing::warn!(%error, %tenant, kind, "Enrichment lookup failed.");
                error.to_string()
            })
    }
}

/// A tenant's plugin chain with its context.
#[derive(Clone)]
pub struct TenantPlugins {
    chain: Chain,
    ctx: TransformCtx,
}

impl TenantPlugins {
    /// A chain with no plugins (the default mapping goes through unchanged).
    pub fn empty(tenant: TenantId, services: Arc<dyn HostServices>) -> Self {
        Self {
            chain: Chain::new(Vec::new()),
            ctx: TransformCtx::new(tenant, services),
        }
    }

    /// How many plugins the chain has.
    pub fn len(&self) -> usize {
        self.chain.plugins().len()
    }

    /// The loaded plugins, in chain order.
    pub fn handles(&self) -> &[ferry_transform::PluginHandle] {
        self.chain.plugins()
    }

    /// Whether the chain is empty.
    pub fn is_empty(&self) -> bool {
        self.chain.plugins().is_empty()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Chain, &TransformCtx) -> Result<T, TransformError> + Send + 'static,
    ) -> Result<T, TransformError> {
        if self.is_empty() {
            // Nothing to run: skip the thread hop.
            return f(&self.chain, &self.ctx);
        }
        let (chain, ctx) = (self.chain.clone(), self.ctx.clone());
        match tokio::task::spawn_blocking(move || f(&chain, &ctx)).await {
            Ok(r) => r,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }

    /// The plugins' `validate-order` issues, as reasons.
    ///
    /// # Errors
    /// A plugin failed (trap, budget, malformed output).
    pub async fn validate_order(&self, order: &Order) -> Result<Vec<String>, TransformError> {
        let order = order.clone();
        let issues = self
            .blocking(move |c, ctx| c.validate_order(ctx, &order))
            .await?;
        Ok(issues
            .into_iter()
            .map(|i| format!("{} ({}): {}", i.message, i.field, i.plugin))
            .collect())
    }

    /// Runs `map-client`, `map-invoice` and `map-item` over the default drafts.
    ///
    /// # Errors
    /// A plugin failed or rejected the record.
    pub async fn shape_order(
        &self,
        order: &Order,
        drafts: Drafts,
    ) -> Result<Drafts, TransformError> {
        let order = order.clone();
        self.blocking(move |c, ctx| {
            // One instance per plugin for the whole event (not one per hook call): fresh for every event, so
            // nothing leaks between orders, and instantiated once however many lines the order has.
            let mut run = c.run(ctx);
            let client = run.map_client(&order.customer, drafts.client)?;
            let invoice = run.map_invoice(&order, drafts.invoice)?;
            let mut items = Vec::with_capacity(drafts.items.len());
            for item in drafts.items {
                let line = order.lines.iter().find(|l| {
                    l.sku_number == item.sku || format!("KENTICO-SKU-{}", l.sku_id) == item.sku
                });
                items.push(match line {
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
        })
        .await
    }

    /// Runs `map-client` for a customer update.
    ///
    /// # Errors
    /// A plugin failed or rejected the record.
    pub async fn shape_client(
        &self,
        customer: &Customer,
        draft: ClientDraft,
    ) -> Result<ClientDraft, TransformError> {
        let customer = customer.clone();
        self.blocking(move |c, ctx| c.map_client(ctx, &customer, draft))
            .await
    }
}
