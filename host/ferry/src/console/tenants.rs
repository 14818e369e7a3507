//! The tenants overview: per tenant, whether Kentico and FreshBooks work, the breakers, the backlog, dead letters
//! and orders synced today and this month. An operator sees every tenant, a tenant token its own row.

use super::page::{self, PageError, age, at};
use super::viewer::{BASE, Viewer};
use crate::admin::AdminState;
use axum::Extension;
use axum::extract::State;
use ferry_outbound::{BreakerSnapshot, BreakerState};
use ferry_store::TenantActivity;
use maud::{Markup, html};
use time::{OffsetDateTime, Time};

/// `GET /console/tenants`.
pub(super) async fn overview(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Markup, PageError> {
    let now = OffsetDateTime::now_utc();
    // guess: "today" and "this month" are UTC days, like every time the console shows.
    let day = now.replace_time(Time::MIDNIGHT);
    let month = day.replace_day(1).unwrap_or(day);
    let activity = state.store().tenant_activity(day, month).await?;
    let breakers = state.breakers().snapshot();
    let mut tenants: Vec<_> = state
        .tenants()
        .all()
        .into_iter()
        .filter(|t| viewer.principal.may_see(&t.id).is_ok())
        .collect();
    tenants.sort_by(|a, b| a.id.cmp(&b.id));
    let none = TenantActivity::default();
    let body = html! {
        h1 { "Tenants" }
        table #tenants {
            thead { tr {
                th { "Tenant" } th { "Kentico" } th { "FreshBooks" } th { "Breakers" }
                th.num { "Backlog" } th { "Oldest waiting" } th.num { "Dead letters" }
                th.num { "Synced today" } th.num { "This month" } th { "Last success" } th { "Last error" }
            } }
            tbody {
                @for t in &tenants {
                    @let a = activity.get(&t.id).unwrap_or(&none);
                    @let own: Vec<&BreakerSnapshot> = breakers.iter().filter(|b| b.key.tenant == t.id.as_str()).collect();
                    tr data-tenant=(t.id) {
                        td { a href={ (BASE) "/tenants/" (t.id) } { (t.id) } br;
                            a.muted href={ (BASE) "/tenants/" (t.id) "/audits" } { "audits" } " · "
                            a.muted.plugins href={ (BASE) "/tenants/" (t.id) "/plugins" } { "plugins" } }
                        td { (downstream(&own, "kentico")) br; span.muted.mono { (t.config.kentico.base_url) } }
                        td { (freshbooks(a, &t.config.freshbooks.account_id)) br;
                            span.muted { "account " (t.config.freshbooks.account_id) } }
                        td { @if own.is_empty() { span.muted { "no calls yet" } }
                            @for b in &own { (breaker(b)) " " } }
                        td.num.backlog { (a.backlog) }
                        td { @if let Some(t0) = a.oldest_waiting { (age(t0, now)) } @else { "–" } }
                        td.num.dead-letters { @if a.dead_letters > 0 {
                            a href={ (BASE) "/tenants/" (t.id) "/dlq" } { (a.dead_letters) }
                        } @else { "0" } }
                        td.num { (a.synced_today) }
                        td.num { (a.synced_this_month) }
                        td { @if let Some(s) = a.last_success { span title=(at(s)) { (age(s, now)) " ago" } } @else { "–" } }
                        td.err { @if let Some((when, error)) = &a.last_error {
                            span title=(at(*when)) { (age(*when, now)) " ago: " } (short(error, 140))
                        } }
                    }
                }
            }
        }
        @if tenants.is_empty() { p.hint { "This host serves no tenant this token may see." } }
    };
    Ok(page::frame(Some(&viewer), "Tenants", body))
}

/// A downstream's state from its breaker: working (closed), failing (open / half open) or not called yet.
pub(super) fn downstream(breakers: &[&BreakerSnapshot], name: &str) -> Markup {
    match breakers.iter().find(|b| b.key.downstream == name) {
        Some(b) if b.state != BreakerState::Closed => breaker(b),
        Some(_) => html! { span.badge.ok { "working" } },
        None => html! { span.badge { "not called yet" } },
    }
}

/// FreshBooks: disconnected (refused for good, with why and since when), connected, or never connected.
pub(super) fn freshbooks(a: &TenantActivity, account: &str) -> Markup {
    if let Some(d) = &a.disconnected {
        return html! {
            span.badge.disconnected title=(d.reason) { "disconnected" }
            " since " (at(d.since)) ": " span.err { (short(&d.reason, 100)) }
        };
    }
    if a.token_accounts.iter().any(|x| x == account) {
        html! { span.badge.connected { "connected" } }
    } else {
        html! { span.badge.not_connected { "not connected" } }
    }
}

fn breaker(b: &BreakerSnapshot) -> Markup {
    let state = match b.state {
        BreakerState::Closed => "closed",
        BreakerState::Open => "open",
        BreakerState::HalfOpen => "half_open",
    };
    html! { span class={ "badge " (state) } title={ (b.failures) " failures in " (b.calls) " calls" } {
        (b.key.downstream) ": " (state.replace('_', " "))
    } }
}

/// At most `max` characters of `s`, with an ellipsis when cut.
pub(super) fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}
