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
//! - `audits`: the books audit: run one, list, show, repair once.
//! - `backfill`: enqueue a tenant's Kentico changes since a date (history from before it was added).
//! - `events`: run history with search by Kentico order number and FreshBooks invoice id; the dead-letter queue.
//! - `plugins`: uploads (cheap checks, stored by hash), versions, activate and rollback, swapping the serving chain.
//! - `compile`: uploaded versions compiled in the background (`compiling` → `ready` | `failed`), activation waiting.
//! - `activation`: a tenant's chain rebuilt with its active uploaded versions and swapped in; only `ready` versions.
//! - `chain`: the chain's order (uploads appended, reorder), deactivating and reactivating a plugin, its settings.
//! - `dry_run`: a candidate plugin run against a stored order event with the tenant's chain, writing nothing.
//! - `plugin_log`: the tenant's plugin log (what its plugins wrote while running its events).
//! - `sync`: picks up tenant and plugin changes that another host on the same database made.
//! - `tokens`: token list, create and revoke over the API (operator only).
//! - `connections`: "Test connection" of a tenant's Kentico and FreshBooks.
//! - `usage`: orders synced and calls per tenant, day and month (what an operator bills on).
//! - `connect`: "Connect FreshBooks" in the browser: the start route (behind the same tokens and scopes) and the
//!   OAuth callback, outside `/admin/v1` because browsers, not API clients, follow them.
//!
//! The document at `/admin/v1/openapi.yaml` is `docs/openapi.yaml`, compiled in.

mod activation;
mod audits;
mod auth;
mod backfill;
mod chain;
mod compile;
mod config;
mod connect;
mod connections;
mod dry_run;
mod error;
mod events;
mod plan;
mod plugin_log;
mod plugins;
mod sync;
pub use sync::run as sync_changes;
mod tenant_changes;
mod tenants;
mod tokens;
mod usage;
pub(crate) use usage::visible_usage;

pub use auth::{Principal, TOKEN_PREFIX, generate_token, hash_token};
pub(crate) use backfill::parse_since;
pub use config::AdminConfig;
pub use connect::START_PATH as CONNECT_START_PATH;
/// The "Connect FreshBooks" start for surfaces with their own sign-in (the console): scope check, then the redirect.
pub use connect::start_for as start_freshbooks_connect;
pub use error::{AdminJson, ApiError, ErrorCode};
pub(crate) use tenants::serving_tenant;
pub(crate) use tokens::create_token;
// The plugin operations the console performs, the same functions the API's handlers call.
pub(crate) use chain::{
    ChainView, chain_of, deactivate_plugin, reactivate_plugin, reorder_chain, replace_settings,
    settings_of,
};
pub(crate) use dry_run::{diff as draft_diff, dry_run_version};
pub(crate) use plugin_log::plugin_log;
pub(crate) use plugins::{activate_named, read_upload, roll_back, upload_component};

use crate::tenants::PluginHost;
use crate::tenants::{TenantFactory, Tenants};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, header};
use axum::middleware;
use axum::routing::{MethodRouter, delete, get, post, put};
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
    /// The background compiles of uploaded versions (in flight by content hash) and what wakes activations
    /// waiting for one.
    compiles: Arc<compile::Compiles>,
    /// Told of every audit the API runs (the host's: log and alert channels).
    audit_hook: Option<crate::audit::AuditHook>,
    config: AdminConfig,
}

impl AdminState {
    /// Builds the state and puts every tenant's active uploaded plugins into its serving chain (after a restart,
    /// the versions activated before it serve again), and compiles again in the background the uploaded versions
    /// a previous run left `compiling`.
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
            compiles: Arc::default(),
            audit_hook: None,
            config: config.clone(),
        };
        activation::restore_active(&state).await?;
        compile::resume(&state).await?;
        Ok(state)
    }

    /// Passes every report of an audit the API runs to `hook` (the host's alert hook) instead of only logging it.
    #[must_use]
    pub fn with_audit_hook(mut self, hook: crate::audit::AuditHook) -> Self {
        self.audit_hook = Some(hook);
        self
    }

    /// The store, for the web console's pages.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The serving tenants, for the web console's pages.
    pub(crate) fn tenants(&self) -> &Tenants {
        &self.tenants
    }

    /// The largest plugin component an upload may carry (`admin.max_plugin_bytes`), for the console's upload form.
    pub(crate) fn max_plugin_bytes(&self) -> usize {
        self.config.max_plugin_bytes
    }

    /// The circuit breakers, for the web console's pages.
    pub(crate) fn breakers(&self) -> &BreakerRegistry {
        &self.breakers
    }
}

/// Where the OpenAPI document is served (the one route without a token), under [`BASE_PATH`].
const OPENAPI_PATH: &str = "/openapi.yaml";

/// Every admin route under [`BASE_PATH`] with its method, exactly as [`router`] registers them (and as
/// `docs/openapi.yaml` must document them; a test compares the two).
pub fn routes() -> Vec<(Method, &'static str)> {
    std::iter::once((Method::GET, OPENAPI_PATH))
        .chain(authenticated_routes().into_iter().map(|(m, p, _)| (m, p)))
        .collect()
}

/// The routes behind the bearer token: method, path and handler (the handler's method router answers only that
/// method; two entries of one path are merged by axum).
fn authenticated_routes() -> Vec<(Method, &'static str, MethodRouter<AdminState>)> {
    vec![
        (Method::GET, "/tenants", get(tenants::list)),
        (Method::POST, "/tenants", post(tenant_changes::create)),
        (Method::GET, "/tenants/{tenant}", get(tenants::show)),
        (
            Method::PUT,
            "/tenants/{tenant}",
            put(tenant_changes::replace),
        ),
        (
            Method::DELETE,
            "/tenants/{tenant}",
            delete(tenant_changes::remove),
        ),
        (
            Method::GET,
            "/tenants/{tenant}/breakers",
            get(tenants::tenant_breakers),
        ),
        (Method::GET, "/breakers", get(tenants::breakers)),
        (
            Method::POST,
            "/tenants/{tenant}/backfill",
            post(backfill::backfill),
        ),
        (Method::POST, "/tenants/{tenant}/audits", post(audits::run)),
        (Method::GET, "/tenants/{tenant}/audits", get(audits::list)),
        (
            Method::GET,
            "/tenants/{tenant}/audits/{audit}",
            get(audits::show),
        ),
        (
            Method::POST,
            "/tenants/{tenant}/audits/{audit}/repair",
            post(audits::repair),
        ),
        (Method::GET, "/tenants/{tenant}/events", get(events::list)),
        (
            Method::GET,
            "/tenants/{tenant}/events/{job}",
            get(events::show),
        ),
        (Method::GET, "/dlq", get(events::dead_letters_all)),
        (
            Method::GET,
            "/tenants/{tenant}/dlq",
            get(events::dead_letters),
        ),
        (
            Method::POST,
            "/tenants/{tenant}/dlq/replay-all",
            post(events::replay_all),
        ),
        (
            Method::POST,
            "/tenants/{tenant}/dlq/discard-all",
            post(events::discard_all),
        ),
        (
            Method::GET,
            "/tenants/{tenant}/dlq/{job}",
            get(events::dead_letter),
        ),
        (
            Method::POST,
            "/tenants/{tenant}/dlq/{job}/replay",
            post(events::replay),
        ),
        (
            Method::POST,
            "/tenants/{tenant}/dlq/{job}/discard",
            post(events::discard),
        ),
        (Method::GET, "/tenants/{tenant}/plugins", get(plugins::list)),
        (
            Method::POST,
            "/tenants/{tenant}/plugins",
            post(plugins::upload),
        ),
        (
            Method::POST,
            "/tenants/{tenant}/plugins/dry-run",
            post(dry_run::dry_run),
        ),
        (
            Method::GET,
            "/tenants/{tenant}/plugins/log",
            get(plugin_log::log),
        ),
        (
            Method::POST,
            "/tenants/{tenant}/plugins/{name}/versions/{version}/activate",
            post(plugins::activate),
        ),
        (
            Method::POST,
            "/tenants/{tenant}/plugins/{name}/rollback",
            post(plugins::rollback),
        ),
        (
            Method::GET,
            "/tenants/{tenant}/plugins/order",
            get(chain::order),
        ),
        (
            Method::PUT,
            "/tenants/{tenant}/plugins/order",
            put(chain::reorder),
        ),
        (
            Method::POST,
            "/tenants/{tenant}/plugins/{name}/activate",
            post(chain::reactivate),
        ),
        (
            Method::POST,
            "/tenants/{tenant}/plugins/{name}/deactivate",
            post(chain::deactivate),
        ),
        (
            Method::GET,
            "/tenants/{tenant}/plugins/{name}/settings",
            get(chain::settings),
        ),
        (
            Method::PUT,
            "/tenants/{tenant}/plugins/{name}/settings",
            put(chain::set_settings),
        ),
        (
            Method::POST,
            "/tenants/{tenant}/connections/test",
            post(connections::test),
        ),
        (Method::GET, "/tenants/{tenant}/usage", get(usage::tenant)),
        (Method::GET, "/usage", get(usage::all)),
        (Method::GET, "/tokens", get(tokens::list)),
        (Method::POST, "/tokens", post(tokens::create)),
        (Method::DELETE, "/tokens/{id}", delete(tokens::revoke)),
        (Method::GET, "/whoami", get(tokens::whoami)),
    ]
}

/// The admin router: every route under [`BASE_PATH`], behind the bearer-token middleware.
pub fn router(state: AdminState) -> Router {
    let upload_limit = state.config.max_plugin_bytes;
    let tenant_routes = authenticated_routes()
        .into_iter()
        .fold(Router::new(), |r, (_, path, handler)| {
            r.route(path, handler)
        })
        .layer(DefaultBodyLimit::max(upload_limit))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .fallback(|| async { ApiError::not_found("no such admin route") })
        .with_state(state.clone());
    let public = Router::new().route(
        OPENAPI_PATH,
        get(|| async { ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML) }),
    );
    Router::new()
        .nest(BASE_PATH, public.merge(tenant_routes))
        .merge(connect_router(state))
}

/// "Connect FreshBooks": the start route behind the admin tokens, and the OAuth callback, which the sealed state
/// authenticates.
fn connect_router(state: AdminState) -> Router {
    Router::new()
        .route(
            &format!("{}/{{tenant}}", connect::START_PATH),
            get(connect::start),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .route(crate::connect::CALLBACK_PATH, get(connect::callback))
        .with_state(state)
}
