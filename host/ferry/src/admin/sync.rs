//! Picks up the admin changes another host sharing the database made: tenants created, replaced or deleted,
//! plugin versions activated, rolled back or deactivated, and a chain reordered or a plugin's settings replaced.
//!
//! Every `admin.sync_every_ms` the host reads the store's [`ConfigSnapshot`] (each stored tenant's generation, each
//! tenant's active plugin versions with their chain order and settings) and compares them with the snapshot it serves. A tenant that differs is
//! rebuilt the way an admin request on this host would build it: a stored tenant created or replaced is built and
//! swapped in, a deleted one stops being served, and a changed set of active plugins swaps only the chain. A
//! tenant that fails to build keeps serving what it served before; the failure is logged (once, until it changes
//! or clears), and tried again next round. Changes made through this host's own API are already serving; the next
//! round rebuilds them once more, which changes nothing.

use super::AdminState;
use super::activation::{build_chain, swap};
use super::plan::StoredChain;
use super::tenant_changes::assemble;
use crate::tenants::stored as managed;
use anyhow::Context as _;
use ferry_model::TenantId;
use ferry_store::ConfigSnapshot;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use tokio::sync::watch;
use tracing::{info, warn};

/// Reads the store's snapshot every `every` and applies what changed since `served`, until `stop` turns true.
pub async fn run(
    state: AdminState,
    mut served: ConfigSnapshot,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut failing = HashMap::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        match state.store.config_snapshot().await {
            Ok(now) => served = apply_changes(&state, &served, now, &mut failing).await,
            Err(e) => {
                warn!(error = %e, "Could not read tenant generations from the store; trying again.")
            }
        }
    }
}

/// Rebuilds every tenant that differs between `served` and `now`; returns what is served afterwards (`now`,
/// except for tenants that failed to build, which keep their old entry so the next round tries again). `failing`
/// holds the last error logged per tenant, so a lasting failure is logged once.
async fn apply_changes(
    state: &AdminState,
    served: &ConfigSnapshot,
    now: ConfigSnapshot,
    failing: &mut HashMap<TenantId, String>,
) -> ConfigSnapshot {
    let changed: BTreeSet<TenantId> = served
        .tenants()
        .chain(now.tenants())
        .filter(|t| !now.same_for(served, t))
        .cloned()
        .collect();
    let mut result = now.clone();
    for id in changed {
        match apply(state, &id, served, &now).await {
            Ok(()) => {
                if failing.remove(&id).is_some() {
                    info!(tenant = %id, "The tenant change in the database applies now.");
                }
            }
            Err(e) => {
                let error = format!("{e:#}");
                if failing.get(&id) != Some(&error) {
                    warn!(
                        tenant = %id,
                        error,
                        "Could not apply a tenant change found in the database; the tenant keeps serving what it \
                         served, and the change is tried again every round."
                    );
                    failing.insert(id.clone(), error);
                }
                keep_old(&mut result, served, &id);
            }
        }
    }
    result
}

/// Puts `served`'s entries for `id` back into `result`.
fn keep_old(result: &mut ConfigSnapshot, served: &ConfigSnapshot, id: &TenantId) {
    match served.stored.get(id) {
        Some(r) => result.stored.insert(id.clone(), *r),
        None => result.stored.remove(id),
    };
    match served.active_plugins.get(id) {
        Some(p) => result.active_plugins.insert(id.clone(), p.clone()),
        None => result.active_plugins.remove(id),
    };
    match served.plugin_chain.get(id) {
        Some(c) => result.plugin_chain.insert(id.clone(), c.clone()),
        None => result.plugin_chain.remove(id),
    };
}

/// Brings one tenant in line with the store.
async fn apply(
    state: &AdminState,
    id: &TenantId,
    served: &ConfigSnapshot,
    now: &ConfigSnapshot,
) -> anyhow::Result<()> {
    // The same lock as the admin API's changes, so a rebuild here cannot interleave with one of this host's.
    let _one = state.activation.lock().await;
    let current = state.tenants.get(id);
    let config_same = served.stored.get(id) == now.stored.get(id);
    if state.file_tenants.contains(id) || (config_same && current.is_some()) {
        // Only the active plugins changed: swap the chain, keep the clients.
        let Some(t) = current else {
            return Ok(());
        };
        let stored = StoredChain::load(&state.store, id).await?;
        let plugins = build_chain(state, &t.config, &stored)
            .await
            .context("load the active uploaded plugins")?;
        swap(state, &t, plugins);
        info!(tenant = %id, plugins = stored.active.len(), "Uploaded plugins, their order or settings changed in the database; now serving them.");
        return Ok(());
    }
    let Some(row) = state.store.tenant_config(id).await? else {
        if state.tenants.remove(id) {
            info!(tenant = %id, "Tenant deleted from the database; no longer serving it.");
        }
        return Ok(());
    };
    let config = managed::open(&row.config, &row.sealed_secrets, state.factory.keyring())?;
    anyhow::ensure!(
        &config.id == id,
        "id: the stored configuration says {}",
        config.id
    );
    let stored = StoredChain::load(&state.store, id).await?;
    let tenant = assemble(state, config, &stored).await?;
    state.tenants.insert(tenant);
    info!(tenant = %id, "Tenant created or replaced in the database; now serving its stored configuration.");
    Ok(())
}
