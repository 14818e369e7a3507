//! The tenants' transform stages: loading plugin components from config, the host services they may call, and
//! the async wrappers the pipeline uses around `ferry_transform`'s entry points (hook calls are short CPU work,
//! run on the blocking pool).

use super::TenantConfig;
use super::plugin_log::PluginLog;
use crate::services::{EnrichmentClient, ExchangeClient};
use anyhow::Context as _;
use ferry_model::{
    ClientDraft, Conversion, CurrencyCode, Customer, Decimal, Drafts, Order, TenantId,
};
use ferry_outbound::HttpClient;
use ferry_transform::{
    Chain, Hook, HostServices, LogLine, MappingConfig, PluginRuntime, PluginsConfig, TransformCtx,
    TransformError, ValidationRules,
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
    /// Where the tenants' plugin log lines are kept; `None`: the host's tracing log only.
    log: Option<PluginLog>,
}

impl PluginHost {
    /// Starts the runtime (one engine, pooling allocator, on-disk compile cache).
    ///
    /// # Errors
    /// The runtime could not start (cache directory, engine configuration).
    pub fn new(config: &PluginsConfig, exchange: Arc<ExchangeClient>) -> anyhow::Result<Self> {
        let runtime = PluginRuntime::new(config.runtime())?;
        let http = HttpClient::new(&ferry_outbound::OutboundConfig::default())?;
        Ok(Self {
            runtime,
            exchange,
            http,
            handle: tokio::runtime::Handle::current(),
            log: None,
        })
    }

    /// Keeps the lines plugins write while running a tenant's events in `log` (the tenant's plugin log), besides
    /// the host's tracing log.
    #[must_use]
    pub fn with_log(mut self, log: PluginLog) -> Self {
        self.log = Some(log);
        self
    }

    /// Sends the tenants' enrichment calls through `http` (the app's outbound client, so that their breakers and
    /// metrics sit with the other downstreams') instead of a client with default settings.
    pub fn with_outbound(mut self, http: HttpClient) -> Self {
        self.http = http;
        self
    }

    /// The exchange-rate client the plugins and the pipeline convert with.
    pub fn exchange(&self) -> &Arc<ExchangeClient> {
        &self.exchange
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
        let mut versions = HashMap::new();
        for p in &tenant.plugins {
            let name = p
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&p.path)
                .with_context(|| format!("read plugin {}", p.path.display()))?;
            handles.push(self.runtime.load(&name, &bytes)?);
            if let Some(v) = p.version {
                versions.insert(name.clone(), v);
            }
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
            log: self.log.clone(),
            versions,
        });
        Ok(TenantPlugins {
            chain: Chain::new(handles),
            ctx: TransformCtx::new(tenant.id.clone(), services)
                .with_limits(tenant.limits.plugin_limits()),
            mapping: Arc::new(tenant.mapping.clone()),
            rules: Arc::new(ValidationRules::for_mapping(&tenant.mapping)),
        })
    }
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
    /// The tenant's plugin log, if the host keeps one.
    log: Option<PluginLog>,
    /// Plugin name → the uploaded version in the chain (configured plugins have none), for the log.
    versions: HashMap<String, u32>,
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

    fn log(&self, line: &LogLine<'_>) {
        line.trace();
        if let Some(log) = &self.log {
            log.record(line, self.versions.get(line.plugin).copied());
        }
    }
}

/// A tenant's transform stage: its plugin chain with its context, its mapping settings and validation rules.
#[derive(Clone)]
pub struct TenantPlugins {
    chain: Chain,
    ctx: TransformCtx,
    mapping: Arc<MappingConfig>,
    rules: Arc<ValidationRules>,
}

impl TenantPlugins {
    /// How many plugins the chain has.
    pub fn len(&self) -> usize {
        self.chain.plugins().len()
    }

    /// The loaded plugins, in chain order.
    pub fn handles(&self) -> &[ferry_transform::PluginHandle] {
        self.chain.plugins()
    }

    /// The same stage for one stored event: its plugins' log lines name the event and are kept in the tenant's
    /// plugin log. Without it (previews), lines reach only the host's tracing log.
    #[must_use]
    pub fn for_event(&self, job: ferry_store::JobId) -> Self {
        Self {
            ctx: self.ctx.clone().with_event(job.to_string()),
            ..self.clone()
        }
    }

    /// Whether the chain is empty.
    pub fn is_empty(&self) -> bool {
        self.chain.plugins().is_empty()
    }

    /// Runs `f`, which runs `hooks` through the chain, on the blocking pool — inline when no plugin of the chain
    /// implements any of them: no plugin code runs then (an order's validation with a chain of mapping plugins,
    /// say), only the host's own rules and mapping, so a thread hop there and back would be all the cost.
    async fn blocking<T: Send + 'static>(
        &self,
        hooks: &[Hook],
        f: impl FnOnce(&Self) -> Result<T, TransformError> + Send + 'static,
    ) -> Result<T, TransformError> {
        if !self.chain.runs_any(hooks) {
            return f(self);
        }
        let this = self.clone();
        match tokio::task::spawn_blocking(move || f(&this)).await {
            Ok(r) => r,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }

    /// Every reason the order may not be sent ([`ferry_transform::validate`]).
    ///
    /// # Errors
    /// A plugin failed (trap, budget, malformed output).
    pub async fn validate(&self, order: &Order) -> Result<Vec<String>, TransformError> {
        let order = order.clone();
        self.blocking(&[Hook::ValidateOrder], move |t| {
            ferry_transform::validate(&t.chain, &t.ctx, &order, &t.rules)
        })
        .await
    }

    /// The FreshBooks drafts for an order ([`ferry_transform::run`]).
    ///
    /// # Errors
    /// A plugin failed or rejected the record.
    pub async fn run(
        &self,
        order: &Order,
        conversion: Option<Conversion>,
    ) -> Result<Drafts, TransformError> {
        let order = order.clone();
        self.blocking(
            &[Hook::MapClient, Hook::MapInvoice, Hook::MapItem],
            move |t| {
                ferry_transform::run(&t.chain, &t.ctx, &order, &t.mapping, conversion.as_ref())
            },
        )
        .await
    }

    /// The FreshBooks item for a catalogue SKU ([`ferry_transform::map_product`]).
    ///
    /// # Errors
    /// A plugin failed or rejected the record.
    pub async fn map_product(
        &self,
        product: &ferry_model::Product,
        conversion: Option<Conversion>,
    ) -> Result<ferry_model::ProductDraft, TransformError> {
        let product = product.clone();
        // `t`'s type spelled out: inferred, the closure is not general over its lifetime and the event's future
        // stops being `Send` ("implementation of `Send` is not general enough" at the worker's spawn).
        self.blocking(&[Hook::MapItem], move |t: &Self| {
            ferry_transform::map_product(&t.chain, &t.ctx, &product, conversion.as_ref())
        })
        .await
    }

    /// The client draft for a customer update ([`ferry_transform::map_customer`]).
    ///
    /// # Errors
    /// A plugin failed or rejected the record.
    pub async fn map_customer(
        &self,
        customer: &Customer,
        currency: &CurrencyCode,
    ) -> Result<ClientDraft, TransformError> {
        let (customer, currency) = (customer.clone(), currency.clone());
        self.blocking(&[Hook::MapClient], move |t| {
            ferry_transform::map_customer(&t.chain, &t.ctx, &customer, &currency)
        })
        .await
    }
}
