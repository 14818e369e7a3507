//! Compiling uploaded plugin versions off the request path.
//!
//! An upload answers once the cheap checks passed and the version is stored `compiling`; [`start`] compiles it in
//! the background (Cranelift on a blocking thread: seconds for a JavaScript or Python component) and records
//! `ready` or `failed` with the reason on every version of those bytes, any tenant's. Versions whose upload asked
//! for activation are activated when they are `ready`. An activation of a version still compiling waits for the
//! compile ([`wait_compiled`]), up to `admin.activation_wait_ms`. A host that starts compiles again whatever a
//! previous run left `compiling` ([`resume`]).

use super::activation::activate_version;
use super::{AdminState, ApiError};
use axum::body::Bytes;
use ferry_model::TenantId;
use ferry_store::{PluginState, PluginVersion};
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// How often a waiting activation looks at the store when no compile of this host wakes it (the compile may run
/// on another host sharing the database).
const POLL: Duration = Duration::from_millis(250);

/// The background compiles of this host.
#[derive(Default)]
pub(crate) struct Compiles {
    /// Content hashes being compiled now, so a second upload of the same bytes (another tenant, or the same one
    /// under another name) joins the compile that runs instead of starting another; its version gets the outcome
    /// because the outcome is recorded on every version of the hash.
    in_flight: Mutex<HashSet<String>>,
    /// Woken when a compile has recorded its outcome, so activations waiting for one look again at once.
    finished: tokio::sync::Notify,
}

/// Compiles the component `bytes` (content hash `hash`) in the background unless this host is compiling it
/// already, then records the outcome on its versions and activates those whose upload asked for it.
pub(crate) fn start(state: &AdminState, hash: String, name: String, bytes: Bytes) {
    let joined = match state.compiles.in_flight.lock() {
        Ok(mut set) => !set.insert(hash.clone()),
        // A panic elsewhere poisoned the set: compile anyway (the runtime still compiles the bytes once).
        Err(_) => false,
    };
    if joined {
        tracing::info!(plugin = %name, %hash, "Joined the compile in flight.");
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let runtime = state.plugin_host.runtime().clone();
        let compiled =
            tokio::task::spawn_blocking(move || runtime.load(&name, &bytes).map(|_| ())).await;
        let outcome = match compiled {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("the compile stopped: {e}")),
        };
        // Out of the set before the outcome is recorded: a version stored after this point starts its own load,
        // which finds the plugin in memory, so none is left `compiling`.
        if let Ok(mut set) = state.compiles.in_flight.lock() {
            set.remove(&hash);
        }
        let ms = started.elapsed().as_millis();
        match &outcome {
            Ok(()) => tracing::info!(%hash, ms, "Plugin compiled."),
            Err(error) => tracing::warn!(%hash, ms, %error, "Plugin failed to compile."),
        }
        let recorded = state
            .store
            .finish_plugin_compile(&hash, outcome.as_ref().map(|_| ()).map_err(String::as_str))
            .await;
        state.compiles.finished.notify_waiters();
        match recorded {
            Ok(versions) => activate_requested(&state, versions).await,
            Err(error) => {
                tracing::error!(%hash, %error, "Could not record a plugin compile; a restart compiles it again.");
            }
        }
    });
}

/// Activates the `ready` versions whose upload asked for it (and that this host serves).
async fn activate_requested(state: &AdminState, versions: Vec<PluginVersion>) {
    for v in versions
        .iter()
        .filter(|v| v.activate_when_ready && v.state == PluginState::Ready)
    {
        let Some(t) = state.tenants.get(&v.tenant) else {
            continue;
        };
        if let Err(error) = activate_version(state, &t, v).await {
            tracing::warn!(tenant = %v.tenant, plugin = %v.name, version = v.version, error = %error.message,
                "Could not activate the uploaded version once compiled.");
        }
    }
}

/// At startup: compiles again every version of a tenant this host serves that a previous run left `compiling`.
///
/// # Errors
/// The store could not list them.
pub(crate) async fn resume(state: &AdminState) -> anyhow::Result<()> {
    let mut started = HashSet::new();
    for v in state.store.compiling_plugin_versions().await? {
        if state.tenants.get(&v.tenant).is_none() || !started.insert(v.hash.clone()) {
            continue;
        }
        let bytes = Bytes::from(state.store.plugin_blob(&v.hash).await?);
        tracing::info!(tenant = %v.tenant, plugin = %v.name, version = v.version, "Compiling again after a restart.");
        start(state, v.hash, v.name, bytes);
    }
    Ok(())
}

/// Version `version` of the tenant's plugin `name` once it is no longer `compiling`, waiting for its compile up
/// to `admin.activation_wait_ms`. `action` is what the caller does with it once ready ("activate it"), named in
/// the 409.
///
/// # Errors
/// 404 for an unknown version; 409 when it is still compiling after the wait.
pub(crate) async fn wait_compiled(
    state: &AdminState,
    tenant: &TenantId,
    name: &str,
    version: u32,
    action: &str,
) -> Result<PluginVersion, ApiError> {
    let wait = Duration::from_millis(state.config.activation_wait_ms);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Registered before the read, so a compile ending between the read and the wait still wakes us.
        let finished = state.compiles.finished.notified();
        let v = state.store.plugin_version(tenant, name, version).await?;
        if v.state != PluginState::Compiling {
            return Ok(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ApiError::conflict(format!(
                "plugin {name} version {version} is still compiling after {} ms; {action} once its state is \
                 ready",
                wait.as_millis()
            )));
        }
        let _ = tokio::time::timeout_at(deadline.min(tokio::time::Instant::now() + POLL), finished)
            .await;
    }
}
