//! A small FreshBooks stand-in over a real socket: our own reading of docs/freshbooks.md §3–§8 (envelopes,
//! search, paging, rotating single-use refresh tokens) plus faults (commit-then-drop, status replies, token expiry).

use axum::{
    Router,
    body::Bytes,
    extract::{Request, State},
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// An injected failure for the next matching request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Commit the write, then drop the connection without a reply (the lost-reply case).
    CommitThenDrop,
    /// Answer with this status (and optional Retry-After seconds) without doing anything.
    Status(u16, Option<u64>),
}

#[derive(Default)]
pub struct FbState {
    pub access: String,
    pub refresh: String,
    pub token_seq: u32,
    pub token_calls: u32,
    pub next_id: i64,
    pub clients: Vec<Value>,
    pub items: Vec<Value>,
    pub taxes: Vec<Value>,
    pub invoices: Vec<Value>,
    pub payments: Vec<Value>,
    /// (method, resource plural, fault), consumed in order.
    pub faults: Vec<(Method, String, Fault)>,
    pub log: Vec<String>,
}

#[derive(Clone)]
pub struct MockFb {
    pub state: Arc<Mutex<FbState>>,
    pub base: String,
}

impl MockFb {
    pub async fn spawn(access: &str, refresh: &str) -> Self {
        let state = Arc::new(Mutex::new(FbState {
            access: access.into(),
            refresh: refresh.into(),
            next_id: 100,
            ..FbState::default()
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            state,
            base: format!("http://{addr}"),
        }
    }

    pub fn fail_next(&self, method: Method, resource: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .push((method, resource.into(), fault));
    }

    /// Invalidates the current access token behind the client's back (as an expiry would).
    pub fn expire_access(&self) {
        self.state.lock().unwrap().access = "expired-elsewhere".into();
    }

    pub fn count(&self, resource: &str) -> usize {
        let s = self.state.lock().unwrap();
        match resource {
            "clients" => s.clients.len(),
            "items" => s.items.len(),
            "taxes" => s.taxes.len(),
            "invoices" => s.invoices.len(),
            "payments" => s.payments.len(),
            _ => 0,
        }
    }

    pub fn invoices(&self) -> Vec<Value> {
        self.state.lock().unwrap().invoices.clone()
    }
}

fn envelope_errors(status: StatusCode, errno: i64, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"response":{"errors":[{"errno":errno,"message":message}]}})),
    )
        .into_response()
}

fn ok(result: Value) -> Response {
    axum::Json(json!({"response":{"result":result}})).into_response()
}

fn singular(plural: &str) -> &str {
    match plural {
        "clients" => "client",
        "items" => "item",
        "taxes" => "tax",
        "invoices" => "invoice",
        "payments" => "payment",
        _ => "object",
    }
}

async fn handle(State(state): State<Arc<Mutex<FbState>>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.uri().query().unwrap_or_default()).unwrap_or_default();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut s = state.lock().unwrap();
    s.log.push(format!("{method} {path}"));

    if path == "/auth/oauth/token" {
        s.token_calls += 1;
        let grant = body["grant_type"].as_str().unwrap_or_default();
        let valid = match grant {
            "refresh_token" => body["refresh_token"].as_str() == Some(s.refresh.as_str()),
            "authorization_code" => body["code"].as_str() == Some("good-code"),
            _ => false,
        };
        if !valid {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error":"invalid_grant","error_description":"used"})),
            )
                .into_response();
        }
        s.token_seq += 1;
        s.access = format!("at-{}", s.token_seq);
        s.refresh = format!("rt-{}", s.token_seq);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        return axum::Json(
            json!({"access_token":s.access,"token_type":"Bearer","expires_in":43200,
            "refresh_token":s.refresh,"scope":"user:profile:read","created_at":now}),
        )
        .into_response();
    }
    if auth != format!("Bearer {}", s.access) {
        return envelope_errors(
            StatusCode::UNAUTHORIZED,
            1003,
            "The server could not verify that you are authorized to access the URL requested.",
        );
    }
    // /accounting/account/<acct>/<res>/<res>[/<id>]
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if parts.len() < 5 || parts[0] != "accounting" {
        return envelope_errors(StatusCode::NOT_FOUND, 1012, "Unknown path.");
    }
    let plural = match parts[4] {
        "clients" | "items" | "taxes" | "invoices" | "payments" => parts[4].to_owned(),
        _ => return envelope_errors(StatusCode::NOT_FOUND, 1012, "Unknown resource."),
    };
    let id: Option<i64> = parts.get(5).and_then(|p| p.parse().ok());

    let fault = s
        .faults
        .iter()
        .position(|(m, r, _)| *m == method && *r == plural)
        .map(|i| s.faults.remove(i).2);
    if let Some(Fault::Status(code, retry_after)) = &fault {
        let mut resp = envelope_errors(
            StatusCode::from_u16(*code).unwrap(),
            500,
            "Injected failure.",
        );
        if let Some(ra) = retry_after {
            resp.headers_mut()
                .insert("retry-after", ra.to_string().parse().unwrap());
        }
        return resp;
    }

    let one = singular(&plural).to_owned();
    let resp = match (method.clone(), id) {
        (Method::GET, None) => {
            let list = collection(&mut s, &plural).clone();
            let filtered: Vec<Value> = list
                .into_iter()
                .filter(|o| matches_search(o, &query) && o["vis_state"] != 1)
                .rev()
                .collect();
            let per_page: usize = param(&query, "per_page")
                .and_then(|v| v.parse().ok())
                .unwrap_or(15)
                .min(100);
            let page: usize = param(&query, "page")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1)
                .max(1);
            let total = filtered.len();
            let pages = total.div_ceil(per_page);
            let rows: Vec<Value> = filtered
                .into_iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .collect();
            ok(
                json!({ plural.clone(): rows, "page": page, "pages": pages, "per_page": per_page, "total": total }),
            )
        }
        (Method::GET, Some(id)) => match collection(&mut s, &plural).iter().find(|o| o["id"] == id)
        {
            Some(o) => ok(json!({ one.clone(): o })),
            None => envelope_errors(StatusCode::NOT_FOUND, 1012, "Not found."),
        },
        (Method::POST, None) => {
            let mut obj = body[&one].clone();
            if obj.is_null() {
                return envelope_errors(StatusCode::UNPROCESSABLE_ENTITY, 1001, "Body required.");
            }
            if one == "client" && obj["email"].as_str() == Some("invalid") {
                return envelope_errors(StatusCode::UNPROCESSABLE_ENTITY, 1004, "Invalid email.");
            }
            s.next_id += 1;
            let new_id = s.next_id;
            obj["id"] = new_id.into();
            obj["vis_state"] = 0.into();
            if one == "invoice" {
                obj["status"] = 1.into();
                obj["v3_status"] = "draft".into();
                obj["invoice_number"] = format!("{new_id:07}").into();
                obj.as_object_mut().unwrap().remove("lines");
            }
            collection(&mut s, &plural).push(obj.clone());
            ok(json!({ one.clone(): obj }))
        }
        (Method::PUT, Some(id)) => {
            let patch = body[&one].clone();
            let list = collection(&mut s, &plural);
            match list.iter_mut().find(|o| o["id"] == id) {
                Some(o) => {
                    if patch["action_mark_as_sent"] == true {
                        o["status"] = 2.into();
                        o["v3_status"] = "sent".into();
                    } else if let Some(map) = patch.as_object() {
                        for (k, v) in map {
                            o[k] = v.clone();
                        }
                    }
                    ok(json!({ one.clone(): o.clone() }))
                }
                None => envelope_errors(StatusCode::NOT_FOUND, 1012, "Not found."),
            }
        }
        _ => envelope_errors(StatusCode::METHOD_NOT_ALLOWED, 1005, "Unsupported."),
    };
    if let Some(Fault::CommitThenDrop) = fault {
        drop(s);
        // Panicking inside the connection task drops the socket without a reply: the write is committed, the reply lost.
        panic!("injected: reply lost after commit");
    }
    resp
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn collection<'a>(s: &'a mut FbState, plural: &str) -> &'a mut Vec<Value> {
    match plural {
        "clients" => &mut s.clients,
        "items" => &mut s.items,
        "taxes" => &mut s.taxes,
        "invoices" => &mut s.invoices,
        _ => &mut s.payments,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn matches_search(o: &Value, q: &[(String, String)]) -> bool {
    q.iter().all(
        |(k, v)| match k.strip_prefix("search[").and_then(|r| r.strip_suffix(']')) {
            Some(field) => match field.strip_suffix("_like") {
                Some(f) => text(&o[f]).contains(v.as_str()),
                None => text(&o[field]) == *v,
            },
            None => true,
        },
    )
}
