//! Sandbox mode: the Kentico, FreshBooks, exchange-rate and segment-enrichment simulators on local ports, a FreshBooks account with
//! tokens ready, and the tenant configuration that points Ferry at them. `ferry sandbox` runs them until Ctrl-C
//! and writes a `ferry.toml` for `ferry serve`; the demo and the end-to-end tests start them in-process.

//!
//! Layout:
//! - `serve`: `ferry sandbox` (fixed ports until Ctrl-C) and its flags.
//! - `host_toml`: the `ferry.toml` a sandbox writes for `ferry serve`.
//! - `demo`: `ferry demo`, the end-to-end run under faults, and its report.
//! - `audit`: what FreshBooks holds against what Kentico placed, counted from the simulators.
//! - `catalogue`: the demo's Kentico SKUs against their FreshBooks items and stock, counted from the simulators.
//! - `writeback`: the demo's payments recorded in FreshBooks and carried back to Kentico, counted from the simulators.

pub mod audit;
pub mod catalogue;
pub mod demo;
mod host_toml;
mod serve;
pub mod writeback;

pub use demo::DemoArgs;
pub use host_toml::HostToml;
pub use serve::{SandboxArgs, run};

use crate::config::Config;
use crate::services::EnrichmentConfig;
use crate::tenants::{PluginConfig, TenantConfig, TenantLimits};
use ferry_extract::KenticoConfig;
use ferry_load::FreshBooksConfig;
use ferry_transform::MappingConfig;

use anyhow::Context as _;
use base64::Engine as _;
use ferry_model::TenantId;
use ferry_sim::enrichment::{EnrichmentHandle, EnrichmentSim, EnrichmentSimConfig};
use ferry_sim::exchange::{ExchangeHandle, ExchangeSim, ExchangeSimConfig};
use ferry_sim::freshbooks::{FreshBooksHandle, FreshBooksSim, FreshBooksSimConfig};
use ferry_sim::kentico::{KenticoHandle, KenticoSim, KenticoSimConfig};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::path::Path;

/// The OAuth app the sandbox's FreshBooks accepts.
pub const SANDBOX_CLIENT_ID: &str = "ferry-sandbox";
/// Its secret (a sandbox value, not a credential).
pub(crate) const SANDBOX_CLIENT_SECRET: &str = "ferry-sandbox-secret";
/// The API key the sandbox's enrichment service accepts (a sandbox value, not a credential).
pub(crate) const SANDBOX_ENRICHMENT_KEY: &str = "ferry-sandbox-enrichment-key";

/// Where and how to start the simulators.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Ports for Kentico, FreshBooks and the exchange-rate service (0 picks free ones).
    pub ports: [u16; 3],
    /// Port of the segment-enrichment service (0 picks a free one).
    pub enrichment_port: u16,
    /// Seed of the generated store and of every fault generator.
    pub seed: u64,
    /// Customers to seed the Kentico store with.
    pub customers: usize,
    /// Historical orders to seed (no webhooks are sent for them).
    pub orders: usize,
    /// FreshBooks business currency.
    pub base_currency: String,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            ports: [0; 3],
            enrichment_port: 0,
            seed: 1,
            customers: 25,
            orders: 0,
            base_currency: "USD".to_owned(),
        }
    }
}

/// The running simulators and the FreshBooks account made for the sandbox tenant.
pub struct Sandbox {
    /// Kentico Xperience 13 (REST under `/rest`, webhook sender).
    pub kentico: KenticoHandle,
    /// FreshBooks (OAuth + accounting API).
    pub freshbooks: FreshBooksHandle,
    /// ECB reference rates.
    pub exchange: ExchangeHandle,
    /// Marketing segments for the `enrich` host import (the sandbox tenant's enrichment service).
    pub enrichment: EnrichmentHandle,
    /// The FreshBooks account id of the sandbox business.
    pub account_id: String,
    /// The business owner's identity: what a person working in FreshBooks by hand acts as ([`Self::person_token`]).
    owner_identity: u64,
    /// A refresh token for it, issued as if the operator had connected the account.
    refresh_token: SecretString,
    /// The webhook signing secret the Kentico sender and Ferry share (`whsec_…`).
    webhook_secret: SecretString,
    /// Kentico REST credentials.
    kentico_login: (String, SecretString),
    base_currency: String,
}

impl Sandbox {
    /// Starts the simulators and creates the FreshBooks business with a token pair.
    ///
    /// # Errors
    /// A port could not be bound.
    pub async fn start(opts: &SandboxOptions) -> anyhow::Result<Self> {
        let kcfg = KenticoSimConfig {
            port: opts.ports[0],
            seed: opts.seed,
            customers: opts.customers,
            orders: opts.orders,
            ..KenticoSimConfig::default()
        };
        let kentico_login = (
            kcfg.username.clone(),
            SecretString::from(kcfg.password.clone()),
        );
        let kentico = KenticoSim::start(kcfg)
            .await
            .context("start the Kentico simulator")?;
        let freshbooks = FreshBooksSim::start(FreshBooksSimConfig {
            port: opts.ports[1],
            seed: opts.seed,
            auto_approve: true,
            client_credentials: Some((
                SANDBOX_CLIENT_ID.to_owned(),
                SANDBOX_CLIENT_SECRET.to_owned(),
            )),
            ..FreshBooksSimConfig::default()
        })
        .await
        .context("start the FreshBooks simulator")?;
        let exchange = ExchangeSim::start(ExchangeSimConfig {
            port: opts.ports[2],
            seed: opts.seed,
            ..ExchangeSimConfig::default()
        })
        .await
        .context("start the exchange-rate simulator")?;
        let enrichment = EnrichmentSim::start(EnrichmentSimConfig {
            port: opts.enrichment_port,
            seed: opts.seed,
            api_key: SANDBOX_ENRICHMENT_KEY.to_owned(),
        })
        .await
        .context("start the enrichment simulator")?;
        let (account, tokens) =
            freshbooks.create_account_with_tokens("Sandbox Coffee Co.", &opts.base_currency);
        Ok(Self {
            kentico,
            freshbooks,
            exchange,
            enrichment,
            account_id: account.account_id,
            owner_identity: account.identity_id,
            refresh_token: SecretString::from(tokens.refresh_token),
            webhook_secret: random_whsec(),
            kentico_login,
            base_currency: opts.base_currency.clone(),
        })
    }

    /// An access token of the business owner's own, apart from Ferry's: what a person changing FreshBooks by hand
    /// (deleting or editing an invoice, recording a payment) calls the API with.
    pub fn person_token(&self) -> Option<String> {
        self.freshbooks
            .issue_tokens(self.owner_identity)
            .map(|t| t.access_token)
    }

    /// The signing secret the Kentico simulator uses for this sandbox.
    pub fn webhook_secret(&self) -> &SecretString {
        &self.webhook_secret
    }

    /// Points the Kentico simulator's webhook sender at a Ferry host serving `tenant`.
    pub fn send_webhooks_to(&self, ferry_base_url: &str, tenant: &TenantId) {
        use secrecy::ExposeSecret;
        self.kentico
            .set_webhook(Some(ferry_sim::kentico::WebhookTarget {
                url: format!("{ferry_base_url}/hooks/kentico/{tenant}"),
                secret: self.webhook_secret.expose_secret().to_owned(),
            }));
    }

    /// A tenant wired to these simulators, with the given plugin chain.
    pub fn tenant_config(&self, id: TenantId, plugins: Vec<PluginConfig>) -> TenantConfig {
        TenantConfig {
            id,
            kentico: KenticoConfig {
                base_url: self.kentico.base_url(),
                username: self.kentico_login.0.clone(),
                password: self.kentico_login.1.clone(),
            },
            freshbooks: FreshBooksConfig {
                api_base: self.freshbooks.base_url(),
                auth_base: self.freshbooks.base_url(),
                account_id: self.account_id.clone(),
                client_id: SANDBOX_CLIENT_ID.to_owned(),
                client_secret: SecretString::from(SANDBOX_CLIENT_SECRET.to_owned()),
                redirect_uri: "http://127.0.0.1/oauth/callback".to_owned(),
                refresh_token: Some(self.refresh_token.clone()),
                base_currency: self.base_currency.clone(),
            },
            webhook_secrets: vec![self.webhook_secret.clone()],
            mapping: MappingConfig::default(),
            anomaly: ferry_transform::AnomalyConfig::default(),
            payments: ferry_extract::writeback::PaymentsConfig::default(),
            audit: crate::audit::AuditConfig::default(),
            catalogue: ferry_load::CatalogueConfig::default(),
            customers: ferry_load::CustomersConfig::default(),
            plugins,
            limits: TenantLimits::default(),
            alerts: ferry_alert::TenantAlertsConfig::default(),
            enrichment: Some(EnrichmentConfig {
                base_url: self.enrichment.base_url(),
                api_key: SecretString::from(SANDBOX_ENRICHMENT_KEY.to_owned()),
                cache_secs: EnrichmentConfig::DEFAULT_CACHE_SECS,
                timeout_ms: EnrichmentConfig::DEFAULT_TIMEOUT_MS,
            }),
        }
    }

    /// The body of `POST /admin/v1/tenants` that creates `c` (secrets in the clear, as an operator sends them):
    /// connections, webhook secrets and the concurrency limit, plus the refresh token and enrichment when set.
    pub fn tenant_request(c: &TenantConfig) -> serde_json::Value {
        use secrecy::ExposeSecret as _;
        let fb = &c.freshbooks;
        let mut body = serde_json::json!({
            "id": c.id.as_str(),
            "kentico": {
                "base_url": c.kentico.base_url,
                "username": c.kentico.username,
                "password": c.kentico.password.expose_secret(),
            },
            "freshbooks": {
                "api_base": fb.api_base,
                "auth_base": fb.auth_base,
                "account_id": fb.account_id,
                "client_id": fb.client_id,
                "client_secret": fb.client_secret.expose_secret(),
                "redirect_uri": fb.redirect_uri,
                "base_currency": fb.base_currency,
            },
            "webhook_secrets": c.webhook_secrets.iter().map(|s| s.expose_secret()).collect::<Vec<_>>(),
            "limits": { "concurrency": c.limits.concurrency },
        });
        if let Some(r) = &fb.refresh_token {
            body["freshbooks"]["refresh_token"] = serde_json::json!(r.expose_secret());
        }
        if let Some(e) = &c.enrichment {
            body["enrichment"] =
                serde_json::json!({ "base_url": e.base_url, "api_key": e.api_key.expose_secret() });
        }
        body
    }

    /// A host configuration serving one tenant on these simulators; the store file and plugin cache live in
    /// `data_dir`. Exchange rates come from the exchange simulator.
    pub fn host_config(&self, data_dir: &Path, tenant: TenantConfig) -> Config {
        let mut config = Config::default();
        config.server.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        config.store = ferry_store::StoreConfig::at(data_dir.join("ferry.db"));
        config.plugins.cache_dir = data_dir.join("plugin-cache");
        config.exchange.base_url = self.exchange.base_url();
        config.outbound.rate_limit = sandbox_rate_limit();
        config.secrets.master_keys = vec![ferry_secrets::Keyring::generate_encoded()];
        config.tenants = vec![tenant];
        config
    }

    /// The example plugin chain (custom fields, tax rules, segment enrichment) from `plugins_dir`, with settings
    /// that fit the simulator's seeded store.
    pub fn example_plugins(plugins_dir: &Path) -> Vec<PluginConfig> {
        let settings = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        vec![
            PluginConfig {
                path: plugins_dir.join("custom_fields.wasm"),
                settings: settings(&[
                    ("client-fields", "CustomerLoyaltyTier=note"),
                    ("invoice-note-attributes", "*"),
                    ("item-attributes", "*"),
                ]),
                version: None,
            },
            PluginConfig {
                path: plugins_dir.join("tax_rules.wasm"),
                settings: settings(&[
                    // Names per jurisdiction at Kentico's own rates, so the books keep the shop's tax.
                    ("home-country", "US"),
                    ("rule.Standard", "Sales Tax"),
                    ("rule.Standard.GB", "VAT"),
                    ("rule.Standard.DE", "MwSt"),
                    ("rule.Standard.CZ", "DPH"),
                    ("rule.Reduced", "Reduced Tax"),
                    ("rule.Exempt", "exempt"),
                ]),
                version: None,
            },
            PluginConfig {
                path: plugins_dir.join("enrich_segment.wasm"),
                settings: settings(&[("on-error", "ignore")]),
                version: None,
            },
        ]
    }

    /// Stops the simulators.
    pub fn shutdown(&self) {
        self.kentico.shutdown();
        self.exchange.shutdown();
        self.enrichment.shutdown();
    }
}

/// A fresh Standard Webhooks secret: `whsec_` and 32 random bytes in base64.
fn random_whsec() -> SecretString {
    let mut key = Vec::with_capacity(32);
    key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    SecretString::from(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
}

/// The outbound rate limit per FreshBooks account in the sandbox. The production default (5/s, polite to an API
/// that publishes no limit) would make the simulators, which have no limit of their own, the bottleneck of the
/// demo and the tests; the limiter stays on so the code path is exercised.
pub fn sandbox_rate_limit() -> ferry_outbound::RateLimitConfig {
    ferry_outbound::RateLimitConfig {
        per_second: 2_000,
        burst: 500,
    }
}
