//! The webhook intake over real HTTP: every refusal, acceptance and dedupe.

use ferry_ingest::{IngestConfig, IngestState, router, sign};
use ferry_model::TenantId;
use ferry_store::{EventState, Ingestor, Store, StoreConfig};
use serde_json::Value;
use std::collections::HashMap;
use time::OffsetDateTime;

const KEY: &[u8] = b"tenant-one-current-secret";
const OLD_KEY: &[u8] = b"tenant-one-previous-secret";

struct TestApp {
    url: String,
    http: reqwest::Client,
    store: Store,
    _dir: tempfile::TempDir,
}

impl TestApp {
    async fn spawn() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = StoreConfig::at(dir.path().join("ferry.db"));
        let store = Store::open(&config).await.expect("store");
        let ingestor = Ingestor::spawn(store.clone(), &config.batch);
        let mut secrets = HashMap::new();
        secrets.insert(
            TenantId::parse("acme").expect("tenant"),
            vec![KEY.to_vec(), OLD_KEY.to_vec()],
        );
        let state = IngestState::new(
            ingestor,
            secrets,
            IngestConfig {
                max_body_bytes: 4096,
                ..Default::default()
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, router(state)).await });
        Self {
            url: format!("http://{addr}"),
            http: reqwest::Client::new(),
            store,
            _dir: dir,
        }
    }

    async fn post(&self, tenant: &str, headers: &[(&str, String)], body: Vec<u8>) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/hooks/kentico/{tenant}", self.url))
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post_signed(
        &self,
        tenant: &str,
        id: &str,
        body: &[u8],
        key: &[u8],
        ts: i64,
    ) -> (u16, Value) {
        let ts = ts.to_string();
        let headers = [
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", ts.clone()),
            ("webhook-signature", sign(key, id, &ts, body)),
        ];
        self.post(tenant, &headers, body.to_vec()).await
    }

    async fn stored(&self) -> u64 {
        self.store
            .count_in_state(None, EventState::Queued)
            .await
            .expect("count")
    }
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn envelope(id: &str) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","type":"order.created","occurred_at":"2026-11-20T13:03:12.010Z",
        "object":{{"object_type":"ecommerce.order","id":27,"guid":"3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51",
        "last_modified":"2026-11-20T14:03:12.01+01:00"}}}}"#
    )
    .into_bytes()
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn signed_webhook_is_stored_before_202() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_signed("acme", "evt_1", &envelope("evt_1"), KEY, now())
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"status": "accepted", "event_id": "evt_1"})
    );
    let t = TenantId::parse("acme").expect("tenant");
    let rec = app
        .store
        .event_by_id(&t, "evt_1")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(rec.state, EventState::Queued);
    assert_eq!(rec.ordering_key, "ecommerce.order:27");
}

#[tokio::test]
async fn duplicate_webhook_is_acknowledged_and_stored_once() {
    let app = TestApp::spawn().await;
    let body = envelope("evt_dup");
    assert_eq!(
        app.post_signed("acme", "evt_dup", &body, KEY, now())
            .await
            .0,
        202
    );
    let (status, resp) = app.post_signed("acme", "evt_dup", &body, KEY, now()).await;
    assert_eq!(status, 200);
    assert_eq!(resp["status"], "duplicate");
    assert_eq!(app.stored().await, 1);
}

#[tokio::test]
async fn previous_secret_still_verifies_during_rotation() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.post_signed("acme", "evt_old", &envelope("evt_old"), OLD_KEY, now())
            .await
            .0,
        202
    );
}

#[tokio::test]
async fn missing_signature_headers_are_refused() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post("acme", &[("webhook-id", "evt_1".into())], envelope("evt_1"))
        .await;
    assert_eq!((status, code(&body)), (400, "missing_signature"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("webhook-timestamp")
    );
    assert_eq!(app.stored().await, 0);
}

#[tokio::test]
async fn wrong_secret_is_refused_as_bad_signature() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_signed("acme", "evt_1", &envelope("evt_1"), b"attacker", now())
        .await;
    assert_eq!((status, code(&body)), (401, "bad_signature"));
    assert_eq!(app.stored().await, 0);
}

#[tokio::test]
async fn tampered_body_is_refused_as_bad_signature() {
    let app = TestApp::spawn().await;
    let ts = now().to_string();
    let sig = sign(KEY, "evt_1", &ts, &envelope("evt_1"));
    let tampered = envelope("evt_1")
        .into_iter()
        .map(|b| if b == b'7' { b'8' } else { b })
        .collect();
    let headers = [
        ("webhook-id", "evt_1".to_owned()),
        ("webhook-timestamp", ts),
        ("webhook-signature", sig),
    ];
    let (status, body) = app.post("acme", &headers, tampered).await;
    assert_eq!((status, code(&body)), (401, "bad_signature"));
}

#[tokio::test]
async fn timestamp_outside_five_minutes_is_refused() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_signed("acme", "evt_1", &envelope("evt_1"), KEY, now() - 301)
        .await;
    assert_eq!((status, code(&body)), (401, "stale_timestamp"));
    let (status, body) = app
        .post_signed("acme", "evt_1", &envelope("evt_1"), KEY, now() + 400)
        .await;
    assert_eq!((status, code(&body)), (401, "stale_timestamp"));
    assert_eq!(app.stored().await, 0);
}

#[tokio::test]
async fn signed_but_malformed_body_is_refused() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_signed("acme", "evt_1", b"{not json", KEY, now())
        .await;
    assert_eq!((status, code(&body)), (400, "malformed_body"));
    let wrong_type = String::from_utf8(envelope("evt_2"))
        .expect("utf8")
        .replace("order.created", "customer.updated");
    let (status, body) = app
        .post_signed("acme", "evt_2", wrong_type.as_bytes(), KEY, now())
        .await;
    assert_eq!((status, code(&body)), (400, "malformed_body"));
    assert_eq!(app.stored().await, 0);
}

#[tokio::test]
async fn body_id_must_equal_webhook_id() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_signed("acme", "evt_header", &envelope("evt_body"), KEY, now())
        .await;
    assert_eq!((status, code(&body)), (400, "id_mismatch"));
    assert_eq!(app.stored().await, 0);
}

#[tokio::test]
async fn oversized_body_gets_413() {
    let app = TestApp::spawn().await;
    let big = vec![b' '; 5000];
    let (status, body) = app.post_signed("acme", "evt_1", &big, KEY, now()).await;
    assert_eq!((status, code(&body)), (413, "payload_too_large"));
    assert_eq!(app.stored().await, 0);
}

#[tokio::test]
async fn unknown_tenant_gets_404() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_signed("nobody", "evt_1", &envelope("evt_1"), KEY, now())
        .await;
    assert_eq!((status, code(&body)), (404, "unknown_tenant"));
    let (status, body) = app
        .post_signed("Bad%20Name", "evt_1", &envelope("evt_1"), KEY, now())
        .await;
    assert_eq!((status, code(&body)), (404, "unknown_tenant"));
    assert_eq!(app.stored().await, 0);
}

#[tokio::test]
async fn a_signed_body_that_is_not_utf8_is_refused_with_the_byte_offset_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    // A valid envelope with an extra field whose string holds a lone 0xFF byte: JSON parsers that skip unknown
    // fields never look inside it, so only an explicit check keeps it from being stored altered (as U+FFFD).
    let mut body = envelope("evt_bytes");
    let close = body
        .iter()
        .rposition(|b| *b == b'}')
        .expect("closing brace");
    let extra = b",\"note\":\"caf\xff\"";
    body.splice(close..close, extra.iter().copied());
    let offset = close + extra.iter().position(|b| *b == 0xFF).expect("the byte");
    assert!(std::str::from_utf8(&body).is_err());
    let (status, resp) = app
        .post_signed("acme", "evt_bytes", &body, KEY, now())
        .await;
    assert_eq!((status, code(&resp)), (400, "malformed_body"), "{resp}");
    let message = resp["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("UTF-8") && message.contains(&offset.to_string()),
        "{message}"
    );
    assert_eq!(app.stored().await, 0);
    let t = TenantId::parse("acme").expect("tenant");
    assert!(
        app.store
            .event_by_id(&t, "evt_bytes")
            .await
            .expect("read")
            .is_none()
    );
}
