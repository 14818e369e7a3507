//! Signing in and out, and the session every other console page runs under.
//!
//! Signing in takes an admin token (the same tokens as the admin API) and makes a session: a random id in an
//! HttpOnly, SameSite=Strict cookie scoped to `/console`, stored only as its SHA-256 with the token it speaks for
//! and an expiry. Every request looks the session up again, so revoking the token or signing out ends it at once,
//! on every host of a shared database. Who may see what is the token's [`Principal`], checked by the admin API's
//! own `may_see` / `require_operator`.
//!
//! CSRF: every POST behind a session must carry the session's `csrf` form field (synchronizer token), checked
//! here, once, for every form (URL-encoded, or multipart like the plugin upload); the sign-in form, which has no
//! session yet, carries a double-submit token that must equal its short-lived cookie.

use super::multipart;
use super::page::{self, PageError};
use super::viewer::{BASE, Viewer};
use crate::admin::{AdminState, Principal, generate_token, hash_token, read_upload};
use axum::Form;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use maud::{Markup, html};
use secrecy::ExposeSecret;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

/// The session cookie.
const SESSION_COOKIE: &str = "ferry_console";
/// The sign-in form's double-submit cookie.
const SIGN_IN_COOKIE: &str = "ferry_console_sign_in";
/// How long a session lasts; signing in again starts a new one.
pub(crate) const SESSION_TTL: Duration = Duration::hours(8);
/// Largest URL-encoded form body the CSRF check reads (console forms are a few fields); a multipart form (the plugin
/// upload) may carry a component of `admin.max_plugin_bytes` besides.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A cookie only this console reads: HttpOnly, SameSite=Strict, under `/console`, `Secure` when the request came
/// over HTTPS through a proxy.
fn cookie(name: &'static str, value: String, ttl: Duration, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(BASE)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(ttl)
        .build()
}

/// Whether the browser reached the host over HTTPS (a TLS-terminating proxy says so in `X-Forwarded-Proto`).
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A random value for a session id or a CSRF token (256 bits, hex).
fn random_token() -> String {
    let (_, secret) = generate_token();
    secret.expose_secret().to_owned()
}

/// Constant-time equality of two form tokens.
fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Admits requests with a live session, hands the handlers a [`Viewer`], and refuses any POST whose `csrf`
/// field is not the session's. Without a session a page redirects to the sign-in page.
pub(super) async fn require_session(
    State(state): State<AdminState>,
    jar: CookieJar,
    req: Request,
    next: Next,
) -> Response {
    let session = match jar.get(SESSION_COOKIE) {
        Some(c) => state.store().console_session(&hash_token(c.value())).await,
        None => Ok(None),
    };
    let session = match session {
        Ok(Some(s)) => s,
        Ok(None) if req.method() == Method::GET => {
            return Redirect::to(&format!("{BASE}/sign-in")).into_response();
        }
        Ok(None) => {
            return PageError::new(
                StatusCode::UNAUTHORIZED,
                "your session has ended; sign in again",
            )
            .into_response();
        }
        Err(e) => return PageError::from(e).into_response(),
    };
    let viewer = Viewer {
        principal: Principal::from(session.token),
        csrf: session.csrf,
    };
    let mut req = req;
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let (parts, body) = req.into_parts();
        let (sent, body) = match form_token(&state, &parts.headers, body).await {
            Ok(read) => read,
            Err(e) => return e.into_response(),
        };
        if !same(&sent, &viewer.csrf) {
            tracing::warn!(token_id = %viewer.principal.token_id, path = %parts.uri.path(), "Console form refused: CSRF token missing or wrong.");
            return PageError::new(
                StatusCode::FORBIDDEN,
                "this form was not sent from a console page of your session (CSRF token missing or wrong); \
                 reload the page and try again",
            )
            .into_response();
        }
        req = match body {
            FormBody::Encoded(bytes) => Request::from_parts(parts, Body::from(bytes)),
            FormBody::Multipart(form) => {
                let mut req = Request::from_parts(parts, Body::empty());
                req.extensions_mut().insert(form);
                req
            }
        };
    }
    req.extensions_mut().insert(viewer);
    next.run(req).await
}

/// A POST's body once read: URL-encoded bytes for the handler's `Form`, or a multipart form already parsed (the
/// handler takes it as an `Extension<FormData>`).
enum FormBody {
    Encoded(Bytes),
    Multipart(multipart::FormData),
}

/// Reads a POST's body and the `csrf` field it carries (empty when it has none). A multipart body may be as large
/// as a plugin upload, read as the admin API reads one.
async fn form_token(
    state: &AdminState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(String, FormBody), PageError> {
    if let Some(boundary) = multipart::boundary(headers) {
        let bytes = read_upload(
            body,
            state.max_plugin_bytes().saturating_add(MAX_FORM_BYTES),
        )
        .await?;
        let form = multipart::parse(bytes, &boundary).await?;
        return Ok((form.text("csrf").to_owned(), FormBody::Multipart(form)));
    }
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return Err(PageError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "form too large",
        ));
    };
    let sent = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| fields.into_iter().find(|(k, _)| k == "csrf"))
        .map(|(_, v)| v)
        .unwrap_or_default();
    Ok((sent, FormBody::Encoded(bytes)))
}

/// `GET /console/sign-in`: the token form, with a fresh double-submit token.
pub(super) async fn sign_in_page(headers: HeaderMap, jar: CookieJar) -> (CookieJar, Markup) {
    let csrf = random_token();
    let jar = jar.add(cookie(
        SIGN_IN_COOKIE,
        csrf.clone(),
        Duration::minutes(30),
        over_https(&headers),
    ));
    (jar, sign_in_form(&csrf, None))
}

fn sign_in_form(csrf: &str, problem: Option<&str>) -> Markup {
    page::frame(
        None,
        "Sign in",
        html! {
            h1 { "Sign in" }
            @if let Some(p) = problem { p.error { (p) } }
            form method="post" action={ (BASE) "/sign-in" } {
                input type="hidden" name="csrf" value=(csrf);
                label for="token" { "Admin token" }
                input #token type="password" name="token" autocomplete="off" required placeholder="ferry_…";
                button type="submit" { "Sign in" }
            }
            p.hint { "An operator token sees every tenant; a tenant's token sees that tenant only. Make one with "
                code { "ferry token create" } "." }
        },
    )
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub(super) struct SignIn {
    token: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /console/sign-in`: a live admin token starts a session.
pub(super) async fn sign_in(
    State(state): State<AdminState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<SignIn>,
) -> Result<Response, PageError> {
    let expected = jar
        .get(SIGN_IN_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if !same(&form.csrf, &expected) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "this sign-in form did not come from this console (CSRF token missing or wrong); open the sign-in \
             page again",
        ));
    }
    let Some(token) = state
        .store()
        .admin_token_by_hash(&hash_token(form.token.trim()))
        .await?
    else {
        tracing::info!("Console sign-in refused: unknown or revoked token.");
        let csrf = random_token();
        let jar = jar.add(cookie(
            SIGN_IN_COOKIE,
            csrf.clone(),
            Duration::minutes(30),
            over_https(&headers),
        ));
        let form = sign_in_form(&csrf, Some("Unknown or revoked admin token."));
        return Ok((StatusCode::UNAUTHORIZED, jar, form).into_response());
    };
    let id = random_token();
    let csrf = random_token();
    state
        .store()
        .create_console_session(
            &hash_token(&id),
            &token.id,
            &csrf,
            OffsetDateTime::now_utc() + SESSION_TTL,
        )
        .await?;
    tracing::info!(token_id = %token.id, "Console sign-in.");
    let jar = jar
        .remove(Cookie::build(SIGN_IN_COOKIE).path(BASE))
        .add(cookie(
            SESSION_COOKIE,
            id,
            SESSION_TTL,
            over_https(&headers),
        ));
    Ok((jar, Redirect::to(&format!("{BASE}/tenants"))).into_response())
}

/// `POST /console/sign-out`: ends the session here and on every host.
pub(super) async fn sign_out(
    State(state): State<AdminState>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        state
            .store()
            .delete_console_session(&hash_token(c.value()))
            .await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path(BASE));
    Ok((jar, Redirect::to(&format!("{BASE}/sign-in"))).into_response())
}
