//! The plan of a tenant's plugin chain: its configured plugins in the configuration's order, then its uploaded
//! plugins with an active version in their stored order, an upload named after a configured plugin taking that
//! one's place (see `chain` for the API that changes it). Pure: it reads what the store and the configuration say.

use crate::tenants::{PluginConfig, TenantConfig};
use ferry_model::TenantId;
use ferry_store::{ChainEntry, PluginVersion, Store};
use std::collections::BTreeMap;
use std::path::Path;

/// What the store says about a tenant's uploaded plugins: the active versions and the stored order with settings.
#[derive(Debug, Clone, Default)]
pub(super) struct StoredChain {
    /// The active version of each uploaded plugin that has one.
    pub(super) active: Vec<PluginVersion>,
    /// Every uploaded name in chain order, active or not, with the settings given through the API.
    pub(super) order: Vec<ChainEntry>,
}

impl StoredChain {
    /// Reads the tenant's active versions and stored order.
    ///
    /// # Errors
    /// A store read failed.
    pub(super) async fn load(store: &Store, tenant: &TenantId) -> ferry_store::Result<Self> {
        Ok(Self {
            active: store.active_plugins(tenant).await?,
            order: store.plugin_chain(tenant).await?,
        })
    }

    /// The settings given through the API to uploaded plugin `name`, if any.
    pub(super) fn settings_of(&self, name: &str) -> Option<BTreeMap<String, String>> {
        self.order
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.settings.clone())
    }

    /// `names` first in this order, the other stored names after them in their previous order (what
    /// [`Store::reorder_plugin_chain`] stores).
    pub(super) fn reorder(&mut self, names: &[String]) {
        let (mut first, rest): (Vec<ChainEntry>, Vec<ChainEntry>) =
            self.order.drain(..).partition(|e| names.contains(&e.name));
        first.sort_by_key(|e| names.iter().position(|n| *n == e.name));
        self.order = first.into_iter().chain(rest).collect();
        for (i, e) in self.order.iter_mut().enumerate() {
            e.position = i64::try_from(i).unwrap_or(i64::MAX - 1) + 1;
        }
    }
}

/// One plugin of a tenant's chain as it will run.
pub(super) struct Planned<'a> {
    /// Its name (a configured plugin's file stem, or the upload's name).
    pub(super) name: String,
    /// The configured plugin it is, or whose place it takes.
    pub(super) configured: Option<&'a PluginConfig>,
    /// The uploaded version that runs, if it is an upload.
    pub(super) version: Option<&'a PluginVersion>,
    /// What it reads through `get-setting`.
    pub(super) settings: BTreeMap<String, String>,
}

pub(super) fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The tenant's chain in the order it runs: configured plugins in their configured order (an active upload of the
/// same name in its place), then the other active uploads in stored order.
pub(super) fn plan<'a>(tenant: &'a TenantConfig, stored: &'a StoredChain) -> Vec<Planned<'a>> {
    let mut out: Vec<Planned<'a>> = tenant
        .plugins
        .iter()
        .map(|c| {
            let name = stem(&c.path);
            let version = stored.active.iter().find(|v| v.name == name);
            let settings = match version {
                Some(_) => stored
                    .settings_of(&name)
                    .unwrap_or_else(|| c.settings.clone()),
                None => c.settings.clone(),
            };
            Planned {
                name,
                configured: Some(c),
                version,
                settings,
            }
        })
        .collect();
    let place = |name: &str| {
        stored
            .order
            .iter()
            .position(|e| e.name == name)
            .unwrap_or(usize::MAX)
    };
    let mut rest: Vec<&PluginVersion> = stored
        .active
        .iter()
        .filter(|v| !out.iter().any(|p| p.name == v.name))
        .collect();
    // A version without a stored place (none should be) runs last, by name.
    rest.sort_by(|a, b| {
        place(&a.name)
            .cmp(&place(&b.name))
            .then_with(|| a.name.cmp(&b.name))
    });
    out.extend(rest.into_iter().map(|v| Planned {
        name: v.name.clone(),
        configured: None,
        version: Some(v),
        settings: stored.settings_of(&v.name).unwrap_or_default(),
    }));
    out
}
