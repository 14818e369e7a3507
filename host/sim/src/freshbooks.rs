//! FreshBooks simulator: OAuth2 with rotating single-use refresh tokens, the identity endpoint, and the
//! accounting API for clients, items, taxes, invoices and payments, answering with the envelopes, status codes and
//! shapes in `docs/freshbooks.md`. Several businesses (one per tenant) live side by side.
//!
//! Layout:
//! - `model`: the vendor's objects (client, invoice, line, item, tax, payment, token, identity).
//! - `state`: accounts, identities, OAuth grants, per-account rate windows.
//! - `error`: [`ApiError`], one per API family's error shape.
//! - `query` / `objects`: list filters and paging; envelopes and partial-update merging.
//! - `oauth`, `catalog` (clients, items, taxes), `invoices`, `payments`: the handlers.
//! - `inspect`: `/_sim/freshbooks` inspection and setup routes.
//! - `clock`: US/Eastern timestamps.
//! - `callbacks`: webhooks: registration, the verification handshake, signed deliveries with faults.

mod callbacks;
mod catalog;
mod clock;
mod credits;
mod error;
mod inspect;
mod invoices;
mod ledger;
pub mod model;
mod oauth;
mod objects;
mod payments;
mod query;
mod state;
mod totals;
mod view;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::faults::{self, FaultKind, Faults};
pub use callbacks::{CallbackFaults, CallbackStats, HEADER_HMAC, SimCallback, python_json, sign};
pub use error::ApiError;
use model::{Client, CreditNote, Invoice, Item, Payment, Tax, TokenResponse};
pub use payments::PAYMENT_TYPES;
pub use state::Authorization;
use state::{DEFAULT_SCOPE, Store};
pub use view::{InvoiceAddress, InvoiceView, TaxTotal};

/// Access tokens live 12 hours (docs/freshbooks.md §8; `expires_in` 43200 is inferred from "12 hours").
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// The API version live responses report in `x-api-version` (docs/freshbooks.md §1).
pub const API_VERSION: &str = "2023-02-20";

/// Where the inspection routes are mounted.
pub const INSPECT_PATH: &str = "/_sim/freshbooks";

/// A per-account request budget per fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window per account.
    pub requests: u32,
    /// Window length; the counter resets when it elapses.
    pub window: Duration,
}

/// How to start the simulator. Built in code by tests and the sandbox.
#[derive(Debug, Clone, Default)]
pub struct FreshBooksSimConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the fault generator.
    pub seed: u64,
    /// Per-account rate limit; `None` never throttles (FreshBooks publishes no limit, docs/freshbooks.md §9).
    pub rate_limit: Option<RateLimit>,
    /// Approve `/oauth/authorize` without showing the page (sandbox).
    pub auto_approve: bool,
    /// When set, the token endpoint requires this `(client_id, client_secret)`.
    pub client_credentials: Option<(String, String)>,
}

/// An account created through the Rust or inspection API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimAccount {
    /// Short id used in accounting paths (`/accounting/account/<account_id>/…`).
    pub account_id: String,
    /// Integer business id (`business_memberships[].business.id`).
    pub business_id: u64,
    /// The owner identity that tokens are issued to.
    pub identity_id: u64,
}

/// Object counts of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    /// The account.
    pub account_id: String,
    /// Business name.
    pub name: String,
    /// Home currency.
    pub currency: String,
    /// Clients, including deleted ones.
    pub clients: usize,
    /// Invoices, including deleted ones.
    pub invoices: usize,
    /// Payments, including deleted ones.
    pub payments: usize,
    /// Items, including deleted ones.
    pub items: usize,
    /// Taxes.
    pub taxes: usize,
    /// Credit notes, including deleted ones.
    pub credit_notes: usize,
}

pub(crate) type SharedState = FreshBooksSim;

/// The simulator's state and Rust API. Cheap to clone; clones share state. Serve it with
/// [`FreshBooksSim::start`] or mount [`FreshBooksSim::router`] yourself.
#[derive(Clone)]
pub struct FreshBooksSim {
    /// One lock over all accounts and grants: requests are short and a single lock keeps every reply consistent.
    store: Arc<Mutex<Store>>,
    faults: Faults,
    requests: crate::requests::RequestCounts,
    /// Registered callbacks and their sender.
    pub(crate) callbacks: Arc<callbacks::Callbacks>,
}

impl std::fmt::Debug for FreshBooksSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshBooksSim")
            .field("accounts", &self.summaries())
            .finish()
    }
}

impl FreshBooksSim {
    /// Creates the simulator state without serving it.
    pub fn new(config: FreshBooksSimConfig) -> Self {
        let faults = Faults::with_body(config.seed, Arc::new(fault_body));
        let callbacks = Arc::new(callbacks::Callbacks::new(config.seed));
        Self {
            store: Arc::new(Mutex::new(Store::new(config))),
            faults,
            requests: crate::requests::RequestCounts::default(),
            callbacks,
        }
    }

    /// Binds 127.0.0.1:`config.port` and serves until the returned handle is dropped.
    ///
    /// # Errors
    ///
    /// Fails when the port cannot be bound.
    pub async fn start(config: FreshBooksSimConfig) -> std::io::Result<FreshBooksHandle> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let sim = Self::new(config);
        let (tx, rx) = oneshot::channel::<()>();
        let router = sim.router();
        tokio::spawn(async move {
            let _ = faults::serve(listener, router, async {
                let _ = rx.await;
            })
            .await;
        });
        Ok(FreshBooksHandle {
            addr,
            sim,
            _shutdown: tx,
        })
    }

    /// Rejects a missing/unknown/expired token before the body is parsed, so auth errors win over body errors.
    pub(crate) fn require_token(&self, headers: &http::HeaderMap) -> Result<(), ApiError> {
        self.store()
            .bearer_identity(headers)
            .map(|_| ())
            .ok_or_else(ApiError::access_denied)
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The whole app: vendor routes behind the fault layer, plus `/_sim/faults` and `/_sim/freshbooks`.
    pub fn router(&self) -> Router {
        use axum::routing::{post, put};
        let acct = "/accounting/account/{account_id}";
        let api = Router::new()
            .route("/auth/oauth/token", post(oauth::token))
            .route(
                "/oauth/authorize",
                get(oauth::authorize).post(oauth::approve_form),
            )
            .route("/auth/api/v1/users/me", get(oauth::me))
            .route(
                &format!("{acct}/users/clients"),
                get(catalog::list_clients).post(catalog::create_client),
            )
            .route(
                &format!("{acct}/users/clients/{{id}}"),
                get(catalog::get_client).put(catalog::update_client),
            )
            .route(
                &format!("{acct}/items/items"),
                get(catalog::list_items).post(catalog::create_item),
            )
            .route(
                &format!("{acct}/items/items/{{id}}"),
                get(catalog::get_item).put(catalog::update_item),
            )
            .route(
                &format!("{acct}/taxes/taxes"),
                get(catalog::list_taxes).post(catalog::create_tax),
            )
            .route(
                &format!("{acct}/taxes/taxes/{{id}}"),
                get(catalog::get_tax)
                    .put(catalog::update_tax)
                    .delete(catalog::delete_tax),
            )
            .route(
                &format!("{acct}/invoices/invoices"),
                get(invoices::list_invoices).post(invoices::create_invoice),
            )
            .route(
                &format!("{acct}/invoices/invoices/{{id}}"),
                get(invoices::get_invoice)
                    .put(invoices::update_invoice)
                    .delete(invoices::delete_invoice),
            )
            .route(
                &format!("{acct}/payments/payments"),
                get(payments::list_payments).post(payments::create_payment),
            )
            .route(
                &format!("{acct}/payments/payments/{{id}}"),
                get(payments::get_payment).merge(put(payments::update_payment)),
            )
            .route(
                &format!("{acct}/credit_notes/credit_notes"),
                get(credits::list_credit_notes).post(credits::create_credit_note),
            )
            .route(
                &format!("{acct}/credit_notes/credit_notes/{{id}}"),
                get(credits::get_credit_note).put(credits::update_credit_note),
            )
            .route(
                "/events/account/{account_id}/events/callbacks",
                get(callbacks::list_callbacks).post(callbacks::create_callback),
            )
            .route(
                "/events/account/{account_id}/events/callbacks/{id}",
                get(callbacks::get_callback)
                    .put(callbacks::update_callback)
                    .delete(callbacks::delete_callback),
            )
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                callbacks::emit_writes,
            ))
            .with_state(self.clone())
            .layer(axum::middleware::map_response(api_version_header))
            .layer(self.faults.layer())
            .layer(axum::middleware::from_fn_with_state(
                self.requests.clone(),
                crate::requests::count,
            ));
        Router::new()
            .merge(api)
            .nest(faults::CONTROL_PATH, self.faults.router())
            .nest(INSPECT_PATH, inspect::router(self.clone()))
    }

    /// The fault controls shared with the served router.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Creates a business with an owner identity.
    pub fn create_account(&self, name: &str, currency: &str) -> SimAccount {
        self.create_account_as(name, currency, None)
    }

    fn create_account_as(
        &self,
        name: &str,
        currency: &str,
        account_id: Option<String>,
    ) -> SimAccount {
        let mut store = self.store();
        let (account_id, identity_id) = store.create_account(name, currency, account_id);
        let business_id = store
            .accounts
            .get(&account_id)
            .map(|a| a.business_id)
            .unwrap_or_default();
        SimAccount {
            account_id,
            business_id,
            identity_id,
        }
    }

    /// Creates a business and a pre-authorized token pair for its owner (what the sandbox needs).
    pub fn create_account_with_tokens(
        &self,
        name: &str,
        currency: &str,
    ) -> (SimAccount, TokenResponse) {
        self.create_account_with_tokens_as(name, currency, None)
    }

    pub(crate) fn create_account_with_tokens_as(
        &self,
        name: &str,
        currency: &str,
        account_id: Option<String>,
    ) -> (SimAccount, TokenResponse) {
        let account = self.create_account_as(name, currency, account_id);
        let tokens = self
            .store()
            .issue_tokens(account.identity_id, DEFAULT_SCOPE);
        (account, tokens)
    }

    /// Issues a new token pair for an identity (earlier refresh tokens stay valid until one is used).
    pub fn issue_tokens(&self, identity_id: u64) -> Option<TokenResponse> {
        let mut store = self.store();
        store
            .identities
            .contains_key(&identity_id)
            .then(|| store.issue_tokens(identity_id, DEFAULT_SCOPE))
    }

    /// A fresh token pair for the owner of `account_id`, to call the API as a person (or a bank import) would:
    /// what a test uses to record a payment that Ferry did not make.
    pub fn owner_tokens(&self, account_id: &str) -> Option<TokenResponse> {
        let identity = {
            let store = self.store();
            store
                .identities
                .iter()
                .find(|(_, i)| i.accounts.iter().any(|a| a == account_id))
                .map(|(id, _)| *id)?
        };
        self.issue_tokens(identity)
    }

    /// Every API request that reached the simulator so far (faulted ones included), by kind: `POST
    /// invoices/invoices`, `GET users/clients/{id}`, `POST auth/oauth/token`, ….
    pub fn request_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.requests.snapshot()
    }

    /// How many requests were answered 429 because the account's rate window was spent
    /// ([`Self::set_rate_limit`]), or by an injected 429 fault.
    pub fn throttled_requests(&self) -> u64 {
        self.requests.throttled()
    }

    /// How many requests reached the token endpoint (`POST /auth/oauth/token`), refused ones included.
    pub fn token_requests(&self) -> u64 {
        self.store().token_requests
    }

    /// Replaces the per-account rate limit (`None` turns it off); windows already open keep their counts.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.store().config.rate_limit = limit;
    }

    /// Shows the authorize page (`false`, a browser clicks "Allow") or approves at once (`true`, the sandbox).
    pub fn set_auto_approve(&self, on: bool) {
        self.store().config.auto_approve = on;
    }

    /// Registers a redirect URI with the application: once any is registered, the authorize page refuses others.
    pub fn register_redirect_uri(&self, uri: &str) {
        self.store().redirect_uris.push(uri.to_owned());
    }

    /// Every authorization allowed on the authorize page so far, oldest first.
    pub fn authorizations(&self) -> Vec<Authorization> {
        self.store().authorizations.clone()
    }

    /// Revokes every token that reaches `account_id`, as when its owner removes the application from FreshBooks:
    /// API calls answer 401 and refreshes `invalid_grant` until the user authorizes again. Returns how many tokens
    /// were revoked.
    pub fn revoke_tokens(&self, account_id: &str) -> usize {
        self.store().revoke_tokens(account_id)
    }

    /// Expires the access tokens of one identity, or all when `None`; returns how many. Refresh tokens still work.
    pub fn expire_access_tokens(&self, identity_id: Option<u64>) -> usize {
        self.store().expire_access_tokens(identity_id)
    }

    /// Sets how callback deliveries misbehave (drops, duplicates, delays, retries) from now on.
    pub fn set_callback_faults(&self, faults: CallbackFaults) {
        self.callbacks.set_faults(faults);
    }

    /// Callback delivery counters.
    pub fn callback_stats(&self) -> CallbackStats {
        self.callbacks.stats()
    }

    /// The callbacks registered for an account, oldest first (verifiers included, for tests).
    pub fn callbacks(&self, account_id: &str) -> Vec<SimCallback> {
        self.callbacks.list(account_id)
    }

    /// Waits until no callback delivery or handshake is queued or in flight; false on timeout.
    pub async fn wait_callbacks_idle(&self, timeout: Duration) -> bool {
        self.callbacks.wait_idle(timeout).await
    }

    /// Counts of one account.
    pub fn summary(&self, account_id: &str) -> Option<AccountSummary> {
        self.store()
            .accounts
            .get(account_id)
            .map(|a| AccountSummary {
                account_id: a.account_id.clone(),
                name: a.name.clone(),
                currency: a.currency.clone(),
                clients: a.clients.len(),
                invoices: a.invoices.len(),
                payments: a.payments.len(),
                items: a.items.len(),
                taxes: a.taxes.len(),
                credit_notes: a.credit_notes.len(),
            })
    }

    /// Counts of every account.
    pub fn summaries(&self) -> Vec<AccountSummary> {
        let ids: Vec<String> = self.store().accounts.keys().cloned().collect();
        ids.iter().filter_map(|id| self.summary(id)).collect()
    }

    /// Every client of an account, oldest first, deleted ones included.
    pub fn clients(&self, account_id: &str) -> Vec<Client> {
        self.store()
            .accounts
            .get(account_id)
            .map(|a| a.clients.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every invoice of an account with its lines, oldest first.
    pub fn invoices(&self, account_id: &str) -> Vec<Invoice> {
        self.store()
            .accounts
            .get(account_id)
            .map(|a| a.invoices.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every payment of an account, oldest first.
    pub fn payments(&self, account_id: &str) -> Vec<Payment> {
        self.store()
            .accounts
            .get(account_id)
            .map(|a| a.payments.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every item of an account, oldest first.
    pub fn items(&self, account_id: &str) -> Vec<Item> {
        self.store()
            .accounts
            .get(account_id)
            .map(|a| a.items.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every tax of an account, oldest first.
    pub fn taxes(&self, account_id: &str) -> Vec<Tax> {
        self.store()
            .accounts
            .get(account_id)
            .map(|a| a.taxes.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every credit note of an account with its lines, oldest first, deleted ones included.
    pub fn credit_notes(&self, account_id: &str) -> Vec<CreditNote> {
        self.store()
            .accounts
            .get(account_id)
            .map(|a| a.credit_notes.values().cloned().collect())
            .unwrap_or_default()
    }

    /// One invoice as a test reads it: lines, per-tax totals, amount, paid, outstanding, status and payments.
    /// `None` when the account or invoice does not exist.
    pub fn invoice_view(&self, account_id: &str, invoice_id: u64) -> Option<InvoiceView> {
        let store = self.store();
        let account = store.accounts.get(account_id)?;
        view::invoice_view(account, invoice_id)
    }

    /// A client's unspent credit in one currency (live credit notes less payments from credit); zero when the
    /// account or client does not exist.
    pub fn credit_balance(&self, account_id: &str, client_id: u64, currency: &str) -> Decimal {
        self.store()
            .accounts
            .get(account_id)
            .map(|a| ledger::credit_balance(a, client_id, currency))
            .unwrap_or_default()
    }
}

/// A running simulator; dropping it stops accepting connections. Derefs to [`FreshBooksSim`].
#[derive(Debug)]
pub struct FreshBooksHandle {
    addr: SocketAddr,
    sim: FreshBooksSim,
    /// Dropping the sender resolves the serve loop's shutdown future.
    _shutdown: oneshot::Sender<()>,
}

impl FreshBooksHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, the value for `FRESHBOOKS_API_URL`-style overrides.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The simulator behind the handle.
    pub fn sim(&self) -> &FreshBooksSim {
        &self.sim
    }
}

impl std::ops::Deref for FreshBooksHandle {
    type Target = FreshBooksSim;

    fn deref(&self) -> &FreshBooksSim {
        &self.sim
    }
}

/// Adds `x-api-version` to every vendor response, as the live API does.
async fn api_version_header(mut response: axum::response::Response) -> axum::response::Response {
    response
        .headers_mut()
        .insert("x-api-version", http::HeaderValue::from_static(API_VERSION));
    response
}

/// Injected status faults answer in the accounting error envelope.
fn fault_body(status: http::StatusCode, kind: FaultKind) -> axum::response::Response {
    match kind {
        FaultKind::Throttle => ApiError::Accounting {
            status,
            errno: 429,
            message: "Too many requests.".into(),
            field: None,
            object: None,
            value: None,
        }
        .into_response(),
        _ => ApiError::unexpected(status).into_response(),
    }
}
