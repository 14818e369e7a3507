//! The simulator's error surface: one [`ApiError`] rendered in the body shape of the API family that raised it
//! (docs/freshbooks.md §3.2).

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Map, Value, json};

/// The message FreshBooks sends with errno 1003 (docs/freshbooks.md §3.2, JS SDK test).
pub(crate) const ACCESS_DENIED_MESSAGE: &str =
    "The server could not verify that you are authorized to access the URL requested.";

/// Every error the FreshBooks simulator answers with.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// Accounting family: `{"response":{"errors":[{errno, field, message, object, value}]}}`.
    Accounting {
        /// HTTP status.
        status: StatusCode,
        /// FreshBooks errno (1003, 1012, …).
        errno: u32,
        /// Human message.
        message: String,
        /// Offending field, when there is one.
        field: Option<String>,
        /// Object type (`"client"`), when there is one.
        object: Option<String>,
        /// Offending value, when there is one.
        value: Option<String>,
    },
    /// 429 from the per-account rate limit, in the accounting envelope with a `Retry-After` header (docs/freshbooks.md
    /// §9 simulator suggestion; errno 429 and the message are guesses, FreshBooks documents neither).
    Throttled {
        /// Seconds until the account's window resets.
        retry_after_secs: u64,
    },
    /// Identity family 401: `{"error":"unauthenticated","error_description":…}`.
    Unauthenticated,
    /// OAuth token endpoint: `{"error":…,"error_description":…}`.
    OAuth {
        /// HTTP status.
        status: StatusCode,
        /// OAuth error code (`invalid_grant`).
        error: &'static str,
        /// Human description.
        description: String,
    },
    /// Simulator control/inspection routes: `{"error":{"code","message"}}`.
    Control {
        /// HTTP status.
        status: StatusCode,
        /// What is wrong.
        message: String,
    },
}

impl ApiError {
    /// 401 errno 1003 for a missing, unknown or expired access token, or an account the token cannot reach.
    pub fn access_denied() -> Self {
        Self::Accounting {
            status: StatusCode::UNAUTHORIZED,
            errno: 1003,
            message: ACCESS_DENIED_MESSAGE.to_owned(),
            field: None,
            object: None,
            value: None,
        }
    }

    /// 404 errno 1012 (`"Client not found."`, field `userid`, value the id).
    pub fn not_found(object: &str, field: &str, value: impl ToString) -> Self {
        let mut name = object.to_owned();
        if let Some(first) = name.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        Self::Accounting {
            status: StatusCode::NOT_FOUND,
            errno: 1012,
            message: format!("{name} not found."),
            field: Some(field.to_owned()),
            object: Some(object.to_owned()),
            value: Some(value.to_string()),
        }
    }

    /// Validation failure. Status 422 is a guess (docs/freshbooks.md §13: 400 vs 422 unconfirmed for this envelope).
    pub fn invalid(errno: u32, object: &str, field: &str, message: impl Into<String>) -> Self {
        Self::Accounting {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errno,
            message: message.into(),
            field: Some(field.to_owned()),
            object: Some(object.to_owned()),
            value: None,
        }
    }

    /// A server-side failure in the accounting envelope (errno 500 FreshAlchemyUnexpected); reveals nothing.
    pub fn unexpected(status: StatusCode) -> Self {
        Self::Accounting {
            status,
            errno: 500,
            message: "An unexpected error occurred.".to_owned(),
            field: None,
            object: None,
            value: None,
        }
    }

    /// OAuth `invalid_grant` (unknown, expired or already-used code or refresh token). 400 and the body are a guess
    /// (docs/freshbooks.md §8, §13).
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::OAuth {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_grant",
            description: description.into(),
        }
    }

    /// OAuth `invalid_request` for a malformed token request.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::OAuth {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: description.into(),
        }
    }

    /// 404 on an inspection/control route.
    pub fn control_not_found(message: impl Into<String>) -> Self {
        Self::Control {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Accounting { status, errno, message, field, object, value } => {
                let mut error = Map::new();
                error.insert("errno".into(), json!(errno));
                if let Some(field) = field {
                    error.insert("field".into(), json!(field));
                }
                error.insert("message".into(), json!(message));
                if let Some(object) = object {
                    error.insert("object".into(), json!(object));
                }
                if let Some(value) = value {
                    error.insert("value".into(), json!(value));
                }
                (status, Json(json!({"response": {"errors": [Value::Object(error)]}}))).into_response()
            }
            Self::Throttled { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                [(http::header::RETRY_AFTER, retry_after_secs.to_string())],
                Json(json!({"response": {"errors": [{"errno": 429, "message": "Too many requests."}]}})),
            )
                .into_response(),
            Self::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                Json(json!({
                    "error": "unauthenticated",
                    "error_description": "This action requires authentication to continue."
                })),
            )
                .into_response(),
            Self::OAuth { status, error, description } => {
                (status, Json(json!({"error": error, "error_description": description}))).into_response()
            }
            Self::Control { status, message } => {
                (status, Json(json!({"error": {"code": status.as_u16(), "message": message}}))).into_response()
            }
        }
    }
}
