//! The registration API under `/events/account/<account_id>/events/callbacks`: `POST` registers (and starts the
//! handshake), `GET` lists (`search[event]`) and reads, `PUT` verifies or re-sends the code, `DELETE` answers 204.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::delivery::AccountIds;
use super::error::EventsError;
use super::registry::{EVENTS, SimCallback};
use crate::freshbooks::SharedState;

type Reply = Result<Response, EventsError>;

fn authorize(
    state: &SharedState,
    headers: &HeaderMap,
    account_id: &str,
) -> Result<AccountIds, EventsError> {
    let mut store = state.store();
    let account_id = store
        .authorize(headers, account_id)
        .map_err(|_| EventsError::unauthorized())?
        .account_id
        .clone();
    Ok(AccountIds::of(&store, &account_id))
}

fn callback_body(body: &[u8]) -> Result<serde_json::Map<String, Value>, EventsError> {
    let parsed: Value = serde_json::from_slice(body)
        .map_err(|e| EventsError::invalid(vec![format!("body: {e}")]))?;
    match parsed.get("callback") {
        Some(Value::Object(m)) => Ok(m.clone()),
        _ => Err(EventsError::invalid(vec![
            "callback: Field required".to_owned(),
        ])),
    }
}

fn single(cb: &SimCallback) -> Response {
    Json(json!({"response": {"result": {"callback": cb.public()}}})).into_response()
}

fn find(state: &SharedState, account_id: &str, id: &str) -> Result<SimCallback, EventsError> {
    let id: u64 = id.parse().map_err(|_| EventsError::not_found())?;
    state
        .callbacks
        .get(account_id, id)
        .ok_or_else(EventsError::not_found)
}

/// `POST /events/account/<account_id>/events/callbacks`.
pub(crate) async fn create_callback(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let account = authorize(&state, &headers, &account_id)?;
    let m = callback_body(&body)?;
    let event = m.get("event").and_then(Value::as_str).unwrap_or_default();
    let uri = m.get("uri").and_then(Value::as_str).unwrap_or_default();
    let mut details = Vec::new();
    if !EVENTS.contains(&event) {
        details.push("event: Value error, Unrecognized event.".to_owned());
    }
    if reqwest::Url::parse(uri).is_err() {
        details.push("uri: Input should be a valid URL, relative URL without a base".to_owned());
    }
    if !details.is_empty() {
        return Err(EventsError::invalid(details));
    }
    let cb = state.callbacks.register(account.account_id, event, uri);
    state.callbacks.send_verification(&cb);
    Ok(single(&cb))
}

/// `GET …/callbacks` with `search[event]` (matches the event and its parent).
pub(crate) async fn list_callbacks(
    State(state): State<SharedState>,
    Path(account_id): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    headers: HeaderMap,
) -> Reply {
    let account = authorize(&state, &headers, &account_id)?;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let wanted = pairs
        .iter()
        .find(|(k, _)| k == "search[event]" || k == "search%5Bevent%5D")
        .map(|(_, v)| v.clone());
    let rows: Vec<Value> = state
        .callbacks
        .list(&account.account_id)
        .iter()
        .rev()
        .filter(|c| {
            wanted
                .as_deref()
                .is_none_or(|w| c.covers(w) || c.event == w)
        })
        .map(SimCallback::public)
        .collect();
    let total = rows.len();
    Ok(
        Json(json!({"response": {"result": {"callbacks": rows, "page": 1,
        "pages": usize::from(total > 0), "per_page": total.max(15), "total": total}}}))
        .into_response(),
    )
}

/// `GET …/callbacks/<id>`.
pub(crate) async fn get_callback(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    authorize(&state, &headers, &account_id)?;
    Ok(single(&find(&state, &account_id, &id)?))
}

/// `PUT …/callbacks/<id>`: `{"callback":{"verifier"}}` verifies, `{"callback":{"resend":true}}` re-sends the code.
pub(crate) async fn update_callback(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    authorize(&state, &headers, &account_id)?;
    let cb = find(&state, &account_id, &id)?;
    let m = callback_body(&body)?;
    if m.get("resend").and_then(Value::as_bool) == Some(true) {
        state.callbacks.send_verification(&cb);
        return Ok(single(&cb));
    }
    let Some(verifier) = m.get("verifier").and_then(Value::as_str) else {
        return Err(EventsError::invalid(vec![
            "callback: verifier or resend is required".to_owned(),
        ]));
    };
    if verifier != cb.verifier {
        // guess: the refusal of a wrong verifier (FreshBooks documents none).
        return Err(EventsError::invalid(vec![
            "verifier: Value error, Invalid verifier.".to_owned(),
        ]));
    }
    let verified = state
        .callbacks
        .mark_verified(cb.callbackid)
        .ok_or_else(EventsError::not_found)?;
    Ok(single(&verified))
}

/// `DELETE …/callbacks/<id>` → 204.
pub(crate) async fn delete_callback(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    authorize(&state, &headers, &account_id)?;
    let cb = find(&state, &account_id, &id)?;
    state.callbacks.remove(cb.callbackid);
    Ok(StatusCode::NO_CONTENT.into_response())
}
