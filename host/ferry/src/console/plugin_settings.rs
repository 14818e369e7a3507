//! Editing an uploaded plugin's settings: a form with a key and a value per setting (and empty rows for new ones;
//! a row whose key is cleared is removed), saved through the admin API's own settings replacement, which checks
//! every key and value and reloads a serving chain before it answers.

use super::events::visible_tenant;
use super::page::{self, PageError, csrf_field};
use super::plugins::{done, url};
use super::viewer::Viewer;
use crate::admin::{self, AdminState};
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::{Extension, Form};
use maud::{Markup, html};
use serde_json::{Map, Value};

/// Empty rows offered for new settings.
const NEW_ROWS: usize = 3;

/// `GET /console/tenants/{tenant}/plugins/{name}/settings`.
pub(super) async fn edit(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let settings = admin::settings_of(&state, &viewer.principal, tenant.as_str(), &name).await?;
    let base = url(&tenant);
    let body = html! {
        h1 { "Settings · " (name) " · " (tenant) }
        p.hint { "What the plugin reads through " code { "get-setting" } ". Clear a key to remove its setting; \
            a serving plugin reads the new settings from the next order on." }
        form #settings method="post" action={ (base) "/" (name) "/settings" } {
            (csrf_field(&viewer))
            table {
                thead { tr { th { "Key" } th { "Value" } } }
                tbody {
                    @for (k, v) in &settings {
                        tr { td { input type="text" name="key" value=(k) size="30"; }
                             td { input type="text" name="value" value=(v) size="60"; } }
                    }
                    @for _ in 0..NEW_ROWS {
                        tr { td { input type="text" name="key" size="30"; }
                             td { input type="text" name="value" size="60"; } }
                    }
                }
            }
            p { button #save type="submit" { "Save settings" } " " a href=(base) { "Cancel" } }
        }
    };
    Ok(page::frame(Some(&viewer), "Plugin settings", body))
}

/// `POST /console/tenants/{tenant}/plugins/{name}/settings`: `key` and `value` fields in pairs, in order.
pub(super) async fn save(
    State(state): State<AdminState>,
    Extension(viewer): Extension<Viewer>,
    Path((tenant, name)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, PageError> {
    let tenant = visible_tenant(&viewer, &tenant)?;
    let keys = fields.iter().filter(|(f, _)| f == "key").map(|(_, v)| v);
    let values = fields.iter().filter(|(f, _)| f == "value").map(|(_, v)| v);
    let mut body = Map::new();
    for (k, v) in keys.zip(values) {
        let k = k.trim();
        if k.is_empty() {
            continue;
        }
        if body
            .insert(k.to_owned(), Value::String(v.clone()))
            .is_some()
        {
            return Err(PageError::bad_request(format!("key {k:?} is given twice")));
        }
    }
    let saved = admin::replace_settings(
        &state,
        &viewer.principal,
        tenant.as_str(),
        &name,
        &Value::Object(body),
    )
    .await?;
    Ok(done(
        &tenant,
        &format!("Saved {} settings of {name}.", saved.len()),
    ))
}
