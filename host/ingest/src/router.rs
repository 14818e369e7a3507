//! `POST /hooks/kentico/{tenant}`: verify, parse, commit, then answer.

use crate::config::IngestConfig;
use crate::error::{ApiError, ErrorCode};
use crate::secrets::TenantSecrets;
use crate::signature::{self, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignatureError};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use ferry_model::{EventEnvelope, TenantId};
use ferry_store::{Ingestor, InsertOutcome, NewEvent};
use std::sync::Arc;
use time::OffsetDateTime;

/// What the webhook handler needs; cheap to clone.
#[derive(Clone)]
pub struct IngestState {
    /// The store's batching writer; the handler answers only after it acknowledged the commit.
    pub ingestor: Ingestor,
    /// The host's lookup of each tenant's signing secrets.
    pub secrets: Arc<dyn TenantSecrets>,
    /// Limits.
    pub config: IngestConfig,
}

impl IngestState {
    /// State from its parts.
    pub fn new(ingestor: Ingestor, secrets: impl TenantSecrets, config: IngestConfig) -> Self {
        Self {
            ingestor,
            secrets: Arc::new(secrets),
            config,
        }
    }
}

/// The ingest surface: `POST /hooks/kentico/{tenant}`.
pub fn router(state: IngestState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/hooks/kentico/{tenant}", post(accept))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

#[derive(serde::Serialize)]
struct Accepted<'a> {
    status: &'static str,
    event_id: &'a str,
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, ApiError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingSignature,
                format!("header {name} is required"),
            )
        })
}

/// Handles one webhook and counts it by tenant and result (`ferry_ingest_webhooks_total`).
#[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
async fn accept(
    State(state): State<IngestState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let result = handle(&state, &tenant, &headers, body).await;
    let (label, word) = match &result {
        Ok((_, word)) => (tenant.clone(), *word),
        Err(e) if e.code == ErrorCode::UnknownTenant => {
            (crate::metrics::UNKNOWN_TENANT.to_owned(), e.code.as_str())
        }
        Err(e) => (tenant.clone(), e.code.as_str()),
    };
    metrics::counter!(crate::metrics::WEBHOOKS_TOTAL, "tenant" => label, "result" => word)
        .increment(1);
    result.map(|(response, _)| response)
}

/// Verifies, parses and commits one webhook; answers with the response and its result word.
async fn handle(
    state: &IngestState,
    tenant: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Response, &'static str), ApiError> {
    let unknown = || ApiError::new(ErrorCode::UnknownTenant, format!("no tenant {tenant:?}"));
    let tenant_id = TenantId::parse(tenant).map_err(|_| unknown())?;
    let keys = state
        .secrets
        .secrets(&tenant_id)
        .filter(|k| !k.is_empty())
        .ok_or_else(unknown)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("body exceeds {} bytes", state.config.max_body_bytes),
            )
        } else {
            ApiError::new(ErrorCode::MalformedBody, rejection.body_text())
        }
    })?;

    let id = header(headers, HEADER_ID)?;
    let timestamp = header(headers, HEADER_TIMESTAMP)?;
    let signatures = header(headers, HEADER_SIGNATURE)?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    signature::verify(
        &keys,
        id,
        timestamp,
        signatures,
        &body,
        now,
        state.config.timestamp_tolerance_secs,
    )
    .map_err(|e| match e {
        SignatureError::InvalidTimestamp => {
            ApiError::new(ErrorCode::InvalidTimestamp, e.to_string())
        }
        SignatureError::Stale(_) => ApiError::new(ErrorCode::StaleTimestamp, e.to_string()),
        SignatureError::Mismatch | SignatureError::BadSecret => ApiError::new(
            ErrorCode::BadSignature,
            "no webhook-signature entry matches the tenant's secrets",
        ),
    })?;

    // JSON must be UTF-8, and the store keeps the body as text: a byte sequence that is not UTF-8 (which a parser
    // skipping unknown fields never inspects) would be stored altered, so it is refused with where it breaks.
    if let Err(e) = std::str::from_utf8(&body) {
        return Err(ApiError::new(
            ErrorCode::MalformedBody,
            format!(
                "body is not valid UTF-8: invalid byte at offset {}",
                e.valid_up_to()
            ),
        ));
    }
    let envelope = EventEnvelope::parse(&body)
        .map_err(|e| ApiError::new(ErrorCode::MalformedBody, e.to_string()))?;
    if envelope.id != id {
        return Err(ApiError::new(
            ErrorCode::IdMismatch,
            "body id differs from webhook-id header",
        ));
    }
    if ferry_model::EventId::parse(&envelope.id).is_err() {
        return Err(ApiError::new(
            ErrorCode::MalformedBody,
            "event id must be 1-200 printable characters",
        ));
    }

    let event_id = envelope.id.clone();
    let outcome = state
        .ingestor
        .submit(NewEvent::new(tenant_id, envelope, &body))
        .await
        .map_err(|error| {
            tracing::error!(%error, event_id, "Event not stored.");
            ApiError::new(ErrorCode::Unavailable, "event not stored; retry later")
        })?;
    let (status, word) = match outcome {
        InsertOutcome::Inserted => (StatusCode::ACCEPTED, "accepted"),
        InsertOutcome::Duplicate => (StatusCode::OK, "duplicate"),
    };
    tracing::debug!(event_id, status = word, "Webhook accepted.");
    Ok((
        (
            status,
            Json(Accepted {
                status: word,
                event_id: &event_id,
            }),
        )
            .into_response(),
        word,
    ))
}
