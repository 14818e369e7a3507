//! The configuration tree: read once in `main` (file + `FERRY_*` environment) and handed down as typed sections.
//!
//! Every field's doc comment is the operator's reference; `ferry.example.toml` shows a full file. The sections of
//! the stages are theirs (`ferry_store::StoreConfig`, `ferry_transform::PluginsConfig`, a tenant's
//! `ferry_extract::KenticoConfig`, …); this module composes them with the host's own (server, worker, secrets).

use crate::admin::AdminConfig;
use crate::services::ExchangeConfig;
use crate::tenants::TenantConfig;
use secrecy::SecretString;
use serde::Deserialize;
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
    pub plugins: ferry_transform::PluginsConfig,
    /// Admin API: per-token rate limit and plugin upload size limit.
    #[serde(default)]
    pub admin: AdminConfig,
    /// Alerts: the operator's channels and when alerts fire (`[alerts]`).
    #[serde(default)]
    pub alerts: ferry_alert::AlertsConfig,
    /// Usage figures (orders synced, calls per tenant and day): how often counted calls are written.
    #[serde(default)]
    pub usage: crate::usage::UsageConfig,
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

/// Worker pool and retry policy. Every field has a default, so a `[worker]` section names only what it changes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Concurrent events across all tenants.
    pub concurrency: usize,
    /// Attempts before an event is dead-lettered.
    pub max_attempts: u32,
    /// First retry delay in milliseconds (doubles each attempt, full jitter).
    pub backoff_base_ms: u64,
    /// Longest retry delay in milliseconds.
    pub backoff_max_ms: u64,
    /// Times an order's FreshBooks writes run again within the event when FreshBooks failed in passing (a 5xx, a
    /// reset, a timeout) before the event goes back to the queue under the backoff above; 0 sends it back at once.
    /// The ledger makes the rerun safe: what is done is not redone, a write with an unknown outcome is searched for.
    pub load_retries: u32,
    /// Pause before such a rerun in milliseconds (full jitter; doubles each time, at most 4×). A `Retry-After`
    /// longer than 4× this sends the event back to the queue instead.
    pub load_retry_ms: u64,
    /// How long a claimed event stays leased to one worker, in seconds. The worker renews it every third of that
    /// while the event runs, so this only bounds how long a dead host's events wait before another host takes them
    /// (before: 60 s, and a dead host holding a tenant's every slot stalled it for a minute).
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
            load_retries: 2,
            load_retry_ms: 100,
            lease_secs: 15,
            reconcile_every_secs: 60,
        }
    }
}

/// The file read when neither `-c`/`--config` nor `FERRY_CONFIG` names one, relative to the working directory.
pub const DEFAULT_PATH: &str = "ferry.toml";

/// Reads the configuration from `path` when one is named (`-c`, `FERRY_CONFIG`), which must then exist; without one,
/// from [`DEFAULT_PATH`] when it exists, and otherwise from the environment alone (every section at its default).
///
/// # Errors
/// See [`load`]; a named file that does not exist is an error naming it.
pub fn load_named_or_default(path: Option<&std::path::Path>) -> anyhow::Result<Config> {
    match path {
        Some(path) => load(path),
        None => {
            let path = std::path::Path::new(DEFAULT_PATH);
            match std::fs::metadata(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => parse("", path),
                _ => load(path),
            }
        }
    }
}

/// Reads the configuration file `path` and applies `FERRY_*` environment overrides:
/// `FERRY_LISTEN`, `FERRY_DATABASE` (SQLite path), `FERRY_DATABASE_URL` (a `postgres://` URL: hosts share the
/// work), `FERRY_MASTER_KEY` (comma-separated keys, newest first).
///
/// # Errors
/// The file does not exist or cannot be read, or a field is unknown or invalid (the error names the file and the
/// field).
pub fn load(path: &std::path::Path) -> anyhow::Result<Config> {
    parse(&read(path)?, path)
}

/// The text of the configuration file `path`.
///
/// # Errors
/// The file does not exist (the error says it was named by `-c`/`FERRY_CONFIG`) or cannot be read.
pub(crate) fn read(path: &std::path::Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!(
                "config file {} does not exist (named by -c/--config or FERRY_CONFIG)",
                path.display()
            )
        }
        Err(e) => Err(anyhow::anyhow!("read config file {}: {e}", path.display())),
    }
}

/// Parses `text` (the contents of `path`, or empty for no file), applies the environment and checks the tenants;
/// every tenant problem is named, one per line.
fn parse(text: &str, path: &std::path::Path) -> anyhow::Result<Config> {
    let config = parse_unchecked(text, path)?;
    let problems = tenant_problems(&config, text, path);
    if !problems.is_empty() {
        anyhow::bail!("{}", problems.join("\n"));
    }
    Ok(config)
}

/// Parses `text` and applies the `FERRY_*` environment, without the tenant checks of [`tenant_problems`].
///
/// # Errors
/// The first field that is unknown or invalid (the error names the file and the field), or a `FERRY_*` variable
/// that does not parse.
pub(crate) fn parse_unchecked(text: &str, path: &std::path::Path) -> anyhow::Result<Config> {
    let mut config: Config =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
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
    if config.store.keep_done_days < 1 {
        anyhow::bail!(
            "{}: store.keep_done_days must be at least 1 (days a finished event is kept before it is purged), \
             not {}",
            path.display(),
            config.store.keep_done_days
        );
    }
    config
        .admin
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    config
        .alerts
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: alerts.{e}", path.display()))?;
    Ok(config)
}

/// Every problem with the file's tenants (`text` is the file, for line numbers): the same checks as a tenant added
/// through the admin API, so a file tenant's mistake stops the host at start, and ids declared twice.
pub(crate) fn tenant_problems(config: &Config, text: &str, path: &std::path::Path) -> Vec<String> {
    let mut problems: Vec<String> = config
        .tenants
        .iter()
        .filter_map(|t| {
            crate::tenants::validate(t).err().map(|e| {
                format!(
                    "{}: tenants.{}.{}: {}",
                    path.display(),
                    t.id,
                    e.field,
                    e.message
                )
            })
        })
        .collect();
    if let Err(e) = check_unique_tenant_ids(&config.tenants, text, path) {
        problems.push(e.to_string());
    }
    problems
}

/// Refuses a tenant id declared twice (the host would otherwise serve only one of the blocks), naming both blocks
/// by index and, when the file declares them as `[[tenants]]` headers, by line.
fn check_unique_tenant_ids(
    tenants: &[TenantConfig],
    text: &str,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let headers: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.split('#').next().unwrap_or_default();
            code.split_whitespace().collect::<String>() == "[[tenants]]"
        })
        .map(|(n, _)| n + 1)
        .collect();
    let place = |i: usize| match headers.get(i) {
        Some(line) if headers.len() == tenants.len() => format!("tenants[{i}] (line {line})"),
        _ => format!("tenants[{i}]"),
    };
    for (j, t) in tenants.iter().enumerate() {
        if let Some(i) = tenants[..j].iter().position(|first| first.id == t.id) {
            anyhow::bail!(
                "{}: tenant id {} is declared twice, in {} and {}; each tenant needs its own id",
                path.display(),
                t.id,
                place(i),
                place(j)
            );
        }
    }
    Ok(())
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
    fn keep_done_days_defaults_to_30_and_below_1_is_refused_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ferry.toml");
        std::fs::write(&path, "").unwrap();
        assert_eq!(load(&path).unwrap().store.keep_done_days, 30);
        for bad in ["0", "-3"] {
            std::fs::write(&path, format!("[store]\nkeep_done_days = {bad}\n")).unwrap();
            let err = load(&path).unwrap_err().to_string();
            assert!(
                err.contains("store.keep_done_days") && err.contains(bad),
                "{err}"
            );
        }
    }

    /// Loads `MINIMAL_TENANT` plus `extra` from a file, as `ferry serve` would.
    fn load_tenant(extra: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("ferry.toml");
        std::fs::write(&path, format!("{MINIMAL_TENANT}{extra}"))?;
        load(&path)
    }

    #[test]
    fn anomaly_checks_are_off_by_default_and_read_from_their_section() {
        let cfg = load_tenant("").unwrap();
        assert!(!cfg.tenants[0].anomaly.enabled);
        let cfg = load_tenant(
            "[tenants.anomaly]\nenabled = true\nmin_history = 10\namount_factor = 8\n\
             amount_deviations = 6.5\nmax_line_quantity = 100\n",
        )
        .unwrap();
        let a = &cfg.tenants[0].anomaly;
        assert!(a.enabled);
        assert_eq!(a.min_history, 10);
        assert_eq!(a.amount_factor, Some(8.into()));
        assert_eq!(
            a.amount_deviations.map(|d| d.to_string()).as_deref(),
            Some("6.5")
        );
        assert_eq!(a.max_line_quantity, Some(100));
    }

    #[test]
    fn an_invalid_anomaly_threshold_stops_the_host_naming_the_field() {
        let err = load_tenant("[tenants.anomaly]\namount_factor = 0.5\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tenants.acme.anomaly.amount_factor") && err.contains("more than 1"),
            "{err}"
        );
        let err = load_tenant("[tenants.anomaly]\nhistory = 10\nmin_history = 20\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("tenants.acme.anomaly.min_history"), "{err}");
        let err = load_tenant("[tenants.anomaly]\nfactor = 2\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("factor"), "an unknown field is refused: {err}");
    }

    #[test]
    fn a_bad_alert_channel_stops_the_host_naming_the_field() {
        let err = load_tenant(
            "[[tenants.alerts.channels]]\ntype = \"webhook\"\nurl = \"https://x.example\"\nsecret = \"whsec_%%\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("tenants.acme.alerts.channels[0].secret"),
            "{err}"
        );
        let err = load_tenant(
            "[alerts]\n[[alerts.channels]]\ntype = \"email\"\nsmtp_url = \"smtp://127.0.0.1:25\"\n\
             from = \"f@example.com\"\nto = []\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("alerts.channels[0].to"), "{err}");
    }

    #[test]
    fn a_minimal_tenant_gets_default_mapping() {
        use ferry_model::InvoiceStatus;
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
            crate::tenants::validate(t).unwrap();
        }
        let e = cfg.tenants[0].enrichment.as_ref().unwrap();
        assert_eq!(e.base_url, "https://segments.example.com");
    }

    #[test]
    fn an_enrichment_section_gets_default_cache_and_timeout() {
        let e: crate::services::EnrichmentConfig =
            toml::from_str("base_url = \"http://127.0.0.1:3\"\napi_key = \"k\"\n").unwrap();
        assert_eq!(
            e.cache_secs,
            crate::services::EnrichmentConfig::DEFAULT_CACHE_SECS
        );
        assert_eq!(
            e.timeout_ms,
            crate::services::EnrichmentConfig::DEFAULT_TIMEOUT_MS
        );
        assert!(
            !format!("{e:?}").contains("\"k\""),
            "the key is redacted in Debug"
        );
    }
}
