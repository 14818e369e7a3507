//! The control API mounted at [`super::CONTROL_PATH`]: read status, set standing config, arm one-shot faults.

use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{
    CountRequest, FailNextRequest, FaultConfig, FaultCounters, FaultStatus, Faults, OutageRequest,
    ThrottleRequest,
};

/// Builds the control router; paths are relative to where it is nested.
pub(super) fn router(faults: Faults) -> Router {
    Router::new()
        .route("/", get(status).put(set_config))
        .route("/counters", get(counters))
        .route("/clear", post(clear))
        .route("/fail-next", post(fail_next))
        .route("/throttle", post(throttle))
        .route("/reset-next", post(reset_next))
        .route("/drop-reply-next", post(drop_reply_next))
        .route("/outage", post(outage).delete(end_outage))
        .route("/seed", post(reseed))
        .with_state(faults)
}

async fn status(State(faults): State<Faults>) -> Json<FaultStatus> {
    Json(faults.status())
}

async fn set_config(
    State(faults): State<Faults>,
    Json(config): Json<FaultConfig>,
) -> Json<FaultStatus> {
    faults.set_config(config);
    Json(faults.status())
}

async fn counters(State(faults): State<Faults>) -> Json<FaultCounters> {
    Json(faults.counters())
}

async fn clear(State(faults): State<Faults>) -> Json<FaultStatus> {
    faults.clear();
    Json(faults.status())
}

async fn fail_next(
    State(faults): State<Faults>,
    Json(req): Json<FailNextRequest>,
) -> Json<FaultStatus> {
    faults.fail_next(req.count, req.status);
    Json(faults.status())
}

async fn throttle(
    State(faults): State<Faults>,
    Json(req): Json<ThrottleRequest>,
) -> Json<FaultStatus> {
    faults.throttle_next(req.count, req.retry_after_secs.map(Duration::from_secs));
    Json(faults.status())
}

async fn reset_next(
    State(faults): State<Faults>,
    Json(req): Json<CountRequest>,
) -> Json<FaultStatus> {
    faults.reset_next(req.count);
    Json(faults.status())
}

async fn drop_reply_next(
    State(faults): State<Faults>,
    Json(req): Json<CountRequest>,
) -> Json<FaultStatus> {
    faults.drop_reply_next(req.count);
    Json(faults.status())
}

async fn outage(State(faults): State<Faults>, Json(req): Json<OutageRequest>) -> Json<FaultStatus> {
    let duration = Duration::from_millis(req.duration_ms);
    if req.refuse {
        faults.refuse_for(duration);
    } else {
        faults.outage_for(duration);
    }
    Json(faults.status())
}

async fn end_outage(State(faults): State<Faults>) -> Json<FaultStatus> {
    faults.end_outage();
    Json(faults.status())
}

/// Body of `POST /seed`.
#[derive(Debug, serde::Deserialize)]
struct SeedRequest {
    seed: u64,
}

async fn reseed(State(faults): State<Faults>, Json(req): Json<SeedRequest>) -> Json<FaultStatus> {
    faults.reseed(req.seed);
    Json(faults.status())
}
