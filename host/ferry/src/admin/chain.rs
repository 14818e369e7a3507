//! A tenant's plugin chain: the order its plugins run in, taking an uploaded plugin out of the chain and putting it
//! back, and the settings an uploaded plugin reads through `get-setting`.
//!
//! The chain is the tenant's configured plugins (`[[tenants.plugins]]`, in the file's order, or a stored tenant's
//! `plugins`) followed by its uploaded plugins that have an active version, in their stored order: a name joins
//! the end on its first upload, and a new version keeps its place. An uploaded plugin named after a configured one
//! (its file stem) runs in that one's place instead, with the configured settings until settings are given through
//! the API. Only the stored order can be changed here: `PUT …/plugins/order` names exactly the uploaded plugins that
//! follow the configured ones (the configured order is the configuration's to change).
//!
//! Every change builds the new chain first and swaps it in once it has loaded, under the same lock as activations;
//! hosts sharing the database pick it up through the config snapshot (`sync`).

use super::activation::{activate_version, build_chain, swap};
use super::error::AdminPath;
use super::plan::{StoredChain, plan, stem};
use super::plugins::{check_name, named_versions};
use super::tenants::serving_tenant;
use super::{AdminJson, AdminState, ApiError, ErrorCode, Principal};
use crate::tenants::{TenantConfig, TenantRuntime};
use axum::Extension;
use axum::extract::State;
use ferry_model::TenantId;
use ferry_store::PluginVersion;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Most settings one plugin may have.
const MAX_SETTINGS: usize = 64;
/// Longest setting key, in characters.
const MAX_KEY_CHARS: usize = 128;
/// Longest setting value, in bytes.
const MAX_VALUE_BYTES: usize = 4096;

/// One plugin of `GET /tenants/{tenant}/plugins/order`.
#[derive(Debug, Serialize)]
pub(crate) struct ChainPlugin {
    /// Plugin name.
    pub(crate) name: String,
    /// `config` (a configured plugin) or `upload` (an uploaded version, maybe in a configured one's place).
    pub(crate) source: &'static str,
    /// The uploaded version that runs; `null` for a configured plugin.
    pub(crate) version: Option<u32>,
    /// Whether its place is the stored order's (a reorder names exactly these), not the configuration's.
    pub(crate) reorderable: bool,
}

/// The answer of the chain routes: what runs, in order, and the uploaded plugins taken out of it.
#[derive(Debug, Serialize)]
pub(crate) struct ChainView {
    /// The chain in the order it runs.
    pub(crate) plugins: Vec<ChainPlugin>,
    /// Uploaded plugins with no active version, in stored order (activating one puts it back in its place).
    pub(crate) inactive: Vec<String>,
}

fn view(tenant: &TenantConfig, stored: &StoredChain) -> ChainView {
    let plugins: Vec<ChainPlugin> = plan(tenant, stored)
        .into_iter()
        .map(|p| ChainPlugin {
            source: if p.version.is_some() {
                "upload"
            } else {
                "config"
            },
            version: p.version.map(|v| v.version),
            reorderable: p.configured.is_none(),
            name: p.name,
        })
        .collect();
    let inactive = stored
        .order
        .iter()
        .filter(|e| !stored.active.iter().any(|v| v.name == e.name))
        .map(|e| e.name.clone())
        .collect();
    ChainView { plugins, inactive }
}

/// The tenant as served now, after the activation lock was taken (it may have been replaced meanwhile).
fn current(state: &AdminState, id: &TenantId) -> Result<Arc<TenantRuntime>, ApiError> {
    state
        .tenants
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("tenant {id} is not served by this host")))
}

/// Builds the tenant's chain from `stored` (a change not yet written); 422 when it does not load.
async fn build(
    state: &AdminState,
    t: &TenantRuntime,
    stored: &StoredChain,
    change: &str,
) -> Result<crate::tenants::TenantPlugins, ApiError> {
    build_chain(state, &t.config, stored).await.map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidPlugin,
            format!("the chain {change} does not load: {e:#}"),
        )
    })
}

/// `GET /tenants/{tenant}/plugins/order`: the chain in the order it runs.
pub(super) async fn order(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
) -> Result<AdminJson<ChainView>, ApiError> {
    Ok(AdminJson(chain_of(&state, &principal, &tenant).await?))
}

/// The tenant's chain in the order it runs, and its uploaded plugins out of it.
///
/// # Errors
/// 403/404 for the tenant; the store failed.
pub(crate) async fn chain_of(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
) -> Result<ChainView, ApiError> {
    let t = serving_tenant(state, principal, tenant)?;
    let stored = StoredChain::load(&state.store, &t.id).await?;
    Ok(view(&t.config, &stored))
}

/// Body of `PUT /tenants/{tenant}/plugins/order`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OrderBody {
    /// Every reorderable plugin of the chain, in the order they are to run.
    names: Vec<String>,
}

/// `PUT /tenants/{tenant}/plugins/order`: the uploaded plugins run in the order named. The list must name each
/// active uploaded plugin that follows the configured ones exactly once (422 otherwise, naming what differs).
pub(super) async fn reorder(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    body: Result<AdminJson<OrderBody>, ApiError>,
) -> Result<AdminJson<ChainView>, ApiError> {
    serving_tenant(&state, &principal, &tenant)?;
    let AdminJson(OrderBody { names }) = body?;
    Ok(AdminJson(
        reorder_chain(&state, &principal, &tenant, &names).await?,
    ))
}

/// Runs the tenant's uploaded plugins after the configured ones in the order of `names`, each named once.
///
/// # Errors
/// 403/404 for the tenant, 422 when `names` is not each reorderable plugin once or the chain does not load.
pub(crate) async fn reorder_chain(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    names: &[String],
) -> Result<ChainView, ApiError> {
    let t = serving_tenant(state, principal, tenant)?;
    for n in names {
        check_name(n)?;
    }
    let _one = state.activation.lock().await;
    let t = current(state, &t.id)?;
    let mut stored = StoredChain::load(&state.store, &t.id).await?;
    let movable: Vec<String> = plan(&t.config, &stored)
        .into_iter()
        .filter(|p| p.configured.is_none())
        .map(|p| p.name)
        .collect();
    check_order(names, &movable)?;
    stored.reorder(names);
    let plugins = build(state, &t, &stored, "in the new order").await?;
    state.store.reorder_plugin_chain(&t.id, names).await?;
    swap(state, &t, plugins);
    tracing::info!(tenant = %t.id, order = ?names, "Plugin chain reordered.");
    Ok(view(&t.config, &stored))
}

/// 422 unless `names` is `movable` in some order, each once.
fn check_order(names: &[String], movable: &[String]) -> Result<(), ApiError> {
    let mut seen = BTreeSet::new();
    let twice: Vec<&str> = names
        .iter()
        .filter(|n| !seen.insert(n.as_str()))
        .map(String::as_str)
        .collect();
    let missing: Vec<&str> = movable
        .iter()
        .filter(|m| !names.contains(m))
        .map(String::as_str)
        .collect();
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| !movable.contains(n))
        .map(String::as_str)
        .collect();
    if twice.is_empty() && missing.is_empty() && unknown.is_empty() {
        return Ok(());
    }
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing {}", missing.join(", ")));
    }
    if !unknown.is_empty() {
        problems.push(format!(
            "not an active uploaded plugin after the configured ones: {}",
            unknown.join(", ")
        ));
    }
    if !twice.is_empty() {
        problems.push(format!("named twice: {}", twice.join(", ")));
    }
    Err(ApiError::new(
        ErrorCode::InvalidConfig,
        format!(
            "names must list each active uploaded plugin after the configured ones exactly once (now: [{}]); {}",
            movable.join(", "),
            problems.join("; ")
        ),
    ))
}

/// `POST /tenants/{tenant}/plugins/{name}/deactivate`: takes the uploaded plugin out of the chain (no version
/// stays active). Its versions, place and settings are kept; a configured plugin whose place it took runs again.
pub(super) async fn deactivate(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, name)): AdminPath<(String, String)>,
) -> Result<AdminJson<ChainView>, ApiError> {
    Ok(AdminJson(
        deactivate_plugin(&state, &principal, &tenant, &name).await?,
    ))
}

/// Takes uploaded plugin `name` out of the tenant's chain (its versions, place and settings are kept).
///
/// # Errors
/// 403/404 for the tenant, 404 for a name never uploaded, 409 for a configured plugin or one already out, 422 when
/// the chain without it does not load.
pub(crate) async fn deactivate_plugin(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    name: &str,
) -> Result<ChainView, ApiError> {
    let t = serving_tenant(state, principal, tenant)?;
    check_name(name)?;
    let _one = state.activation.lock().await;
    let t = current(state, &t.id)?;
    let mut stored = StoredChain::load(&state.store, &t.id).await?;
    if !stored.active.iter().any(|v| v.name == name) {
        return Err(if stored.order.iter().any(|e| e.name == name) {
            ApiError::conflict(format!("plugin {name} has no active version"))
        } else {
            no_upload(&t.config, name)
        });
    }
    stored.active.retain(|v| v.name != name);
    let plugins = build(state, &t, &stored, &format!("without {name}")).await?;
    state.store.deactivate_plugin(&t.id, name).await?;
    swap(state, &t, plugins);
    tracing::info!(tenant = %t.id, plugin = %name, "Plugin deactivated.");
    Ok(view(&t.config, &stored))
}

/// 404 for a name never uploaded; 409 when it is a configured plugin (the configuration decides about those).
fn no_upload(config: &TenantConfig, name: &str) -> ApiError {
    if config.plugins.iter().any(|p| stem(&p.path) == name) {
        ApiError::conflict(format!(
            "plugin {name} is configured with tenant {}; change it in the tenant's configuration",
            config.id
        ))
    } else {
        ApiError::not_found(format!(
            "tenant {} has no uploaded plugin {name}",
            config.id
        ))
    }
}

/// `POST /tenants/{tenant}/plugins/{name}/activate`: puts a deactivated plugin back in its place in the chain
/// with the version that was active last (else its highest). An active plugin is answered as it is.
pub(super) async fn reactivate(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, name)): AdminPath<(String, String)>,
) -> Result<AdminJson<PluginVersion>, ApiError> {
    Ok(AdminJson(
        reactivate_plugin(&state, &principal, &tenant, &name).await?,
    ))
}

/// Puts deactivated plugin `name` back in its place with the version active last (else its highest).
///
/// # Errors
/// 403/404 for the tenant, 404/409 for a name that is not an upload, 422 when the chain does not load.
pub(crate) async fn reactivate_plugin(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    name: &str,
) -> Result<PluginVersion, ApiError> {
    let (t, versions) = named_versions(state, principal, tenant, name).await?;
    if let Some(active) = versions.iter().find(|v| v.active) {
        return Ok(active.clone());
    }
    let target = versions
        .iter()
        .filter(|v| v.activated_at.is_some())
        .max_by_key(|v| (v.activated_at, v.version))
        .or_else(|| versions.iter().max_by_key(|v| v.version))
        .ok_or_else(|| no_upload(&t.config, name))?;
    activate_version(state, &t, target).await
}

/// `GET /tenants/{tenant}/plugins/{name}/settings`: what the plugin reads through `get-setting` (a configured
/// plugin's configured settings, an upload's settings given through the API).
pub(super) async fn settings(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, name)): AdminPath<(String, String)>,
) -> Result<AdminJson<BTreeMap<String, String>>, ApiError> {
    Ok(AdminJson(
        settings_of(&state, &principal, &tenant, &name).await?,
    ))
}

/// What plugin `name` of the tenant reads through `get-setting`.
///
/// # Errors
/// 403/404 for the tenant, 404 for a plugin the tenant does not have.
pub(crate) async fn settings_of(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    name: &str,
) -> Result<BTreeMap<String, String>, ApiError> {
    let t = serving_tenant(state, principal, tenant)?;
    check_name(name)?;
    let stored = StoredChain::load(&state.store, &t.id).await?;
    if let Some(p) = plan(&t.config, &stored)
        .into_iter()
        .find(|p| p.name == name)
    {
        return Ok(p.settings);
    }
    match stored.order.iter().find(|e| e.name == name) {
        Some(e) => Ok(e.settings.clone().unwrap_or_default()),
        None => Err(ApiError::not_found(format!(
            "tenant {} has no plugin {name}",
            t.id
        ))),
    }
}

/// `PUT /tenants/{tenant}/plugins/{name}/settings`: replaces an uploaded plugin's settings with the body, a JSON
/// object of string values (422 naming the key otherwise). A running plugin reads them from the next event on.
pub(super) async fn set_settings(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, name)): AdminPath<(String, String)>,
    body: Result<AdminJson<Value>, ApiError>,
) -> Result<AdminJson<BTreeMap<String, String>>, ApiError> {
    serving_tenant(&state, &principal, &tenant)?;
    check_name(&name)?;
    let AdminJson(body) = body?;
    Ok(AdminJson(
        replace_settings(&state, &principal, &tenant, &name, &body).await?,
    ))
}

/// Replaces uploaded plugin `name`'s settings with `body`, a JSON object of string values; a serving plugin reads
/// them from the next event on.
///
/// # Errors
/// 403/404 for the tenant, 422 naming a bad key or value, 404/409 for a name that is not an upload, 422 when the
/// chain with the new settings does not load.
pub(crate) async fn replace_settings(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    name: &str,
    body: &Value,
) -> Result<BTreeMap<String, String>, ApiError> {
    let t = serving_tenant(state, principal, tenant)?;
    check_name(name)?;
    let settings = parse_settings(body)?;
    let _one = state.activation.lock().await;
    let t = current(state, &t.id)?;
    let mut stored = StoredChain::load(&state.store, &t.id).await?;
    let Some(entry) = stored.order.iter_mut().find(|e| e.name == name) else {
        return Err(no_upload(&t.config, name));
    };
    entry.settings = Some(settings.clone());
    let serving = stored.active.iter().any(|v| v.name == name);
    let plugins = if serving {
        Some(build(state, &t, &stored, &format!("with {name}'s new settings")).await?)
    } else {
        None
    };
    state
        .store
        .set_plugin_settings(&t.id, name, &settings)
        .await?;
    if let Some(plugins) = plugins {
        swap(state, &t, plugins);
    }
    tracing::info!(tenant = %t.id, plugin = %name, keys = settings.len(), "Plugin settings replaced.");
    Ok(settings)
}

/// A settings body: a JSON object of at most [`MAX_SETTINGS`] string values, keys of 1-[`MAX_KEY_CHARS`]
/// characters without spaces or control characters, values of at most [`MAX_VALUE_BYTES`] bytes without control
/// characters other than tab and line breaks.
fn parse_settings(body: &Value) -> Result<BTreeMap<String, String>, ApiError> {
    let invalid = |message: String| ApiError::new(ErrorCode::InvalidConfig, message);
    let Value::Object(map) = body else {
        return Err(invalid(
            "settings: the body must be a JSON object of string values".to_owned(),
        ));
    };
    if map.len() > MAX_SETTINGS {
        return Err(invalid(format!(
            "settings: {} keys; at most {MAX_SETTINGS}",
            map.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (key, value) in map {
        let key_ok = !key.is_empty()
            && key.chars().count() <= MAX_KEY_CHARS
            && !key.chars().any(|c| c.is_whitespace() || c.is_control());
        if !key_ok {
            return Err(invalid(format!(
                "settings: key {key:?} must be 1-{MAX_KEY_CHARS} characters without spaces or control characters"
            )));
        }
        let Value::String(value) = value else {
            return Err(invalid(format!(
                "settings.{key}: must be a string, not {value}"
            )));
        };
        if value.len() > MAX_VALUE_BYTES {
            return Err(invalid(format!(
                "settings.{key}: {} bytes; at most {MAX_VALUE_BYTES}",
                value.len()
            )));
        }
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(invalid(format!(
                "settings.{key}: must not contain control characters"
            )));
        }
        out.insert(key.clone(), value.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_must_be_an_object_of_plain_strings() {
        let ok = parse_settings(&json!({"note-prefix": "Shop", "rule.standard.US.CA": "exempt"}));
        assert_eq!(ok.unwrap().len(), 2);
        assert!(parse_settings(&json!({})).unwrap().is_empty());
        for (body, named) in [
            (json!(["a"]), "JSON object"),
            (json!({"n": 3}), "settings.n"),
            (json!({"n": null}), "settings.n"),
            (json!({"": "x"}), "key \"\""),
            (json!({"a b": "x"}), "key \"a b\""),
            (json!({"n": "a\u{0}b"}), "control"),
            (json!({"n": "x".repeat(MAX_VALUE_BYTES + 1)}), "bytes"),
        ] {
            let e = parse_settings(&body).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidConfig);
            assert!(e.message.contains(named), "{body}: {}", e.message);
        }
    }

    #[test]
    fn a_reorder_must_name_each_movable_plugin_once() {
        let movable = ["zeta".to_owned(), "alpha".to_owned()];
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(check_order(&names(&["alpha", "zeta"]), &movable).is_ok());
        for (given, says) in [
            (names(&["alpha"]), "missing zeta"),
            (names(&["alpha", "zeta", "ghost"]), "ghost"),
            (names(&["alpha", "zeta", "alpha"]), "named twice: alpha"),
        ] {
            let e = check_order(&given, &movable).unwrap_err();
            assert_eq!(e.status(), axum::http::StatusCode::UNPROCESSABLE_ENTITY);
            assert!(e.message.contains(says), "{given:?}: {}", e.message);
        }
    }
}
