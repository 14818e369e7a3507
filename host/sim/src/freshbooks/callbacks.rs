//! Webhooks ("callbacks", docs/freshbooks.md §10; reference lifecycle.md §5): registration under
//! `/events/account/<account_id>/events/callbacks`, the verification handshake, and signed deliveries with the
//! Kentico sender's faults (drops, retries, duplicates) plus delays that reorder them.
//!
//! - `POST …/callbacks` `{"callback":{"event","uri"}}` registers an unverified callback and at once POSTs the
//!   receiver a form with a unique `verifier` and the callback id as `object_id`. `PUT …/callbacks/<id>`
//!   `{"callback":{"verifier"}}` verifies it; `{"callback":{"resend":true}}` sends the code again. Nothing is
//!   delivered to an unverified callback. `GET` lists (`search[event]`) and reads; `DELETE` answers 204.
//! - A write through the accounting API (payments create/update/delete, invoice update/delete) emits an event;
//!   every verified callback of the account whose event is that name or its parent (`payment` covers
//!   `payment.create`) gets a form POST `name, object_id, account_id, business_id, identity_id, user_id`,
//!   signed `X-FreshBooks-Hmac-SHA256` = base64(HMAC-SHA256(verifier, Python `json.dumps` of the form fields in
//!   the order sent)).
//! - Errors use the events family's body (`{"errno","message"}`, docs/freshbooks.md §3.2).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{HeaderMap, Method, StatusCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use super::SharedState;

/// The signature header of a delivery.
pub const HEADER_HMAC: &str = "X-FreshBooks-Hmac-SHA256";

/// The event names a callback may register (noun.verb, and the parent nouns), lifecycle.md §5.
const EVENTS: &[&str] = &[
    "invoice",
    "invoice.create",
    "invoice.update",
    "invoice.delete",
    "invoice.sendByEmail",
    "payment",
    "payment.create",
    "payment.update",
    "payment.delete",
    "credit_note",
    "credit_note.create",
    "credit_note.update",
    "credit_note.delete",
    "client",
    "client.create",
    "client.update",
    "client.delete",
    "item",
    "item.create",
    "item.update",
    "item.delete",
    "tax",
    "tax.create",
    "tax.update",
    "tax.delete",
    "estimate",
    "estimate.create",
    "estimate.update",
    "estimate.delete",
    "estimate.sendByEmail",
];

/// How deliveries misbehave; all off by default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CallbackFaults {
    /// Fraction of deliveries never sent (a callback FreshBooks lost).
    pub drop: f64,
    /// Fraction of deliveries sent twice.
    pub duplicate: f64,
    /// Each delivery waits a random time up to this before its first try, so deliveries overtake each other.
    pub max_delay_ms: u64,
    /// Tries per delivery, the first included; a non-2xx answer or no answer is tried again.
    // guess: FreshBooks documents no retry policy; the simulator retries like the Kentico sender.
    pub attempts: u32,
    /// Wait before the second try, doubling after.
    pub retry_ms: u64,
}

impl Default for CallbackFaults {
    fn default() -> Self {
        Self {
            drop: 0.0,
            duplicate: 0.0,
            max_delay_ms: 0,
            attempts: 5,
            retry_ms: 200,
        }
    }
}

/// Delivery counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackStats {
    /// Events emitted by accounting writes that some verified callback wanted.
    pub emitted: u64,
    /// Deliveries dropped on purpose.
    pub dropped: u64,
    /// Extra copies sent on purpose.
    pub duplicated: u64,
    /// Deliveries the receiver answered 2xx.
    pub delivered: u64,
    /// Tries that failed (non-2xx or no answer).
    pub failed_attempts: u64,
    /// Deliveries abandoned after the last try.
    pub gave_up: u64,
    /// Verification POSTs sent (create and resend).
    pub verifications: u64,
}

/// One registered callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimCallback {
    /// `callbackid`.
    pub callbackid: u64,
    /// The account it belongs to.
    pub account_id: String,
    /// Event name or parent (`payment.create`, `payment`).
    pub event: String,
    /// Where deliveries go.
    pub uri: String,
    /// Whether the receiver confirmed the verifier.
    pub verified: bool,
    /// The code sent in the handshake; the signing key.
    pub verifier: String,
    /// `updated_at`, UTC ISO-8601.
    pub updated_at: String,
}

impl SimCallback {
    fn public(&self) -> Value {
        json!({
            "callbackid": self.callbackid,
            "verified": self.verified,
            "uri": self.uri,
            "event": self.event,
            "updated_at": self.updated_at,
        })
    }

    fn covers(&self, name: &str) -> bool {
        self.event == name || name.split('.').next() == Some(self.event.as_str())
    }
}

struct Inner {
    callbacks: BTreeMap<u64, SimCallback>,
    faults: CallbackFaults,
    /// Seeded, so a test that drops a fraction drops the same deliveries on every run.
    rng: StdRng,
    stats: CallbackStats,
}

/// The callbacks of every account and their sender.
pub(crate) struct Callbacks {
    inner: Mutex<Inner>,
    next_id: AtomicU64,
    /// Deliveries queued or in flight; `wait_idle` waits for zero.
    outstanding: tokio::sync::watch::Sender<u64>,
    http: reqwest::Client,
}

impl Callbacks {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            inner: Mutex::new(Inner {
                callbacks: BTreeMap::new(),
                faults: CallbackFaults::default(),
                rng: StdRng::seed_from_u64(seed ^ 0xCA11_BAC5),
                stats: CallbackStats::default(),
            }),
            next_id: AtomicU64::new(1000),
            outstanding: tokio::sync::watch::channel(0).0,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_faults(&self, faults: CallbackFaults) {
        self.lock().faults = faults;
    }

    pub(crate) fn stats(&self) -> CallbackStats {
        self.lock().stats
    }

    pub(crate) fn list(&self, account_id: &str) -> Vec<SimCallback> {
        self.lock()
            .callbacks
            .values()
            .filter(|c| c.account_id == account_id)
            .cloned()
            .collect()
    }

    pub(crate) async fn wait_idle(&self, timeout: Duration) -> bool {
        let mut rx = self.outstanding.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n == 0))
            .await
            .is_ok()
    }

    fn begin(&self) {
        self.outstanding.send_modify(|n| *n += 1);
    }

    fn end(&self) {
        self.outstanding.send_modify(|n| *n = n.saturating_sub(1));
    }

    /// Sends the handshake form to a callback's URI (unsigned: the receiver has no key yet).
    fn send_verification(self: &Arc<Self>, cb: &SimCallback) {
        self.lock().stats.verifications += 1;
        // guess: the handshake's `name` is unconfirmed (`callback.verify` per a third-party AsyncAPI).
        let form = vec![
            ("name".to_owned(), "callback.verify".to_owned()),
            ("object_id".to_owned(), cb.callbackid.to_string()),
            ("verifier".to_owned(), cb.verifier.clone()),
        ];
        let this = self.clone();
        let uri = cb.uri.clone();
        self.begin();
        tokio::spawn(async move {
            this.post(&uri, &form, None, 0).await;
            this.end();
        });
    }

    /// Emits `name` for `object_id` to every verified callback of the account that covers it.
    pub(crate) fn emit(self: &Arc<Self>, account: &AccountIds, name: &str, object_id: u64) {
        let targets: Vec<SimCallback> = self
            .lock()
            .callbacks
            .values()
            .filter(|c| c.account_id == account.account_id && c.verified && c.covers(name))
            .cloned()
            .collect();
        for cb in targets {
            let form = vec![
                ("name".to_owned(), name.to_owned()),
                ("object_id".to_owned(), object_id.to_string()),
                ("account_id".to_owned(), account.account_id.clone()),
                ("business_id".to_owned(), account.business_id.to_string()),
                ("identity_id".to_owned(), account.identity_id.to_string()),
                // guess: the legacy `user_id` is 1 for the owner, as in the docs' example.
                ("user_id".to_owned(), "1".to_owned()),
            ];
            let (copies, delays) = {
                let mut inner = self.lock();
                inner.stats.emitted += 1;
                let f = inner.faults;
                if inner.rng.gen_bool(f.drop.clamp(0.0, 1.0)) {
                    inner.stats.dropped += 1;
                    continue;
                }
                let copies = if inner.rng.gen_bool(f.duplicate.clamp(0.0, 1.0)) {
                    inner.stats.duplicated += 1;
                    2
                } else {
                    1
                };
                let delays: Vec<u64> = (0..copies)
                    .map(|_| {
                        if f.max_delay_ms == 0 {
                            0
                        } else {
                            inner.rng.gen_range(0..=f.max_delay_ms)
                        }
                    })
                    .collect();
                (copies, delays)
            };
            let signature = sign(&cb.verifier, &form);
            for delay in delays.into_iter().take(copies) {
                let this = self.clone();
                let form = form.clone();
                let uri = cb.uri.clone();
                let signature = signature.clone();
                self.begin();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let ok = this.post(&uri, &form, Some(&signature), 0).await;
                    {
                        let mut inner = this.lock();
                        if ok {
                            inner.stats.delivered += 1;
                        } else {
                            inner.stats.gave_up += 1;
                        }
                    }
                    this.end();
                });
            }
        }
    }

    /// Posts a form, retrying per the fault schedule; true when the receiver answered 2xx.
    async fn post(
        &self,
        uri: &str,
        form: &[(String, String)],
        signature: Option<&str>,
        _attempt: u32,
    ) -> bool {
        let (attempts, retry_ms) = {
            let f = self.lock().faults;
            (f.attempts.max(1), f.retry_ms)
        };
        let body = serde_urlencoded::to_string(form).unwrap_or_default();
        for attempt in 1..=attempts {
            let mut req = self
                .http
                .post(uri)
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body.clone());
            if let Some(sig) = signature {
                req = req.header(HEADER_HMAC, sig);
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => return true,
                _ => self.lock().stats.failed_attempts += 1,
            }
            if attempt < attempts {
                let wait = retry_ms.saturating_mul(1 << (attempt - 1).min(6));
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
        }
        false
    }
}

/// The ids a delivery names.
pub(crate) struct AccountIds {
    pub(crate) account_id: String,
    pub(crate) business_id: u64,
    pub(crate) identity_id: u64,
}

/// Python's `json.dumps(dict(form))` with default separators (`", "`, `": "`) and ASCII escapes: the message
/// FreshBooks signs (docs/freshbooks.md §10).
pub fn python_json(form: &[(String, String)]) -> String {
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
    for (i, (k, v)) in form.iter().enumerate() {
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

/// The `X-FreshBooks-Hmac-SHA256` value of a delivery's form, signed with the callback's verifier.
pub fn sign(verifier: &str, form: &[(String, String)]) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(verifier.as_bytes()) else {
        return String::new();
    };
    mac.update(python_json(form).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// An events-family error: `{"errno","message"[,"details"]}`.
#[derive(Debug)]
pub(crate) struct EventsError {
    status: StatusCode,
    body: Value,
}

impl EventsError {
    fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            body: json!({"errno": 401,
                "message": "invalid_token: The request token failed to authenticate or validate."}),
        }
    }

    fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            body: json!({"errno": 404, "message": "Requested resource could not be found."}),
        }
    }

    fn invalid(details: Vec<String>) -> Self {
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

type Reply = Result<Response, EventsError>;

fn authorize(
    state: &SharedState,
    headers: &HeaderMap,
    account_id: &str,
) -> Result<AccountIds, EventsError> {
    let mut store = state.store();
    let account = store
        .authorize(headers, account_id)
        .map_err(|_| EventsError::unauthorized())?;
    let (account_id, business_id) = (account.account_id.clone(), account.business_id);
    let identity_id = store
        .identities
        .iter()
        .find(|(_, i)| i.accounts.contains(&account_id))
        .map(|(id, _)| *id)
        .unwrap_or_default();
    Ok(AccountIds {
        account_id,
        business_id,
        identity_id,
    })
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

fn now_iso() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
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
    let callbacks = state.callbacks.clone();
    let cb = {
        let id = callbacks.next_id.fetch_add(1, Ordering::Relaxed);
        let verifier: String = {
            let mut inner = callbacks.lock();
            (0..32)
                .map(|_| {
                    let n = inner.rng.gen_range(0..36u8);
                    char::from(if n < 10 { b'0' + n } else { b'a' + n - 10 })
                })
                .collect()
        };
        let cb = SimCallback {
            callbackid: id,
            account_id: account.account_id,
            event: event.to_owned(),
            uri: uri.to_owned(),
            verified: false,
            verifier,
            updated_at: now_iso(),
        };
        callbacks.lock().callbacks.insert(id, cb.clone());
        cb
    };
    callbacks.send_verification(&cb);
    Ok(single(&cb))
}

fn find(state: &SharedState, account_id: &str, id: &str) -> Result<SimCallback, EventsError> {
    let id: u64 = id.parse().map_err(|_| EventsError::not_found())?;
    state
        .callbacks
        .lock()
        .callbacks
        .get(&id)
        .filter(|c| c.account_id == account_id)
        .cloned()
        .ok_or_else(EventsError::not_found)
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
    let mut inner = state.callbacks.lock();
    let stored = inner
        .callbacks
        .get_mut(&cb.callbackid)
        .ok_or_else(EventsError::not_found)?;
    stored.verified = true;
    stored.updated_at = now_iso();
    Ok(single(stored))
}

/// `DELETE …/callbacks/<id>` → 204.
pub(crate) async fn delete_callback(
    State(state): State<SharedState>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    authorize(&state, &headers, &account_id)?;
    let cb = find(&state, &account_id, &id)?;
    state.callbacks.lock().callbacks.remove(&cb.callbackid);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Emits the event an accounting write caused, from its request and its 200 reply: payments created, updated or
/// deleted, invoices updated or deleted. Sits inside the fault layer, so a reply the network loses afterwards
/// still emits (the write was committed).
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
        let ids = {
            let store = state.store();
            let business_id = store
                .accounts
                .get(account_id)
                .map(|a| a.business_id)
                .unwrap_or_default();
            let identity_id = store
                .identities
                .iter()
                .find(|(_, i)| i.accounts.iter().any(|a| a == account_id))
                .map(|(id, _)| *id)
                .unwrap_or_default();
            AccountIds {
                account_id: account_id.to_owned(),
                business_id,
                identity_id,
            }
        };
        state.callbacks.emit(&ids, name, object_id);
    }
    Response::from_parts(head, axum::body::Body::from(bytes))
}

impl super::FreshBooksSim {
    /// A fresh token pair for the owner of `account_id`, to call the API as a person (or a bank import) would:
    /// what a test uses to record a payment that Ferry did not make.
    pub fn owner_tokens(&self, account_id: &str) -> Option<super::model::TokenResponse> {
        let identity = {
            let store = self.store();
            store
                .identities
                .iter()
                .find(|(_, i)| i.accounts.iter().any(|a| a == account_id))
                .map(|(id, _)| *id)?
        };
        self.issue_tokens(identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_message_is_pythons_json_dumps() {
        let form = vec![
            ("name".to_owned(), "invoice.create".to_owned()),
            ("object_id".to_owned(), "1234567".to_owned()),
            ("note".to_owned(), "café \"x\"".to_owned()),
        ];
        assert_eq!(
            python_json(&form),
            r#"{"name": "invoice.create", "object_id": "1234567", "note": "caf\u00e9 \"x\""}"#
        );
    }
}
