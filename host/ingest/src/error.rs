//! The ingest surface's one error type and its stable JSON body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Stable machine-readable reason, the `code` field of the error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No tenant by that name, or it has no webhook secret (404).
    UnknownTenant,
    /// A `webhook-*` header is absent (400).
    MissingSignature,
    /// `webhook-timestamp` is not a Unix timestamp (400).
    InvalidTimestamp,
    /// `webhook-timestamp` is outside the tolerance (401).
    StaleTimestamp,
    /// No signature matched (401).
    BadSignature,
    /// The body is not UTF-8, or not a valid event envelope (400).
    MalformedBody,
    /// The body's `id` differs from `webhook-id` (400).
    IdMismatch,
    /// The body exceeds the size limit (413).
    PayloadTooLarge,
    /// The store could not commit the event; the sender should retry (503).
    Unavailable,
}

impl ErrorCode {
    /// The code as it appears in the error body and in metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownTenant => "unknown_tenant",
            Self::MissingSignature => "missing_signature",
            Self::InvalidTimestamp => "invalid_timestamp",
            Self::StaleTimestamp => "stale_timestamp",
            Self::BadSignature => "bad_signature",
            Self::MalformedBody => "malformed_body",
            Self::IdMismatch => "id_mismatch",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Unavailable => "unavailable",
        }
    }
}

/// A refused webhook: status plus `{"error":{"code","message"}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Machine-readable reason.
    pub code: ErrorCode,
    /// What exactly is wrong (nothing internal for 5xx).
    pub message: String,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status this error is sent with.
    pub fn status(&self) -> StatusCode {
        match self.code {
            ErrorCode::UnknownTenant => StatusCode::NOT_FOUND,
            ErrorCode::MissingSignature
            | ErrorCode::InvalidTimestamp
            | ErrorCode::MalformedBody
            | ErrorCode::IdMismatch => StatusCode::BAD_REQUEST,
            ErrorCode::StaleTimestamp | ErrorCode::BadSignature => StatusCode::UNAUTHORIZED,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: ErrorCode,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
            },
        };
        (self.status(), Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_label_of_each_code_is_the_code_in_the_error_body() {
        for code in [
            ErrorCode::UnknownTenant,
            ErrorCode::MissingSignature,
            ErrorCode::InvalidTimestamp,
            ErrorCode::StaleTimestamp,
            ErrorCode::BadSignature,
            ErrorCode::MalformedBody,
            ErrorCode::IdMismatch,
            ErrorCode::PayloadTooLarge,
            ErrorCode::Unavailable,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(code.as_str())
            );
        }
    }
}
