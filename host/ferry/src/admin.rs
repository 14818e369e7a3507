//! The admin API: JSON over HTTP under `/admin/v1`, for operators (every tenant) and for tenants (their own).
//!
//! Every route but the OpenAPI document needs `Authorization: Bearer <token>`. Tokens are made with
//! `ferry token create` or `POST /admin/v1/tokens` and kept only as their SHA-256; an operator token sees every
//! tenant, a tenant token only its own (anything else is 403). Each token has its own rate limit (429 with
//! `Retry-After`). Secrets never leave the host: tenant views say `"set"` or `"unset"` instead.
//!
//! Layout:
//! - `config`: [`AdminConfig`], the rate limit, the plugin upload size limit and the sync interval.
//! - `error`: [`ApiError`], the stable `{"error":{"code","message"}}` body, and the [`AdminJson`] extractor.
//! - `auth`: token generation and hashing, the bearer-token middleware, [`Principal`] and its scope checks.
//! - `tenants`: tenant list and detail (secrets as set/unset), breaker states.
//! - `tenant_changes`: create, replace and delete tenants stored in the database (operator only), live.
//! - `backfill`: enqueue a tenant's Kentico changes since a date (history from before it was added).
//! - `events`: run history with search by Kentico order number and FreshBooks invoice id; the dead-letter queue.
//! - `plugins`: uploads (validated, stored by hash), versions, activate and rollback, swapping the serving chain.
//! - `sync`: picks up tenant and plugin changes that another host on the same database made.
//! - `tokens`: token list, create and revoke over the API (operator only).
//!
//! The document at `/admin/v1/openapi.yaml` is `docs/openapi.yaml`, compiled in.

mod auth;
mod backfill;
mod config;
mod error;
mod events;
mod plugins;
mod sync;
pub use sync::run as sync_changes;
mod tenant_changes;
mod tenants;
mod tokens;

pub use auth::{Principal, TOKEN_PREFIX, generate_token, hash_token};
pub use config::AdminConfig;
pub use error::{AdminJson, ApiError, ErrorCode};

use crate::tenants::PluginHost;
use crate::tenants::{TenantFactory, Tenants};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::middleware;
use axum::routing::{delete, get, post};
use ferry_model::TenantId;
use ferry_outbound::BreakerRegistry;
use ferry_store::{Ingestor, Store};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

/// The OpenAPI document of this API, kept in the repository at `docs/openapi.yaml`.
pub const OPENAPI_YAML: &str = include_str!("../../../docs/openapi.yaml");

/// Where every admin route lives.
pub const BASE_PATH: &str = "/admin/v1";

/// What the admin handlers reach: the store, the serving tenants, the breakers, the plugin runtime and what
/// builds a tenant.
#[derive(Clone)]
pub struct AdminState {
    store: Store,
    tenants: Tenants,
    breakers: BreakerRegistry,
    plugin_host: Arc<PluginHost>,
    /// Builds tenants added or replaced through the API, the same way the host built its own at start.
    factory: TenantFactory,
    /// Tenants of the configuration file: the API may not replace or delete them (edit the file instead).
    file_tenants: Arc<HashSet<TenantId>>,
    /// Uploaded components are written here (`<hash>/<name>.wasm`) for the plugin host to load.
    uploads_dir: PathBuf,
    /// Enqueues the events a backfill finds, like webhook intake and reconciliation.
    ingestor: Ingestor,
    /// One token bucket per admin token id, shared by every request of this process.
    limiter: Arc<auth::TokenLimiter>,
    /// Held while a plugin activation or a tenant change builds and swaps a tenant, so two changes of the
    /// serving tenants cannot interleave (and one cannot swap in a tenant built from the other's stale view).
    activation: Arc<tokio::sync::Mutex<()>>,
    config: AdminConfig,
}

impl AdminState {
    /// Builds the state and puts every tenant's active uploaded plugins into its serving chain (after a restart,
    /// the versions activated before it serve again).
    ///
    /// # Errors
    /// An active uploaded plugin could not be read back from the store or loaded (the error names tenant and
    /// plugin).
    /// `file_tenants` are the configuration file's tenants (the API may not change them); uploaded components are
    /// written under `uploads_dir`.
    pub async fn build(
        config: &AdminConfig,
        file_tenants: HashSet<TenantId>,
        uploads_dir: PathBuf,
        ingestor: Ingestor,
        tenants: Tenants,
        factory: TenantFactory,
    ) -> anyhow::Result<Self> {
        let state = Self {
            store: factory.store().clone(),
            ingestor,
            tenants,
            breakers: factory.http().breakers().clone(),
            plugin_host: factory.plugin_host().clone(),
            factory,
            file_tenants: Arc::new(file_tenants),
            uploads_dir,
            limiter: Arc::new(auth::TokenLimiter::new(config)),
            activation: Arc::default(),
            config: config.clone(),
        };
        plugins::restore_active(&state).await?;
        Ok(state)
    }
}

/// The admin router: every route under [`BASE_PATH`], behind the bearer-token middleware.
pub fn router(state: AdminState) -> Router {
    let upload_limit = state.config.max_plugin_bytes;
    let tenant_routes = Router::new()
        .route("/tenants", get(tenants::list).post(tenant_changes::create))
        .route(
            "/tenants/{tenant}",
            get(tenants::show)
                .put(tenant_changes::replace)
                .delete(tenant_changes::remove),
        )
        .route("/tenants/{tenant}/breakers", get(tenants::tenant_breakers))
        .route("/breakers", get(tenants::breakers))
        .route("/tenants/{tenant}/backfill", post(backfill::backfill))
        .route("/tenants/{tenant}/events", get(events::list))
        .route("/tenants/{tenant}/events/{job}", get(events::show))
        .route("/dlq", get(events::dead_letters_all))
        .route("/tenants/{tenant}/dlq", get(events::dead_letters))
        .route("/tenants/{tenant}/dlq/replay-all", post(events::replay_all))
        .route("/tenants/{tenant}/dlq/{job}", get(events::dead_letter))
        .route("/tenants/{tenant}/dlq/{job}/replay", post(events::replay))
        .route("/tenants/{tenant}/dlq/{job}/discard", post(events::discard))
        .route(
            "/tenants/{tenant}/plugins",
            get(plugins::list).post(plugins::upload),
        )
        .route(
            "/tenants/{tenant}/plugins/{name}/versions/{version}/activate",
            post(plugins::activate),
        )
        .route(
            "/tenants/{tenant}/plugins/{name}/rollback",
            post(plugins::rollback),
        )
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", delete(tokens::revoke))
        .route("/whoami", get(tokens::whoami))
        .layer(DefaultBodyLimit::max(upload_limit))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .fallback(|| async { ApiError::not_found("no such admin route") })
        .with_state(state);
    let public = Router::new().route(
        "/openapi.yaml",
        get(|| async { ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML) }),
    );
    Router::new().nest(BASE_PATH, public.merge(tenant_routes))
}
