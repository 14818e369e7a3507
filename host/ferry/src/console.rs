//! The web console at `/console`: server-rendered HTML pages over the same store and the same token scopes as the
//! admin API, for people without a shell.
//!
//! No script is needed: every page reads with JavaScript off, and every action is a plain form POST. Signing in
//! takes an admin token and makes a session cookie; operator tokens see every tenant, tenant tokens their own,
//! through the admin API's [`Principal`](crate::admin::Principal) checks.
//!
//! Layout:
//! - `session`: sign in and out, the session middleware and the CSRF check every form passes.
//! - `viewer`: who is looking (`Viewer`) and where the console lives (`BASE`), what every page takes from the session.
//! - `page`: the page frame, the error page, the stylesheet and formatting helpers.
//! - `tenants`: the tenants overview (connections, breakers, backlog, dead letters, orders synced).
//! - `connections`: one tenant's page: its connections, "Connect FreshBooks", "Test connection".
//! - `usage`: orders synced and calls per tenant, month and day (what an operator bills on).
//! - `events`: run history with filters and paging, and one event's timeline.
//! - `dead_letters`: the dead-letter queue, replay and discard of one or all after a confirmation.
//! - `plugins`: a tenant's plugin chain and uploaded versions: upload, activate, roll back, remove, put back, move.
//! - `plugin_settings`: editing an uploaded plugin's settings.
//! - `dry_run`: a stored version run against a stored order event, the drafts before and after side by side.
//! - `plugin_log`: the lines the tenant's plugins wrote while running its orders.
//! - `multipart`: `multipart/form-data` forms (the upload), parsed once for the CSRF check and the handler.
//! - `tokens`: admin tokens (operator only).
//! - `audits`: the books audits of a tenant, one report, audit now and repair.

mod audits;
mod connections;
mod dead_letters;
mod dry_run;
mod events;
mod multipart;
mod page;
mod plugin_log;
mod plugin_settings;
mod plugins;
mod session;
mod tenants;
mod tokens;
mod usage;
mod viewer;

pub use connections::connected_page;

use crate::admin::AdminState;
use axum::Router;
use axum::http::header;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{get, post};

/// The console's routes under `/console`: the sign-in page and the stylesheet are open, every other page needs a
/// session.
pub fn router(state: AdminState) -> Router {
    let private = Router::new()
        .route("/", get(|| async { Redirect::to("/console/tenants") }))
        .route("/tenants", get(tenants::overview))
        .route("/tenants/{tenant}", get(connections::page))
        .route("/tenants/{tenant}/connect", post(connections::connect))
        .route("/tenants/{tenant}/test", post(connections::test))
        .route("/usage", get(usage::page))
        .route("/tenants/{tenant}/events", get(events::history))
        .route("/tenants/{tenant}/events/{job}", get(events::event))
        .route("/tenants/{tenant}/dlq", get(dead_letters::list))
        .route("/tenants/{tenant}/dlq/confirm", get(dead_letters::confirm))
        .route("/tenants/{tenant}/dlq/bulk", post(dead_letters::bulk))
        .route(
            "/tenants/{tenant}/dlq/{job}/replay",
            post(dead_letters::replay),
        )
        .route(
            "/tenants/{tenant}/dlq/{job}/discard",
            post(dead_letters::discard),
        )
        .route(
            "/tenants/{tenant}/audits",
            get(audits::list).post(audits::run),
        )
        .route("/tenants/{tenant}/audits/{audit}", get(audits::show))
        .route(
            "/tenants/{tenant}/audits/{audit}/repair",
            post(audits::repair),
        )
        .route("/tenants/{tenant}/plugins", get(plugins::page))
        .route("/tenants/{tenant}/plugins/upload", post(plugins::upload))
        .route("/tenants/{tenant}/plugins/dry-run", post(dry_run::run))
        .route("/tenants/{tenant}/plugins/log", get(plugin_log::page))
        .route(
            "/tenants/{tenant}/plugins/{name}/versions/{version}/activate",
            post(plugins::activate),
        )
        .route(
            "/tenants/{tenant}/plugins/{name}/rollback",
            post(plugins::rollback),
        )
        .route(
            "/tenants/{tenant}/plugins/{name}/deactivate",
            post(plugins::deactivate),
        )
        .route(
            "/tenants/{tenant}/plugins/{name}/reactivate",
            post(plugins::reactivate),
        )
        .route(
            "/tenants/{tenant}/plugins/{name}/move",
            post(plugins::move_plugin),
        )
        .route(
            "/tenants/{tenant}/plugins/{name}/settings",
            get(plugin_settings::edit).post(plugin_settings::save),
        )
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/sign-out", post(session::sign_out))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            session::require_session,
        ));
    let public = Router::new()
        .route(
            "/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route(
            "/console.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "max-age=3600"),
                    ],
                    page::CSS,
                )
            }),
        );
    Router::new()
        .nest(viewer::BASE, private.merge(public))
        .layer(middleware::map_response(page::security_headers))
        .with_state(state)
}
