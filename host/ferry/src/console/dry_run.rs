//! The dry run in the console: a stored version of one of the tenant's plugins run against a stored order event
//! (picked by event id or Kentico order number), with the FreshBooks drafts of the serving chain and of the chain
//! with the candidate side by side, the values that differ highlighted. It is the admin API's dry run (the engine of
//! `ferry plugin test --tenant --event`): nothing is written, nothing reaches FreshBooks.

use super::events::visible_tenant;
use super::page::{self, PageError, csrf_field};
use super::viewer::{BASE, Viewer};
use crate::admin::{self, AdminState};
use axum::extract::{Path, State};
use axum::{Extension, Form};
use ferry_model::TenantId;
use ferry_store::PluginVersion;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// The dry-run form's fields.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct DryRunForm {
    /// `name@version` of the candidate.
    #[serde(default)]
    candidate: String,
    /// An event id, as the run history lists it.
    #[serde(default)]
    event: String,
    /// A Kentico order number (its newest order event is used).
    #[serde(default)]
    order: String,
}

/// The form: the candidate version, and the event or order number to run it on.
pub(super) fn form(
    viewer: &Viewer,
    tenant: &TenantId,
    versions: &[PluginVersion],
    sent: Option<&DryRunForm>,
) -> Markup {
    let sent = sent.cloned().unwrap_or_default();
    html! {
        form #dry-run.filters method="post" action={ (BASE) "/tenants/" (tenant) "/plugins/dry-run" } {
            (csrf_field(viewer))
            label { "Candidate" select name="candidate" required {
                @for v in versions {
                    @let key = format!("{}@{}", v.name, v.version);
                    option value=(key) selected[sent.candidate == key] {
                        (v.name) " v" (v.version) @if v.active { " (active)" }
                    }
                }
            } }
            label { "Event id" input type="text" name="event" value=(sent.event) size="10" placeholder="e.g. 42"; }
            label { "or Kentico order number" input type="text" name="order" value=(sent.order) size="14"; }
            button type="submit" { "Dry run" }
        }
        p.hint { "Runs the order as Kentico has it now through the chain that serves and through the same chain with \
            the candidate in its plugin's place (or last); writes nothing and sends nothing to FreshBooks." }
    }
}

/// `POST /console/tenants/{tenant}/plugins/dry-run`.
pub(super) async fn run(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
    Form(sent): Form<DryRunForm>,
) -> Result<Markup, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let (name, version) = sent
        .candidate
        .rsplit_once('@')
        .and_then(|(n, v)| Some((n, v.parse::<u32>().ok()?)))
        .ok_or_else(|| PageError::bad_request("pick a candidate version"))?;
    let event = event_key(&state, &tenant, &sent).await?;
    let report = admin::dry_run_version(
        &state,
        &viewer.principal,
        tenant.as_str(),
        name,
        version,
        &event,
    )
    .await?;
    let versions = state.store().plugin_versions(&tenant, None).await?;
    let body = html! {
        h1 { "Dry run · " (name) " v" (version) " · " (tenant) }
        p #summary {
            "Event " a href={ (BASE) "/tenants/" (tenant) "/events/" (event) } { "#" (event) }
            ", Kentico order " strong { (report["order_number"].as_str().unwrap_or("?")) } ". "
            @if report["replaces"].as_bool() == Some(true) {
                "The candidate runs in the place of the serving " code { (name) } "."
            } @else {
                "The candidate runs after the serving chain."
            }
        }
        (report_view(&report))
        h2 { "Another dry run" }
        (form(&viewer, &tenant, &versions, Some(&sent)))
    };
    Ok(page::frame(Some(&viewer), "Dry run", body))
}

/// The event the form names: its id as given, or the newest event of the Kentico order number.
async fn event_key(
    state: &AdminState,
    tenant: &TenantId,
    sent: &DryRunForm,
) -> Result<String, PageError> {
    match (sent.event.trim(), sent.order.trim()) {
        ("", "") => Err(PageError::bad_request(
            "give an event id or a Kentico order number",
        )),
        (event, "") => Ok(event.to_owned()),
        ("", order) => state
            .store()
            .find_by_order_number(tenant, order)
            .await?
            .iter()
            // Payment events carry the order number too; the dry run takes the order's own.
            .filter(|e| e.kind.starts_with("order."))
            .map(|e| e.job)
            .max()
            .map(|job| job.to_string())
            .ok_or_else(|| {
                PageError::not_found(format!("no stored event of Kentico order {order}"))
            }),
        _ => Err(PageError::bad_request(
            "give an event id or a Kentico order number, not both",
        )),
    }
}

/// Both sides' validation and errors, then every value of the drafts side by side, the ones that differ marked.
fn report_view(report: &Value) -> Markup {
    let changed: BTreeSet<&str> = report["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["path"].as_str())
        .collect();
    let (before, after) = (&report["serving"], &report["candidate"]);
    let mut rows = Vec::new();
    leaves("", &before["drafts"], &mut rows);
    let mut after_rows = Vec::new();
    leaves("", &after["drafts"], &mut after_rows);
    for (path, _) in &after_rows {
        if !rows.iter().any(|(p, _)| p == path) {
            rows.push((path.clone(), &Value::Null));
        }
    }
    let after_value = |path: &str| {
        after_rows
            .iter()
            .find(|(p, _)| p == path)
            .map_or(&Value::Null, |(_, v)| *v)
    };
    html! {
        div.sides {
            div { h2 { "Before · serving chain" } (side(before)) }
            div { h2 { "After · with the candidate" } (side(after)) }
        }
        h2 #changed-count { (changed.len()) " values differ" }
        table #drafts {
            thead { tr { th { "Draft field" } th { "Before" } th { "After" } } }
            tbody {
                @for (path, value) in &rows {
                    tr class=[differs(&changed, path).then_some("changed")] data-path=(path) {
                        td.mono { (path) }
                        td.before { (shown(value)) }
                        td.after { (shown(after_value(path))) }
                    }
                }
            }
        }
    }
}

/// Whether the value at `path` is one of the changes, or inside one (a list whose length changed is one change).
fn differs(changed: &BTreeSet<&str>, path: &str) -> bool {
    changed.iter().any(|c| {
        path == *c
            || path
                .strip_prefix(c)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// One side's validation reasons and the error its chain failed with, if any.
fn side(outcome: &Value) -> Markup {
    let reasons: Vec<&str> = outcome["validation"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    html! {
        @if let Some(e) = outcome["error"].as_str() { p.error { "The chain failed: " (e) } }
        @else if outcome["drafts"].is_null() { p.muted { "No drafts." } }
        @else { p.muted { "Drafts made." } }
        @if reasons.is_empty() { p.muted { "Valid: nothing would hold the order." } }
        @else { ul.err { @for r in reasons { li { (r) } } } }
    }
}

/// Every leaf of `value` with its JSON Pointer path, in document order.
fn leaves<'a>(path: &str, value: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                leaves(&format!("{path}/{k}"), v, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                leaves(&format!("{path}/{i}"), v, out);
            }
        }
        Value::Null if path.is_empty() => {}
        _ => out.push((path.to_owned(), value)),
    }
}

/// A value as the table shows it: a string as written, anything else as JSON, absent as a dash.
fn shown(value: &Value) -> Markup {
    match value {
        Value::Null => html! { span.muted { "–" } },
        Value::String(s) => html! { span.value { (s) } },
        other => html! { span.value.mono { (other) } },
    }
}
