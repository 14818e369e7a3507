//! A tenant's plugins: the chain in the order it runs (each plugin's running version, state and settings), every
//! uploaded version with its compile state (`compiling`, `ready`, or `failed` with the reason), and the forms that change them: upload, activate a version, roll back, take a plugin out of
//! the chain and put it back, move it up or down. Each action is the admin API's own function, called with the
//! viewer's token, so the checks (scope, names, loading the new chain before it serves) are the API's.

use super::events::visible_tenant;
use super::multipart::FormData;
use super::page::{self, PageError, at, csrf_field};
use super::viewer::{BASE, Viewer};
use crate::admin::{self, AdminState, ChainView};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::{Extension, Form};
use ferry_model::TenantId;
use ferry_store::{PluginState, PluginVersion};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The plugins page's URL for `tenant`.
pub(super) fn url(tenant: &TenantId) -> String {
    format!("{BASE}/tenants/{tenant}/plugins")
}

/// Back to the plugins page with a notice saying what was done.
pub(super) fn done(tenant: &TenantId, notice: &str) -> Redirect {
    Redirect::to(&format!(
        "{}?{}",
        url(tenant),
        serde_urlencoded::to_string([("done", notice)]).unwrap_or_default()
    ))
}

/// Query of the page: a notice after an action.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    done: String,
}

/// `GET /console/tenants/{tenant}/plugins`.
pub(super) async fn page(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Markup, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let p = &viewer.principal;
    let chain = admin::chain_of(&state, p, tenant.as_str()).await?;
    let mut settings = BTreeMap::new();
    for name in chain.plugins.iter().map(|c| &c.name).chain(&chain.inactive) {
        let s = admin::settings_of(&state, p, tenant.as_str(), name).await?;
        settings.insert(name.clone(), s);
    }
    let versions = state.store().plugin_versions(&tenant, None).await?;
    let base = url(&tenant);
    let body = html! {
        h1 { "Plugins · " (tenant) }
        @if !q.done.is_empty() { p.notice #done { (q.done) } }
        p { a #log-link href={ (base) "/log" } { "Plugin log" } " · what these plugins wrote while running orders." }
        h2 { "Chain" }
        (chain_table(&viewer, &tenant, &chain, &settings, &versions))
        h2 { "Versions" }
        (versions_table(&viewer, &tenant, &versions))
        h2 { "Upload" }
        form #upload method="post" action={ (base) "/upload" } enctype="multipart/form-data" {
            (csrf_field(&viewer))
            label { "Name " input type="text" name="name" required size="20" pattern="[a-z0-9_-]{1,64}"
                placeholder="e.g. custom_fields"; }
            " "
            label { "Component " input type="file" name="component" accept=".wasm,application/wasm" required; }
            " "
            label { input type="checkbox" name="activate" value="true"; " activate now" }
            " "
            button type="submit" { "Upload" }
        }
        p.hint { "A component built for the Ferry contract (wasm32-wasip2), at most "
            (state.max_plugin_bytes() / (1024 * 1024)) " MiB; named after a configured plugin's file, it takes that \
            plugin's place. It is checked as it is uploaded: a component that imports what plugins may not, or \
            exports no hook, is refused with the reason. Then it compiles in the background (seconds for a \
            JavaScript or Python component): its version shows compiling, then ready (or failed, with the reason); \
            \"activate now\" activates it once it is ready." }
        h2 { "Dry run" }
        (super::dry_run::form(&viewer, &tenant, &versions, None))
    };
    Ok(page::frame(Some(&viewer), "Plugins", body))
}

/// The chain in order with each plugin's version, state, settings and the forms that change it.
fn chain_table(
    viewer: &Viewer,
    tenant: &TenantId,
    chain: &ChainView,
    settings: &BTreeMap<String, BTreeMap<String, String>>,
    versions: &[PluginVersion],
) -> Markup {
    let base = url(tenant);
    let movable: Vec<&str> = chain
        .plugins
        .iter()
        .filter(|c| c.reorderable)
        .map(|c| c.name.as_str())
        .collect();
    let post = |action: &str, label: &str, id: String| {
        html! {
            form.inline method="post" action=(action) {
                (csrf_field(viewer))
                button id=(id) type="submit" { (label) }
            }
        }
    };
    let settings_cell = |name: &str| {
        html! {
            @for (k, v) in settings.get(name).into_iter().flatten() {
                code { (k) " = " (v) } br;
            }
            a href={ (base) "/" (name) "/settings" } { "edit" }
        }
    };
    html! {
        table #chain {
            thead { tr {
                th.num { "#" } th { "Plugin" } th { "Source" } th { "Running" } th { "State" }
                th { "Settings" } th { "Actions" }
            } }
            tbody {
                @for (i, c) in chain.plugins.iter().enumerate() {
                    @let name = c.name.as_str();
                    @let at_ = movable.iter().position(|m| *m == name);
                    @let older = c.version.is_some_and(|v| versions.iter().any(|x| x.name == name && x.version < v));
                    tr data-plugin=(name) {
                        td.num { (i + 1) }
                        td.mono { (name) }
                        td { (c.source) }
                        td.version { @match c.version { Some(v) => { "v" (v) }, None => span.muted { "configured file" } } }
                        td { span.badge.ok { "in chain" } }
                        td { @if c.source == "upload" { (settings_cell(name)) } @else {
                            @for (k, v) in settings.get(name).into_iter().flatten() { code { (k) " = " (v) } br; }
                        } }
                        td.actions {
                            @if let Some(m) = at_ {
                                @if m > 0 { (move_form(viewer, tenant, name, "up")) " " }
                                @if m + 1 < movable.len() { (move_form(viewer, tenant, name, "down")) " " }
                            }
                            @if c.source == "upload" {
                                @if older { (post(&format!("{base}/{name}/rollback"), "Roll back", format!("rollback-{name}"))) " " }
                                (post(&format!("{base}/{name}/deactivate"), "Remove from chain", format!("deactivate-{name}")))
                            }
                        }
                    }
                }
                @for name in &chain.inactive {
                    tr data-plugin=(name) {
                        td.num { "–" }
                        td.mono { (name) }
                        td { "upload" }
                        td.version { span.muted { "none" } }
                        td { span.badge.discarded { "out of the chain" } }
                        td { (settings_cell(name)) }
                        td.actions { (post(&format!("{base}/{name}/reactivate"), "Put back", format!("reactivate-{name}"))) }
                    }
                }
            }
        }
        @if chain.plugins.is_empty() && chain.inactive.is_empty() {
            p.hint { "No plugin: orders get the default mapping only." }
        }
    }
}

/// The form moving uploaded plugin `name` one place `direction` (`up` or `down`).
fn move_form(viewer: &Viewer, tenant: &TenantId, name: &str, direction: &str) -> Markup {
    html! {
        form.inline method="post" action={ (url(tenant)) "/" (name) "/move" } {
            (csrf_field(viewer))
            input type="hidden" name="direction" value=(direction);
            button #{ "move-" (direction) "-" (name) } type="submit" title={ "Move " (direction) } {
                @if direction == "up" { "↑" } @else { "↓" }
            }
        }
    }
}

/// Every uploaded version, with the form that activates it.
fn versions_table(viewer: &Viewer, tenant: &TenantId, versions: &[PluginVersion]) -> Markup {
    html! {
        table #versions {
            thead { tr {
                th { "Plugin" } th.num { "Version" } th { "SHA-256" } th.num { "Bytes" } th { "Uploaded" }
                th { "Compile" } th { "State" } th { "" }
            } }
            tbody {
                @for v in versions {
                    tr data-plugin=(v.name) data-version=(v.version) {
                        td.mono { (v.name) }
                        td.num { "v" (v.version) }
                        td.mono title=(v.hash) { (v.hash.get(..12).unwrap_or(&v.hash)) "…" }
                        td.num { (v.size) }
                        td { (at(v.uploaded_at)) }
                        td.compile { (compile_cell(v)) }
                        td { @if v.active { span.badge.ok { "active" } } @else { span.muted { "stored" } } }
                        // A compiling version can be activated: the activation waits for its compile.
                        td { @if !v.active && v.state != PluginState::Failed {
                            form.inline method="post"
                                action={ (url(tenant)) "/" (v.name) "/versions/" (v.version) "/activate" } {
                                (csrf_field(viewer))
                                button #{ "activate-" (v.name) "-" (v.version) } type="submit" { "Activate" }
                            }
                        } }
                    }
                }
            }
        }
        @if versions.is_empty() { p.hint { "Nothing uploaded yet." } }
        @if versions.iter().any(|v| v.state == PluginState::Compiling) {
            p.hint #compiling-hint { "A version is compiling; " a href=(url(tenant)) { "reload" }
                " to see when it is ready." }
        }
    }
}

/// A version's compile state: a badge, with the reason when it failed.
fn compile_cell(v: &PluginVersion) -> Markup {
    html! {
        span class={ "badge " (v.state.as_str()) } { (v.state.as_str()) }
        @if v.activate_when_ready { " " span.muted { "activates when ready" } }
        @if let Some(reason) = &v.reason { br; span.reason.mono { (reason) } }
    }
}

/// `POST /console/tenants/{tenant}/plugins/upload` (multipart: `name`, `component`, `activate`).
pub(super) async fn upload(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path(tenant): Path<String>,
    form: Option<Extension<FormData>>,
) -> Result<Redirect, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let Some(Extension(form)) = form else {
        return Err(PageError::bad_request(
            "the upload form must be sent as multipart/form-data",
        ));
    };
    let Some((_, bytes)) = form.file("component") else {
        return Err(PageError::bad_request("choose the component file (.wasm)"));
    };
    if bytes.len() > state.max_plugin_bytes() {
        return Err(PageError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the component exceeds the admin upload limit (admin.max_plugin_bytes)",
        ));
    }
    let name = form.text("name").trim();
    let activate = form.text("activate") == "true";
    let up = admin::upload_component(
        &state,
        &viewer.principal,
        tenant.as_str(),
        name,
        bytes.clone(),
        activate,
    )
    .await?;
    let v = &up.plugin;
    let compiling = if v.activate_when_ready {
        "; it is compiling and activates when ready"
    } else if v.state == PluginState::Compiling {
        "; it is compiling"
    } else {
        ""
    };
    let notice = match (up.created, v.active) {
        (true, true) => format!("Uploaded {} v{} and activated it.", v.name, v.version),
        (true, false) => format!("Uploaded {} v{}{compiling}.", v.name, v.version),
        (false, _) => format!(
            "{} v{} is this component already; nothing new was stored{compiling}.",
            v.name, v.version
        ),
    };
    Ok(done(&tenant, &notice))
}

/// `POST /console/tenants/{tenant}/plugins/{name}/versions/{version}/activate`.
pub(super) async fn activate(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, name, version)): Path<(String, String, u32)>,
) -> Result<Redirect, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let v =
        admin::activate_named(&state, &viewer.principal, tenant.as_str(), &name, version).await?;
    Ok(done(
        &tenant,
        &format!("{} v{} is active.", v.name, v.version),
    ))
}

/// `POST /console/tenants/{tenant}/plugins/{name}/rollback`.
pub(super) async fn rollback(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let v = admin::roll_back(&state, &viewer.principal, tenant.as_str(), &name).await?;
    Ok(done(
        &tenant,
        &format!("Rolled {} back to v{}.", v.name, v.version),
    ))
}

/// `POST /console/tenants/{tenant}/plugins/{name}/deactivate`.
pub(super) async fn deactivate(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    admin::deactivate_plugin(&state, &viewer.principal, tenant.as_str(), &name).await?;
    Ok(done(
        &tenant,
        &format!("{name} is out of the chain; its versions and settings are kept."),
    ))
}

/// `POST /console/tenants/{tenant}/plugins/{name}/reactivate`.
pub(super) async fn reactivate(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let v = admin::reactivate_plugin(&state, &viewer.principal, tenant.as_str(), &name).await?;
    Ok(done(
        &tenant,
        &format!("{} v{} is back in the chain.", v.name, v.version),
    ))
}

/// The move form's field.
#[derive(Debug, Deserialize)]
pub(super) struct MoveForm {
    direction: String,
}

/// `POST /console/tenants/{tenant}/plugins/{name}/move`: one place up or down among the reorderable plugins.
pub(super) async fn move_plugin(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
    Form(form): Form<MoveForm>,
) -> Result<Redirect, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let p = &viewer.principal;
    let chain = admin::chain_of(&state, p, tenant.as_str()).await?;
    let mut names: Vec<String> = chain
        .plugins
        .into_iter()
        .filter(|c| c.reorderable)
        .map(|c| c.name)
        .collect();
    let i = names.iter().position(|n| *n == name).ok_or_else(|| {
        PageError::new(
            StatusCode::CONFLICT,
            format!("{name} is not an uploaded plugin after the configured ones; only those move"),
        )
    })?;
    let j = match form.direction.as_str() {
        "up" => i.checked_sub(1),
        "down" => Some(i + 1).filter(|j| *j < names.len()),
        other => {
            return Err(PageError::bad_request(format!(
                "direction {other:?} is neither up nor down"
            )));
        }
    }
    .ok_or_else(|| PageError::new(StatusCode::CONFLICT, format!("{name} cannot move further")))?;
    names.swap(i, j);
    admin::reorder_chain(&state, p, tenant.as_str(), &names).await?;
    Ok(done(&tenant, &format!("Moved {name} {}.", form.direction)))
}
