//! `POST /hooks/freshbooks/{tenant}`: FreshBooks callbacks (docs/freshbooks-callbacks.md), with the guarantees of
//! the Kentico intake — the signature is checked, the event is committed before the 2xx, and a repeat is
//! answered as a duplicate without being stored again.
//!
//! Two kinds of POST arrive, both form-encoded:
//! - the verification handshake (`verifier`, `object_id` = the callback id): unsigned, since the verifier *is*
//!   the key. The host stores it (sealed) and confirms it with FreshBooks ([`CallbackKeys::handshake`]) before
//!   the 200.
//! - a delivery (`name`, `object_id`, `account_id`, …) signed `X-FreshBooks-Hmac-SHA256` = base64(HMAC-SHA256(
//!   verifier, Python `json.dumps` of the fields in the order received)). The names Ferry acts on become events;
//!   others are answered 200 and dropped.
//!
//! FreshBooks deliveries carry no id, so the event id is `freshbooks:{name}:{object_id}:{n}`, `n` counting the
//! events of that name and object that already started: a delivery repeated while an equal one still waits is
//! a duplicate (the waiting one re-reads FreshBooks when it runs, so it covers both), one after it started is
//! new work.

use crate::error::{ApiError, ErrorCode};
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use ferry_model::{EventEnvelope, EventKind, EventObject, TenantId};
use ferry_store::{Ingestor, InsertOutcome, NewEvent, Store};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use time::OffsetDateTime;

/// The signature header of a FreshBooks delivery.
pub const HEADER_FRESHBOOKS_HMAC: &str = "x-freshbooks-hmac-sha256";

/// A boxed, sendable future (the trait is used as `dyn`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the host knows about each tenant's FreshBooks callbacks.
pub trait CallbackKeys: Send + Sync + 'static {
    /// The tenant's FreshBooks account id, when the tenant takes callbacks (else the tenant is unknown here: 404).
    fn account(&self, tenant: &TenantId) -> Option<String>;
    /// The verifiers of the tenant's callbacks: the keys a delivery may be signed with.
    fn verifiers<'a>(&'a self, tenant: &'a TenantId) -> BoxFuture<'a, Result<Vec<String>, String>>;
    /// Stores a handshake's verifier durably (sealed) and has it confirmed with FreshBooks (may finish later).
    fn handshake<'a>(
        &'a self,
        tenant: &'a TenantId,
        callback_id: i64,
        verifier: &'a str,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// What the callback handler needs; cheap to clone.
#[derive(Clone)]
pub struct CallbackState {
    /// The store's batching writer: a 2xx means the event is on disk.
    pub ingestor: Ingestor,
    /// For the dedupe window (events of the same name and object already started).
    pub store: Store,
    /// The host's view of the tenants' callbacks.
    pub keys: Arc<dyn CallbackKeys>,
}

/// The FreshBooks callback surface: `POST /hooks/freshbooks/{tenant}`.
pub fn callbacks_router(state: CallbackState) -> Router {
    Router::new()
        .route("/hooks/freshbooks/{tenant}", post(accept))
        // A delivery is a handful of ids; anything larger is not FreshBooks.
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(state)
}

/// Python's `json.dumps` of the form fields (default separators, ASCII escapes): the message FreshBooks signs.
pub fn python_json(fields: &[(String, String)]) -> String {
    fn quote(s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
    let mut out = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        quote(k, &mut out);
        out.push_str(": ");
        quote(v, &mut out);
    }
    out.push('}');
    out
}

/// Whether `signature` (base64) is the HMAC of the fields under `verifier`; compared in constant time.
pub fn verify_freshbooks(verifier: &str, fields: &[(String, String)], signature: &str) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(verifier.as_bytes()) else {
        return false;
    };
    mac.update(python_json(fields).as_bytes());
    mac.verify_slice(&expected).is_ok()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[derive(serde::Serialize)]
struct Answer {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<String>,
}

fn answer(status: StatusCode, word: &'static str, event_id: Option<String>) -> Response {
    (
        status,
        Json(Answer {
            status: word,
            event_id,
        }),
    )
        .into_response()
}

/// Handles one callback POST and counts it by tenant and result (`ferry_ingest_webhooks_total`, `source`
/// `freshbooks`).
#[tracing::instrument(skip_all, fields(tenant_id = %tenant, source = "freshbooks"))]
async fn accept(
    State(state): State<CallbackState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, ApiError> {
    let result = handle(&state, &tenant, &headers, form).await;
    let word = match &result {
        Ok((_, word)) => *word,
        Err(e) => e.code.as_str(),
    };
    let label = match &result {
        Err(e) if e.code == ErrorCode::UnknownTenant => crate::metrics::UNKNOWN_TENANT.to_owned(),
        _ => tenant.clone(),
    };
    metrics::counter!(crate::metrics::WEBHOOKS_TOTAL, "tenant" => label, "result" => word, "source" => "freshbooks")
        .increment(1);
    result.map(|(r, _)| r)
}

async fn handle(
    state: &CallbackState,
    tenant: &str,
    headers: &HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<(Response, &'static str), ApiError> {
    let unknown = || ApiError::new(ErrorCode::UnknownTenant, format!("no tenant {tenant:?}"));
    let tenant_id = TenantId::parse(tenant).map_err(|_| unknown())?;
    let account = state.keys.account(&tenant_id).ok_or_else(unknown)?;
    let Form(fields) = form.map_err(|e| ApiError::new(ErrorCode::MalformedBody, e.body_text()))?;
    let object_id = || -> Result<i64, ApiError> {
        field(&fields, "object_id")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::MalformedBody,
                    "field object_id is required and must be an integer",
                )
            })
    };

    if let Some(verifier) = field(&fields, "verifier") {
        let callback_id = object_id()?;
        if verifier.trim().is_empty() || verifier.len() > 200 {
            return Err(ApiError::new(
                ErrorCode::MalformedBody,
                "field verifier must be 1-200 characters",
            ));
        }
        state
            .keys
            .handshake(&tenant_id, callback_id, verifier)
            .await
            .map_err(|error| {
                tracing::error!(%error, callback_id, "Callback verifier not stored.");
                ApiError::new(ErrorCode::Unavailable, "verifier not stored; retry later")
            })?;
        tracing::info!(callback_id, "FreshBooks callback handshake received.");
        return Ok((answer(StatusCode::OK, "verifier_stored", None), "handshake"));
    }

    let signature = headers
        .get(HEADER_FRESHBOOKS_HMAC)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingSignature,
                "header X-FreshBooks-Hmac-SHA256 is required",
            )
        })?;
    let verifiers = state.keys.verifiers(&tenant_id).await.map_err(|error| {
        tracing::error!(%error, "Callback verifiers not read.");
        ApiError::new(ErrorCode::Unavailable, "callback not stored; retry later")
    })?;
    if !verifiers
        .iter()
        .any(|v| verify_freshbooks(v, &fields, signature))
    {
        return Err(ApiError::new(
            ErrorCode::BadSignature,
            "X-FreshBooks-Hmac-SHA256 matches none of the tenant's callback verifiers",
        ));
    }
    let name = field(&fields, "name").unwrap_or_default();
    let Some(kind) = EventKind::from_freshbooks(name) else {
        return Ok((answer(StatusCode::OK, "ignored", None), "ignored"));
    };
    if field(&fields, "account_id").is_some_and(|a| a != account) {
        return Err(ApiError::new(
            ErrorCode::MalformedBody,
            "account_id is not the tenant's FreshBooks account",
        ));
    }
    let object_id = object_id()?;
    let object_type = kind.object_type();
    let ordering_key = format!("{object_type}:{object_id}");
    let started = state
        .store
        .started_events(&tenant_id, &ordering_key, kind.as_str())
        .await
        .map_err(|error| {
            tracing::error!(%error, "Callback dedupe window not read.");
            ApiError::new(ErrorCode::Unavailable, "callback not stored; retry later")
        })?;
    let now = OffsetDateTime::now_utc();
    let envelope = EventEnvelope {
        id: format!("freshbooks:{name}:{object_id}:{started}"),
        kind,
        occurred_at: now,
        object: EventObject {
            object_type: object_type.to_owned(),
            id: object_id,
            guid: uuid::Uuid::nil(),
            last_modified: now,
        },
    };
    let event_id = envelope.id.clone();
    let outcome = state
        .ingestor
        .submit(NewEvent::from_envelope(tenant_id, envelope))
        .await
        .map_err(|error| {
            tracing::error!(%error, event_id, "Callback not stored.");
            ApiError::new(ErrorCode::Unavailable, "callback not stored; retry later")
        })?;
    let (status, word) = match outcome {
        InsertOutcome::Inserted => (StatusCode::ACCEPTED, "accepted"),
        InsertOutcome::Duplicate => (StatusCode::OK, "duplicate"),
    };
    tracing::debug!(event_id, status = word, "Callback accepted.");
    Ok((answer(status, word, Some(event_id)), word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<(String, String)> {
        [
            ("name", "invoice.create"),
            ("object_id", "1234567"),
            ("account_id", "6BApk"),
            ("business_id", "6543"),
            ("identity_id", "1234"),
            ("user_id", "1"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    #[test]
    fn the_signed_message_is_pythons_json_dumps_in_received_order() {
        assert_eq!(
            python_json(&fields()),
            r#"{"name": "invoice.create", "object_id": "1234567", "account_id": "6BApk", "business_id": "6543", "identity_id": "1234", "user_id": "1"}"#
        );
        let odd = vec![("note".to_owned(), "café \"x\"".to_owned())];
        assert_eq!(python_json(&odd), r#"{"note": "caf\u00e9 \"x\""}"#);
    }

    #[test]
    fn a_signature_verifies_only_with_its_verifier_and_fields() {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"v3r1f13r").unwrap();
        mac.update(python_json(&fields()).as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert!(verify_freshbooks("v3r1f13r", &fields(), &sig));
        assert!(!verify_freshbooks("other", &fields(), &sig));
        let mut changed = fields();
        changed[1].1 = "1234568".into();
        assert!(!verify_freshbooks("v3r1f13r", &changed, &sig));
        assert!(!verify_freshbooks("v3r1f13r", &fields(), "not base64!"));
    }
}
