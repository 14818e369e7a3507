//! The books audit in the console (issue 21): a tenant's latest audits with their counts per class and a form to
//! audit now; one report with every difference, both sides' values and what a repair would do, and the form that
//! repairs it once. The same [`Auditor`](crate::audit::Auditor) as the admin API and the schedule.

use super::events::visible_tenant;
use super::page::{self, PageError, at, csrf_field};
use super::viewer::{BASE, Viewer};
use crate::admin::{AdminState, parse_since, serving_tenant};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::{Extension, Form};
use ferry_model::{AuditReport, Repair, TenantId};
use maud::{Markup, html};
use serde::Deserialize;
use time::OffsetDateTime;

/// Audits one page lists.
const LIST: u32 = 50;

/// The classes a report found, as `2 missing · 1 amount_changed`, or `clean`.
fn counts(r: &AuditReport) -> String {
    let found = crate::audit::difference_counts(r);
    if found.is_empty() {
        "clean".to_owned()
    } else {
        found.join(" · ")
    }
}

/// What a repair does about one difference, in words.
fn repair_text(repair: Option<&Repair>) -> &'static str {
    match repair {
        None => "left to a person",
        Some(Repair::Resync) => "run the order again",
        Some(Repair::RecordLedger { .. }) => "record the ledger entry",
        Some(Repair::Overwrite { restore: true, .. }) => {
            "restore the invoice and bring it back to the order"
        }
        Some(Repair::Overwrite { restore: false, .. }) => "bring the invoice back to the order",
    }
}

/// Query of the list: a notice after an action.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Notice {
    #[serde(default)]
    done: String,
}

/// `GET /console/tenants/{tenant}/audits`: the latest audits and the form that runs one.
pub(super) async fn list(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
) -> Result<Markup, PageError> {
    let t = serving_tenant(&state, &viewer.principal, &tenant)?;
    let reports = state.store().audits(&t.id, LIST).await?;
    let default_since = (OffsetDateTime::now_utc() - t.config.audit.window()).date();
    let base = format!("{BASE}/tenants/{}/audits", t.id);
    let body = html! {
        h1 { "Books audits · " (t.id) }
        p.hint { "An audit compares every Kentico order changed since a day with what FreshBooks holds for it: "
            "the invoice, its lines and total, its client and its payments." }
        form #run-audit method="post" action=(base) {
            (csrf_field(&viewer))
            label { "Orders changed since " input type="date" name="since" value=(default_since) required; }
            " " button type="submit" { "Audit now" }
        }
        @if reports.is_empty() { p.muted #no-audits { "No audit yet." } } @else {
            table #audits {
                thead { tr {
                    th { "Audit" } th { "Finished" } th { "Orders since" } th.num { "Checked" }
                    th.num { "Skipped" } th.num { "FreshBooks calls" } th { "Differences" }
                } }
                tbody {
                    @for r in &reports {
                        tr data-audit=(r.id) {
                            td { a href={ (base) "/" (r.id) } { "#" (r.id) } }
                            td { (at(r.finished_at)) }
                            td { (at(r.since)) }
                            td.num { (r.orders_checked) }
                            td.num { (r.orders_skipped) }
                            td.num { (r.freshbooks_calls) }
                            td class=(if r.is_clean() { "ok" } else { "err" }) { (counts(r)) }
                        }
                    }
                }
            }
        }
    };
    Ok(page::frame(Some(&viewer), "Audits", body))
}

/// The audit form's field.
#[derive(Debug, Deserialize)]
pub(super) struct RunForm {
    since: String,
}

/// `POST /console/tenants/{tenant}/audits`: audits now and shows the report.
pub(super) async fn run(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
    Form(form): Form<RunForm>,
) -> Result<Redirect, PageError> {
    let t = serving_tenant(&state, &viewer.principal, &tenant)?;
    let since = parse_since(&form.since)?;
    let report = state.auditor().audit(&t.id, since).await.map_err(|e| {
        PageError::new(
            StatusCode::BAD_GATEWAY,
            format!("the audit of {} stopped: {e:#}", t.id),
        )
    })?;
    tracing::info!(tenant = %t.id, by = %viewer.principal.token_id, audit = report.id, "Audit run in the console.");
    Ok(Redirect::to(&format!(
        "{BASE}/tenants/{}/audits/{}",
        t.id, report.id
    )))
}

/// `GET /console/tenants/{tenant}/audits/{audit}`: one report, every difference, and the repair form.
pub(super) async fn show(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, audit)): Path<(String, i64)>,
    Query(notice): Query<Notice>,
) -> Result<Markup, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let r = report(&state, &tenant, audit).await?;
    let repairable = r.repairable().count();
    let base = format!("{BASE}/tenants/{tenant}");
    let body = html! {
        h1 { "Audit #" (r.id) " · " (tenant) }
        @if !notice.done.is_empty() { p.notice #done { (notice.done) } }
        p #summary { (r.orders_checked) " orders changed since " (at(r.since)) " checked, "
            (r.orders_skipped) " skipped (invalid or waiting for a person); " (r.freshbooks_calls)
            " FreshBooks calls; finished " (at(r.finished_at)) ". " strong #result { (counts(&r)) } }
        @if repairable > 0 {
            form #repair method="post" action={ (base) "/audits/" (r.id) "/repair" } {
                (csrf_field(&viewer))
                button type="submit" { "Repair " (repairable) " of " (r.differences.len()) " differences" }
                span.muted { " (once; the rest is left to a person)" }
            }
        }
        @if !r.differences.is_empty() {
            table #differences {
                thead { tr {
                    th { "Class" } th { "Order" } th { "FreshBooks" } th { "Kentico says" }
                    th { "FreshBooks has" } th { "Repair" }
                } }
                tbody {
                    @for d in &r.differences {
                        tr data-class=(d.class.as_str()) {
                            td { span.badge { (d.class.as_str()) } }
                            td { @if d.order_number.is_empty() { span.muted { (d.order_guid) } } @else {
                                a href={ (base) "/events?order=" (d.order_number) } { (d.order_number) } } }
                            td { (d.freshbooks.as_deref().unwrap_or("–")) }
                            td { (d.expected) }
                            td { (d.actual) }
                            td { (repair_text(d.repair.as_ref())) }
                        }
                    }
                }
            }
        }
        p { a href={ (base) "/audits" } { "All audits" } }
    };
    Ok(page::frame(Some(&viewer), "Audit", body))
}

/// The tenant's report `id`, or 404.
async fn report(state: &AdminState, tenant: &TenantId, id: i64) -> Result<AuditReport, PageError> {
    state
        .store()
        .audit(tenant, id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("audit {id} of tenant {tenant}")))
}

/// `POST /console/tenants/{tenant}/audits/{audit}/repair`: repairs once, then shows the report with what was done.
pub(super) async fn repair(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, audit)): Path<(String, i64)>,
) -> Result<Redirect, PageError> {
    let t = serving_tenant(&state, &viewer.principal, &tenant)?;
    report(&state, &t.id, audit).await?;
    let r = state.auditor().repair(&t.id, audit).await.map_err(|e| {
        PageError::new(
            StatusCode::BAD_GATEWAY,
            format!("the repair of audit {audit} stopped: {e:#}"),
        )
    })?;
    let done = if r.already_repaired {
        "This audit was repaired before; audit again to see what is left.".to_owned()
    } else {
        format!(
            "Repaired: {} ledger entries recorded, {} invoices overwritten, {} orders run again, {} left to a person.",
            r.ledger_entries, r.invoices_overwritten, r.orders_resynced, r.left_to_a_person
        )
    };
    tracing::info!(tenant = %t.id, by = %viewer.principal.token_id, audit, "Audit repaired in the console.");
    Ok(Redirect::to(&format!(
        "{BASE}/tenants/{}/audits/{audit}?{}",
        t.id,
        serde_urlencoded::to_string([("done", done)]).unwrap_or_default()
    )))
}
