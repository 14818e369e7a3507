//! Usage, what an operator bills on: orders synced and calls to FreshBooks and Kentico per tenant and month over the
//! days asked for (default this month), and one tenant's days. An operator sees every tenant, a tenant token its
//! own; the figures and the scope check are the admin API's ([`visible_usage`]).

use super::events::visible_tenant;
use super::page::{self, PageError};
use super::viewer::{BASE, Viewer};
use crate::admin::{AdminState, visible_usage};
use crate::usage::{TenantUsage, UsageRange, month_label};
use axum::Extension;
use axum::extract::{Query, State};
use ferry_store::UsageCounts;
use maud::{Markup, html};
use serde::Deserialize;
use time::OffsetDateTime;

/// The form's fields (all optional; empty ones are ignored, as a browser sends them).
#[derive(Debug, Default, Deserialize)]
pub(super) struct UsageQuery {
    /// First day, `YYYY-MM-DD` (UTC).
    #[serde(default)]
    from: String,
    /// Last day, inclusive.
    #[serde(default)]
    to: String,
    /// One tenant's days (a tenant token always sees its own).
    #[serde(default)]
    tenant: String,
}

/// `GET /console/usage`.
pub(super) async fn page(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<UsageQuery>,
) -> Result<Markup, PageError> {
    let range = UsageRange::parse(Some(&q.from), Some(&q.to), OffsetDateTime::now_utc().date())
        .map_err(PageError::bad_request)?;
    let tenant = match q.tenant.trim() {
        "" => viewer.principal.only_tenant().cloned(),
        raw => Some(visible_tenant(&viewer, raw)?),
    };
    let usage = visible_usage(&state, &viewer.principal, tenant.as_ref(), range).await?;
    let body = html! {
        h1 { "Usage" @if let Some(t) = &tenant { " · " (t) } }
        form.filters method="get" action={ (BASE) "/usage" } {
            label { "From" input type="date" name="from" value=(range.from); }
            label { "To" input type="date" name="to" value=(range.to); }
            @if let Some(t) = &tenant { input type="hidden" name="tenant" value=(t); }
            button type="submit" { "Show" }
            @if tenant.is_some() && viewer.principal.only_tenant().is_none() {
                a href={ (BASE) "/usage?from=" (range.from) "&to=" (range.to) } { "Every tenant" }
            }
        }
        p.hint { "Per UTC day. An order counts once, on the day its FreshBooks invoice was first written; every \
            request Ferry sent to FreshBooks or to the tenant's Kentico counts as a call (within a few seconds)." }
        @match (&tenant, usage.first()) {
            (Some(_), Some(one)) => (one_tenant(one)),
            _ => (every_tenant(&usage, range)),
        }
    };
    Ok(page::frame(Some(&viewer), "Usage", body))
}

/// Every tenant's months, a row each, with the range's total.
fn every_tenant(usage: &[TenantUsage], range: UsageRange) -> Markup {
    let mut total = UsageCounts::default();
    for u in usage {
        total += u.total;
    }
    html! {
        table #usage {
            thead { tr { th { "Tenant" } th { "Month" } (count_heads()) } }
            tbody {
                @for u in usage {
                    @for m in &u.months {
                        tr data-tenant=(u.tenant) data-month=(month_label(m.start)) {
                            td { a href={ (BASE) "/usage?tenant=" (u.tenant) "&from=" (range.from) "&to=" (range.to) } { (u.tenant) } }
                            td { (month_label(m.start)) }
                            (count_cells(&m.counts))
                        }
                    }
                }
            }
        }
        h2 { "All tenants, " (range.from) " to " (range.to) }
        (usage_summary(&total))
    }
}

/// One tenant's months and days.
fn one_tenant(u: &TenantUsage) -> Markup {
    html! {
        h2 { "Months" }
        table #months {
            thead { tr { th { "Month" } (count_heads()) } }
            tbody { @for m in &u.months { tr data-month=(month_label(m.start)) { td { (month_label(m.start)) } (count_cells(&m.counts)) } } }
        }
        h2 { "Days" }
        table #days {
            thead { tr { th { "Day" } (count_heads()) } }
            tbody { @for d in &u.days { tr data-day=(d.day) { td { (d.day) } (count_cells(&d.counts)) } } }
        }
        @if u.days.is_empty() { p.hint { "Nothing counted on these days." } }
        h2 { "Total" }
        (usage_summary(&u.total))
    }
}

/// A span's counts as a one-row table.
pub(super) fn usage_summary(c: &UsageCounts) -> Markup {
    html! {
        table.usage-total {
            thead { tr { (count_heads()) } }
            tbody { tr { (count_cells(c)) } }
        }
    }
}

fn count_heads() -> Markup {
    html! { th.num { "Orders synced" } th.num { "FreshBooks calls" } th.num { "Kentico calls" } }
}

fn count_cells(c: &UsageCounts) -> Markup {
    html! {
        td.num.orders { (c.orders_synced) }
        td.num.freshbooks { (c.freshbooks_calls) }
        td.num.kentico { (c.kentico_calls) }
    }
}
