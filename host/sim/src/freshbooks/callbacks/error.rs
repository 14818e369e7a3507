//! The events family's error body, `{"errno","message"[,"details"]}` (docs/freshbooks.md §3.2), which differs from
//! the accounting API's.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Value, json};

/// An events-family error.
#[derive(Debug)]
pub(crate) struct EventsError {
    status: StatusCode,
    body: Value,
}

impl EventsError {
    pub(super) fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            body: json!({"errno": 401,
                "message": "invalid_token: The request token failed to authenticate or validate."}),
        }
    }

    pub(super) fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            body: json!({"errno": 404, "message": "Requested resource could not be found."}),
        }
    }

    pub(super) fn invalid(details: Vec<String>) -> Self {
        // The body is the fixture's; the reference saw it served with 400.
        Self {
            status: StatusCode::BAD_REQUEST,
            body: json!({"errno": 422,
                "message": "The request was well-formed but was unable to be followed due to semantic errors.",
                "details": details}),
        }
    }
}

impl IntoResponse for EventsError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
