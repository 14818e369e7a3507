//! The services the host app supplies to plugins.

use std::collections::HashMap;

use ferry_model::TenantId;
use rust_decimal::Decimal;
use time::Date;

/// Severity of a plugin log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Verbose diagnostics.
    Debug,
    /// Normal information.
    Info,
    /// Something odd but handled.
    Warn,
    /// A failure.
    Error,
}

/// Host side of the `host` WIT interface, implemented by the app.
///
/// Methods are synchronous because a hook call runs on a blocking thread; an implementation
/// that needs async I/O can use `tokio::runtime::Handle::block_on` there. Calls count against
/// the hook's wall-clock deadline, so implementations should apply their own timeouts.
pub trait HostServices: Send + Sync + 'static {
    /// A setting of `plugin` for `tenant` (`get-setting`).
    fn setting(&self, tenant: &TenantId, plugin: &str, key: &str) -> Option<String>;

    /// Units of `quote` per one unit of `base` on `date` (`exchange-rate`).
    ///
    /// # Errors
    /// A message the plugin sees when no rate is available.
    fn exchange_rate(
        &self,
        tenant: &TenantId,
        base: &str,
        quote: &str,
        date: Date,
    ) -> Result<Decimal, String>;

    /// Enrichment data of `kind` for `key`, fetched with the tenant's credentials (`enrich`).
    ///
    /// # Errors
    /// A message the plugin sees when the lookup fails; never include secrets.
    fn enrich(
        &self,
        tenant: &TenantId,
        kind: &str,
        key: &str,
    ) -> Result<Vec<(String, String)>, String>;

    /// A log line written by a plugin (`log`, or its stdout/stderr); by default to the host's tracing log.
    fn log(&self, line: &LogLine<'_>) {
        line.trace();
    }
}

/// One line a plugin wrote, with who wrote it and for which event.
#[derive(Debug, Clone, Copy)]
pub struct LogLine<'a> {
    /// The tenant whose chain ran.
    pub tenant: &'a TenantId,
    /// The plugin that wrote it.
    pub plugin: &'a str,
    /// The event the chain ran for ([`crate::TransformCtx::with_event`]); `None` for previews and tests.
    pub event: Option<&'a str>,
    /// Its severity (stdout is info, stderr warn).
    pub level: LogLevel,
    /// What the plugin wrote, as written.
    pub message: &'a str,
}

impl LogLine<'_> {
    /// Writes the line to the host's tracing log at its level.
    pub fn trace(&self) {
        let (tenant, plugin, event, msg) = (self.tenant, self.plugin, self.event, self.message);
        match self.level {
            LogLevel::Debug => tracing::debug!(%tenant, plugin, event, msg, "Plugin log."),
            LogLevel::Info => tracing::info!(%tenant, plugin, event, msg, "Plugin log."),
            LogLevel::Warn => tracing::warn!(%tenant, plugin, event, msg, "Plugin log."),
            LogLevel::Error => tracing::error!(%tenant, plugin, event, msg, "Plugin log."),
        }
    }
}

impl LogLevel {
    /// `debug`, `info`, `warn` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// In-memory [`HostServices`] for tests, benches and the sandbox demo.
#[derive(Debug, Default, Clone)]
pub struct StaticServices {
    /// (tenant, plugin, key) → value.
    settings: HashMap<(String, String, String), String>,
    /// (base, quote) → rate, any date.
    rates: HashMap<(String, String), Decimal>,
    /// (kind, key) → pairs; a missing entry is an error.
    enrichments: HashMap<(String, String), Vec<(String, String)>>,
}

impl StaticServices {
    /// Empty services: no settings, no rates, every enrichment fails.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a plugin setting for a tenant.
    pub fn with_setting(mut self, tenant: &str, plugin: &str, key: &str, value: &str) -> Self {
        self.settings
            .insert((tenant.into(), plugin.into(), key.into()), value.into());
        self
    }

    /// Add an exchange rate.
    pub fn with_rate(mut self, base: &str, quote: &str, rate: Decimal) -> Self {
        self.rates.insert((base.into(), quote.into()), rate);
        self
    }

    /// Add an enrichment answer.
    pub fn with_enrichment(mut self, kind: &str, key: &str, pairs: &[(&str, &str)]) -> Self {
        let pairs = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        self.enrichments.insert((kind.into(), key.into()), pairs);
        self
    }
}

impl HostServices for StaticServices {
    fn setting(&self, tenant: &TenantId, plugin: &str, key: &str) -> Option<String> {
        self.settings
            .get(&(
                tenant.as_str().to_string(),
                plugin.to_string(),
                key.to_string(),
            ))
            .cloned()
    }

    fn exchange_rate(
        &self,
        _tenant: &TenantId,
        base: &str,
        quote: &str,
        _date: Date,
    ) -> Result<Decimal, String> {
        self.rates
            .get(&(base.to_string(), quote.to_string()))
            .copied()
            .ok_or_else(|| format!("no rate {base}/{quote}"))
    }

    fn enrich(
        &self,
        _tenant: &TenantId,
        kind: &str,
        key: &str,
    ) -> Result<Vec<(String, String)>, String> {
        self.enrichments
            .get(&(kind.to_string(), key.to_string()))
            .cloned()
            .ok_or_else(|| format!("no {kind} for key"))
    }
}
