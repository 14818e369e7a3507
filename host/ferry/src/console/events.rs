//! Run history: a tenant's events filtered by state, date, Kentico order number and FreshBooks invoice id, paged
//! newest first; and one event's page with its timeline (state changes and every step of every attempt, with
//! durations) and the FreshBooks objects it made.

use super::page::{self, PageError, at, csrf_field, state_badge};
use super::tenants::short;
use super::viewer::{BASE, Viewer};
use crate::admin::AdminState;
use axum::Extension;
use axum::extract::{Path, Query, State};
use ferry_model::{ErrorClass, TenantId};
use ferry_store::{EventFilter, EventRecord, EventState, JobId, RunHistory};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};

/// The replay and discard forms of one dead letter.
pub(super) fn actions(viewer: &Viewer, tenant: &TenantId, job: JobId) -> Markup {
    let base = format!("{BASE}/tenants/{tenant}/dlq/{job}");
    html! {
        div.actions {
            form.inline method="post" action={ (base) "/replay" } {
                (csrf_field(viewer))
                button #replay type="submit" { "Replay" }
            }
            " "
            form.inline method="post" action={ (base) "/discard" } {
                (csrf_field(viewer))
                input type="text" name="reason" placeholder="why discard" required size="24";
                button.danger type="submit" { "Discard" }
            }
        }
    }
}

/// Events per page.
pub(super) const PAGE: u32 = 50;

/// The states a filter may ask for, in the order the form lists them.
const STATES: [EventState; 6] = [
    EventState::Queued,
    EventState::Running,
    EventState::Retrying,
    EventState::Done,
    EventState::Dead,
    EventState::Discarded,
];

/// The tenant in the path, if the viewer may see it: the admin API's own scope check.
pub(super) fn visible_tenant(viewer: &Viewer, raw: &str) -> Result<TenantId, PageError> {
    let id = TenantId::parse(raw).map_err(|e| PageError::bad_request(e.to_string()))?;
    viewer.principal.may_see(&id)?;
    Ok(id)
}

/// The run history form's fields (all optional; empty ones are ignored, as a browser sends them).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(super) struct HistoryQuery {
    #[serde(default)]
    state: String,
    /// First day, `YYYY-MM-DD` (UTC).
    #[serde(default)]
    from: String,
    /// Last day, inclusive.
    #[serde(default)]
    to: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    invoice: String,
    /// An error class (`validation`, `upstream`, …).
    #[serde(default)]
    class: String,
    /// Only events older than this job (the next page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<i64>,
}

fn day(raw: &str, field: &str) -> Result<Option<OffsetDateTime>, PageError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .map(|d| Some(d.midnight().assume_utc()))
        .map_err(|_| PageError::bad_request(format!("{field}: {raw:?} is not a date (YYYY-MM-DD)")))
}

/// An error class from a form field (empty: any).
pub(super) fn class(raw: &str) -> Result<Option<ErrorClass>, PageError> {
    match raw.trim() {
        "" => Ok(None),
        c => c
            .parse()
            .map(Some)
            .map_err(|_| PageError::bad_request(format!("unknown error class {c:?}"))),
    }
}

fn text(raw: &str) -> Option<String> {
    Some(raw.trim().to_owned()).filter(|s| !s.is_empty())
}

impl HistoryQuery {
    fn filter(&self) -> Result<EventFilter, PageError> {
        let state = match self.state.trim() {
            "" => None,
            s => Some(
                EventState::parse(s)
                    .map_err(|_| PageError::bad_request(format!("unknown state {s:?}")))?,
            ),
        };
        Ok(EventFilter {
            state,
            from: day(&self.from, "from")?,
            until: day(&self.to, "to")?.map(|d| d + Duration::days(1)),
            order_number: text(&self.order),
            invoice_id: text(&self.invoice),
            class: class(&self.class)?,
        })
    }
}

/// `GET /console/tenants/{tenant}/events`.
pub(super) async fn history(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Markup, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let filter = q.filter()?;
    let events = state
        .store()
        .search_events(&tenant, &filter, q.before.map(JobId), PAGE)
        .await?;
    let next = (events.len() == PAGE as usize)
        .then(|| events.last().map(|e| e.job.0))
        .flatten()
        .map(|before| {
            let next = HistoryQuery {
                before: Some(before),
                ..q.clone()
            };
            serde_urlencoded::to_string(&next).unwrap_or_default()
        });
    let base = format!("{BASE}/tenants/{tenant}/events");
    let body = html! {
        h1 { "Run history · " (tenant) }
        form.filters method="get" action=(base) {
            label { "State" select name="state" {
                option value="" { "any" }
                @for s in STATES { option value=(s.as_str()) selected[q.state == s.as_str()] { (s.as_str()) } }
            } }
            label { "Error class" select name="class" {
                option value="" { "any" }
                @for c in ErrorClass::ALL { option value=(c.as_str()) selected[q.class == c.as_str()] { (c.as_str()) } }
            } }
            label { "From" input type="date" name="from" value=(q.from); }
            label { "To" input type="date" name="to" value=(q.to); }
            label { "Kentico order number" input type="text" name="order" value=(q.order) size="12"; }
            label { "FreshBooks invoice id" input type="text" name="invoice" value=(q.invoice) size="12"; }
            button type="submit" { "Search" }
            a href=(base) { "Clear" }
        }
        (event_table(&tenant, &events))
        div.pager {
            @if q.before.is_some() { a href=(base) { "Newest" } }
            @if let Some(next) = next { a rel="next" href={ (base) "?" (next) } { "Older →" } }
        }
    };
    Ok(page::frame(Some(&viewer), "Run history", body))
}

/// Events as a table, each linking to its page.
pub(super) fn event_table(tenant: &TenantId, events: &[EventRecord]) -> Markup {
    html! {
        table.events {
            thead { tr {
                th { "Event" } th { "Received" } th { "Kind" } th { "Order" } th { "Invoice" }
                th { "State" } th { "Class" } th.num { "Attempts" } th { "Last error" }
            } }
            tbody {
                @for e in events {
                    tr data-job=(e.job) {
                        td { a href={ (BASE) "/tenants/" (tenant) "/events/" (e.job) } { "#" (e.job) } }
                        td { (at(e.received_at)) }
                        td { (e.kind) }
                        td { @if let Some(n) = &e.order_number { (n) } }
                        td { @if let Some(i) = &e.invoice_id { (invoice_link(tenant, i)) } }
                        td { (state_badge(e.state)) }
                        td { @if let Some(c) = e.error_class { (c.as_str()) } }
                        td.num { (e.attempts) }
                        td.err { @if let Some(err) = &e.last_error { (short(err, 160)) } }
                    }
                }
            }
        }
        @if events.is_empty() { p.hint { "No events match." } }
    }
}

/// A FreshBooks invoice id, linking to the events that produced it.
fn invoice_link(tenant: &TenantId, id: &str) -> Markup {
    html! { a.mono href={ (BASE) "/tenants/" (tenant) "/events?invoice=" (id) } { (id) } }
}

/// `GET /console/tenants/{tenant}/events/{job}`.
pub(super) async fn event(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, job)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let history = tenant_history(&state, &tenant, &job).await?;
    let e = &history.event;
    let body = html! {
        h1 { "Event #" (e.job) " · " (tenant) }
        dl.facts {
            dt { "State" } dd #state { (state_badge(e.state)) }
            dt { "Kind" } dd { (e.kind) " · " (e.object_type) " " (e.object_id) }
            dt { "Kentico order number" } dd #order { @if let Some(n) = &e.order_number {
                a href={ (BASE) "/tenants/" (tenant) "/events?order=" (n) } { (n) } } @else { "–" } }
            dt { "Event id" } dd.mono { (e.event_id) }
            dt { "Received" } dd { (at(e.received_at)) }
            dt { "Finished" } dd { @if let Some(f) = e.finished_at { (at(f)) } @else { "–" } }
            dt { "Attempts" } dd { (e.attempts) }
            @if let Some(c) = e.error_class { dt { "Error class" } dd #class { (c.as_str()) } }
            @if let Some(err) = &e.last_error { dt { "Last error" } dd.err { (err) } }
        }
        @if e.state == EventState::Dead { (actions(&viewer, &tenant, e.job)) }
        h2 { "FreshBooks objects" }
        (freshbooks_objects(&tenant, e))
        h2 { "Timeline" }
        (timeline(&history))
    };
    Ok(page::frame(Some(&viewer), "Event", body))
}

/// The event `job` of `tenant` with its history (404 for another tenant's event, so ids do not leak).
async fn tenant_history(
    state: &AdminState,
    tenant: &TenantId,
    job: &str,
) -> Result<RunHistory, PageError> {
    let job = JobId::parse(job).map_err(|_| PageError::not_found(format!("event {job:?}")))?;
    let history = state.store().run_history(job).await?;
    if history.event.tenant != *tenant {
        return Err(PageError::not_found(format!(
            "event {job} of tenant {tenant}"
        )));
    }
    Ok(history)
}

/// The ids in the event's outcome (client, invoice, payments, credit notes …), the invoice linked to its events.
fn freshbooks_objects(tenant: &TenantId, e: &EventRecord) -> Markup {
    let mut ids = Vec::new();
    if let Some(outcome) = &e.outcome {
        flatten("", outcome, &mut ids);
    }
    html! {
        @if ids.is_empty() { p.hint { "None yet." } } @else {
            table #objects { tbody {
                @for (name, value) in &ids {
                    tr { th { (name) } td.mono {
                        @if name == "invoice_id" || name.ends_with(".invoice_id") { (invoice_link(tenant, value)) }
                        @else { (value) }
                    } }
                }
            } }
        }
    }
}

/// `{"a": {"b": 1}}` → `[("a.b", "1")]`; nulls are left out.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(map) => map.iter().for_each(|(k, v)| flatten(&key(k), v, out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| flatten(&key(&i.to_string()), v, out)),
        Value::Null => {}
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// State changes and steps in time order.
fn timeline(h: &RunHistory) -> Markup {
    enum Item<'a> {
        Change(&'a ferry_store::Transition),
        Step(&'a ferry_store::StepRecord),
    }
    let mut items: Vec<(OffsetDateTime, usize, Item<'_>)> = h
        .transitions
        .iter()
        .enumerate()
        .map(|(i, t)| (t.at, i, Item::Change(t)))
        .chain(
            h.steps
                .iter()
                .enumerate()
                .map(|(i, s)| (s.started_at, i, Item::Step(s))),
        )
        .collect();
    items.sort_by_key(|(t, i, _)| (*t, *i));
    html! {
        table #timeline {
            thead { tr { th { "At" } th.num { "Attempt" } th { "What" } th.num { "Took" } th { "Detail" } } }
            tbody {
                @for (_, _, item) in &items {
                    @match item {
                        Item::Change(t) => tr.change {
                            td { (at(t.at)) } td.num { (t.attempt) }
                            td { (t.from.as_str()) " → " (state_badge(t.to)) }
                            td.num {}
                            td.err { @if let Some(e) = &t.error { (e) } @if let Some(n) = &t.note { span.muted { (n) } } }
                        },
                        Item::Step(s) => tr.step {
                            td { (at(s.started_at)) } td.num { (s.attempt) }
                            td { (s.name) " " @if s.ok { span.badge.ok { "ok" } } @else { span.badge.failed { "failed" } } }
                            td.num { (s.duration_ms) " ms" }
                            td.mono { (short(&step_detail(&s.detail), 300)) }
                        },
                    }
                }
            }
        }
    }
}

fn step_detail(v: &Value) -> String {
    let mut pairs = Vec::new();
    flatten("", v, &mut pairs);
    pairs
        .into_iter()
        .map(|(k, v)| if k.is_empty() { v } else { format!("{k}={v}") })
        .collect::<Vec<_>>()
        .join(" ")
}
