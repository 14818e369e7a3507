//! The configuration tree: read once in `main` (file + `FERRY_*` environment) and handed down as typed sections.
//!
//! Every field's doc comment is the operator's reference; `ferry.example.toml` shows a full file.

use ferry_model::{InvoiceStatus, TenantId};
use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP listener.
    #[serde(default)]
    pub server: ServerConfig,
    /// Durable store (SQLite file).
    #[serde(default)]
    pub store: ferry_store::StoreConfig,
    /// Webhook intake limits.
    #[serde(default)]
    pub ingest: ferry_ingest::IngestConfig,
    /// Timeouts, circuit breakers and rate limits of outbound calls.
    #[serde(default)]
    pub outbound: ferry_outbound::OutboundConfig,
    /// Worker pool and retry policy.
    #[serde(default)]
    pub worker: WorkerConfig,
    /// Exchange-rate service.
    #[serde(default)]
    pub exchange: ExchangeConfig,
    /// Master keys sealing secrets at rest.
    #[serde(default)]
    pub secrets: SecretsConfig,
    /// Plugin runtime.
    #[serde(default)]
    pub plugins: PluginRuntimeConfig,
    /// Admin API: per-token rate limit and plugin upload size limit.
    #[serde(default)]
    pub admin: crate::admin::AdminConfig,
    /// Tenants served by this host (on-prem; SaaS adds more through the admin API).
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
}

/// HTTP listener settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        }
    }
}

/// Master keys for sealing secrets (newest first). Usually given as `FERRY_MASTER_KEY` (comma-separated).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// 32-byte keys, hex or base64; the first seals, all open.
    #[serde(default)]
    pub master_keys: Vec<SecretString>,
    /// A file holding the keys, one per line (alternative to `master_keys`).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

/// Plugin runtime settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginRuntimeConfig {
    /// Directory for precompiled plugin artifacts.
    pub cache_dir: PathBuf,
    /// Plugin instances alive at once across all tenants (the pooling allocator's slots). An event that finds
    /// them all taken is retried later; size it to about `worker.concurrency` × the longest chain.
    pub max_instances: u32,
    /// Largest linear memory of one plugin instance, in MiB (the size of a pool slot). A tenant's
    /// `limits.plugin_memory_mib` above it is cut to it.
    pub max_memory_mib: u32,
}

impl Default for PluginRuntimeConfig {
    fn default() -> Self {
        Self {
            cache_dir: PathBuf::from(".ferry/plugin-cache"),
            max_instances: 64,
            max_memory_mib: 64,
        }
    }
}

/// Worker pool and retry policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// Concurrent events across all tenants.
    pub concurrency: usize,
    /// Attempts before an event is dead-lettered.
    pub max_attempts: u32,
    /// First retry delay in milliseconds (doubles each attempt, full jitter).
    pub backoff_base_ms: u64,
    /// Longest retry delay in milliseconds.
    pub backoff_max_ms: u64,
    /// How long a claimed event stays leased to one worker, in seconds.
    pub lease_secs: u64,
    /// Seconds between polling reconciliations per tenant (0 disables).
    pub reconcile_every_secs: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 16,
            max_attempts: 8,
            backoff_base_ms: 500,
            backoff_max_ms: 300_000,
            lease_secs: 60,
            reconcile_every_secs: 60,
        }
    }
}

/// Exchange-rate service (ECB `eurofxref` format).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeConfig {
    /// Base URL serving `/stats/eurofxref/…`.
    pub base_url: String,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        Self {
            base_url: "https://www.ecb.europa.eu".to_owned(),
        }
    }
}

/// One integration pair: a Kentico site and a FreshBooks account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Tenant id (appears in the webhook URL `/hooks/kentico/{id}`).
    pub id: TenantId,
    /// The Kentico side.
    pub kentico: KenticoConfig,
    /// The FreshBooks side.
    pub freshbooks: FreshBooksConfig,
    /// Webhook signing secrets (`whsec_…`); several at once during rotation.
    pub webhook_secrets: Vec<SecretString>,
    /// Mapping settings.
    #[serde(default)]
    pub mapping: MappingConfig,
    /// The plugin chain, run in order.
    #[serde(default)]
    pub plugins: Vec<PluginConfig>,
    /// Limits.
    #[serde(default)]
    pub limits: TenantLimits,
    /// The enrichment service the host calls for this tenant's plugins (`enrich`); without it they get a refusal.
    #[serde(default)]
    pub enrichment: Option<EnrichmentConfig>,
}

/// A tenant's enrichment service (`GET {base_url}/v1/{kind}/{key}`, see `docs/enrichment.md`). The host calls it
/// with the tenant's key on behalf of the plugins, which never see the key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichmentConfig {
    /// Base URL of the service.
    pub base_url: String,
    /// API key, sent as `Authorization: Bearer <api_key>`; never logged, never given to plugins.
    pub api_key: SecretString,
    /// Seconds an answer is reused per (kind, key); 0 disables the cache.
    #[serde(default = "EnrichmentConfig::default_cache_secs")]
    pub cache_secs: u64,
    /// Budget of one lookup in milliseconds, in-call retries included. Keep it below the plugin's per-call
    /// budget (2 s), or a slow service stops the plugin instead of failing the lookup.
    #[serde(default = "EnrichmentConfig::default_timeout_ms")]
    pub timeout_ms: u64,
}

impl EnrichmentConfig {
    /// An hour: segments change slowly, and a cached answer saves a call per order.
    pub const DEFAULT_CACHE_SECS: u64 = 3600;
    /// Leaves room for the plugin's own work inside its 2 s call budget.
    pub const DEFAULT_TIMEOUT_MS: u64 = 1500;

    fn default_cache_secs() -> u64 {
        Self::DEFAULT_CACHE_SECS
    }

    fn default_timeout_ms() -> u64 {
        Self::DEFAULT_TIMEOUT_MS
    }
}

/// Kentico REST service access.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KenticoConfig {
    /// Base URL of the admin application (the REST service is under `/rest`).
    pub base_url: String,
    /// Kentico user for HTTP Basic auth.
    pub username: String,
    /// Its password.
    pub password: SecretString,
}

/// FreshBooks account access.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshBooksConfig {
    /// API base URL (`https://api.freshbooks.com`).
    pub api_base: String,
    /// OAuth base URL (`https://auth.freshbooks.com` for the authorize page; the token endpoint is on `api_base`).
    pub auth_base: String,
    /// The FreshBooks account id (from `/auth/api/v1/users/me`).
    pub account_id: String,
    /// OAuth application client id.
    pub client_id: String,
    /// OAuth application client secret.
    pub client_secret: SecretString,
    /// OAuth redirect URI registered with the application.
    #[serde(default)]
    pub redirect_uri: String,
    /// Initial refresh token (after `ferry connect` the store keeps the rotated one).
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    /// The account's base currency; orders in another currency are converted.
    pub base_currency: String,
}

/// What to do with an order line whose SKU has no FreshBooks item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownSkuPolicy {
    /// Create the item in FreshBooks.
    CreateItem,
    /// Bill the line against the tenant's default item.
    DefaultItem,
}

/// Mapping settings for one tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MappingConfig {
    /// Kentico status code name → invoice status (unlisted statuses leave the invoice a draft).
    pub status_map: BTreeMap<String, InvoiceStatus>,
    /// Policy for SKUs with no FreshBooks item.
    pub unknown_sku: UnknownSkuPolicy,
    /// Name of the default item used by the `default_item` policy.
    pub default_item: String,
    /// Days until an invoice is due.
    pub due_offset_days: u32,
    /// Invoice terms text.
    pub terms: String,
    /// Name of the shipping line.
    pub shipping_line_name: String,
    /// Use the Kentico order number as the FreshBooks invoice number.
    pub use_kentico_invoice_number: bool,
    /// Kentico payment option display name → FreshBooks payment type.
    pub payment_types: BTreeMap<String, String>,
    /// FreshBooks payment type for unlisted payment options.
    pub default_payment_type: String,
    /// Percent a line price may stray from the catalogue price before the order is refused.
    pub price_tolerance_percent: u32,
}

impl Default for MappingConfig {
    fn default() -> Self {
        let status_map = [
            ("New", InvoiceStatus::Draft),
            ("Processing", InvoiceStatus::Sent),
            ("PaymentReceived", InvoiceStatus::Sent),
            ("Shipped", InvoiceStatus::Sent),
            ("Completed", InvoiceStatus::Sent),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let payment_types = [
            ("Credit card", "Credit Card"),
            ("Bank transfer", "Bank Transfer"),
            ("PayPal", "PayPal"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Self {
            status_map,
            unknown_sku: UnknownSkuPolicy::CreateItem,
            default_item: "Kentico product".to_owned(),
            due_offset_days: 30,
            terms: String::new(),
            shipping_line_name: "Shipping".to_owned(),
            use_kentico_invoice_number: false,
            payment_types,
            default_payment_type: "Credit Card".to_owned(),
            price_tolerance_percent: 50,
        }
    }
}

/// One plugin in a tenant's chain.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// Path of the `.wasm` component.
    pub path: PathBuf,
    /// Settings the plugin reads through `get-setting`.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

/// Per-tenant limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantLimits {
    /// Events of this tenant processed at once.
    pub concurrency: usize,
    /// Plugin fuel (about one per wasm instruction) per hook call; a call that burns it all fails the event.
    pub plugin_fuel: u64,
    /// Linear memory of each of the tenant's plugin instances, in MiB (at most `plugins.max_memory_mib`).
    pub plugin_memory_mib: u32,
}

impl Default for TenantLimits {
    fn default() -> Self {
        Self {
            concurrency: 4,
            plugin_fuel: 50_000_000,
            plugin_memory_mib: 64,
        }
    }
}

/// Reads the configuration file (when it exists) and applies `FERRY_*` environment overrides:
/// `FERRY_LISTEN`, `FERRY_DATABASE` (SQLite path), `FERRY_DATABASE_URL` (a `postgres://` URL: hosts share the
/// work), `FERRY_MASTER_KEY` (comma-separated keys, newest first).
///
/// # Errors
/// The file cannot be read, or a field is unknown or invalid (the error names it).
pub fn load(path: &std::path::Path) -> anyhow::Result<Config> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(anyhow::anyhow!("read {}: {e}", path.display())),
    };
    let mut config: Config =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if let Ok(listen) = std::env::var("FERRY_LISTEN") {
        config.server.listen = listen
            .parse()
            .map_err(|e| anyhow::anyhow!("FERRY_LISTEN: {e}"))?;
    }
    if let Ok(db) = std::env::var("FERRY_DATABASE") {
        config.store.path = PathBuf::from(db);
    }
    if let Ok(url) = std::env::var("FERRY_DATABASE_URL") {
        config.store.database_url = Some(SecretString::from(url));
    }
    if let Ok(keys) = std::env::var("FERRY_MASTER_KEY") {
        config.secrets.master_keys = keys
            .split(',')
            .map(|k| SecretString::from(k.trim().to_owned()))
            .collect();
    }
    // The same checks as a tenant added through the admin API, so a file tenant's mistake stops the host at start.
    for t in &config.tenants {
        crate::managed_tenants::validate(t).map_err(|e| {
            anyhow::anyhow!(
                "{}: tenants.{}.{}: {}",
                path.display(),
                t.id,
                e.field,
                e.message
            )
        })?;
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_named_in_the_error() {
        let err =
            toml::from_str::<Config>("[server]\nlisten = \"127.0.0.1:0\"\nport = 3\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `port`"), "{err}");
    }

    /// One tenant with only the fields that have no default.
    const MINIMAL_TENANT: &str = r#"
            [[tenants]]
            id = "acme"
            webhook_secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
            [tenants.kentico]
            base_url = "http://127.0.0.1:1"
            username = "admin"
            password = "pw"
            [tenants.freshbooks]
            api_base = "http://127.0.0.1:2"
            auth_base = "http://127.0.0.1:2"
            account_id = "AbC12"
            client_id = "cid"
            client_secret = "cs"
            base_currency = "USD"
            "#;

    #[test]
    fn a_minimal_tenant_gets_default_mapping() {
        let cfg: Config = toml::from_str(MINIMAL_TENANT).unwrap();
        let t = &cfg.tenants[0];
        assert_eq!(
            t.mapping.status_map.get("Processing"),
            Some(&InvoiceStatus::Sent)
        );
        assert_eq!(t.limits.concurrency, 4);
        assert!(t.enrichment.is_none());
    }

    #[test]
    fn a_file_tenant_is_checked_like_an_api_tenant_and_the_error_names_file_tenant_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ferry.toml");
        std::fs::write(&path, MINIMAL_TENANT).unwrap();
        load(&path).expect("a valid tenant loads");
        std::fs::write(
            &path,
            format!("{MINIMAL_TENANT}[tenants.limits]\nplugin_fuel = 0\n"),
        )
        .unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains("ferry.toml") && err.contains("tenants.acme.limits.plugin_fuel"),
            "{err}"
        );
    }

    #[test]
    fn the_example_file_parses_with_its_enrichment_section() {
        let cfg: Config = toml::from_str(include_str!("../../../ferry.example.toml")).unwrap();
        for t in &cfg.tenants {
            crate::managed_tenants::validate(t).unwrap();
        }
        let e = cfg.tenants[0].enrichment.as_ref().unwrap();
        assert_eq!(e.base_url, "https://segments.example.com");
    }

    #[test]
    fn an_enrichment_section_gets_default_cache_and_timeout() {
        let e: EnrichmentConfig =
            toml::from_str("base_url = \"http://127.0.0.1:3\"\napi_key = \"k\"\n").unwrap();
        assert_eq!(e.cache_secs, EnrichmentConfig::DEFAULT_CACHE_SECS);
        assert_eq!(e.timeout_ms, EnrichmentConfig::DEFAULT_TIMEOUT_MS);
        assert!(
            !format!("{e:?}").contains("\"k\""),
            "the key is redacted in Debug"
        );
    }
}
