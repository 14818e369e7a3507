//! `GET /tenants/{tenant}/plugins/log`: the tenant's plugin log, the newest lines first, of one plugin or all (the
//! lines the tenant's plugins wrote while running its events; see `tenants::plugin_log`).

use super::error::{AdminPath, AdminQuery};
use super::plugins::check_name;
use super::tenants::serving_tenant;
use super::{AdminJson, AdminState, ApiError, Principal};
use crate::tenants::plugin_log::KEEP_PER_TENANT;
use axum::Extension;
use axum::extract::State;
use ferry_store::PluginLogLine;
use serde::Deserialize;

/// Lines answered when the query does not say.
const DEFAULT_LIMIT: u32 = 100;

/// Query of the plugin log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogQuery {
    /// Only lines of this plugin.
    plugin: Option<String>,
    /// Most lines answered (default 100, at most the 1,000 kept).
    limit: Option<u32>,
}

/// `GET /tenants/{tenant}/plugins/log?plugin=…&limit=…`: 200 with the lines, newest first.
pub(super) async fn log(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    AdminQuery(q): AdminQuery<LogQuery>,
) -> Result<AdminJson<Vec<PluginLogLine>>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    Ok(AdminJson(
        plugin_log(&state, &principal, &tenant, q.plugin.as_deref(), limit).await?,
    ))
}

/// The tenant's newest `limit` plugin log lines (of `plugin` only, when given).
///
/// # Errors
/// 403/404 for the tenant, 400 for a bad plugin name or a limit of 0 or above the lines kept.
pub(crate) async fn plugin_log(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    plugin: Option<&str>,
    limit: u32,
) -> Result<Vec<PluginLogLine>, ApiError> {
    let t = serving_tenant(state, principal, tenant)?;
    if let Some(p) = plugin {
        check_name(p)?;
    }
    if !(1..=KEEP_PER_TENANT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1-{KEEP_PER_TENANT} (the lines kept per tenant)"
        )));
    }
    Ok(state.store.plugin_log(&t.id, plugin, limit).await?)
}
