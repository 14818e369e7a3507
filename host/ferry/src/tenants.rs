//! The tenants this host serves: their configuration, how each is built into a runtime (clients, transform stage,
//! settings), where stored tenants come from, and the registry the pipeline, intake and admin API read.
//!
//! Layout:
//! - `config`: [`TenantConfig`], composed of the stages' own sections, plus the plugin chain and limits.
//! - `validate`: the checks every tenant passes, from the file or the admin API, each naming its field.
//! - `stored`: tenants kept in the database (SaaS mode), with their secrets sealed.
//! - `runtime`: [`TenantRuntime`] and the [`TenantFactory`] that builds it.
//! - `plugins`: the plugin runtime ([`PluginHost`]) and each tenant's transform stage ([`TenantPlugins`]).
//! - `plugin_log`: the lines plugins write while running a tenant's events, kept in the store ([`PluginLog`]).
//! - `connections`: "Test connection", one read-only call to Kentico and to FreshBooks, reported in words.
//! - `adapters`: the store behind `load`'s ledger, its sealed token store and the shared rate budget.

pub mod adapters;
mod config;
pub mod connections;
pub mod plugin_log;
pub mod plugins;
mod runtime;
pub mod stored;
mod validate;

pub use config::{PluginConfig, TenantConfig, TenantLimits};
pub use plugin_log::PluginLog;
pub use plugins::{PluginHost, TenantPlugins};
pub use runtime::{TenantFactory, TenantRuntime};
pub use validate::{InvalidTenant, parse, validate};

use ferry_model::TenantId;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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
