//! The admin surface's one error type with its stable JSON body, and the JSON extractor that uses it.

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Stable machine-readable reason, the `code` field of the error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No bearer token, or one that is unknown or revoked (401).
    Unauthorized,
    /// The token may not see this tenant, or this route needs an operator token (403).
    Forbidden,
    /// No such tenant, event, plugin version or route (404).
    NotFound,
    /// The request is malformed: a bad id, query parameter or JSON body (400).
    BadRequest,
    /// The target is not in a state that allows this action, e.g. replaying an event that is not dead (409).
    Conflict,
    /// The uploaded component is not an acceptable plugin; the message names the import or export (422).
    InvalidPlugin,
    /// A tenant configuration is not acceptable; the message names the field (422).
    InvalidConfig,
    /// The body exceeds the size limit (413).
    PayloadTooLarge,
    /// This token made too many requests; retry after `Retry-After` seconds (429).
    RateLimited,
    /// A downstream service (Kentico) failed or could not be reached; the message says which and why (502).
    Upstream,
    /// Something failed inside the host; details are in its log, not here (500).
    Internal,
}

/// A failed admin request: status plus `{"error":{"code","message"}}`.
#[derive(Debug)]
pub struct ApiError {
    /// Machine-readable reason.
    pub code: ErrorCode,
    /// What exactly is wrong (nothing internal for 5xx).
    pub message: String,
    /// Seconds until a rate-limited token may try again.
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 with what is wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// 404 naming what was not found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// 403 saying what the token may not do.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 409 saying why the action does not apply.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// 429 with the seconds to wait.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(
                ErrorCode::RateLimited,
                "too many requests for this token; retry after the Retry-After delay",
            )
        }
    }

    /// 500: logs `error` (inside the request's span) and answers with nothing internal.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %DisplayChain(error), "Admin request failed.");
        Self::new(ErrorCode::Internal, "internal error; see the host log")
    }

    /// The HTTP status this error is sent with.
    pub fn status(&self) -> StatusCode {
        match self.code {
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::InvalidPlugin | ErrorCode::InvalidConfig => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Upstream => StatusCode::BAD_GATEWAY,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error with its sources, for the log line of a 500.
struct DisplayChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

impl From<ferry_store::Error> for ApiError {
    fn from(e: ferry_store::Error) -> Self {
        match &e {
            ferry_store::Error::NotFound { .. } => Self::not_found(e.to_string()),
            ferry_store::Error::InvalidTransition { .. } => Self::conflict(e.to_string()),
            _ => Self::internal(&e),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        let boxed: &(dyn std::error::Error + 'static) = e.as_ref();
        Self::internal(boxed)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        Self::bad_request(format!("request body: {}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::bad_request(format!("path: {}", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(format!("query: {}", r.body_text()))
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
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.code == ErrorCode::Unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ferry-admin\""),
            );
        }
        response
    }
}

/// `Json<T>` whose rejections are [`ApiError`]s, so a malformed body gets the same error shape as everything else.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct AdminJson<T>(pub T);

impl<T: Serialize> IntoResponse for AdminJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// `Path<T>` whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub(crate) struct AdminPath<T>(pub(crate) T);

/// `Query<T>` whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub(crate) struct AdminQuery<T>(pub(crate) T);
