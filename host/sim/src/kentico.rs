//! Kentico Xperience 13 simulator: the REST service under `/rest` for the e-commerce object types, a seeded store
//! (Dancing Goat-like configuration, customers with custom fields, orders in several currencies), mutations
//! through the Rust API and `/_sim/kentico`, and the signed webhook sender of a Kentico-side module
//! (`docs/webhook-contract.md`). Shapes follow `docs/kentico.md` (same § numbers as the reference NOTES.md);
//! every place where the reference is silent is marked `// guess:`.
//!
//! Orders can carry what real shops produce: catalog, volume, Buy X Get Y and order discounts, coupon codes,
//! free shipping, gift cards, product options and bundles ([`OrderSpec`], [`OrderKinds`]), priced by K13's
//! calculation order (`pricing`, whose module doc lists the rounding rule and the identities an integrator
//! can rely on), and they can be edited or cancelled after checkout ([`KenticoHandle::edit_order`],
//! [`KenticoHandle::cancel_order`]).
//!
//! Layout:
//! - `config`: [`KenticoSimConfig`], [`RetrySchedule`], [`WebhookTarget`].
//! - `spec`: the driving API's types ([`OrderSpec`], [`OrderMix`], [`Defect`], [`PlacedOrder`], …).
//! - `class` / `value` / `clock`: object types and columns, cell values and their JSON/XML text, server time.
//! - `reference`, `sku`, `customer`, `order`: the stored objects, one module per family.
//! - `seed`: the deterministic store; `random`: generated orders and history; `store`: the tables and mutations.
//! - `pricing`: K13's cart calculation; `promotion`: the site's promotions and rows → cart; `summary`: the
//!   `ValuesSummary` / `CouponCodes` XML.
//! - `checkout`: placing orders; `edit`: admin edits and cancellation after checkout.
//! - `catalogue`: SKUs created, edited, restocked, disabled and deleted, and customers who register before ordering.
//! - `stock`: stock taken by new orders and returned by edits that remove or lower lines (not by cancelling).
//! - `query`: `where` / `orderby` / `columns`; `render`: response envelopes; `rest`: the `/rest` handler;
//!   `rest_error`: its refusals.
//! - `webhook`: envelope, Standard Webhooks signature, outbox with retries.
//! - `write`: `PUT` of orders through `/rest` behind the permission model ([`RestWrite`] records each).
//! - `snapshot`: read-only views for tests; `control`: the `/_sim/kentico` routes.

mod catalogue;
mod checkout;
mod class;
mod clock;
mod config;
mod control;
mod customer;
mod edit;
mod order;
mod pricing;
mod promotion;
mod query;
mod random;
mod reference;
mod render;
mod rest;
mod rest_error;
mod seed;
mod sku;
mod snapshot;
mod spec;
mod stock;
mod store;
mod summary;
mod value;
mod webhook;
mod write;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::faults::{self, FaultKind, Faults};
pub use catalogue::{CatalogueError, SkuPatch, SkuSpec};
pub use config::{KenticoSimConfig, RetrySchedule, WebhookTarget};
pub use rest::REALM;
pub use snapshot::{SimAddress, SimCustomer, SimLine, SimOrder};
pub use spec::{
    AddressSpec, COUPON_CODES, CustomerInfo, CustomerPatch, Defect, EditError, LineSpec,
    OptionSpec, OrderEdit, OrderKinds, OrderMix, OrderSpec, PlacedOrder, SkuInfo, SkuKind,
};
use store::Store;
pub use webhook::{
    DeliveryRecord, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookStats, random_secret,
    secret_key, sign,
};
pub use write::RestWrite;

/// Where the control routes are mounted.
pub const CONTROL_PATH: &str = "/_sim/kentico";

/// State shared by the routes, the handle and the webhook tasks.
pub(crate) struct Shared {
    config: KenticoSimConfig,
    /// The site's `CMSRESTServiceEnabled` setting: off, `/rest` answers 403 (docs/kentico.md §3.2).
    rest_enabled: std::sync::atomic::AtomicBool,
    /// One lock over the whole store: a request sees one consistent snapshot, and mutations are short.
    store: Mutex<Store>,
    faults: Faults,
    outbox: Arc<webhook::Outbox>,
    requests: crate::requests::RequestCounts,
    /// Every write `/rest` accepted, oldest first.
    writes: Mutex<Vec<RestWrite>>,
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record_write(&self, write: RestWrite) {
        self.writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(write);
    }

    fn place_order(&self, spec: &OrderSpec) -> PlacedOrder {
        let (placed, events) = self.store().place_order(spec);
        self.outbox.emit(events);
        placed
    }

    fn create_sku(&self, spec: &SkuSpec) -> Result<i64, CatalogueError> {
        let (id, events) = self.store().create_sku(spec)?;
        self.outbox.emit(events);
        Ok(id)
    }

    fn update_sku(&self, id: i64, patch: &SkuPatch) -> Result<(), CatalogueError> {
        let events = self.store().update_sku(id, patch)?;
        self.outbox.emit(events);
        Ok(())
    }

    fn delete_sku(&self, id: i64) -> Result<(), CatalogueError> {
        let events = self.store().delete_sku(id)?;
        self.outbox.emit(events);
        Ok(())
    }

    fn register_customer(&self) -> CustomerInfo {
        let (info, events) = self.store().register_customer();
        self.outbox.emit(events);
        info
    }

    fn set_order_status(&self, order_id: i64, status: &str) -> bool {
        let events = self.store().set_order_status(order_id, status);
        events.map(|e| self.outbox.emit(e)).is_some()
    }

    fn edit_order(&self, order_id: i64, edit: &OrderEdit) -> Result<(), EditError> {
        let events = self.store().edit_order(order_id, edit)?;
        self.outbox.emit(events);
        Ok(())
    }

    fn cancel_order(&self, order_id: i64) -> bool {
        let events = self.store().cancel_order(order_id);
        events.map(|e| self.outbox.emit(e)).is_some()
    }

    fn mark_paid(&self, order_id: i64) -> bool {
        let events = self.store().mark_paid(order_id);
        events.map(|e| self.outbox.emit(e)).is_some()
    }

    fn update_customer(&self, customer_id: i64, patch: &CustomerPatch) -> bool {
        let events = self.store().update_customer(customer_id, patch);
        events.map(|e| self.outbox.emit(e)).is_some()
    }
}

/// Starts the simulator.
#[derive(Debug)]
pub struct KenticoSim;

impl KenticoSim {
    /// Generates the seeded store, binds 127.0.0.1:`config.port` and serves until [`KenticoHandle::shutdown`] or
    /// until every handle clone is dropped.
    ///
    /// # Errors
    ///
    /// Fails when the port cannot be bound.
    pub async fn start(config: KenticoSimConfig) -> std::io::Result<KenticoHandle> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let cfg = config.clone();
        // Generating a large store takes a moment; keep it off the async workers.
        let store = tokio::task::spawn_blocking(move || Store::new(&cfg))
            .await
            .map_err(std::io::Error::other)?;
        let outbox = webhook::Outbox::new(
            config.seed,
            config.webhook_retry,
            config.webhook_timeout,
            config.webhook_concurrency,
            webhook::Source {
                site_name: config.site_name.clone(),
                instance: format!("http://{addr}"),
            },
            shutdown_rx.clone(),
        );
        let shared = Arc::new(Shared {
            faults: Faults::with_body(config.seed, Arc::new(fault_body)),
            rest_enabled: std::sync::atomic::AtomicBool::new(true),
            config,
            store: Mutex::new(store),
            outbox: Arc::new(outbox),
            requests: crate::requests::RequestCounts::default(),
            writes: Mutex::new(Vec::new()),
        });
        let router = router(&shared);
        let mut rx = shutdown_rx;
        tokio::spawn(async move {
            let _ = faults::serve(listener, router, async move {
                // Resolves on shutdown() or when the last handle (the sender) is dropped.
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        });
        Ok(KenticoHandle {
            addr,
            shared,
            shutdown: Arc::new(shutdown_tx),
        })
    }
}

/// The REST routes behind the fault layer, plus `/_sim/faults` and `/_sim/kentico`.
fn router(shared: &Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/rest", any(rest::rest))
        .route("/rest/{*path}", any(rest::rest))
        .with_state(shared.clone())
        .layer(shared.faults.layer())
        .layer(axum::middleware::from_fn_with_state(
            shared.requests.clone(),
            crate::requests::count,
        ));
    Router::new()
        .merge(api)
        .nest(faults::CONTROL_PATH, shared.faults.router())
        .nest(CONTROL_PATH, control::router(shared.clone()))
}

/// Injected status faults answer the way IIS does in front of the admin application: a short HTML page.
// guess: the reference has no capture of a K13 5xx; IIS's default error pages are HTML.
fn fault_body(status: http::StatusCode, _kind: FaultKind) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let html = format!(
        "<!DOCTYPE html><html><head><title>{reason}</title></head><body><h1>{reason}</h1><p>HTTP Error {}. {reason}</p></body></html>",
        status.as_u16()
    );
    (
        status,
        [(http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

/// A running simulator. Clones share it; it stops on [`KenticoHandle::shutdown`] or when the last clone drops.
#[derive(Clone)]
pub struct KenticoHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Held only by handles (never by routes or tasks), so dropping the last handle stops the server.
    shutdown: Arc<watch::Sender<bool>>,
}

impl std::fmt::Debug for KenticoHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KenticoHandle")
            .field("addr", &self.addr)
            .field("store", &*self.shared.store())
            .finish()
    }
}

impl KenticoHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`; the REST service is at `{base_url}/rest`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The fault controls in front of `/rest`.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &KenticoSimConfig {
        &self.shared.config
    }

    /// Turns the site's REST service on or off (Settings → Integration → REST → Enable REST service): while off,
    /// every `/rest` request answers 403.
    pub fn set_rest_enabled(&self, on: bool) {
        self.shared
            .rest_enabled
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Sends webhooks to `target`, or stops sending (events are then recorded as skipped).
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.shared.outbox.set_target(target);
    }

    /// Never sends a seeded `fraction` of the events emitted from now on (they count as skipped), so polling
    /// reconciliation has something to find.
    pub fn skip_webhooks(&self, fraction: f64) {
        self.shared.outbox.set_skip_fraction(fraction);
    }

    /// The SKUs.
    pub fn catalogue(&self) -> Vec<SkuInfo> {
        self.shared.store().catalogue()
    }

    /// Every customer, guests created by invalid orders included.
    pub fn customers(&self) -> Vec<CustomerInfo> {
        self.shared.store().customer_infos()
    }

    /// The `n`-th order of the simulator's deterministic stream (same seed and `n`, same spec).
    pub fn random_order(&self, n: u64, mix: &OrderMix) -> OrderSpec {
        self.shared.store().random_order(n, mix)
    }

    /// The `n`-th order of the deterministic stream with cart features drawn from `kinds` (all 0: the same
    /// order as [`KenticoHandle::random_order`]).
    pub fn random_order_with(&self, n: u64, mix: &OrderMix, kinds: &OrderKinds) -> OrderSpec {
        self.shared.store().random_order_with(n, mix, kinds)
    }

    /// Places an order now and emits `order.created` (and `order.paid` when paid at checkout), then applies
    /// the spec's `then_edit` (`order.updated`) and `then_cancel` (`order.status_changed`). Unknown SKUs,
    /// options a product does not allow and unknown coupon codes are left out, an unknown currency falls back
    /// to the main one, an unknown customer to a seeded one.
    pub async fn place_order(&self, spec: OrderSpec) -> PlacedOrder {
        self.shared.place_order(&spec)
    }

    /// Every REST request that reached the simulator so far (faulted ones included), by kind: `GET
    /// rest/ecommerce.order/{id}`, ….
    pub fn request_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.shared.requests.snapshot()
    }

    /// Moves an order to a status (code or display name); false when the order or status is unknown.
    pub async fn set_order_status(&self, order_id: i64, status_name: &str) -> bool {
        self.shared.set_order_status(order_id, status_name)
    }

    /// Edits an order as the admin's order editor does (items, quantities, addresses), recalculates it, bumps
    /// `OrderLastModified` and emits `order.updated`. An edit that changes nothing emits nothing.
    ///
    /// # Errors
    ///
    /// The order is unknown, a line names no orderable product, an address names an unknown country or
    /// state, or a shipping address is given for an order that has none; the order is then left unchanged.
    pub async fn edit_order(&self, order_id: i64, edit: OrderEdit) -> Result<(), EditError> {
        self.shared.edit_order(order_id, &edit)
    }

    /// Cancels an order: status `Canceled`, `OrderLastModified` bumped, `order.status_changed` emitted (nothing
    /// when it already is cancelled). False when the order is unknown.
    pub async fn cancel_order(&self, order_id: i64) -> bool {
        self.shared.cancel_order(order_id)
    }

    /// Records a completed payment for an order; false when the order is unknown.
    pub async fn mark_paid(&self, order_id: i64) -> bool {
        self.shared.mark_paid(order_id)
    }

    /// Adds a SKU as the admin's product editor does and emits `sku.created`; returns its `SKUID`.
    ///
    /// # Errors
    /// An empty name, a SKU number already in use, an unknown parent or inventory tracking mode.
    pub async fn create_sku(&self, spec: SkuSpec) -> Result<i64, CatalogueError> {
        self.shared.create_sku(&spec)
    }

    /// Edits a SKU (name, description, price, stock, enabled, tracking), bumps `SKULastModified` and emits
    /// `sku.updated`; an edit that changes nothing emits nothing.
    ///
    /// # Errors
    /// The SKU is unknown or deleted, or a value is refused; the SKU is then left unchanged.
    pub async fn update_sku(&self, id: i64, patch: SkuPatch) -> Result<(), CatalogueError> {
        self.shared.update_sku(id, &patch)
    }

    /// Deletes a SKU and emits `sku.deleted`; the REST service answers 404 for it from now on.
    ///
    /// # Errors
    /// The SKU is unknown or already deleted.
    pub async fn delete_sku(&self, id: i64) -> Result<(), CatalogueError> {
        self.shared.delete_sku(id)
    }

    /// Whether stock an order takes is announced with one `sku.updated` per SKU (off by default, so tests that
    /// count an order's webhooks see only its own; the stock and `SKULastModified` move either way).
    pub fn send_stock_webhooks(&self, on: bool) {
        self.shared.store().stock_webhooks = on;
    }

    /// A new customer registers (no order yet) and `customer.created` is emitted.
    pub async fn register_customer(&self) -> CustomerInfo {
        self.shared.register_customer()
    }

    /// Changes a customer and emits `customer.updated`; false when the customer is unknown.
    pub async fn update_customer(&self, customer_id: i64, patch: CustomerPatch) -> bool {
        self.shared.update_customer(customer_id, &patch)
    }

    /// Every write the REST service accepted (`PUT /rest/ecommerce.order/{id}`), oldest first.
    pub fn rest_writes(&self) -> Vec<RestWrite> {
        self.shared
            .writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Delivery counters.
    pub fn webhook_stats(&self) -> WebhookStats {
        self.shared.outbox.stats()
    }

    /// What became of every emitted event, oldest first.
    pub fn webhook_log(&self) -> Vec<DeliveryRecord> {
        self.shared.outbox.log()
    }

    /// Waits until no event is queued or being delivered; false on timeout.
    pub async fn wait_webhooks_idle(&self, timeout: Duration) -> bool {
        self.shared.outbox.wait_idle(timeout).await
    }

    /// An order as the simulator holds it.
    pub fn order(&self, order_id: i64) -> Option<SimOrder> {
        snapshot::order(&self.shared.store(), order_id)
    }

    /// A customer as the simulator holds it.
    pub fn customer(&self, customer_id: i64) -> Option<SimCustomer> {
        snapshot::customer(&self.shared.store(), customer_id)
    }

    /// Number of orders in the store.
    pub fn order_count(&self) -> usize {
        self.shared.store().orders.len()
    }

    /// Stops serving and sending webhooks.
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }
}
