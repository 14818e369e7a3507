//! Tenants managed through the API (the SaaS mode): create, replace and delete, operator tokens only.
//!
//! The body is a tenant configuration as JSON, the shape of a `[[tenants]]` entry of `ferry.toml`. It is
//! validated (422 naming the field), the tenant is built (plugins loaded, clients made) before anything is
//! stored, and then it is stored with its secrets sealed and swapped into the serving tenants, so webhooks and
//! workers of this host see the change at once. Other hosts on the same database pick it up within
//! `admin.sync_every_ms` (see `sync`). Tenants of the configuration file are not changed here: their file is
//! their source.

use super::activation::build_chain;
use super::error::AdminPath;
use super::plan::StoredChain;
use super::tenants::{parse_tenant, view};
use super::{AdminJson, AdminState, ApiError, ErrorCode, Principal};
use crate::tenants::TenantConfig;
use crate::tenants::TenantRuntime;
use crate::tenants::{self, InvalidTenant, stored as managed};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use ferry_model::TenantId;
use serde_json::Value;

impl From<InvalidTenant> for ApiError {
    fn from(e: InvalidTenant) -> Self {
        Self::new(ErrorCode::InvalidConfig, e.to_string())
    }
}

/// `POST /tenants`: stores a new tenant and starts serving it (operator only).
pub(super) async fn create(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminJson(body): AdminJson<Value>,
) -> Result<(StatusCode, AdminJson<Value>), ApiError> {
    principal.require_operator()?;
    let config = tenants::parse(body.clone())?;
    let id = config.id.clone();
    let _one = state.activation.lock().await;
    if state.file_tenants.contains(&id) || state.tenants.get(&id).is_some() {
        return Err(ApiError::conflict(format!("tenant {id} already exists")));
    }
    let tenant = build(&state, config).await?;
    let (stored, sealed) = managed::seal(body, state.factory.keyring());
    if !state
        .store
        .insert_tenant_config(&id, &stored, &sealed)
        .await?
    {
        return Err(ApiError::conflict(format!(
            "tenant {id} already exists (stored by another host)"
        )));
    }
    let view = view(&state, &tenant).await?;
    state.tenants.insert(tenant);
    tracing::info!(tenant = %id, by = %principal.token_id, "Tenant created.");
    Ok((StatusCode::CREATED, AdminJson(view)))
}

/// `PUT /tenants/{tenant}`: replaces a stored tenant's configuration and swaps it in (operator only).
pub(super) async fn replace(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(raw): AdminPath<String>,
    AdminJson(body): AdminJson<Value>,
) -> Result<AdminJson<Value>, ApiError> {
    principal.require_operator()?;
    let id = parse_tenant(&raw)?;
    let config = tenants::parse(body.clone())?;
    if config.id != id {
        return Err(InvalidTenant {
            field: "id".to_owned(),
            message: format!("is {}, but the path names tenant {id}", config.id),
        }
        .into());
    }
    let _one = state.activation.lock().await;
    refuse_file_tenant(&state, &id)?;
    if state.store.tenant_config(&id).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "tenant {id} is not stored in the database"
        )));
    }
    let tenant = build(&state, config).await?;
    let (stored, sealed) = managed::seal(body, state.factory.keyring());
    if !state
        .store
        .replace_tenant_config(&id, &stored, &sealed)
        .await?
    {
        return Err(ApiError::not_found(format!(
            "tenant {id} is not stored in the database"
        )));
    }
    let view = view(&state, &tenant).await?;
    state.tenants.insert(tenant);
    tracing::info!(tenant = %id, by = %principal.token_id, "Tenant replaced.");
    Ok(AdminJson(view))
}

/// `DELETE /tenants/{tenant}`: stops serving a stored tenant and deletes it (operator only). Its admin tokens are
/// revoked with it, so a tenant created later under the same id starts with none; its events, run history and
/// FreshBooks connection stay in the store, for the record.
pub(super) async fn remove(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(raw): AdminPath<String>,
) -> Result<StatusCode, ApiError> {
    principal.require_operator()?;
    let id = parse_tenant(&raw)?;
    let _one = state.activation.lock().await;
    refuse_file_tenant(&state, &id)?;
    let Some(revoked_tokens) = state.store.delete_tenant_config(&id).await? else {
        return Err(ApiError::not_found(format!(
            "tenant {id} is not stored in the database"
        )));
    };
    state.tenants.remove(&id);
    tracing::info!(tenant = %id, by = %principal.token_id, revoked_tokens, "Tenant deleted.");
    Ok(StatusCode::NO_CONTENT)
}

/// 409 for a tenant of the configuration file.
fn refuse_file_tenant(state: &AdminState, id: &TenantId) -> Result<(), ApiError> {
    if state.file_tenants.contains(id) {
        return Err(ApiError::conflict(format!(
            "tenant {id} is configured in the configuration file; change it there"
        )));
    }
    Ok(())
}

/// Builds the tenant as the host would at start, with its active uploaded plugins in its chain. A failure is
/// the configuration's fault (a plugin that does not load, a value that does not parse): 422.
async fn build(state: &AdminState, config: TenantConfig) -> Result<TenantRuntime, ApiError> {
    let id = config.id.clone();
    let stored = StoredChain::load(&state.store, &id).await?;
    assemble(state, config, &stored).await.map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidConfig,
            format!("tenant {id} cannot be served: {e:#}"),
        )
    })
}

/// A tenant built from `config` with its active uploaded plugin versions in its chain (`stored`).
pub(super) async fn assemble(
    state: &AdminState,
    config: TenantConfig,
    stored: &StoredChain,
) -> anyhow::Result<TenantRuntime> {
    let mut tenant = state.factory.build(config).await?;
    if !stored.active.is_empty() {
        tenant.plugins = build_chain(state, &tenant.config, stored).await?;
    }
    Ok(tenant)
}
