//! Admin tokens (operator only): list, create (the token is shown once) and revoke.

use super::page::{self, PageError, at, csrf_field};
use super::viewer::{BASE, Viewer};
use crate::admin::{AdminState, create_token};
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::{Extension, Form};
use ferry_model::TenantId;
use ferry_store::TokenScope;
use maud::{Markup, html};
use secrecy::ExposeSecret;
use serde::Deserialize;

/// `GET /console/tokens`.
pub(super) async fn list(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Markup, PageError> {
    viewer.principal.require_operator()?;
    let tokens = state.store().admin_tokens().await?;
    let mut tenants: Vec<TenantId> = state.tenants().all().iter().map(|t| t.id.clone()).collect();
    tenants.sort();
    let body = html! {
        h1 { "Admin tokens" }
        table #tokens {
            thead { tr { th { "Id" } th { "Scope" } th { "Label" } th { "Created" } th { "Revoked" } th {} } }
            tbody {
                @for t in &tokens {
                    tr data-token=(t.id) {
                        td.mono { (t.id) }
                        td { @match &t.scope { TokenScope::Operator => "operator", TokenScope::Tenant(id) => { "tenant " (id) } } }
                        td { (t.label) }
                        td { (at(t.created_at)) }
                        td { @if let Some(r) = t.revoked_at { (at(r)) } }
                        td { @if t.revoked_at.is_none() && t.id != viewer.principal.token_id {
                            form.inline method="post" action={ (BASE) "/tokens/" (t.id) "/revoke" } {
                                (csrf_field(&viewer))
                                button.danger type="submit" { "Revoke" }
                            }
                        } }
                    }
                }
            }
        }
        h2 { "New token" }
        form.filters method="post" action={ (BASE) "/tokens" } {
            (csrf_field(&viewer))
            label { "For" select name="tenant" {
                option value="" { "operator (every tenant)" }
                @for id in &tenants { option value=(id) { "tenant " (id) } }
            } }
            label { "Label" input type="text" name="label" placeholder="whom it is for" size="24"; }
            button type="submit" { "Create" }
        }
    };
    Ok(page::frame(Some(&viewer), "Tokens", body))
}

/// The new-token form's fields.
#[derive(Debug, Deserialize)]
pub(super) struct CreateForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    label: String,
}

/// `POST /console/tokens`: makes the token and shows it, once.
pub(super) async fn create(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Form(form): Form<CreateForm>,
) -> Result<Markup, PageError> {
    let scope = match form.tenant.trim() {
        "" => TokenScope::Operator,
        raw => {
            let id = TenantId::parse(raw).map_err(|e| PageError::bad_request(e.to_string()))?;
            if state.tenants().get(&id).is_none() {
                return Err(PageError::not_found(format!(
                    "tenant {id} is not served by this host"
                )));
            }
            TokenScope::Tenant(id)
        }
    };
    let (token, secret) =
        create_token(&state, &scope, form.label.trim(), &viewer.principal).await?;
    let body = html! {
        h1 { "Token " (token.id) " created" }
        p { "Copy it now: only its hash is kept, so it cannot be shown again." }
        p.secret #secret { (secret.expose_secret()) }
        p { a href={ (BASE) "/tokens" } { "Back to the tokens" } }
    };
    Ok(page::frame(Some(&viewer), "Token created", body))
}

/// `POST /console/tokens/{id}/revoke`.
pub(super) async fn revoke(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Redirect, PageError> {
    viewer.principal.require_operator()?;
    if !state.store().revoke_admin_token(&id).await? {
        return Err(PageError::not_found(format!("live admin token {id}")));
    }
    tracing::info!(token_id = %id, by = %viewer.principal.token_id, "Admin token revoked in the console.");
    Ok(Redirect::to(&format!("{BASE}/tokens")))
}
