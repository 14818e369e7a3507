//! The tenant's plugin log: the newest lines its plugins wrote while running its orders, of one plugin or all, each
//! with the version that ran and a link to the event.

use super::events::visible_tenant;
use super::page::{self, PageError, at};
use super::plugins::url;
use super::viewer::{BASE, Viewer};
use crate::admin::{self, AdminState};
use axum::Extension;
use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use serde::Deserialize;

/// Lines one page shows.
const LINES: u32 = 200;

/// The filter: one plugin's lines (empty: all).
#[derive(Debug, Default, Deserialize)]
pub(super) struct LogQuery {
    #[serde(default)]
    plugin: String,
}

/// `GET /console/tenants/{tenant}/plugins/log[?plugin=…]`.
pub(super) async fn page(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
    Query(q): Query<LogQuery>,
) -> Result<Markup, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let plugin = Some(q.plugin.trim()).filter(|p| !p.is_empty());
    let lines =
        admin::plugin_log(&state, &viewer.principal, tenant.as_str(), plugin, LINES).await?;
    let names = state.store().plugin_log_plugins(&tenant).await?;
    let base = url(&tenant);
    let body = html! {
        h1 { "Plugin log · " (tenant) @if let Some(p) = plugin { " · " (p) } }
        form.filters method="get" action={ (base) "/log" } {
            label { "Plugin" select name="plugin" {
                option value="" { "all" }
                @for n in &names { option value=(n) selected[plugin == Some(n.as_str())] { (n) } }
            } }
            button type="submit" { "Show" }
            a href=(base) { "Plugins" }
        }
        p.hint { "What the plugins wrote (" code { "log" } ", stdout, stderr) while running this tenant's orders, \
            newest first; the newest " (LINES) " lines are shown. Dry runs write nothing here." }
        table #log {
            thead { tr { th { "Time" } th { "Plugin" } th { "Version" } th { "Level" } th { "Event" } th { "Message" } } }
            tbody {
                @for l in lines.iter().map(|l| &l.line) {
                    tr data-plugin=(l.plugin) {
                        td { (at(l.at)) }
                        td.mono { (l.plugin) }
                        td { @match l.version { Some(v) => { "v" (v) }, None => span.muted { "configured" } } }
                        td { span class={ "badge level-" (l.level) } { (l.level) } }
                        td { a href={ (BASE) "/tenants/" (tenant) "/events/" (l.job) } { "#" (l.job) } }
                        td.message { (l.message) }
                    }
                }
            }
        }
        @if lines.is_empty() { p.hint { "No lines yet." } }
    };
    Ok(page::frame(Some(&viewer), "Plugin log", body))
}
