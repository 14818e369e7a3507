//! The dead-letter queue of a tenant, grouped by error class: the list (all, one class, or one Kentico order's),
//! replay or discard one, and replay or discard every one matching (all, or one class) after a confirmation page
//! that shows how many.

use super::events::{class, event_table, visible_tenant};
use super::page::{self, PageError, csrf_field};
use super::viewer::{BASE, Viewer};
use crate::admin::AdminState;
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use axum::{Extension, Form};
use ferry_model::{ErrorClass, TenantId};
use ferry_store::{DeadLetterFilter, JobId};
use maud::{Markup, html};
use serde::Deserialize;

/// Most dead letters one page lists.
const LIST: u32 = 500;

/// Query of the list: an error class or a Kentico order number to narrow to, and a notice after a bulk action.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    class: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    done: String,
}

/// The dead letters of `tenant` in `class` (all when `None`).
fn matching(tenant: &TenantId, class: Option<ErrorClass>) -> DeadLetterFilter {
    DeadLetterFilter {
        tenant: Some(tenant.clone()),
        class,
        order_number: None,
    }
}

/// `?class=…` for a link, or nothing.
fn class_query(class: Option<ErrorClass>) -> String {
    class.map_or_else(String::new, |c| format!("&class={}", c.as_str()))
}

/// `GET /console/tenants/{tenant}/dlq[?class=…][&order=…]`: counts per error class, and the dead letters of one
/// class or all, or of one order (found by number even when the order was refused before it reached FreshBooks).
pub(super) async fn list(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Markup, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let class = class(&q.class)?;
    let order = Some(q.order.trim().to_owned()).filter(|o| !o.is_empty());
    let classes = state.store().dead_letter_classes(&tenant).await?;
    let filter = DeadLetterFilter {
        order_number: order.clone(),
        ..matching(&tenant, class)
    };
    let dead = state.store().dead_letters_matching(&filter, LIST).await?;
    let total: u64 = match &order {
        Some(_) => dead.len() as u64,
        None => classes
            .iter()
            .filter(|(c, _)| class.is_none() || *c == class)
            .map(|(_, n)| n)
            .sum(),
    };
    let base = format!("{BASE}/tenants/{tenant}/dlq");
    let body = html! {
        h1 { "Dead letters · " (tenant) @if let Some(c) = class { " · " (c.as_str()) } }
        @if !q.done.is_empty() { p.notice #done { (q.done) } }
        table #classes {
            thead { tr { th { "Error class" } th.num { "Dead letters" } } }
            tbody {
                @for (c, n) in &classes {
                    tr { td { @match c {
                        Some(c) => a href={ (base) "?class=" (c.as_str()) } { (c.as_str()) },
                        None => span.muted { "unclassed" },
                    } } td.num { (n) } }
                }
                tr { td { a href=(base) { "all" } } td.num { (classes.iter().map(|(_, n)| n).sum::<u64>()) } }
            }
        }
        form.filters method="get" action=(base) {
            @if let Some(c) = class { input type="hidden" name="class" value=(c.as_str()); }
            label { "Kentico order number" input type="text" name="order" value=(q.order) size="12"; }
            button type="submit" { "Find" }
            @if order.is_some() { a href=(base) { "Clear" } }
        }
        p #total { (total) " dead letters"
            @if let Some(c) = class { " of class " (c.as_str()) }
            @if let Some(o) = &order { " of order " (o) }
            " wait for a person"
            @if total > u64::from(LIST) { " (the oldest " (LIST) " are listed)" } "." }
        // Bulk actions take a class or all; one order's dead letters are replayed from their own pages.
        @if total > 0 && order.is_none() {
            p {
                a #replay-all href={ (base) "/confirm?action=replay" (class_query(class)) } { "Replay all " (total) "…" }
                " · "
                a #discard-all href={ (base) "/confirm?action=discard" (class_query(class)) } { "Discard all " (total) "…" }
            }
        }
        (event_table(&tenant, &dead))
    };
    Ok(page::frame(Some(&viewer), "Dead letters", body))
}

/// A bulk action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Bulk {
    Replay,
    Discard,
}

/// Query of the confirmation page.
#[derive(Debug, Deserialize)]
pub(super) struct ConfirmQuery {
    action: Bulk,
    #[serde(default)]
    class: String,
}

/// `GET /console/tenants/{tenant}/dlq/confirm?action=replay|discard`: how many, and the form that does it.
pub(super) async fn confirm(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
    Query(q): Query<ConfirmQuery>,
) -> Result<Markup, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let class = class(&q.class)?;
    let count: u64 = state
        .store()
        .dead_letter_classes(&tenant)
        .await?
        .iter()
        .filter(|(c, _)| class.is_none() || *c == class)
        .map(|(_, n)| n)
        .sum();
    let verb = match q.action {
        Bulk::Replay => "Replay",
        Bulk::Discard => "Discard",
    };
    let body = html! {
        h1 { (verb) " dead letters · " (tenant) }
        p #count { (verb) " " strong { (count) } " dead letters"
            @if let Some(c) = class { " of class " (c.as_str()) } " of tenant " (tenant) "?" }
        form method="post" action={ (BASE) "/tenants/" (tenant) "/dlq/bulk" } {
            (csrf_field(&viewer))
            input type="hidden" name="action" value=(verb.to_lowercase());
            @if let Some(c) = class { input type="hidden" name="class" value=(c.as_str()); }
            @if q.action == Bulk::Discard {
                input type="text" name="reason" placeholder="why discard" required size="30";
            }
            button #confirm type="submit" class=[(q.action == Bulk::Discard).then_some("danger")] {
                (verb) " " (count)
            }
            " " a href={ (BASE) "/tenants/" (tenant) "/dlq" } { "Cancel" }
        }
    };
    Ok(page::frame(Some(&viewer), "Confirm", body))
}

/// The bulk form's fields.
#[derive(Debug, Deserialize)]
pub(super) struct BulkForm {
    action: Bulk,
    #[serde(default)]
    class: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/tenants/{tenant}/dlq/bulk`.
pub(super) async fn bulk(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
    Form(form): Form<BulkForm>,
) -> Result<Redirect, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let by = &viewer.principal.token_id;
    let filter = matching(&tenant, class(&form.class)?);
    let done = match form.action {
        Bulk::Replay => {
            let note = format!("bulk replay in the console by {by}");
            let n = state.store().replay_matching(&filter, &note).await?;
            format!("Replayed {n} dead letters.")
        }
        Bulk::Discard => {
            let reason = reason(&form.reason, by)?;
            let n = state.store().discard_matching(&filter, &reason).await?;
            format!("Discarded {n} dead letters.")
        }
    };
    tracing::info!(tenant = %tenant, token_id = %by, done, "Console bulk dead-letter action.");
    Ok(Redirect::to(&format!(
        "{BASE}/tenants/{tenant}/dlq?{}",
        serde_urlencoded::to_string([("done", done)]).unwrap_or_default()
    )))
}

/// A discard reason as kept in the history: what the person typed, and by whom.
fn reason(typed: &str, by: &str) -> Result<String, PageError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(PageError::bad_request("say why these events are discarded"));
    }
    Ok(format!("{typed} (by {by} in the console)"))
}

/// `POST /console/tenants/{tenant}/dlq/{job}/replay`: back to the queue; shows the event.
pub(super) async fn replay(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, job)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let (tenant, job) = tenant_job(&state, &viewer, &tenant, &job).await?;
    let note = format!("replayed in the console by {}", viewer.principal.token_id);
    state.store().replay(job, &note).await?;
    Ok(Redirect::to(&format!(
        "{BASE}/tenants/{tenant}/events/{job}"
    )))
}

/// The discard form's field.
#[derive(Debug, Deserialize)]
pub(super) struct DiscardForm {
    #[serde(default)]
    reason: String,
}

/// `POST /console/tenants/{tenant}/dlq/{job}/discard`.
pub(super) async fn discard(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, job)): Path<(String, String)>,
    Form(form): Form<DiscardForm>,
) -> Result<Redirect, PageError> {
    let (tenant, job) = tenant_job(&state, &viewer, &tenant, &job).await?;
    let reason = reason(&form.reason, &viewer.principal.token_id)?;
    state.store().discard(job, &reason).await?;
    Ok(Redirect::to(&format!(
        "{BASE}/tenants/{tenant}/events/{job}"
    )))
}

/// The tenant (scope-checked) and its event `job` (404 for another tenant's).
async fn tenant_job(
    state: &AdminState,
    viewer: &Viewer,
    tenant: &str,
    job: &str,
) -> Result<(TenantId, JobId), PageError> {
    let tenant = visible_tenant(viewer, tenant)?;
    let job = JobId::parse(job).map_err(|_| PageError::not_found(format!("event {job:?}")))?;
    let event = state.store().event(job).await?;
    if event.tenant != tenant {
        return Err(PageError::not_found(format!(
            "event {job} of tenant {tenant}"
        )));
    }
    Ok((tenant, job))
}
