//! OAuth2 (docs/freshbooks.md §8) and identity (docs/freshbooks.md §2): the authorize page, the token endpoint with
//! single-use rotating refresh tokens, and `GET /auth/api/v1/users/me`.

use axum::Json;
use axum::extract::{Form, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::SharedState;
use super::error::ApiError;
use super::model::TokenResponse;
use super::state::DEFAULT_SCOPE;

/// Token request fields; FreshBooks accepts them form-encoded (Python SDK) or as JSON (Node SDK).
#[derive(Debug, Default, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    code: Option<String>,
    refresh_token: Option<String>,
}

/// `POST /auth/oauth/token`.
pub(crate) async fn token(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<TokenResponse>, ApiError> {
    state.store().token_requests += 1;
    let is_json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let request: TokenRequest = if is_json {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid_request(format!("malformed JSON body: {e}")))?
    } else {
        serde_urlencoded::from_bytes(&body)
            .map_err(|e| ApiError::invalid_request(format!("malformed form body: {e}")))?
    };
    let mut store = state.store();
    if let Some((id, secret)) = &store.config.client_credentials
        && (request.client_id.as_deref() != Some(id)
            || request.client_secret.as_deref() != Some(secret))
    {
        // OAuth's standard reply; FreshBooks' exact body is not recorded [G].
        return Err(ApiError::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "Client authentication failed.".into(),
        });
    }
    let tokens = match request.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = request
                .code
                .ok_or_else(|| ApiError::invalid_request("code is required"))?;
            store.redeem_code(&code, request.redirect_uri.as_deref())?
        }
        Some("refresh_token") => {
            let refresh = request
                .refresh_token
                .ok_or_else(|| ApiError::invalid_request("refresh_token is required"))?;
            store.redeem_refresh(&refresh)?
        }
        other => {
            return Err(ApiError::OAuth {
                status: StatusCode::BAD_REQUEST,
                error: "unsupported_grant_type",
                description: format!(
                    "grant_type {} is not supported",
                    other.unwrap_or("(missing)")
                ),
            });
        }
    };
    Ok(Json(tokens))
}

/// Query of the authorize page. `identity_id` / `account_id` are simulator extensions choosing who approves.
#[derive(Debug, Deserialize)]
pub(crate) struct AuthorizeQuery {
    client_id: Option<String>,
    response_type: Option<String>,
    redirect_uri: String,
    scope: Option<String>,
    state: Option<String>,
    identity_id: Option<u64>,
    account_id: Option<String>,
}

/// `GET /oauth/authorize`: redirects straight back with a code when auto-approve is on (sandbox), otherwise
/// shows a page with one "Allow" button per identity.
pub(crate) async fn authorize(
    State(state): State<SharedState>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    // FreshBooks requires HTTPS redirect URIs without a query string (docs/freshbooks.md §8). The simulator accepts
    // plain http (the sandbox redirects to 127.0.0.1) but rejects a query string, which FreshBooks forbids.
    if q.redirect_uri.contains('?') {
        return ApiError::invalid_request("redirect_uri must not carry a query string; use state")
            .into_response();
    }
    if q.response_type.as_deref().is_some_and(|r| r != "code") {
        return ApiError::invalid_request("response_type must be code").into_response();
    }
    let store = state.store();
    let chosen = choose_identity(&store, &q);
    if store.config.auto_approve {
        drop(store);
        return approve(&state, chosen, &q);
    }
    let mut buttons = String::new();
    for (id, identity) in &store.identities {
        buttons.push_str(&format!(
            "<form method=\"post\" action=\"/oauth/authorize\">\
             <input type=\"hidden\" name=\"identity_id\" value=\"{id}\">\
             <input type=\"hidden\" name=\"redirect_uri\" value=\"{}\">\
             <input type=\"hidden\" name=\"scope\" value=\"{}\">\
             <input type=\"hidden\" name=\"state\" value=\"{}\">\
             <button type=\"submit\">Allow as {} {} ({})</button></form>",
            escape(&q.redirect_uri),
            escape(q.scope.as_deref().unwrap_or("")),
            escape(q.state.as_deref().unwrap_or("")),
            escape(&identity.first_name),
            escape(&identity.last_name),
            escape(&identity.email),
        ));
    }
    let client = escape(q.client_id.as_deref().unwrap_or("an application"));
    Html(format!(
        "<!doctype html><title>FreshBooks (simulated) authorize</title><h1>Authorize {client}</h1>{buttons}"
    ))
    .into_response()
}

/// Form posted by the authorize page.
#[derive(Debug, Deserialize)]
pub(crate) struct ApproveForm {
    identity_id: u64,
    redirect_uri: String,
    scope: Option<String>,
    state: Option<String>,
}

/// `POST /oauth/authorize`: the user clicked "Allow".
pub(crate) async fn approve_form(
    State(state): State<SharedState>,
    Form(f): Form<ApproveForm>,
) -> Response {
    let q = AuthorizeQuery {
        client_id: None,
        response_type: None,
        redirect_uri: f.redirect_uri,
        scope: f.scope,
        state: f.state,
        identity_id: Some(f.identity_id),
        account_id: None,
    };
    approve(&state, Some(f.identity_id), &q)
}

fn choose_identity(store: &super::state::Store, q: &AuthorizeQuery) -> Option<u64> {
    if let Some(id) = q.identity_id.filter(|id| store.identities.contains_key(id)) {
        return Some(id);
    }
    if let Some(account) = &q.account_id {
        return store
            .identities
            .values()
            .find(|i| i.accounts.contains(account))
            .map(|i| i.id);
    }
    store.identities.keys().next().copied()
}

fn approve(state: &SharedState, identity: Option<u64>, q: &AuthorizeQuery) -> Response {
    let Some(identity) = identity else {
        return ApiError::control_not_found("no identity exists to approve the request")
            .into_response();
    };
    let scope = q
        .scope
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_SCOPE.to_owned());
    let code = state.store().issue_code(identity, &q.redirect_uri, &scope);
    let mut location = format!("{}?code={code}", q.redirect_uri);
    if let Some(s) = &q.state {
        let encoded = serde_urlencoded::to_string([("state", s)]).unwrap_or_default();
        location.push('&');
        location.push_str(&encoded);
    }
    Redirect::to(&location).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /auth/api/v1/users/me`: `{"response":{…identity…}}`, or 401 `unauthenticated`.
pub(crate) async fn me(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let store = state.store();
    let identity = store
        .bearer_identity(&headers)
        .and_then(|id| store.identity(id))
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Json(json!({ "response": identity })))
}
