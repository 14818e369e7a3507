//! One tenant's configuration (`[[tenants]]` in the file, or a tenant stored through the admin API): it composes
//! the stages' own sections (Kentico for extract, FreshBooks for load, mapping for transform) with the host's
//! plugin chain, limits and enrichment.

use ferry_model::TenantId;
use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One integration pair: a Kentico site and a FreshBooks account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Tenant id (appears in the webhook URL `/hooks/kentico/{id}`).
    pub id: TenantId,
    /// The Kentico side.
    pub kentico: ferry_extract::KenticoConfig,
    /// The FreshBooks side.
    pub freshbooks: ferry_load::FreshBooksConfig,
    /// Webhook signing secrets (`whsec_…`); several at once during rotation.
    pub webhook_secrets: Vec<SecretString>,
    /// Mapping settings.
    #[serde(default)]
    pub mapping: ferry_transform::MappingConfig,
    /// Anomaly checks that hold an unusual order for review (`[tenants.anomaly]`, off by default).
    #[serde(default)]
    pub anomaly: ferry_transform::AnomalyConfig,
    /// The plugin chain, run in order.
    #[serde(default)]
    pub plugins: Vec<PluginConfig>,
    /// Limits.
    #[serde(default)]
    pub limits: TenantLimits,
    /// Where the tenant's own alerts go (`[tenants.alerts]`; the operator's channels get them too). Sealed
    /// whole for a stored tenant: a Slack URL or SMTP URL is a credential.
    #[serde(default)]
    pub alerts: ferry_alert::TenantAlertsConfig,
    /// The enrichment service the host calls for this tenant's plugins (`enrich`); without it they get a refusal.
    #[serde(default)]
    pub enrichment: Option<crate::services::EnrichmentConfig>,
    /// Payments recorded in FreshBooks written back to Kentico (`[tenants.payments]`, off by default).
    #[serde(default)]
    pub payments: ferry_extract::writeback::PaymentsConfig,
    /// When the books audit runs on its own (`[tenants.audit]`, off by default).
    #[serde(default)]
    pub audit: crate::audit::AuditConfig,
    /// The catalogue sync: SKUs as FreshBooks items with their stock (`[tenants.catalogue]`, off by default).
    #[serde(default)]
    pub catalogue: ferry_load::CatalogueConfig,
    /// Whether customers get a FreshBooks client before their first order (`[tenants.customers]`).
    #[serde(default)]
    pub customers: ferry_load::CustomersConfig,
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
    /// The uploaded version this entry is, named in the plugin log; set by the admin API's chain, never in a file.
    #[serde(skip)]
    pub version: Option<u32>,
}

/// Per-tenant limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantLimits {
    /// Events of this tenant processed at once, at most: below it the tenant's window adapts to FreshBooks'
    /// budget (halved by a 429, grown back by about one per window of calls that succeed), and while a 429's
    /// `Retry-After` runs none of its events is claimed.
    pub concurrency: usize,
    /// Plugin fuel (about one per wasm instruction) per hook call; a call that burns it all fails the event.
    pub plugin_fuel: u64,
    /// Linear memory of each of the tenant's plugin instances, in MiB (at most `plugins.max_memory_mib`).
    pub plugin_memory_mib: u32,
}

impl TenantLimits {
    /// The budget each of the tenant's plugin calls gets.
    pub fn plugin_limits(&self) -> ferry_transform::PluginLimits {
        ferry_transform::PluginLimits {
            fuel_per_call: Some(self.plugin_fuel),
            memory_limit_bytes: Some(
                usize::try_from(u64::from(self.plugin_memory_mib) << 20).unwrap_or(usize::MAX),
            ),
        }
    }
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
