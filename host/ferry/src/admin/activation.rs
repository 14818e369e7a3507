//! Activation: a tenant's chain rebuilt with its active uploaded versions (written out of the store once per
//! content hash), loaded off the async workers and swapped in only when it loaded, so the previous chain keeps
//! serving until the new one is active; and the rule that only a `ready` version activates. Used by uploads
//! (`plugins`), the background compile once a version is ready (`compile`), the stored chain's edits (`chain`),
//! config sync and start-up.

use super::plan::{StoredChain, plan};
use super::{AdminState, ApiError, ErrorCode};
use crate::tenants::TenantPlugins;
use crate::tenants::TenantRuntime;
use crate::tenants::{PluginConfig, TenantConfig};
use anyhow::Context as _;
use ferry_store::{PluginState, PluginVersion};
use std::path::PathBuf;

/// Writes a stored component to `<uploads>/<hash>/<name>.wasm` (once) for the plugin host to load.
async fn materialize(state: &AdminState, v: &PluginVersion) -> anyhow::Result<PathBuf> {
    let dir = state.uploads_dir.join(&v.hash);
    let path = dir.join(format!("{}.wasm", v.name));
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(path);
    }
    let bytes = state.store.plugin_blob(&v.hash).await?;
    tokio::fs::create_dir_all(&dir)
        .await
        .with_context(|| format!("create {}", dir.display()))?;
    // Write then rename, so a concurrent reader never sees half a component.
    let partial = dir.join(format!(
        "{}.wasm.partial-{}",
        v.name,
        uuid::Uuid::new_v4().simple()
    ));
    tokio::fs::write(&partial, &bytes)
        .await
        .with_context(|| format!("write {}", partial.display()))?;
    tokio::fs::rename(&partial, &path)
        .await
        .with_context(|| format!("rename into {}", path.display()))?;
    Ok(path)
}

/// The tenant's chain with its active uploaded versions in place of (or after) its configured plugins, in the
/// order and with the settings [`super::chain::plan`] gives them.
pub(super) async fn build_chain(
    state: &AdminState,
    tenant: &TenantConfig,
    stored: &StoredChain,
) -> anyhow::Result<TenantPlugins> {
    let config = chain_config(state, tenant, stored).await?;
    load_chain(state, config).await
}

/// The tenant's configuration with its `plugins` replaced by the chain that serves: each planned plugin's file
/// (uploaded versions written out first) and settings.
pub(super) async fn chain_config(
    state: &AdminState,
    tenant: &TenantConfig,
    stored: &StoredChain,
) -> anyhow::Result<TenantConfig> {
    let mut config = tenant.clone();
    config.plugins = Vec::new();
    for p in plan(tenant, stored) {
        let path = match (p.version, p.configured) {
            (Some(v), _) => materialize(state, v).await?,
            (None, Some(c)) => c.path.clone(),
            (None, None) => continue,
        };
        config.plugins.push(PluginConfig {
            path,
            settings: p.settings,
            version: p.version.map(|v| v.version),
        });
    }
    Ok(config)
}

/// Loads the chain `config.plugins` names (compiling off the async workers).
pub(super) async fn load_chain(
    state: &AdminState,
    config: TenantConfig,
) -> anyhow::Result<TenantPlugins> {
    let host = state.plugin_host.clone();
    tokio::task::spawn_blocking(move || host.chain_for(&config))
        .await
        .context("plugin load task")?
}

/// Puts `plugins` in the tenant's place; everything else of the tenant stays as it was.
pub(super) fn swap(state: &AdminState, t: &TenantRuntime, plugins: TenantPlugins) {
    state.tenants.insert(TenantRuntime {
        id: t.id.clone(),
        config: t.config.clone(),
        webhook_keys: t.webhook_keys.clone(),
        kentico: t.kentico.clone(),
        freshbooks: t.freshbooks.clone(),
        base_currency: t.base_currency.clone(),
        plugins,
        sync: t.sync.clone(),
    });
}

/// At startup: every tenant's active uploaded versions go into its chain.
pub(super) async fn restore_active(state: &AdminState) -> anyhow::Result<()> {
    for t in state.tenants.all() {
        let stored = StoredChain::load(&state.store, &t.id).await?;
        if stored.active.is_empty() {
            continue;
        }
        let plugins = build_chain(state, &t.config, &stored)
            .await
            .with_context(|| format!("load the active uploaded plugins of tenant {}", t.id))?;
        swap(state, &t, plugins);
        tracing::info!(tenant = %t.id, plugins = stored.active.len(), "Uploaded plugins active.");
    }
    Ok(())
}

/// Makes `target` (a `ready` version) the tenant's active version of its name: loads the new chain, records it,
/// swaps it in.
///
/// # Errors
/// 422 for a `failed` version (with the reason) or a chain that does not load, 409 for one still `compiling`.
pub(super) async fn activate_version(
    state: &AdminState,
    t: &TenantRuntime,
    target: &PluginVersion,
) -> Result<PluginVersion, ApiError> {
    ensure_ready(target)?;
    // One activation at a time, so two cannot swap in chains built from each other's stale view.
    let _one = state.activation.lock().await;
    let mut stored = StoredChain::load(&state.store, &t.id).await?;
    stored.active.retain(|v| v.name != target.name);
    stored.active.push(target.clone());
    let plugins = build_chain(state, &t.config, &stored).await.map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidPlugin,
            format!(
                "plugin {} version {} does not load: {e:#}",
                target.name, target.version
            ),
        )
    })?;
    let activated = state
        .store
        .activate_plugin_version(&t.id, &target.name, target.version)
        .await?;
    // The tenant may have been replaced meanwhile; take its current runtime (the chain is all that changes).
    match state.tenants.get(&t.id) {
        Some(current) => swap(state, &current, plugins),
        None => swap(state, t, plugins),
    }
    tracing::info!(tenant = %t.id, plugin = %target.name, version = target.version, hash = %target.hash, "Plugin version activated.");
    Ok(activated)
}

/// Refuses to activate a version that is not `ready`.
///
/// # Errors
/// 422 with the reason for a `failed` version, 409 for one still `compiling`.
fn ensure_ready(v: &PluginVersion) -> Result<(), ApiError> {
    match v.state {
        PluginState::Ready => Ok(()),
        PluginState::Failed => Err(ApiError::new(
            ErrorCode::InvalidPlugin,
            format!(
                "plugin {} version {} failed to compile and cannot be activated: {}",
                v.name,
                v.version,
                v.reason.as_deref().unwrap_or("no reason recorded")
            ),
        )),
        PluginState::Compiling => Err(ApiError::conflict(format!(
            "plugin {} version {} is still compiling; activate it once its state is ready",
            v.name, v.version
        ))),
    }
}
