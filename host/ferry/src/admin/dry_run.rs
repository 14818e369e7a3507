//! `POST /tenants/{tenant}/plugins/dry-run?name=…&event=…`: a candidate component run against one of the tenant's
//! stored order events (another kind of event is refused with 400 naming its kind), with the chain and settings the tenant is served with, and nothing written anywhere.
//!
//! The candidate takes the place of the serving plugin of its name (with that plugin's settings), or runs after the
//! chain with the settings given to its name through the API, if any. The order is read from Kentico as the event's
//! run reads it (its current state) and converted as the pipeline converts it. The answer holds, for the serving
//! chain and for the chain with the candidate, the validation reasons and the FreshBooks drafts (or the error the
//! chain failed with); `ferry plugin test --tenant T --event ID` prints them with the paths that differ.

use super::activation::{chain_config, load_chain};
use super::compile::wait_compiled;
use super::error::{AdminPath, AdminQuery};
use super::events::tenant_event;
use super::plan::StoredChain;
use super::plugins::{check_name, decode_upload, read_upload};
use super::tenants::serving_tenant;
use super::{AdminJson, AdminState, ApiError, ErrorCode, Principal};
use crate::tenants::{PluginConfig, TenantPlugins};
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use ferry_model::{Conversion, EventKind, Order};
use ferry_store::PluginState;
use serde::Deserialize;
use serde_json::{Value, json};

/// Query of the dry run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DryRunQuery {
    /// The candidate's plugin name (it replaces the serving plugin of this name).
    name: String,
    /// The event key, as the run history and the dead-letter queue list it.
    event: String,
}

/// `POST /tenants/{tenant}/plugins/dry-run`: the body is the candidate component (gzip accepted, as for uploads).
///
/// 200 with `{event, order_number, plugin, replaces, serving, candidate, changes}`, each side
/// `{validation: [..], drafts}` or `{validation, error}`, and `changes` each `{path, before, after}` where the
/// drafts differ; 404 for an event of another tenant; 400 for an event that is not an order's (naming its kind); 422
/// for a component that is not a plugin; 502 when Kentico or the exchange rates cannot be read.
pub(super) async fn dry_run(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    query: Result<AdminQuery<DryRunQuery>, ApiError>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<AdminJson<Value>, ApiError> {
    let bytes = read_upload(body, state.config.max_plugin_bytes).await?;
    let bytes = decode_upload(&headers, bytes, state.config.max_plugin_bytes)?;
    let AdminQuery(q) = query?;
    Ok(AdminJson(
        dry_run_component(&state, &principal, &tenant, &q.name, &q.event, &bytes).await?,
    ))
}

/// The dry run of a stored version of the tenant's plugin `name` (what the console's dry run picks).
///
/// A version still `compiling` is waited for as an activation waits (up to `admin.activation_wait_ms`), so a dry
/// run clicked just after an upload shows its result; one still compiling after that answers 409 at once rather
/// than compiling the component again inside the request (its compile runs in the background here or on another
/// host). A `failed` version answers 422 with the reason its compile recorded; it is not compiled again.
///
/// # Errors
/// As [`dry_run_component`], 404 for an unknown version, 409 for a version still compiling after the wait, 422 for
/// a failed one.
pub(crate) async fn dry_run_version(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    name: &str,
    version: u32,
    event: &str,
) -> Result<Value, ApiError> {
    let t = serving_tenant(state, principal, tenant)?;
    check_name(name)?;
    let stored = wait_compiled(state, &t.id, name, version, "dry-run it").await?;
    if stored.state == PluginState::Failed {
        return Err(ApiError::new(
            ErrorCode::InvalidPlugin,
            format!(
                "plugin {name} version {version} failed to compile and cannot be dry-run: {}",
                stored.reason.as_deref().unwrap_or("no reason recorded")
            ),
        ));
    }
    let bytes = state.store.plugin_blob(&stored.hash).await?;
    let mut report = dry_run_component(state, principal, tenant, name, event, &bytes).await?;
    report["version"] = json!(version);
    Ok(report)
}

/// Runs the tenant's stored order event `event` through its serving chain and through the chain with component
/// `bytes` as plugin `name`, writing nothing; the answer of the admin API's dry run (see [`dry_run`]).
///
/// # Errors
/// 403/404 for the tenant, 400/404 for the event, 400 for an event that is not an order's (a SKU, customer or
/// payment event), 422 for a component that is not a plugin, 502 when Kentico or the exchange rates cannot be read.
pub(crate) async fn dry_run_component(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    name: &str,
    event: &str,
    bytes: &[u8],
) -> Result<Value, ApiError> {
    let t = serving_tenant(state, principal, tenant)?;
    check_name(name)?;
    let record = tenant_event(state, &t.id, event).await?;
    let envelope = record
        .envelope()
        .map_err(|e| ApiError::conflict(format!("event {event}: {e}")))?;
    if !is_order(envelope.kind) {
        return Err(ApiError::bad_request(format!(
            "event {event} is a {} event; only order events (order.created, order.updated, order.status_changed, \
             order.paid) can be dry-run",
            envelope.kind.as_str()
        )));
    }
    let order = ferry_extract::fetch_order(&t.kentico, envelope.object.id)
        .await
        .map_err(|e| {
            upstream(
                &format!("read order {} from Kentico", envelope.object.id),
                &e,
            )
        })?;
    let conversion = conversion(state, &t.base_currency, &order).await?;

    // The candidate, written where the plugin host reads components from, for this run only.
    let dir = state
        .uploads_dir
        .join("dry-run")
        .join(uuid::Uuid::new_v4().simple().to_string());
    let path = dir.join(format!("{name}.wasm"));
    let write = async {
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::write(&path, bytes).await
    };
    write.await.map_err(|e| ApiError::internal(&e))?;
    let candidate = candidate_chain(state, &t.config, name, path).await;
    // Nothing of the run is kept (a failed removal only leaves a stray file behind).
    let _ = tokio::fs::remove_dir_all(&dir).await;
    let (candidate, replaces) = candidate?;

    let serving = outcome(&t.plugins, &order, conversion.clone()).await;
    let with_candidate = outcome(&candidate, &order, conversion).await;
    let mut changes = Vec::new();
    diff(
        "",
        &serving["drafts"],
        &with_candidate["drafts"],
        &mut changes,
    );
    tracing::info!(tenant = %t.id, plugin = %name, job = %record.job, "Plugin dry run.");
    Ok(json!({
        "event": record.job.to_string(),
        "order_number": order.number,
        "plugin": name,
        "replaces": replaces,
        "serving": serving,
        "candidate": with_candidate,
        "changes": changes,
    }))
}

/// Whether events of `kind` carry an order (what a dry run reads from Kentico and runs through the chain).
fn is_order(kind: EventKind) -> bool {
    match kind {
        EventKind::OrderCreated
        | EventKind::OrderUpdated
        | EventKind::OrderStatusChanged
        | EventKind::OrderPaid => true,
        EventKind::CustomerUpdated
        | EventKind::CustomerCreated
        | EventKind::SkuCreated
        | EventKind::SkuUpdated
        | EventKind::SkuDeleted
        | EventKind::PaymentCreated
        | EventKind::PaymentUpdated
        | EventKind::PaymentDeleted
        | EventKind::InvoiceUpdated => false,
    }
}

/// The serving chain with the candidate at `path` in the place of the plugin named `name`, or after the chain;
/// and whether it replaced one.
async fn candidate_chain(
    state: &AdminState,
    tenant: &crate::tenants::TenantConfig,
    name: &str,
    path: std::path::PathBuf,
) -> Result<(TenantPlugins, bool), ApiError> {
    let stored = StoredChain::load(&state.store, &tenant.id).await?;
    let mut config = chain_config(state, tenant, &stored)
        .await
        .map_err(|e| ApiError::internal(e.as_ref()))?;
    let place = config
        .plugins
        .iter()
        .position(|p| super::plan::stem(&p.path) == name);
    let replaces = place.is_some();
    match place {
        Some(i) => config.plugins[i].path = path,
        None => config.plugins.push(PluginConfig {
            path,
            settings: stored.settings_of(name).unwrap_or_default(),
            version: None,
        }),
    }
    let chain = load_chain(state, config).await.map_err(|e| {
        match e.downcast_ref::<ferry_transform::Error>() {
            Some(ferry_transform::Error::InvalidPlugin { .. }) => {
                ApiError::new(ErrorCode::InvalidPlugin, format!("{e:#}"))
            }
            _ => ApiError::internal(e.as_ref()),
        }
    })?;
    Ok((chain, replaces))
}

/// What a chain makes of the order: its validation reasons, and its drafts or the error it failed with.
async fn outcome(plugins: &TenantPlugins, order: &Order, conversion: Option<Conversion>) -> Value {
    let validation = match plugins.validate(order).await {
        Ok(reasons) => json!(reasons),
        Err(e) => return json!({ "validation": [], "error": e.to_string() }),
    };
    match plugins.run(order, conversion).await {
        Ok(drafts) => json!({ "validation": validation, "drafts": drafts }),
        Err(e) => json!({ "validation": validation, "error": e.to_string() }),
    }
}

/// The conversion the pipeline applies to an order in another currency than the tenant's FreshBooks account.
async fn conversion(
    state: &AdminState,
    to: &ferry_model::CurrencyCode,
    order: &Order,
) -> Result<Option<Conversion>, ApiError> {
    state
        .plugin_host
        .exchange()
        .conversion(&order.currency, to, order.created_at.date())
        .await
        .map_err(|e| upstream("read the exchange rate", &e))
}

fn upstream(what: &str, e: &dyn std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Upstream, format!("{what}: {e}"))
}

/// Collects `{path, before, after}` for every leaf that differs between `a` and `b` (JSON Pointer paths).
pub(crate) fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<Value>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                diff(&format!("{path}/{k}"), va, vb, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}/{i}"), va, vb, out);
            }
        }
        _ if a != b => out.push(json!({ "path": path, "before": a, "after": b })),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_each_changed_leaf() {
        let a = json!({"client": {"note": "", "email": "a@b"}, "items": [{"sku": "X"}]});
        let b = json!({"client": {"note": "Gold", "email": "a@b"}, "items": [{"sku": "Y"}]});
        let mut out = Vec::new();
        diff("", &a, &b, &mut out);
        let paths: Vec<&str> = out.iter().map(|c| c["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["/client/note", "/items/0/sku"]);
    }
}
