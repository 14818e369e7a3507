//! One tenant ready to run events ([`TenantRuntime`]: its clients, transform stage and settings, built once) and
//! the [`TenantFactory`] that builds them (at start for every tenant, and for tenants added through the admin API).

use super::TenantConfig;
use super::adapters::SealedTokenStore;
use super::plugins::{PluginHost, TenantPlugins};
use anyhow::Context as _;
use ferry_extract::KenticoClient;
use ferry_load::{FreshBooksClient, SyncOptions};
use ferry_model::{CurrencyCode, TenantId};
use ferry_outbound::HttpClient;
use ferry_secrets::Keyring;
use ferry_store::Store;
use secrecy::ExposeSecret;
use std::sync::Arc;

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
    /// The tenant's transform stage: mapping settings, validation rules and plugin chain.
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
        let kentico = config.kentico.client(http.clone(), id.as_str());
        let fb = &config.freshbooks;
        let tokens = SealedTokenStore::new(
            store.clone(),
            keyring.clone(),
            id.clone(),
            fb.account_id.clone(),
        );
        let freshbooks = fb.client(http.clone(), id.as_str(), Arc::new(tokens));
        let base_currency = CurrencyCode::parse(&fb.base_currency)
            .map_err(|e| anyhow::anyhow!("tenants.{id}.freshbooks.base_currency: {e}"))?;
        let sync = SyncOptions {
            unknown_sku: config.mapping.unknown_sku,
            default_item: config.mapping.default_item.clone(),
            sent_cancellation: config.mapping.sent_cancellation,
            paid_cancellation: config.mapping.paid_cancellation,
            paid_edit: config.mapping.paid_edit,
        };
        Ok(Self {
            id,
            config,
            webhook_keys,
            kentico,
            freshbooks,
            base_currency,
            plugins,
            sync,
        })
    }
}

impl TenantRuntime {
    /// A digest of the FreshBooks app credentials this tenant authorizes with (never the secret itself): a
    /// disconnection recorded under one digest is lifted when the tenant is built with another (a fixed secret).
    pub fn credentials_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let fb = &self.config.freshbooks;
        let mut h = Sha256::new();
        for part in [
            "ferry:freshbooks-credentials",
            fb.api_base.as_str(),
            fb.account_id.as_str(),
            fb.client_id.as_str(),
            fb.client_secret.expose_secret(),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
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

    /// The store tenants are built over.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The host's outbound client (its breakers are the admin API's breaker view).
    pub fn http(&self) -> &HttpClient {
        &self.http
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
        if self
            .store
            .reconnect_if_changed(&tenant.id, &tenant.credentials_digest())
            .await?
        {
            tracing::info!(tenant = %tenant.id, "FreshBooks app credentials changed; the disconnected tenant is tried again.");
        }
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
        // Stored only if still absent: another host may have seeded and rotated it since the read above.
        let set = ferry_store::TokenSet {
            // No access token yet: an empty one that has already expired forces a refresh on first use.
            access_token: self.keyring.seal(b""),
            refresh_token: self.keyring.seal(refresh.expose_secret().as_bytes()),
            expires_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        self.store.seed_tokens(&t.id, account, &set).await?;
        Ok(())
    }
}
