//! The tenants this host serves, each with its clients, plugin chain and settings built once, and the
//! [`TenantFactory`] that builds them (at start for every tenant, and for tenants added through the admin API).

use crate::adapters::{SealedTokenStore, StoreLedger};
use crate::config::{TenantConfig, UnknownSkuPolicy};
use crate::pipeline::StepError;
use crate::pipeline::mapping::Drafts;
use crate::pipeline::validate::ValidationRules;
use crate::plugins::{PluginHost, TenantPlugins};
use crate::secrets::Keyring;
use anyhow::Context as _;
use ferry_extract::KenticoClient;
use ferry_load::{FreshBooksClient, OAuthApp, SyncOptions, Synced, UnknownSku};
use ferry_model::{CurrencyCode, Customer, Decimal, Order, TenantId};
use ferry_outbound::HttpClient;
use ferry_store::Store;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// One tenant, ready to run events.
pub struct TenantRuntime {
    /// The tenant id.
    pub id: TenantId,
    /// Its configuration.
    pub config: TenantConfig,
    /// Webhook secrets, decoded.
    pub webhook_keys: Vec<Vec<u8>>,
    /// Kentico REST client.
    pub kentico: KenticoClient,
    /// FreshBooks client (tokens sealed in the store).
    pub freshbooks: FreshBooksClient,
    /// The FreshBooks base currency.
    pub base_currency: CurrencyCode,
    /// Built-in validation thresholds.
    pub rules: ValidationRules,
    /// The tenant's plugin chain.
    pub plugins: TenantPlugins,
    /// Load settings.
    pub sync: SyncOptions,
}

impl TenantRuntime {
    /// Builds a tenant's clients from its config.
    ///
    /// # Errors
    /// A config value that does not parse (named), or a plugin that does not load.
    pub fn build(
        config: TenantConfig,
        http: &HttpClient,
        store: &Store,
        keyring: &Arc<Keyring>,
        plugins: TenantPlugins,
    ) -> anyhow::Result<Self> {
        let id = config.id.clone();
        let webhook_keys = config
            .webhook_secrets
            .iter()
            .map(|s| ferry_ingest::decode_whsec(s.expose_secret()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("tenants.{id}.webhook_secrets: {e}"))?;
        let kentico = KenticoClient::new(
            http.clone(),
            id.as_str(),
            &config.kentico.base_url,
            config.kentico.username.clone(),
            config.kentico.password.clone(),
        );
        let fb = &config.freshbooks;
        let tokens = SealedTokenStore::new(
            store.clone(),
            keyring.clone(),
            id.clone(),
            fb.account_id.clone(),
        );
        let app = OAuthApp {
            client_id: fb.client_id.clone(),
            client_secret: fb.client_secret.clone(),
            redirect_uri: fb.redirect_uri.clone(),
        };
        let freshbooks = FreshBooksClient::new(
            http.clone(),
            id.as_str(),
            &fb.api_base,
            &fb.auth_base,
            fb.account_id.clone(),
            app,
            Arc::new(tokens),
        );
        let base_currency = CurrencyCode::parse(&fb.base_currency)
            .map_err(|e| anyhow::anyhow!("tenants.{id}.freshbooks.base_currency: {e}"))?;
        let rules = ValidationRules {
            price_tolerance_percent: Decimal::from(config.mapping.price_tolerance_percent),
            ..ValidationRules::default()
        };
        let sync = SyncOptions {
            unknown_sku: match config.mapping.unknown_sku {
                UnknownSkuPolicy::CreateItem => UnknownSku::CreateItem,
                UnknownSkuPolicy::DefaultItem => UnknownSku::DefaultItem {
                    name: config.mapping.default_item.clone(),
                },
            },
        };
        Ok(Self {
            id,
            config,
            webhook_keys,
            kentico,
            freshbooks,
            base_currency,
            rules,
            plugins,
            sync,
        })
    }

    /// Runs the tenant's plugin chain over the default drafts.
    pub(crate) async fn transform(
        &self,
        order: &Order,
        drafts: Drafts,
    ) -> Result<Drafts, StepError> {
        self.plugins
            .shape_order(order, drafts)
            .await
            .map_err(StepError::from)
    }

    /// Writes an order into FreshBooks, exactly once.
    pub(crate) async fn load_order(
        &self,
        store: &Store,
        order: &Order,
        drafts: &Drafts,
    ) -> Result<Synced, ferry_load::Error> {
        let ledger = StoreLedger::new(store.clone(), self.id.clone());
        let drafts = ferry_load::Drafts {
            client: drafts.client.clone(),
            items: drafts.items.clone(),
            invoice: drafts.invoice.clone(),
            payment: drafts.payment.clone(),
        };
        ferry_load::sync_order(
            &self.freshbooks,
            &ledger,
            &self.id,
            order,
            &drafts,
            &self.sync,
        )
        .await
    }

    /// Updates the customer's FreshBooks client (none yet: nothing to do until their first order).
    pub(crate) async fn update_customer(
        &self,
        store: &Store,
        customer: &Customer,
    ) -> Result<Option<i64>, StepError> {
        let draft = crate::pipeline::mapping::client_draft(customer, None, &self.base_currency);
        let draft = self.plugins.shape_client(customer, draft).await?;
        let ledger = StoreLedger::new(store.clone(), self.id.clone());
        Ok(
            ferry_load::sync_customer(&self.freshbooks, &ledger, &self.id, customer, &draft)
                .await?,
        )
    }
}

/// What building a tenant takes: the shared outbound client, the store, the keyring and the plugin runtime.
#[derive(Clone)]
pub struct TenantFactory {
    http: HttpClient,
    store: Store,
    keyring: Arc<Keyring>,
    plugin_host: Arc<PluginHost>,
}

impl TenantFactory {
    /// A factory over the host's shared parts.
    pub fn new(
        http: HttpClient,
        store: Store,
        keyring: Arc<Keyring>,
        plugin_host: Arc<PluginHost>,
    ) -> Self {
        Self {
            http,
            store,
            keyring,
            plugin_host,
        }
    }

    /// The keyring that seals this host's secrets.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// The plugin runtime.
    pub fn plugin_host(&self) -> &Arc<PluginHost> {
        &self.plugin_host
    }

    /// Builds a tenant ready to serve: loads its plugin chain, builds its clients, and stores its configured
    /// refresh token (sealed) when the store has none for its account yet.
    ///
    /// # Errors
    /// A plugin that does not load, a config value that does not parse, or the store failed (each named).
    pub async fn build(&self, config: TenantConfig) -> anyhow::Result<TenantRuntime> {
        let host = self.plugin_host.clone();
        let for_plugins = config.clone();
        // Compiling components is CPU-bound work: keep it off the async workers.
        let plugins = tokio::task::spawn_blocking(move || host.chain_for(&for_plugins))
            .await
            .context("plugin load task")?
            .with_context(|| format!("load plugins of tenant {}", config.id))?;
        let tenant = TenantRuntime::build(config, &self.http, &self.store, &self.keyring, plugins)?;
        self.seed_tokens(&tenant.config).await?;
        Ok(tenant)
    }

    /// Stores a tenant's configured refresh token (sealed) when the store has none yet, e.g. on first start.
    async fn seed_tokens(&self, t: &TenantConfig) -> anyhow::Result<()> {
        let Some(refresh) = &t.freshbooks.refresh_token else {
            return Ok(());
        };
        let account = &t.freshbooks.account_id;
        if self.store.tokens(&t.id, account).await?.is_some() {
            return Ok(());
        }
        let set = ferry_store::TokenSet {
            // No access token yet: an empty one that has already expired forces a refresh on first use.
            access_token: self.keyring.seal(b""),
            refresh_token: self.keyring.seal(refresh.expose_secret().as_bytes()),
            expires_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        self.store.put_tokens(&t.id, account, &set).await?;
        Ok(())
    }
}

/// Every tenant this host serves; cheap to clone, swapped atomically on reconfiguration.
#[derive(Clone, Default)]
pub struct Tenants {
    inner: Arc<RwLock<HashMap<TenantId, Arc<TenantRuntime>>>>,
}

impl Tenants {
    /// Adds or replaces a tenant.
    pub fn insert(&self, tenant: TenantRuntime) {
        if let Ok(mut map) = self.inner.write() {
            map.insert(tenant.id.clone(), Arc::new(tenant));
        }
    }

    /// Removes a tenant.
    pub fn remove(&self, id: &TenantId) -> bool {
        self.inner
            .write()
            .map(|mut m| m.remove(id).is_some())
            .unwrap_or(false)
    }

    /// One tenant.
    pub fn get(&self, id: &TenantId) -> Option<Arc<TenantRuntime>> {
        self.inner.read().ok()?.get(id).cloned()
    }

    /// All tenants, in id order.
    pub fn all(&self) -> Vec<Arc<TenantRuntime>> {
        let mut all: Vec<_> = self
            .inner
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }
}

impl ferry_ingest::TenantSecrets for Tenants {
    fn secrets(&self, tenant: &TenantId) -> Option<Vec<Vec<u8>>> {
        self.get(tenant).map(|t| t.webhook_keys.clone())
    }
}
