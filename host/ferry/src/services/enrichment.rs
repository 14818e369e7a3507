//! Enrichment lookups made by the host on behalf of a tenant's plugins (`enrich(kind, key)` in `wit/host.wit`).
//!
//! The host holds the tenant's API key and makes the call through the shared [`HttpClient`] (timeouts, a breaker
//! per tenant and downstream [`DOWNSTREAM`], in-call retries of the GET), bounded by one budget per lookup, and
//! reuses answers per (kind, key) for `cache_secs`. Plugins get name/value pairs or an error message; neither the
//! key nor a socket ever reaches them. The service contract is in `docs/enrichment.md`.

use ferry_outbound::{CallCtx, HttpClient};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Downstream name of enrichment calls: selects the breaker (per tenant) and labels the outbound metrics.
pub const DOWNSTREAM: &str = "enrichment";

/// Most (kind, key) answers kept per tenant; past this, expired and then oldest answers make room.
pub const CACHE_CAPACITY: usize = 10_000;

/// Longest kind or key accepted (a path segment each); longer ones are refused before any call.
const MAX_SEGMENT_LEN: usize = 512;

/// Name/value pairs as the plugin receives them.
pub type Attributes = Vec<(String, String)>;

/// Why a lookup gave no attributes. Messages go to the plugin: they never carry the API key.
#[derive(Debug, thiserror::Error)]
pub enum EnrichmentError {
    /// The configured base URL is not an absolute http(s) URL.
    #[error("enrichment base_url {url:?} is not an absolute http(s) url")]
    InvalidBaseUrl {
        /// The configured value.
        url: String,
    },
    /// The plugin asked with an empty or oversized kind or key.
    #[error("enrichment {field} must be 1 to {MAX_SEGMENT_LEN} characters")]
    InvalidRequest {
        /// `kind` or `key`.
        field: &'static str,
    },
    /// The service failed, refused or could not be reached (already retried where that helps).
    #[error(transparent)]
    Outbound(#[from] ferry_outbound::Error),
    /// The lookup, retries included, took longer than its budget.
    #[error("look up {kind} enrichment: no answer within {budget_ms} ms")]
    TimedOut {
        /// What was looked up.
        kind: String,
        /// The budget (`timeout_ms`).
        budget_ms: u64,
    },
    /// The reply was not `{"attributes": {…}}`.
    #[error("look up {kind} enrichment: malformed reply: {reason}")]
    Malformed {
        /// What was looked up.
        kind: String,
        /// What did not parse.
        reason: String,
    },
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

/// One tenant's enrichment service.
pub struct EnrichmentClient {
    http: HttpClient,
    ctx: CallCtx,
    base_url: reqwest::Url,
    api_key: SecretString,
    /// Budget of one lookup, retries included.
    budget: Duration,
    /// Answers per (kind, key). A mutex held only for map operations, never across the HTTP call, so concurrent
    /// hook calls of the tenant (one per event) do not wait on each other's lookups.
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for EnrichmentClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrichmentClient")
            .field("tenant", &self.ctx.tenant)
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl EnrichmentClient {
    /// A client for `tenant` from its `[tenants.enrichment]` section.
    ///
    /// # Errors
    /// [`EnrichmentError::InvalidBaseUrl`] when `base_url` is not an absolute http(s) URL.
    pub fn new(
        http: HttpClient,
        tenant: &str,
        config: &EnrichmentConfig,
    ) -> Result<Self, EnrichmentError> {
        let invalid = || EnrichmentError::InvalidBaseUrl {
            url: config.base_url.clone(),
        };
        let base_url = reqwest::Url::parse(&config.base_url).map_err(|_| invalid())?;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.cannot_be_a_base() {
            return Err(invalid());
        }
        Ok(Self {
            http,
            ctx: CallCtx::new(tenant, DOWNSTREAM),
            base_url,
            api_key: config.api_key.clone(),
            budget: Duration::from_millis(config.timeout_ms),
            cache: Mutex::new(Cache::new(
                Duration::from_secs(config.cache_secs),
                CACHE_CAPACITY,
            )),
        })
    }

    /// The attributes of `kind` for `key`, from the cache or the service.
    ///
    /// # Errors
    /// An [`EnrichmentError`] saying what failed; failures are not cached.
    pub async fn lookup(&self, kind: &str, key: &str) -> Result<Attributes, EnrichmentError> {
        for (field, value) in [("kind", kind), ("key", key)] {
            if value.is_empty() || value.len() > MAX_SEGMENT_LEN {
                return Err(EnrichmentError::InvalidRequest { field });
            }
        }
        if let Some(hit) = self.cache().get(kind, key, Instant::now()) {
            return Ok(hit);
        }
        let attributes = match tokio::time::timeout(self.budget, self.fetch(kind, key)).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(EnrichmentError::TimedOut {
                    kind: kind.to_owned(),
                    budget_ms: u64::try_from(self.budget.as_millis()).unwrap_or(u64::MAX),
                });
            }
        };
        self.cache()
            .insert(kind, key, attributes.clone(), Instant::now());
        Ok(attributes)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // The cache is plain data that every operation leaves consistent; a panic elsewhere does not spoil it.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn fetch(&self, kind: &str, key: &str) -> Result<Attributes, EnrichmentError> {
        let mut url = self.base_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["v1", kind, key]);
        }
        // The key (an e-mail) stays out of `what`, which starts error messages and log lines.
        let what = format!("look up {kind} enrichment");
        let request = self
            .http
            .http()
            .get(url)
            .bearer_auth(self.api_key.expose_secret())
            .timeout(self.budget);
        let reply = self.http.send(&self.ctx, &what, request).await?;
        parse_attributes(&reply.body).map_err(|reason| EnrichmentError::Malformed {
            kind: kind.to_owned(),
            reason,
        })
    }
}

/// `{"attributes": {…}}` → pairs sorted by name; strings as they are, numbers and booleans as their JSON text,
/// nulls and nested values left out.
fn parse_attributes(body: &[u8]) -> Result<Attributes, String> {
    #[derive(serde::Deserialize)]
    struct Reply {
        attributes: BTreeMap<String, serde_json::Value>,
    }
    let reply: Reply = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(reply
        .attributes
        .into_iter()
        .filter_map(|(name, value)| match value {
            serde_json::Value::String(s) => Some((name, s)),
            serde_json::Value::Number(n) => Some((name, n.to_string())),
            serde_json::Value::Bool(b) => Some((name, b.to_string())),
            _ => None,
        })
        .collect())
}

/// Answers per (kind, key) with their age; bounded.
struct Cache {
    ttl: Duration,
    capacity: usize,
    entries: HashMap<(String, String), (Instant, Attributes)>,
}

impl Cache {
    fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: HashMap::new(),
        }
    }

    fn get(&mut self, kind: &str, key: &str, now: Instant) -> Option<Attributes> {
        let k = (kind.to_owned(), key.to_owned());
        match self.entries.get(&k) {
            Some((at, attrs)) if now.duration_since(*at) < self.ttl => Some(attrs.clone()),
            Some(_) => {
                self.entries.remove(&k);
                None
            }
            None => None,
        }
    }

    fn insert(&mut self, kind: &str, key: &str, attributes: Attributes, now: Instant) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let k = (kind.to_owned(), key.to_owned());
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&k) {
            let ttl = self.ttl;
            self.entries
                .retain(|_, (at, _)| now.duration_since(*at) < ttl);
            if self.entries.len() >= self.capacity
                && let Some(oldest) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(k, (now, attributes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(segment: &str) -> Attributes {
        vec![("segment".to_owned(), segment.to_owned())]
    }

    #[test]
    fn answers_expire_after_the_ttl() {
        let mut cache = Cache::new(Duration::from_secs(60), 10);
        let t0 = Instant::now();
        cache.insert("segment", "a@x", pairs("vip"), t0);
        assert_eq!(
            cache.get("segment", "a@x", t0 + Duration::from_secs(59)),
            Some(pairs("vip"))
        );
        assert_eq!(
            cache.get("segment", "a@x", t0 + Duration::from_secs(60)),
            None
        );
        assert!(cache.entries.is_empty(), "an expired answer is dropped");
    }

    #[test]
    fn a_full_cache_drops_the_oldest_answer() {
        let mut cache = Cache::new(Duration::from_secs(60), 2);
        let t0 = Instant::now();
        cache.insert("segment", "a", pairs("new"), t0);
        cache.insert("segment", "b", pairs("new"), t0 + Duration::from_secs(1));
        cache.insert("segment", "c", pairs("new"), t0 + Duration::from_secs(2));
        assert_eq!(cache.entries.len(), 2);
        assert_eq!(cache.get("segment", "a", t0 + Duration::from_secs(3)), None);
        assert!(
            cache
                .get("segment", "c", t0 + Duration::from_secs(3))
                .is_some()
        );
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let mut cache = Cache::new(Duration::ZERO, 10);
        let t0 = Instant::now();
        cache.insert("segment", "a", pairs("new"), t0);
        assert_eq!(cache.get("segment", "a", t0), None);
    }

    #[test]
    fn attributes_are_sorted_and_scalar_values_become_text() {
        let body = br#"{"attributes": {"segment": "vip", "score": 7, "active": true, "none": null, "x": [1]}}"#;
        assert_eq!(
            parse_attributes(body).unwrap(),
            vec![
                ("active".to_owned(), "true".to_owned()),
                ("score".to_owned(), "7".to_owned()),
                ("segment".to_owned(), "vip".to_owned()),
            ]
        );
        assert!(parse_attributes(b"{\"segment\": \"vip\"}").is_err());
    }

    #[test]
    fn base_urls_must_be_absolute_http() {
        let http = HttpClient::new(&ferry_outbound::OutboundConfig::default()).unwrap();
        let config = |url: &str| EnrichmentConfig {
            base_url: url.to_owned(),
            api_key: SecretString::from("k".to_owned()),
            cache_secs: 60,
            timeout_ms: 100,
        };
        for bad in ["segments.example.com", "mailto:a@b", "ftp://x"] {
            assert!(
                EnrichmentClient::new(http.clone(), "t", &config(bad)).is_err(),
                "{bad}"
            );
        }
        assert!(EnrichmentClient::new(http, "t", &config("http://127.0.0.1:1/api/")).is_ok());
    }
}
