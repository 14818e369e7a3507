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
use super::state::{CodeExchange, DEFAULT_SCOPE, PkceChallenge};

/// Token request fields; FreshBooks accepts them form-encoded (Python SDK) or as JSON (Node SDK).
#[derive(Debug, Default, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    code: Option<String>,
    refresh_token: Option<String>,
    code_verifier: Option<String>,
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
            let exchange = CodeExchange {
                client_id: request.client_id.as_deref(),
                redirect_uri: request.redirect_uri.as_deref(),
                code_verifier: request.code_verifier.as_deref(),
            };
            store.redeem_code(&code, &exchange)?
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
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    identity_id: Option<u64>,
    account_id: Option<String>,
}

impl AuthorizeQuery {
    /// What FreshBooks checks before it shows the page: an error here is shown, never sent to the redirect URI
    /// (it may not be the application's).
    fn check(&self, store: &super::state::Store) -> Result<Option<PkceChallenge>, ApiError> {
        // FreshBooks requires HTTPS redirect URIs without a query string (docs/freshbooks.md §8). The simulator
        // accepts plain http (the sandbox redirects to 127.0.0.1) but rejects a query string, which FreshBooks forbids.
        if self.redirect_uri.contains('?') {
            return Err(ApiError::invalid_request(
                "redirect_uri must not carry a query string; use state",
            ));
        }
        if self.response_type.as_deref().is_some_and(|r| r != "code") {
            return Err(ApiError::invalid_request("response_type must be code"));
        }
        // guess: an unknown client_id is refused on the page, as OAuth servers do; FreshBooks' wording is not recorded.
        let Some(client_id) = self.client_id.as_deref() else {
            return Err(ApiError::invalid_request("client_id is required"));
        };
        if let Some((known, _)) = &store.config.client_credentials
            && known != client_id
        {
            return Err(ApiError::invalid_request(format!(
                "unknown client_id {client_id}"
            )));
        }
        if !store.redirect_uris.is_empty() && !store.redirect_uris.contains(&self.redirect_uri) {
            return Err(ApiError::invalid_request(format!(
                "redirect_uri {} is not registered for this application",
                self.redirect_uri
            )));
        }
        match (&self.code_challenge, self.code_challenge_method.as_deref()) {
            (None, _) => Ok(None),
            (Some(challenge), method @ (None | Some("S256" | "plain"))) => {
                Ok(Some(PkceChallenge {
                    challenge: challenge.clone(),
                    // RFC 7636 §4.3: no method means plain.
                    method: method.unwrap_or("plain").to_owned(),
                }))
            }
            (Some(_), Some(other)) => Err(ApiError::invalid_request(format!(
                "code_challenge_method {other} is not supported (S256, plain)"
            ))),
        }
    }
}

/// `GET /oauth/authorize`: checks the request, then redirects straight back with a code when auto-approve is on
/// (sandbox), otherwise shows a page with one "Allow" button per identity and a "Deny" button.
pub(crate) async fn authorize(
    State(state): State<SharedState>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    let store = state.store();
    let pkce = match q.check(&store) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let chosen = choose_identity(&store, &q);
    if store.config.auto_approve {
        drop(store);
        return approve(&state, chosen, &q, pkce);
    }
    let hidden = |name: &str, value: Option<&str>| {
        value.map_or_else(String::new, |v| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(v)
            )
        })
    };
    let request_fields = [
        hidden("client_id", q.client_id.as_deref()),
        hidden("redirect_uri", Some(&q.redirect_uri)),
        hidden("scope", q.scope.as_deref()),
        hidden("state", q.state.as_deref()),
        hidden("code_challenge", q.code_challenge.as_deref()),
        hidden("code_challenge_method", q.code_challenge_method.as_deref()),
    ]
    .concat();
    let mut forms = String::new();
    for (id, identity) in &store.identities {
        forms.push_str(&format!(
            "<form method=\"post\" action=\"/oauth/authorize\">{request_fields}\
             <input type=\"hidden\" name=\"identity_id\" value=\"{id}\">\
             <button type=\"submit\" name=\"decision\" value=\"allow\">Allow as {} {} ({})</button></form>",
            escape(&identity.first_name),
            escape(&identity.last_name),
            escape(&identity.email),
        ));
    }
    forms.push_str(&format!(
        "<form method=\"post\" action=\"/oauth/authorize\">{request_fields}\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>"
    ));
    let client = escape(q.client_id.as_deref().unwrap_or("an application"));
    Html(format!(
        "<!doctype html><title>FreshBooks (simulated) authorize</title><h1>Authorize {client}</h1>\
         <p>{client} wants to read and write your clients, invoices, items, taxes and payments.</p>{forms}"
    ))
    .into_response()
}

/// Form posted by the authorize page.
#[derive(Debug, Deserialize)]
pub(crate) struct ApproveForm {
    client_id: Option<String>,
    identity_id: Option<u64>,
    redirect_uri: String,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    /// `allow` or `deny`.
    decision: Option<String>,
}

/// `POST /oauth/authorize`: the user clicked "Allow" (or "Deny"); the request is checked again, since the form
/// came back from the browser.
pub(crate) async fn approve_form(
    State(state): State<SharedState>,
    Form(f): Form<ApproveForm>,
) -> Response {
    let q = AuthorizeQuery {
        client_id: f.client_id,
        response_type: None,
        redirect_uri: f.redirect_uri,
        scope: f.scope,
        state: f.state,
        code_challenge: f.code_challenge,
        code_challenge_method: f.code_challenge_method,
        identity_id: f.identity_id,
        account_id: None,
    };
    let pkce = match q.check(&state.store()) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if f.decision.as_deref() == Some("deny") {
        // RFC 6749 §4.1.2.1: the user said no.
        return Redirect::to(&redirect_with(
            &q.redirect_uri,
            &[("error", "access_denied")],
            q.state.as_deref(),
        ))
        .into_response();
    }
    approve(&state, f.identity_id, &q, pkce)
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

fn approve(
    state: &SharedState,
    identity: Option<u64>,
    q: &AuthorizeQuery,
    pkce: Option<PkceChallenge>,
) -> Response {
    let Some(identity) = identity.filter(|id| state.store().identities.contains_key(id)) else {
        return ApiError::control_not_found("no identity exists to approve the request")
            .into_response();
    };
    let scope = q
        .scope
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_SCOPE.to_owned());
    let code = state.store().issue_code(
        identity,
        q.client_id.as_deref(),
        &q.redirect_uri,
        &scope,
        pkce,
        q.state.is_some(),
    );
    Redirect::to(&redirect_with(
        &q.redirect_uri,
        &[("code", code.as_str())],
        q.state.as_deref(),
    ))
    .into_response()
}

/// `redirect_uri?<pairs>&state=<state>`, form-encoded.
fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> String {
    let mut all: Vec<(&str, &str)> = pairs.to_vec();
    if let Some(s) = state {
        all.push(("state", s));
    }
    let query = serde_urlencoded::to_string(&all).unwrap_or_default();
    format!("{redirect_uri}?{query}")
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
