//! `/_sim/kentico`: JSON routes to drive the store and the webhook sender from outside the process (the same
//! operations as [`super::KenticoHandle`]). Errors use the simulators' control shape `{"error":{"code","message"}}`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::catalogue::{CatalogueError, SkuPatch, SkuSpec};
use super::promotion::known_coupon;
use super::spec::{CustomerPatch, EditError, OrderEdit, OrderKinds, OrderMix, OrderSpec};
use super::{Shared, WebhookTarget};

/// A control-API refusal.
#[derive(Debug)]
pub(crate) struct ControlError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ControlError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn not_found(what: String) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

/// `Json` whose rejections answer in the control error shape.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ControlError))]
pub(crate) struct Body<T>(T);

impl From<JsonRejection> for ControlError {
    fn from(r: JsonRejection) -> Self {
        Self::new(r.status(), "bad_body", r.body_text())
    }
}

type Result<T> = std::result::Result<T, ControlError>;

/// The routes, relative to [`super::CONTROL_PATH`].
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(summary))
        .route("/catalogue", get(catalogue))
        .route("/skus", post(create_sku))
        .route(
            "/skus/{id}",
            axum::routing::patch(update_sku).delete(delete_sku),
        )
        .route("/customers", get(customers).post(register_customer))
        .route("/customers/{id}", get(get_customer).patch(update_customer))
        .route("/orders", post(place_order))
        .route("/orders/random", post(place_random))
        .route("/orders/{id}", get(get_order))
        .route("/orders/{id}/status", post(set_status))
        .route("/orders/{id}/paid", post(mark_paid))
        .route("/orders/{id}/edit", post(edit_order))
        .route("/orders/{id}/cancel", post(cancel_order))
        .route("/webhooks", get(webhooks).put(set_webhook))
        .route("/webhooks/skip", post(skip))
        .route("/webhooks/log", get(webhook_log))
        .route("/webhooks/wait-idle", post(wait_idle))
        .with_state(shared)
}

async fn summary(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let (orders, customers, skus) = {
        let st = s.store();
        (st.orders.len(), st.customers.len(), st.skus.len())
    };
    Json(json!({
        "site_name": s.config.site_name,
        "orders": orders,
        "customers": customers,
        "skus": skus,
        "webhooks": s.outbox.stats(),
    }))
}

async fn catalogue(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    Json(s.store().catalogue())
}

async fn customers(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    Json(s.store().customer_infos())
}

async fn get_customer(State(s): State<Arc<Shared>>, Path(id): Path<i64>) -> Result<Response> {
    let c = super::snapshot::customer(&s.store(), id)
        .ok_or_else(|| ControlError::not_found(format!("no customer {id}")))?;
    Ok(Json(c).into_response())
}

async fn update_customer(
    State(s): State<Arc<Shared>>,
    Path(id): Path<i64>,
    Body(patch): Body<CustomerPatch>,
) -> Result<Response> {
    if !s.update_customer(id, &patch) {
        return Err(ControlError::not_found(format!("no customer {id}")));
    }
    get_customer(State(s), Path(id)).await
}

/// Refuses specs naming things the store does not have (the Rust API falls back instead).
fn validate(s: &Shared, spec: &OrderSpec) -> Result<()> {
    let store = s.store();
    if let Some(c) = &spec.currency
        && store.currency_by_code(c).is_none()
    {
        return Err(ControlError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_currency",
            format!("currency {c} is not defined in the store"),
        ));
    }
    if let Some(c) = spec.customer_id
        && store.customer_index(c).is_none()
    {
        return Err(ControlError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_customer",
            format!("customer {c} does not exist"),
        ));
    }
    if let Some(l) = spec
        .lines
        .iter()
        .find(|l| !store.skus.iter().any(|s| s.id == l.sku_id))
    {
        return Err(ControlError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_sku",
            format!("sku {} does not exist", l.sku_id),
        ));
    }
    let unprocessable = |code, message: String| {
        Err(ControlError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            message,
        ))
    };
    if let Some(l) = spec.lines.iter().find(|l| {
        store
            .skus
            .iter()
            .any(|s| s.id == l.sku_id && !s.option_for.is_empty())
    }) {
        return unprocessable(
            "not_a_product",
            format!("sku {} is a product option; put it in options", l.sku_id),
        );
    }
    if let Some(c) = spec.coupons.iter().find(|c| known_coupon(c).is_none()) {
        return unprocessable("unknown_coupon", format!("coupon code {c} does not exist"));
    }
    if let Some(v) = spec.gift_card.filter(|v| *v <= rust_decimal::Decimal::ZERO) {
        return unprocessable(
            "bad_gift_card",
            format!("gift card value {v} is not positive"),
        );
    }
    for o in &spec.options {
        let parent = spec
            .lines
            .get(o.line)
            .and_then(|l| store.skus.iter().position(|s| s.id == l.sku_id));
        if parent
            .and_then(|p| store.option_index(p, o.sku_id))
            .is_none()
        {
            return unprocessable(
                "invalid_option",
                format!("sku {} is not an option of line {}", o.sku_id, o.line),
            );
        }
    }
    if let Some(st) = &spec.status
        && store.status_by_name(st).is_none()
    {
        return Err(ControlError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_status",
            format!("order status {st} does not exist"),
        ));
    }
    Ok(())
}

async fn place_order(
    State(s): State<Arc<Shared>>,
    Body(spec): Body<OrderSpec>,
) -> Result<Response> {
    validate(&s, &spec)?;
    Ok((StatusCode::CREATED, Json(s.place_order(&spec))).into_response())
}

/// `mix` of `POST /orders/random`: [`OrderMix`]'s fields and [`OrderKinds`]'s in one object.
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct MixBody {
    #[serde(flatten)]
    base: OrderMix,
    #[serde(flatten)]
    kinds: OrderKinds,
}

/// Body of `POST /orders/random`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct RandomRequest {
    n: u64,
    #[serde(default)]
    mix: MixBody,
}

async fn place_random(
    State(s): State<Arc<Shared>>,
    Body(req): Body<RandomRequest>,
) -> impl IntoResponse {
    let spec = s
        .store()
        .random_order_with(req.n, &req.mix.base, &req.mix.kinds);
    let placed = s.place_order(&spec);
    (
        StatusCode::CREATED,
        Json(json!({"spec": spec, "placed": placed})),
    )
}

async fn get_order(State(s): State<Arc<Shared>>, Path(id): Path<i64>) -> Result<Response> {
    let o = super::snapshot::order(&s.store(), id)
        .ok_or_else(|| ControlError::not_found(format!("no order {id}")))?;
    Ok(Json(o).into_response())
}

/// Body of `POST /orders/{id}/status`.
#[derive(Debug, Deserialize)]
pub(crate) struct StatusRequest {
    status: String,
}

async fn set_status(
    State(s): State<Arc<Shared>>,
    Path(id): Path<i64>,
    Body(req): Body<StatusRequest>,
) -> Result<Response> {
    if s.store().status_by_name(&req.status).is_none() {
        return Err(ControlError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_status",
            format!("order status {} does not exist", req.status),
        ));
    }
    if !s.set_order_status(id, &req.status) {
        return Err(ControlError::not_found(format!("no order {id}")));
    }
    get_order(State(s), Path(id)).await
}

async fn mark_paid(State(s): State<Arc<Shared>>, Path(id): Path<i64>) -> Result<Response> {
    if !s.mark_paid(id) {
        return Err(ControlError::not_found(format!("no order {id}")));
    }
    get_order(State(s), Path(id)).await
}

async fn edit_order(
    State(s): State<Arc<Shared>>,
    Path(id): Path<i64>,
    Body(edit): Body<OrderEdit>,
) -> Result<Response> {
    if let Err(e) = s.edit_order(id, &edit) {
        let code = match e {
            EditError::UnknownOrder(_) => {
                return Err(ControlError::not_found(format!("no order {id}")));
            }
            EditError::UnknownSku(_) => "unknown_sku",
            EditError::UnknownPlace(_) => "unknown_place",
            EditError::NoShipping(_) => "no_shipping_address",
        };
        return Err(ControlError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            e.to_string(),
        ));
    }
    get_order(State(s), Path(id)).await
}

async fn cancel_order(State(s): State<Arc<Shared>>, Path(id): Path<i64>) -> Result<Response> {
    if !s.cancel_order(id) {
        return Err(ControlError::not_found(format!("no order {id}")));
    }
    get_order(State(s), Path(id)).await
}

async fn webhooks(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    Json(json!({
        "target": s.outbox.target().map(|t| t.url),
        "stats": s.outbox.stats(),
    }))
}

async fn set_webhook(
    State(s): State<Arc<Shared>>,
    Body(target): Body<Option<WebhookTarget>>,
) -> impl IntoResponse {
    s.outbox.set_target(target);
    webhooks(State(s)).await
}

/// Body of `POST /webhooks/skip`.
#[derive(Debug, Deserialize)]
pub(crate) struct SkipRequest {
    fraction: f64,
}

async fn skip(State(s): State<Arc<Shared>>, Body(req): Body<SkipRequest>) -> impl IntoResponse {
    s.outbox.set_skip_fraction(req.fraction);
    webhooks(State(s)).await
}

async fn webhook_log(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    Json(s.outbox.log())
}

/// Body of `POST /webhooks/wait-idle`.
#[derive(Debug, Deserialize)]
pub(crate) struct WaitRequest {
    timeout_ms: u64,
}

async fn wait_idle(
    State(s): State<Arc<Shared>>,
    Body(req): Body<WaitRequest>,
) -> impl IntoResponse {
    let idle = s
        .outbox
        .wait_idle(Duration::from_millis(req.timeout_ms))
        .await;
    Json(json!({"idle": idle, "stats": s.outbox.stats()}))
}

impl From<CatalogueError> for ControlError {
    fn from(e: CatalogueError) -> Self {
        match e {
            CatalogueError::UnknownSku(_) => Self::not_found(e.to_string()),
            _ => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_sku",
                e.to_string(),
            ),
        }
    }
}

/// The SKU as the catalogue lists it.
fn sku_info(s: &Shared, id: i64) -> Result<Response> {
    let info = s.store().catalogue().into_iter().find(|i| i.id == id);
    let info = info.ok_or_else(|| ControlError::not_found(format!("no sku {id}")))?;
    Ok(Json(info).into_response())
}

async fn create_sku(State(s): State<Arc<Shared>>, Body(spec): Body<SkuSpec>) -> Result<Response> {
    let id = s.create_sku(&spec)?;
    Ok((StatusCode::CREATED, sku_info(&s, id)?).into_response())
}

async fn update_sku(
    State(s): State<Arc<Shared>>,
    Path(id): Path<i64>,
    Body(patch): Body<SkuPatch>,
) -> Result<Response> {
    s.update_sku(id, &patch)?;
    sku_info(&s, id)
}

async fn delete_sku(State(s): State<Arc<Shared>>, Path(id): Path<i64>) -> Result<Response> {
    s.delete_sku(id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn register_customer(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    (StatusCode::CREATED, Json(s.register_customer()))
}
