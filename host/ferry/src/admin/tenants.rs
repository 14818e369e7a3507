//! Tenants as an operator sees them (secrets only as `"set"` / `"unset"`), and circuit breaker states.

use super::error::AdminPath;
use super::plan::{StoredChain, plan};
use super::{AdminJson, AdminState, ApiError, Principal};
use crate::tenants::TenantConfig;
use crate::tenants::TenantRuntime;
use axum::Extension;
use axum::extract::State;
use ferry_model::TenantId;
use ferry_outbound::BreakerSnapshot;
use ferry_store::EventState;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Parses a tenant id from the path, checks the token may see it, and finds it among the serving tenants.
///
/// The scope check comes before the lookup, so a tenant token cannot probe which other tenants exist.
pub(crate) fn serving_tenant(
    state: &AdminState,
    principal: &Principal,
    raw: &str,
) -> Result<Arc<TenantRuntime>, ApiError> {
    let id = parse_tenant(raw)?;
    principal.may_see(&id)?;
    state
        .tenants
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("tenant {id} is not served by this host")))
}

/// A tenant id from a path or body.
pub(super) fn parse_tenant(raw: &str) -> Result<TenantId, ApiError> {
    TenantId::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// What a secret field shows: whether it is set, never its value.
fn set_or_unset(secret: Option<&SecretString>) -> &'static str {
    match secret {
        Some(s) if !s.expose_secret().is_empty() => "set",
        _ => "unset",
    }
}

/// One line of `GET /tenants`.
#[derive(Serialize)]
pub(super) struct TenantSummary {
    id: TenantId,
    kentico_base_url: String,
    freshbooks_account_id: String,
    base_currency: String,
    plugins: usize,
    dead_letters: u64,
}

/// `GET /tenants`: every tenant an operator token may see, or the tenant token's own.
pub(super) async fn list(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
) -> Result<AdminJson<Vec<TenantSummary>>, ApiError> {
    let mut out = Vec::new();
    for t in state.tenants.all() {
        if principal.may_see(&t.id).is_err() {
            continue;
        }
        out.push(TenantSummary {
            id: t.id.clone(),
            kentico_base_url: t.config.kentico.base_url.clone(),
            freshbooks_account_id: t.config.freshbooks.account_id.clone(),
            base_currency: t.config.freshbooks.base_currency.clone(),
            plugins: t.plugins.len(),
            dead_letters: state
                .store
                .count_in_state(Some(&t.id), EventState::Dead)
                .await?,
        });
    }
    Ok(AdminJson(out))
}

/// `GET /tenants/{tenant}`: the tenant's configuration with secrets as set/unset, its plugins and event counts.
pub(super) async fn show(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
) -> Result<AdminJson<Value>, ApiError> {
    let t = serving_tenant(&state, &principal, &tenant)?;
    Ok(AdminJson(view(&state, &t).await?))
}

/// A serving tenant as `GET /tenants/{tenant}` shows it.
pub(super) async fn view(state: &AdminState, t: &TenantRuntime) -> Result<Value, ApiError> {
    let connected = state
        .store
        .tokens(&t.id, &t.config.freshbooks.account_id)
        .await?
        .is_some();
    let mut counts = serde_json::Map::new();
    for s in [
        EventState::Queued,
        EventState::Running,
        EventState::Retrying,
        EventState::Done,
        EventState::Dead,
        EventState::Discarded,
    ] {
        let n = state.store.count_in_state(Some(&t.id), s).await?;
        counts.insert(s.as_str().to_owned(), json!(n));
    }
    let stored = StoredChain::load(&state.store, &t.id).await?;
    let plugins: Vec<Value> = plan(&t.config, &stored)
        .into_iter()
        .map(|p| {
            json!({
                "name": p.name,
                "source": if p.version.is_some() { "upload" } else { "config" },
                "version": p.version.map(|v| v.version),
                "settings": p.settings,
            })
        })
        .collect();
    let disconnected = state.store.disconnection(&t.id).await?;
    let mut view = tenant_view(&t.config, connected, plugins, counts);
    // Refused for good by FreshBooks: the tenant's events wait until it is reconnected.
    if let Some(d) = disconnected {
        view["freshbooks"]["connected"] = json!(false);
        view["freshbooks"]["disconnected"] = json!({
            "since": d
                .since
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "reason": d.reason,
        });
    } else {
        view["freshbooks"]["disconnected"] = Value::Null;
    }
    view["serving"] = json!(
        t.plugins
            .handles()
            .iter()
            .map(|p| json!({ "name": p.name(), "sha256": p.content_hash() }))
            .collect::<Vec<_>>()
    );
    view["source"] = json!(if state.file_tenants.contains(&t.id) {
        "config_file"
    } else {
        "database"
    });
    Ok(view)
}

/// The JSON view of a tenant's configuration, with its chain as it runs (`plugins`). Every secret appears only as
/// `"set"` or `"unset"`.
fn tenant_view(
    c: &TenantConfig,
    connected: bool,
    plugins: Vec<Value>,
    events: serde_json::Map<String, Value>,
) -> Value {
    let m = &c.mapping;
    json!({
        "id": c.id,
        "kentico": {
            "base_url": c.kentico.base_url,
            "username": c.kentico.username,
            "password": set_or_unset(Some(&c.kentico.password)),
        },
        "freshbooks": {
            "api_base": c.freshbooks.api_base,
            "auth_base": c.freshbooks.auth_base,
            "account_id": c.freshbooks.account_id,
            "client_id": c.freshbooks.client_id,
            "client_secret": set_or_unset(Some(&c.freshbooks.client_secret)),
            "redirect_uri": c.freshbooks.redirect_uri,
            "refresh_token": set_or_unset(c.freshbooks.refresh_token.as_ref()),
            "connected": connected,
            "base_currency": c.freshbooks.base_currency,
        },
        "webhook_secrets": {
            "count": c.webhook_secrets.len(),
            "state": set_or_unset(c.webhook_secrets.first()),
        },
        "mapping": {
            "status_map": m.status_map,
            "unknown_sku": match m.unknown_sku {
                ferry_model::UnknownSkuPolicy::CreateItem => "create_item",
                ferry_model::UnknownSkuPolicy::DefaultItem => "default_item",
            },
            "default_item": m.default_item,
            "due_offset_days": m.due_offset_days,
            "terms": m.terms,
            "shipping_line_name": m.shipping_line_name,
            "use_kentico_invoice_number": m.use_kentico_invoice_number,
            "payment_types": m.payment_types,
            "default_payment_type": m.default_payment_type,
            "price_tolerance_percent": m.price_tolerance_percent,
        },
        "plugins": plugins,
        "limits": {
            "concurrency": c.limits.concurrency,
            "plugin_fuel": c.limits.plugin_fuel,
            "plugin_memory_mib": c.limits.plugin_memory_mib,
        },
        "events": events,
    })
}

/// `GET /breakers`: every breaker an operator may see, or the tenant token's own.
pub(super) async fn breakers(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
) -> AdminJson<Vec<BreakerSnapshot>> {
    let only = principal.only_tenant().map(TenantId::as_str);
    AdminJson(
        state
            .breakers
            .snapshot()
            .into_iter()
            .filter(|b| only.is_none_or(|t| b.key.tenant == t))
            .collect(),
    )
}

/// `GET /tenants/{tenant}/breakers`: the tenant's breakers (one per downstream it has called).
pub(super) async fn tenant_breakers(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
) -> Result<AdminJson<Vec<BreakerSnapshot>>, ApiError> {
    let t = serving_tenant(&state, &principal, &tenant)?;
    Ok(AdminJson(
        state
            .breakers
            .snapshot()
            .into_iter()
            .filter(|b| b.key.tenant == t.id.as_str())
            .collect(),
    ))
}
