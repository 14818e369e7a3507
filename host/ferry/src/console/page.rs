//! What every console page shares: the frame (head, navigation, sign-out form), the error page, the stylesheet
//! and the small formatting helpers (times, ages, states).

use super::viewer::{BASE, Viewer};
use crate::admin::ApiError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ferry_store::{EventState, TokenScope};
use maud::{DOCTYPE, Markup, html};
use time::OffsetDateTime;
use time::macros::format_description;

/// The stylesheet, served at `/console/console.css` (no inline styles, so the CSP can forbid them).
pub(super) const CSS: &str = include_str!("console.css");

/// A page: doctype, head, the navigation for `viewer` (none on the sign-in page) and `body`.
pub(super) fn frame(viewer: Option<&Viewer>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Ferry console" }
                link rel="stylesheet" href={ (BASE) "/console.css" };
            }
            body {
                header {
                    a.brand href={ (BASE) "/tenants" } { "Ferry" }
                    @if let Some(v) = viewer {
                        nav {
                            a href={ (BASE) "/tenants" } { "Tenants" }
                            @if let TokenScope::Tenant(t) = &v.principal.scope {
                                a href={ (BASE) "/tenants/" (t) "/events" } { "Run history" }
                                a href={ (BASE) "/tenants/" (t) "/dlq" } { "Dead letters" }
                                a href={ (BASE) "/tenants/" (t) "/audits" } { "Audits" }
                                a href={ (BASE) "/tenants/" (t) "/plugins" } { "Plugins" }
                            } @else {
                                a href={ (BASE) "/tokens" } { "Tokens" }
                            }
                            a href={ (BASE) "/usage" } { "Usage" }
                        }
                        form.signout method="post" action={ (BASE) "/sign-out" } {
                            span.who { (v.principal.token_id) " · " (scope_name(&v.principal.scope)) }
                            (csrf_field(v))
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The hidden field every form of a session carries.
pub(super) fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(viewer.csrf); }
}

fn scope_name(scope: &TokenScope) -> String {
    match scope {
        TokenScope::Operator => "operator".to_owned(),
        TokenScope::Tenant(t) => format!("tenant {t}"),
    }
}

/// A time as `2026-12-05 17:40:12 UTC`.
pub(super) fn at(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
    ))
    .unwrap_or_default()
}

/// How long ago `t` was, roughly: `42 s`, `5 min`, `3 h`, `2 d`.
pub(super) fn age(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let secs = (now - t).whole_seconds().max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86_400 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// An event state as a badge (its CSS class is the state).
pub(super) fn state_badge(state: EventState) -> Markup {
    html! { span class={ "badge " (state.as_str()) } { (state.as_str()) } }
}

/// A failed console request as a page: status, message, and a way back.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    /// An error page with `status` saying `message`.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 404 naming what is missing.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 400 saying what is wrong with the request.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

/// The admin API's errors (scope checks included) keep their status and message.
impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self::new(e.status(), e.message)
    }
}

impl From<ferry_store::Error> for PageError {
    fn from(e: ferry_store::Error) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = frame(
            None,
            title,
            html! {
                h1 { (self.status.as_u16()) " " (title) }
                p.error { (self.message) }
                p { a href={ (BASE) "/tenants" } { "Back to the console" } }
            },
        );
        (self.status, body).into_response()
    }
}

/// The content security policy of every page but for `form-action`: no scripts, no inline styles, no framing.
pub(super) const CSP_BASE: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'";

/// Headers on every console answer: no framing, no scripts or inline styles, forms posting only to the console
/// (unless a page names more), nothing cached (pages show live state and may show a token once).
pub(super) async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(csp) = HeaderValue::from_str(&format!("{CSP_BASE}; form-action 'self'"))
    {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
