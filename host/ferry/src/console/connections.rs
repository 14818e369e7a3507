//! One tenant's page: its Kentico and FreshBooks connections, "Connect FreshBooks" (the host's OAuth flow, back to
//! this page once connected) and "Test connection" (one read-only call to each, what works and what does not),
//! this month's usage, and links to its run history and dead letters.

use super::events::visible_tenant;
use super::page::{self, PageError, csrf_field};
use super::tenants::{downstream, freshbooks};
use super::usage::usage_summary;
use super::viewer::{BASE, Viewer};
use crate::admin::{AdminState, visible_usage};
use crate::tenants::TenantRuntime;
use crate::tenants::connections::{self, Check, ConnectionReport};
use crate::usage::UsageRange;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ferry_model::TenantId;
use ferry_outbound::BreakerSnapshot;
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::Arc;
use time::{OffsetDateTime, Time};

/// Where the host's OAuth callback sends a browser that started "Connect FreshBooks" here; `member` is false when
/// the FreshBooks user who allowed access is not a member of the tenant's account.
pub fn connected_page(tenant: &TenantId, member: bool) -> String {
    let what = if member {
        "freshbooks"
    } else {
        "freshbooks_not_member"
    };
    format!("{BASE}/tenants/{tenant}?connected={what}")
}

/// Query of the page: set when the browser comes back from FreshBooks.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    connected: String,
}

/// `GET /console/tenants/{tenant}`.
pub(super) async fn page(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let runtime = serving(&state, &viewer, &tenant)?;
    let notice = match q.connected.as_str() {
        "freshbooks" => Some("FreshBooks is connected. Test the connection to see it answer."),
        "freshbooks_not_member" => Some(
            "FreshBooks is connected, but the user who allowed access is not a member of this tenant's account: \
             FreshBooks will refuse its orders until freshbooks.account_id names one of their accounts.",
        ),
        _ => None,
    };
    render(&state, &viewer, &runtime, notice, None).await
}

/// `POST /console/tenants/{tenant}/connect`: on to FreshBooks' authorize page (the admin API's start route, under
/// the session's token); FreshBooks sends the browser back to this tenant's page.
pub(super) async fn connect(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
) -> Result<Response, PageError> {
    Ok(crate::admin::start_freshbooks_connect(
        &state,
        &viewer.principal,
        &tenant,
        true,
    )?)
}

/// `POST /console/tenants/{tenant}/test`: tests both connections and shows the page with what was found.
pub(super) async fn test(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
) -> Result<Response, PageError> {
    let runtime = serving(&state, &viewer, &tenant)?;
    let report = connections::test(&runtime).await;
    tracing::info!(tenant = %runtime.id, token_id = %viewer.principal.token_id, kentico = report.kentico.ok,
        freshbooks = report.freshbooks.ok, "Connections tested in the console.");
    render(&state, &viewer, &runtime, None, Some(&report)).await
}

/// The tenant in the path, scope-checked and served by this host.
fn serving(
    state: &AdminState,
    viewer: &Viewer,
    raw: &str,
) -> Result<Arc<TenantRuntime>, PageError> {
    let id = visible_tenant(viewer, raw)?;
    state
        .tenants()
        .get(&id)
        .ok_or_else(|| PageError::not_found(format!("tenant {id} is not served by this host")))
}

async fn render(
    state: &AdminState,
    viewer: &Viewer,
    t: &TenantRuntime,
    notice: Option<&str>,
    report: Option<&ConnectionReport>,
) -> Result<Response, PageError> {
    let now = OffsetDateTime::now_utc();
    let day = now.replace_time(Time::MIDNIGHT);
    let month = day.replace_day(1).unwrap_or(day);
    let activity = state
        .store()
        .tenant_activity(day, month)
        .await?
        .remove(&t.id)
        .unwrap_or_default();
    let usage = visible_usage(
        state,
        &viewer.principal,
        Some(&t.id),
        UsageRange::this_month(now.date()),
    )
    .await?
    .pop()
    .map(|u| u.total)
    .unwrap_or_default();
    let breakers: Vec<BreakerSnapshot> = state
        .breakers()
        .snapshot()
        .into_iter()
        .filter(|b| b.key.tenant == t.id.as_str())
        .collect();
    let own: Vec<&BreakerSnapshot> = breakers.iter().collect();
    let base = format!("{BASE}/tenants/{}", t.id);
    let body = html! {
        h1 { "Tenant · " (t.id) }
        p { a href={ (base) "/events" } { "Run history" } " · " a href={ (base) "/dlq" } { "Dead letters" }
            " · " a href={ (BASE) "/usage?tenant=" (t.id) } { "Usage" } }
        @if let Some(n) = notice { p.notice #notice { (n) } }
        h2 { "Connections" }
        table #connections {
            thead { tr { th { "Service" } th { "Where" } th { "State" } } }
            tbody {
                tr data-service="kentico" {
                    td { "Kentico" }
                    td { span.mono { (t.config.kentico.base_url) } br; span.muted { "user " (t.config.kentico.username) } }
                    td { (downstream(&own, ferry_extract::kentico::DOWNSTREAM)) }
                }
                tr data-service="freshbooks" {
                    td { "FreshBooks" }
                    td { span.muted { "account " (t.config.freshbooks.account_id) } }
                    td { (freshbooks(&activity, &t.config.freshbooks.account_id)) }
                }
            }
        }
        @if let Some(r) = report { (test_result(r)) }
        div.actions {
            form.inline method="post" action={ (base) "/connect" } {
                (csrf_field(viewer))
                button #connect type="submit" { "Connect FreshBooks" }
            }
            " "
            form.inline method="post" action={ (base) "/test" } {
                (csrf_field(viewer))
                button #test type="submit" { "Test connection" }
            }
        }
        p.hint { "Connect FreshBooks takes you to FreshBooks to allow Ferry access to the account, and back here. \
            Test connection makes one read-only call to Kentico and one to FreshBooks." }
        h2 { "Usage this month" }
        (usage_summary(&usage))
    };
    let mut response = page::frame(Some(viewer), "Tenant", body).into_response();
    // "Connect FreshBooks" is a form whose answer redirects to FreshBooks' authorize page: browsers hold a form's
    // redirects to `form-action` too, so this page allows the tenant's FreshBooks sign-in origin as well.
    let csp = format!(
        "{}; form-action 'self' {}",
        page::CSP_BASE,
        origin(&t.config.freshbooks.auth_base)
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(response)
}

/// The origin (`scheme://host:port`) of `url`, or nothing when it is not a URL.
fn origin(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .ok()
        .filter(|o| o != "null")
        .unwrap_or_default()
}

/// A problem as the admin API names it (`bad_credentials`, `service_disabled`, …).
fn problem_code(p: connections::Problem) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn test_result(r: &ConnectionReport) -> Markup {
    let row = |name: &str, id: &str, c: &Check| {
        html! {
            tr data-service=(id) {
                td { (name) }
                td { @if c.ok { span.badge.ok { "works" } } @else { span.badge.failed { "fails" } } }
                td.problem { @if let Some(p) = c.problem { (problem_code(p)) } }
                td class=[(!c.ok).then_some("err")] { (c.message) }
            }
        }
    };
    html! {
        h2 { "Test connection" }
        table #test-result {
            thead { tr { th { "Service" } th { "Result" } th { "Problem" } th { "What it means" } } }
            tbody {
                (row("Kentico", "kentico", &r.kentico))
                (row("FreshBooks", "freshbooks", &r.freshbooks))
            }
        }
    }
}
