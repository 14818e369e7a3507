//! Marketing-segment enrichment simulator: a small customer-data service that answers "which segment is this
//! customer in?" for an e-mail, behind an API key and the shared fault layer.
//!
//! There is no single vendor for this, so the contract is ours (also in `docs/enrichment.md`):
//!
//! - `GET /v1/{kind}/{key}` with `Authorization: Bearer <api key>`.
//! - `200 {"attributes": {"segment": "loyal"}}` for kind `segment`. The segment is derived from the key alone
//!   (SHA-256 of the trimmed, lower-cased key picks one of [`SEGMENTS`]), so the same e-mail gets the same
//!   segment in every run, on every port and with every seed. [`segment_for`] gives the expected answer to tests.
//! - `401 {"error": {"code": "unauthorized", "message": …}}` when the header is missing or the key is wrong.
//! - `404 {"error": {"code": "unknown_kind", "message": …}}` for any kind other than `segment`.
//! - Injected faults (`/_sim/faults`) answer in the same `{"error": {…}}` shape.
//!
//! [`EnrichmentHandle::requests`] counts the requests that reached the service (past the fault layer), so a test
//! can tell a cached lookup from a fresh one.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::faults::{self, FaultKind, Faults};

/// The one kind this service knows.
pub const SEGMENT_KIND: &str = "segment";

/// The segments a customer can be in, in the order the hash picks them.
pub const SEGMENTS: [&str; 4] = ["loyal", "new", "at-risk", "vip"];

/// How to start the simulator.
#[derive(Debug, Clone)]
pub struct EnrichmentSimConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the fault generator (segments do not depend on it).
    pub seed: u64,
    /// The API key the service accepts as `Authorization: Bearer <api_key>`.
    pub api_key: String,
}

impl Default for EnrichmentSimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            seed: 1,
            api_key: "sim-enrichment-key".to_owned(),
        }
    }
}

/// The segment the service answers for `key` (an e-mail): the first byte of SHA-256 of the trimmed, lower-cased
/// key picks one of [`SEGMENTS`].
pub fn segment_for(key: &str) -> &'static str {
    let digest = Sha256::digest(key.trim().to_lowercase().as_bytes());
    SEGMENTS[usize::from(digest[0]) % SEGMENTS.len()]
}

/// The service's error, in its one JSON shape `{"error": {"code", "message"}}`.
#[derive(Debug)]
enum ApiError {
    /// Missing or wrong API key.
    Unauthorized,
    /// A kind the service does not know.
    UnknownKind(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or invalid api key; send `Authorization: Bearer <api key>`".to_owned(),
            ),
            Self::UnknownKind(kind) => (
                StatusCode::NOT_FOUND,
                "unknown_kind",
                format!("unknown enrichment kind {kind:?}; known kinds: {SEGMENT_KIND}"),
            ),
        };
        error_body(status, code, &message)
    }
}

fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

/// Injected status faults in the service's own error shape.
fn fault_body(status: StatusCode, kind: FaultKind) -> Response {
    let code = if status == StatusCode::TOO_MANY_REQUESTS {
        "rate_limited"
    } else {
        "internal"
    };
    error_body(
        status,
        code,
        &format!("injected fault: {kind:?}").to_lowercase(),
    )
}

/// Shared by the routes and the handle.
#[derive(Debug)]
struct Shared {
    config: EnrichmentSimConfig,
    faults: Faults,
    /// Requests that reached the service past the fault layer; tests read it to see whether a lookup was cached.
    requests: AtomicU64,
}

/// Starts the simulator.
#[derive(Debug)]
pub struct EnrichmentSim;

impl EnrichmentSim {
    /// Binds 127.0.0.1:`config.port` and serves until [`EnrichmentHandle::shutdown`] or until every handle clone
    /// is dropped.
    ///
    /// # Errors
    ///
    /// Fails when the port cannot be bound.
    pub async fn start(config: EnrichmentSimConfig) -> std::io::Result<EnrichmentHandle> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            faults: Faults::with_body(config.seed, Arc::new(fault_body)),
            config,
            requests: AtomicU64::new(0),
        });
        let api = Router::new()
            .route("/v1/{kind}/{key}", get(lookup))
            .with_state(shared.clone())
            .layer(shared.faults.layer());
        let router = Router::new()
            .merge(api)
            .nest(faults::CONTROL_PATH, shared.faults.router());
        let (tx, mut rx) = watch::channel(false);
        tokio::spawn(async move {
            let _ = faults::serve(listener, router, async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        });
        Ok(EnrichmentHandle {
            addr,
            shared,
            shutdown: Arc::new(tx),
        })
    }
}

async fn lookup(
    State(s): State<Arc<Shared>>,
    Path((kind, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    s.requests.fetch_add(1, Ordering::SeqCst);
    let authorized = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|k| k == s.config.api_key);
    if !authorized {
        return Err(ApiError::Unauthorized);
    }
    if kind != SEGMENT_KIND {
        return Err(ApiError::UnknownKind(kind));
    }
    let body = json!({ "attributes": { "segment": segment_for(&key) } });
    Ok(Json(body).into_response())
}

/// A running simulator. Clones share it; it stops on [`EnrichmentHandle::shutdown`] or when the last clone drops.
#[derive(Debug, Clone)]
pub struct EnrichmentHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Held only by handles, so dropping the last one stops the server.
    shutdown: Arc<watch::Sender<bool>>,
}

impl EnrichmentHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`; lookups are under `{base_url}/v1/`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The API key the service accepts.
    pub fn api_key(&self) -> &str {
        &self.shared.config.api_key
    }

    /// The fault controls in front of the service.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Requests that reached the service (past the fault layer), whatever they were answered.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Stops serving.
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_ignore_case_and_surrounding_space() {
        assert_eq!(
            segment_for("Ada@Example.com "),
            segment_for("ada@example.com")
        );
    }

    #[test]
    fn every_segment_is_reachable() {
        let seen: std::collections::BTreeSet<_> = (0..200)
            .map(|i| segment_for(&format!("customer{i}@example.com")))
            .collect();
        assert_eq!(seen.len(), SEGMENTS.len(), "{seen:?}");
    }
}
