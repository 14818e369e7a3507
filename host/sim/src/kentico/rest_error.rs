//! The REST service's refusals (docs/kentico.md §3): Kentico's status codes and bodies for a request it does not
//! serve, shared by its reads (`rest`) and its writes (`write`).

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use super::query::QueryError;

/// A refusal in the REST service's shapes: 404 with an empty body, other statuses with a short text.
#[derive(Debug)]
pub(crate) enum RestError {
    /// 401 with the Basic challenge.
    Unauthorized,
    /// 403 with a reason (read-only, `/all` without global admin, unsafe SQL).
    Forbidden(String),
    /// 400 with the database's complaint.
    BadRequest(String),
    /// 404, empty body.
    NotFound,
    /// 404 with Kentico's site message.
    NoSuchSite,
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let text = |status: StatusCode, body: String| {
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                body,
            )
                .into_response()
        };
        match self {
            Self::Unauthorized => {
                let mut r = StatusCode::UNAUTHORIZED.into_response();
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"CMS REST Service\""),
                );
                r
            }
            Self::Forbidden(m) => text(StatusCode::FORBIDDEN, m),
            // guess: a SQL error in `where`/`orderby`/`columns` surfaces as 400 with the message.
            Self::BadRequest(m) => text(StatusCode::BAD_REQUEST, m),
            Self::NotFound => StatusCode::NOT_FOUND.into_response(),
            Self::NoSuchSite => text(StatusCode::NOT_FOUND, "Site does not exist.".into()),
        }
    }
}

impl From<QueryError> for RestError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Unsafe(m) => {
                Self::Forbidden(format!("The query contains potentially dangerous SQL: {m}"))
            }
            QueryError::Invalid(m) => Self::BadRequest(m),
        }
    }
}
