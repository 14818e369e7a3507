//! "Connect FreshBooks" in the browser: `GET /connect/freshbooks/{tenant}` (an admin token that may see the tenant)
//! sends the browser to FreshBooks' authorize page; FreshBooks sends it back to `GET /oauth/freshbooks/callback`,
//! which finishes the flow ([`crate::connect`]) and answers with a page saying what happened.
//!
//! The callback is the one redirect URI of the host (`[admin] public_url` + [`CALLBACK_PATH`]); it needs no token,
//! since the sealed, single-use state says which tenant it is for, and a cookie set by the start route ties it to
//! the browser that started (a link to FreshBooks' page sent to someone else cannot connect their account).

use super::error::AdminPath;
use super::tenants::serving_tenant;
use super::{AdminState, ApiError, Principal};
use crate::connect::{self, CALLBACK_PATH, FinishError};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;

/// Where a browser starts the flow for a tenant, before the tenant id.
pub const START_PATH: &str = "/connect/freshbooks";

/// The cookie that ties a callback to the browser that started the flow.
const BINDING_COOKIE: &str = "ferry_connect";

/// The cookie saying the flow was started from the console, so the callback sends the browser back to the tenant's
/// console page instead of ending on a page of its own. Only says where to go back to: the tenant comes from the
/// sealed state, and the path is fixed.
const FROM_CONSOLE_COOKIE: &str = "ferry_connect_from";

/// `GET /connect/freshbooks/{tenant}`: 303 to FreshBooks' authorize page for the tenant's app.
///
/// # Errors
/// 403 when the token may not see the tenant, 404 for an unknown tenant, 409 when `admin.public_url` is not set.
pub(crate) async fn start(
    State(state): State<AdminState>,
    Extension(principal): Extension<Principal>,
    AdminPath(tenant): AdminPath<String>,
) -> Result<Response, ApiError> {
    start_for(&state, &principal, &tenant, false)
}

/// The start route's work, for any surface that has a [`Principal`] (the console mounts it behind its session);
/// `from_console` sends the browser back to the tenant's console page once connected.
///
/// # Errors
/// As [`start`].
pub fn start_for(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    from_console: bool,
) -> Result<Response, ApiError> {
    let runtime = serving_tenant(state, principal, tenant)?;
    let id = &runtime.id;
    let public_url = state.config.public_url.as_deref().ok_or_else(|| {
        ApiError::conflict(
            "connecting FreshBooks in the browser needs admin.public_url (the address browsers reach this host at); \
             set it, register <public_url>/oauth/freshbooks/callback as the app's redirect URI, and restart; or run \
             `ferry connect freshbooks` on the host",
        )
    })?;
    let redirect_uri = connect::redirect_uri(public_url);
    let begun = connect::begin(
        &runtime.freshbooks,
        state.factory.keyring(),
        id,
        &redirect_uri,
        state.config.connect_ttl_secs,
        true,
    );
    let mut response = Redirect::to(&begun.authorize_url).into_response();
    if let Some(binding) = begun.binding {
        let secure = if public_url.starts_with("https://") {
            "; Secure"
        } else {
            ""
        };
        // SameSite=Lax: the browser comes back from FreshBooks' site in a top-level navigation, which Lax allows.
        let cookie = |name: &str, value: &str| {
            format!(
                "{name}={value}; Path={CALLBACK_PATH}; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
                state.config.connect_ttl_secs
            )
        };
        let mut cookies = vec![cookie(BINDING_COOKIE, binding.expose_secret())];
        if from_console {
            cookies.push(cookie(FROM_CONSOLE_COOKIE, "1"));
        }
        for c in cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
        }
    }
    tracing::info!(tenant = %id, token_id = %principal.token_id, "FreshBooks connection started.");
    Ok(response)
}

/// What FreshBooks sends back.
#[derive(Debug, Deserialize)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /oauth/freshbooks/callback`: finishes the flow and shows the outcome.
pub(crate) async fn callback(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    match finish(&state, &headers, q).await {
        Ok(done) if cookie(&headers, FROM_CONSOLE_COOKIE).is_some() => {
            tracing::info!(tenant = %done.tenant, member = done.member, "FreshBooks connected from the console.");
            let mut back = Redirect::to(&crate::console::connected_page(&done.tenant, done.member))
                .into_response();
            let gone = format!(
                "{FROM_CONSOLE_COOKIE}=; Path={CALLBACK_PATH}; Max-Age=0; HttpOnly; SameSite=Lax"
            );
            if let Ok(v) = HeaderValue::from_str(&gone) {
                back.headers_mut().insert(header::SET_COOKIE, v);
            }
            back
        }
        Ok(done) => {
            tracing::info!(tenant = %done.tenant, member = done.member, "FreshBooks connected in the browser.");
            let what = match (&done.business, done.member) {
                (Some(name), _) => format!(
                    "Tenant {} is connected to FreshBooks ({}). Orders waiting for the connection are sent now.",
                    done.tenant, name
                ),
                (None, true) => format!(
                    "Tenant {} is connected to FreshBooks. Orders waiting for the connection are sent now.",
                    done.tenant
                ),
                (None, false) => format!(
                    "Tenant {} is connected, but the FreshBooks user who allowed access is not a member of the \
                     tenant's account; FreshBooks will refuse its orders until freshbooks.account_id names one of \
                     their accounts.",
                    done.tenant
                ),
            };
            page(StatusCode::OK, "FreshBooks connected", &what)
        }
        Err(e) => {
            let status = match &e {
                FinishError::Exchange(_) => StatusCode::BAD_GATEWAY,
                FinishError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
                FinishError::UnknownTenant(_) => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_REQUEST,
            };
            tracing::warn!(error = %e, "FreshBooks connection not finished.");
            let message = match &e {
                // The store's detail is for the log, not the page.
                FinishError::Store(_) => {
                    "the host could not record the connection; try again".to_owned()
                }
                other => other.to_string(),
            };
            page(status, "FreshBooks was not connected", &message)
        }
    }
}

async fn finish(
    state: &AdminState,
    headers: &HeaderMap,
    q: Callback,
) -> Result<connect::Connected, FinishError> {
    let opened = connect::state::open(
        state.factory.keyring(),
        q.state.as_deref(),
        cookie(headers, BINDING_COOKIE).as_deref(),
    )?;
    if let Some(error) = q.error {
        let detail = q
            .error_description
            .map_or(error.clone(), |d| format!("{error}: {d}"));
        return Err(FinishError::Denied(detail));
    }
    let code = q
        .code
        .filter(|c| !c.is_empty())
        .ok_or(FinishError::NoCode)?;
    let runtime = state
        .tenants
        .get(&opened.tenant)
        .ok_or_else(|| FinishError::UnknownTenant(opened.tenant.clone()))?;
    connect::finish(&state.store, &runtime.freshbooks, opened, &code).await
}

/// The value of cookie `name` in the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A small HTML page: the flow ends in the user's browser, not in a JSON client.
fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head><body>\
         <h1>{t}</h1><p id=\"outcome\">{m}</p><p><a href=\"/console\">Back to the console</a></p></body></html>",
        t = esc(title),
        m = esc(message)
    );
    (status, Html(body)).into_response()
}
