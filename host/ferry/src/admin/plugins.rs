//! Plugin uploads: checked against the WIT world at upload (the cheap checks: a component, its imports and its
//! exports), stored once by content hash, versioned per tenant and plugin name, compiled in the background
//! (`compile`: each version is `compiling`, then `ready` or `failed`), activated or rolled back without a restart.
//!
//! An uploaded plugin whose name is the file stem of a plugin in the tenant's configured chain (e.g.
//! `custom_fields`) takes that plugin's place and keeps its settings; any other name is appended to the tenant's
//! stored chain on its first upload (`chain`: its order, deactivation and settings).
//! Activation (`activation`) builds the whole new chain first and swaps it in only when it loaded, so the previous
//! version keeps serving until the new one is active, and a version that fails to load never becomes active.

use super::activation::activate_version;
use super::compile::{self, wait_compiled};
use super::error::{AdminPath, AdminQuery};
use super::tenants::serving_tenant;
use super::{AdminJson, AdminState, ApiError, ErrorCode, Principal};
use crate::tenants::TenantRuntime;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use ferry_store::{PluginState, PluginVersion};
use serde::{Deserialize, Serialize};

/// A plugin name: 1-64 characters of `a-z`, `0-9`, `-`, `_` (it becomes a file name).
pub(super) fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "plugin name {name:?} must be 1-64 characters of a-z, 0-9, '-' or '_'"
        )))
    }
}

/// Query of `POST /tenants/{tenant}/plugins`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UploadQuery {
    /// Plugin name; a configured plugin's file stem replaces that plugin.
    name: String,
    /// Activate the new version right away.
    #[serde(default)]
    activate: bool,
}

/// What an upload answers.
#[derive(Serialize)]
pub(crate) struct Uploaded {
    /// The stored version (an existing one when the same bytes were uploaded under this name before).
    pub(crate) plugin: PluginVersion,
    /// Whether this upload created a new version.
    pub(crate) created: bool,
}

/// `POST /tenants/{tenant}/plugins?name=…&activate=…`: the body is the component (`application/wasm`).
///
/// 201 with the new version; 200 with the existing version when these bytes were uploaded under this name
/// before; either at once, with the version's `state` (`compiling` until the background compile ends, `ready`
/// when these bytes were compiled before); 422 naming the forbidden import or missing export; 413 over `admin.max_plugin_bytes`. The body may be
/// sent `Content-Encoding: gzip` (a JavaScript or Python component shrinks to about a third); the limit applies to
/// the component once decompressed too.
pub(super) async fn upload(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    query: Result<AdminQuery<UploadQuery>, ApiError>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<(StatusCode, AdminJson<Uploaded>), ApiError> {
    // The body is read before anything is refused: a client still sending a component when the answer and the
    // close arrive sees a broken pipe instead of the reason.
    let bytes = read_upload(body, state.config.max_plugin_bytes).await?;
    let bytes = decode_upload(&headers, bytes, state.config.max_plugin_bytes)?;
    let AdminQuery(q) = query?;
    let uploaded =
        upload_component(&state, &principal, &tenant, &q.name, bytes, q.activate).await?;
    let status = if uploaded.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, AdminJson(uploaded)))
}

/// Checks component `bytes` as plugin `name` of `tenant` (the cheap checks) and stores it as a new version (or
/// finds the version these bytes already are), activating it when asked: the upload of the admin API and of the
/// console.
///
/// Bytes this host has compiled already (any tenant's upload, or the `.cwasm` cache) are loaded at once and the
/// version is `ready`; others are stored `compiling` and compiled in the background ([`compile::start`]), and
/// `activate` then activates the version when it is `ready`.
///
/// # Errors
/// 403/404 for a tenant the principal may not see or this host does not serve, 400 for a bad name or an empty
/// component, 422 for a component that is not a plugin of our world (or, asked to activate, one that failed to
/// compile or does not load in the chain).
pub(crate) async fn upload_component(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    name: &str,
    bytes: Bytes,
    activate: bool,
) -> Result<Uploaded, ApiError> {
    let t = serving_tenant(state, principal, tenant)?;
    check_name(name)?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "the request body must be the plugin component (.wasm)",
        ));
    }
    let runtime = state.plugin_host.runtime().clone();
    let invalid = |e: ferry_transform::Error| match e {
        ferry_transform::Error::InvalidPlugin { .. } => {
            ApiError::new(ErrorCode::InvalidPlugin, e.to_string())
        }
        other => ApiError::internal(&other),
    };
    let hash = runtime.check(name, &bytes).map_err(invalid)?;
    let existing = state
        .store
        .plugin_versions(&t.id, Some(name))
        .await?
        .into_iter()
        .find(|v| v.hash == hash);
    let (mut version, created) = match existing {
        Some(v) => (v, false),
        None => {
            // Compiled before (memory or disk cache): loading costs milliseconds, so the version is ready now and
            // a fault only the link finds is still refused in this answer.
            let state_now = if runtime.is_compiled(&hash) {
                let (owned, body) = (name.to_owned(), bytes.clone());
                tokio::task::spawn_blocking(move || runtime.load(&owned, &body))
                    .await
                    .map_err(|e| ApiError::internal(&e))?
                    .map_err(invalid)?;
                PluginState::Ready
            } else {
                PluginState::Compiling
            };
            state.store.put_plugin_blob(&hash, &bytes).await?;
            let v = state
                .store
                .add_plugin_version(&t.id, name, &hash, bytes.len() as u64, state_now)
                .await?;
            (v, true)
        }
    };
    tracing::info!(tenant = %t.id, plugin = %name, version = version.version, %hash, created, state = %version.state, "Plugin uploaded.");
    if activate && version.state == PluginState::Compiling {
        state
            .store
            .activate_plugin_when_ready(&t.id, name, version.version)
            .await?;
        version = state
            .store
            .plugin_version(&t.id, name, version.version)
            .await?;
    }
    if version.state == PluginState::Compiling {
        // Also for known bytes still compiling: joins the compile in flight, or restarts one a crash lost.
        compile::start(state, hash, name.to_owned(), bytes);
    } else if activate && !version.active {
        version = activate_version(state, &t, &version).await?;
    }
    Ok(Uploaded {
        plugin: version,
        created,
    })
}

/// How much of an oversized upload is read and discarded, as a multiple of the limit, before the 413 goes out.
const DRAIN_FACTOR: usize = 4;

/// Reads an upload body of at most `limit` bytes.
///
/// Past the limit the rest is read and discarded (up to [`DRAIN_FACTOR`] times the limit) so that the client
/// receives the 413 instead of a reset while it is still writing.
pub(crate) async fn read_upload(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt as _;
    let mut body = body;
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("request body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen <= limit {
            kept.extend_from_slice(&data);
        } else if seen > limit.saturating_mul(DRAIN_FACTOR) {
            break;
        }
    }
    if seen > limit {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            "request body exceeds the admin upload limit (admin.max_plugin_bytes)",
        ));
    }
    Ok(Bytes::from(kept))
}

/// The component an upload carries: the body as sent, or decompressed when its `Content-Encoding` is gzip, at most
/// `limit` bytes either way (a small body that inflates past the limit is refused, not decompressed to the end).
pub(super) fn decode_upload(
    headers: &axum::http::HeaderMap,
    body: Bytes,
    limit: usize,
) -> Result<Bytes, ApiError> {
    use std::io::Read as _;
    let encoding = headers
        .get(axum::http::header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("" | "identity") => Ok(body),
        Some("gzip" | "x-gzip") => {
            let mut out = Vec::new();
            let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
            flate2::read::GzDecoder::new(&body[..])
                .take(cap)
                .read_to_end(&mut out)
                .map_err(|e| ApiError::bad_request(format!("gzip body: {e}")))?;
            if out.len() > limit {
                return Err(ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "decompressed component exceeds the admin upload limit (admin.max_plugin_bytes)",
                ));
            }
            Ok(Bytes::from(out))
        }
        Some(other) => Err(ApiError::bad_request(format!(
            "Content-Encoding {other:?} is not supported; send the component as is or gzip-compressed"
        ))),
    }
}

/// Query of `GET /tenants/{tenant}/plugins`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    /// Only versions of this plugin.
    name: Option<String>,
}

/// `GET /tenants/{tenant}/plugins`: every uploaded version, by name then version.
pub(super) async fn list(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
    AdminQuery(q): AdminQuery<ListQuery>,
) -> Result<AdminJson<Vec<PluginVersion>>, ApiError> {
    let t = serving_tenant(&state, &principal, &tenant)?;
    Ok(AdminJson(
        state
            .store
            .plugin_versions(&t.id, q.name.as_deref())
            .await?,
    ))
}

/// `POST /tenants/{tenant}/plugins/{name}/versions/{version}/activate`.
pub(super) async fn activate(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, name, version)): AdminPath<(String, String, u32)>,
) -> Result<AdminJson<PluginVersion>, ApiError> {
    Ok(AdminJson(
        activate_named(&state, &principal, &tenant, &name, version).await?,
    ))
}

/// Makes `version` of plugin `name` the tenant's active one (the admin API's and the console's activation).
///
/// A version still `compiling` is waited for (up to `admin.activation_wait_ms`).
///
/// # Errors
/// 403/404 for the tenant, 404 for an unknown version, 409 when it is still compiling after the wait, 422 when it
/// failed to compile (with the reason) or the chain with it does not load.
pub(crate) async fn activate_named(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    name: &str,
    version: u32,
) -> Result<PluginVersion, ApiError> {
    let t = serving_tenant(state, principal, tenant)?;
    check_name(name)?;
    let target = wait_compiled(state, &t.id, name, version, "activate it").await?;
    activate_version(state, &t, &target).await
}

/// `POST /tenants/{tenant}/plugins/{name}/rollback`: activates the highest version below the active one.
pub(super) async fn rollback(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath((tenant, name)): AdminPath<(String, String)>,
) -> Result<AdminJson<PluginVersion>, ApiError> {
    Ok(AdminJson(
        roll_back(&state, &principal, &tenant, &name).await?,
    ))
}

/// Activates the highest version of plugin `name` below its active one (the admin API's and the console's
/// rollback).
///
/// # Errors
/// 403/404 for the tenant, 409 when no version is active or the active one is the first, 422 when the chain with
/// the previous version does not load.
pub(crate) async fn roll_back(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    name: &str,
) -> Result<PluginVersion, ApiError> {
    let (t, versions) = named_versions(state, principal, tenant, name).await?;
    let active = versions
        .iter()
        .find(|v| v.active)
        .ok_or_else(|| ApiError::conflict(format!("plugin {name} has no active version")))?;
    let previous = versions
        .iter()
        .filter(|v| v.version < active.version && v.state == PluginState::Ready)
        .max_by_key(|v| v.version)
        .ok_or_else(|| {
            ApiError::conflict(format!(
                "plugin {name} version {} is its first; there is nothing to roll back to",
                active.version
            ))
        })?;
    activate_version(state, &t, previous).await
}

/// The tenant (scope-checked) and every stored version of its plugin `name`.
pub(super) async fn named_versions(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    name: &str,
) -> Result<(std::sync::Arc<TenantRuntime>, Vec<PluginVersion>), ApiError> {
    let t = serving_tenant(state, principal, tenant)?;
    check_name(name)?;
    let versions = state.store.plugin_versions(&t.id, Some(name)).await?;
    Ok((t, versions))
}
