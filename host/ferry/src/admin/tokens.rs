//! Admin tokens over the API: who am I, and (operator only) list, create and revoke.

use super::error::AdminPath;
use super::tenants::parse_tenant;
use super::{AdminJson, AdminState, ApiError, Principal, generate_token, hash_token};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use ferry_store::{AdminToken, TokenScope};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// What `GET /whoami` answers.
#[derive(Serialize)]
pub(super) struct WhoAmI {
    token_id: String,
    #[serde(flatten)]
    scope: TokenScope,
}

/// `GET /whoami`: the calling token's id and scope.
pub(super) async fn whoami(Extension(principal): Extension<Principal>) -> AdminJson<WhoAmI> {
    AdminJson(WhoAmI {
        token_id: principal.token_id,
        scope: principal.scope,
    })
}

/// `GET /tokens`: every token (never the token itself), operator only.
pub(super) async fn list(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
) -> Result<AdminJson<Vec<AdminToken>>, ApiError> {
    principal.require_operator()?;
    Ok(AdminJson(state.store.admin_tokens().await?))
}

/// Body of `POST /tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateBody {
    /// The tenant the token is for; omit for an operator token.
    tenant: Option<String>,
    /// Whom the token is for.
    #[serde(default)]
    label: String,
}

/// What `POST /tokens` answers: the only time the token itself is shown.
#[derive(Serialize)]
pub(super) struct Created {
    #[serde(flatten)]
    token: AdminToken,
    /// The bearer token; store it now, it cannot be shown again.
    secret: String,
}

/// `POST /tokens`: a new operator or tenant token, operator only.
pub(super) async fn create(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminJson(body): AdminJson<CreateBody>,
) -> Result<(StatusCode, AdminJson<Created>), ApiError> {
    principal.require_operator()?;
    let scope = match body.tenant.as_deref() {
        None => TokenScope::Operator,
        Some(raw) => {
            let id = parse_tenant(raw)?;
            if state.tenants.get(&id).is_none() {
                return Err(ApiError::not_found(format!(
                    "tenant {id} is not served by this host"
                )));
            }
            TokenScope::Tenant(id)
        }
    };
    let (token, secret) = create_token(&state, &scope, &body.label, &principal).await?;
    Ok((
        StatusCode::CREATED,
        AdminJson(Created {
            token,
            secret: secret.expose_secret().to_owned(),
        }),
    ))
}

/// Makes and stores a token of `scope` for `by` (the API and the console both create through here); the secret is
/// returned once and only its hash is kept.
pub(crate) async fn create_token(
    state: &AdminState,
    scope: &TokenScope,
    label: &str,
    by: &Principal,
) -> Result<(AdminToken, SecretString), ApiError> {
    by.require_operator()?;
    let (id, secret) = generate_token();
    let token = state
        .store
        .insert_admin_token(&id, &hash_token(secret.expose_secret()), scope, label)
        .await?;
    tracing::info!(token_id = %id, by = %by.token_id, "Admin token created.");
    Ok((token, secret))
}

/// `DELETE /tokens/{id}`: revokes a token at once, operator only.
pub(super) async fn revoke(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(id): AdminPath<String>,
) -> Result<StatusCode, ApiError> {
    principal.require_operator()?;
    if state.store.revoke_admin_token(&id).await? {
        tracing::info!(token_id = %id, by = %principal.token_id, "Admin token revoked.");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("live admin token {id}")))
    }
}
