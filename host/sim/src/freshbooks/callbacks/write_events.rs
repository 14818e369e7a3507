//! Which accounting writes emit which callback events: a middleware that reads each write's request and its 200
//! reply (payments created, updated or deleted; invoices updated or deleted) and hands the event to the sender.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, StatusCode};
use serde_json::Value;

use super::delivery::AccountIds;
use crate::freshbooks::SharedState;

/// Emits the event an accounting write caused, from its request and its 200 reply. Sits inside the fault layer,
/// so a reply the network loses afterwards still emits (the write was committed).
pub(crate) async fn emit_writes(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || method == Method::GET {
        return response;
    }
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // accounting/account/<id>/<family>/<plural>[/<object id>]
    let (account_id, family, id) = match parts.as_slice() {
        ["accounting", "account", a, f, _] => (*a, *f, None),
        ["accounting", "account", a, f, _, id] => (*a, *f, id.parse::<u64>().ok()),
        _ => return response,
    };
    if family != "payments" && family != "invoices" {
        return response;
    }
    let (head, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(head, axum::body::Body::empty());
    };
    let reply: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let object = &reply["response"]["result"];
    let name = match (family, &method, id) {
        ("payments", &Method::POST, None) => Some("payment.create"),
        ("payments", &Method::PUT, Some(_)) if object["payment"]["vis_state"] == 1 => {
            Some("payment.delete")
        }
        ("payments", &Method::PUT, Some(_)) => Some("payment.update"),
        ("invoices", &Method::DELETE, Some(_)) => Some("invoice.delete"),
        ("invoices", &Method::PUT, Some(_)) if object["invoice"]["vis_state"] == 1 => {
            Some("invoice.delete")
        }
        ("invoices", &Method::PUT, Some(_)) => Some("invoice.update"),
        _ => None,
    };
    let object_id = id.or_else(|| object["payment"]["id"].as_u64());
    if let (Some(name), Some(object_id)) = (name, object_id) {
        let ids = AccountIds::of(&state.store(), account_id);
        state.callbacks.emit(&ids, name, object_id);
    }
    Response::from_parts(head, axum::body::Body::from(bytes))
}
