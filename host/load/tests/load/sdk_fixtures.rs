//! Ferry's FreshBooks client against the official SDK fixtures and Nango's live recordings.
//!
//! A replay server on `127.0.0.1:0` serves each fixture body, unmodified, at the path the real API serves
//! it on (a Nango recording at its recorded method, path and status) and logs every request. Each test
//! checks both sides: the client called the right path with the right query or body, and it read the
//! values the fixture holds. Where the fixtures come from: `host/sim/tests/fixtures/freshbooks/README.md`
//! and docs/freshbooks.md §12.

#![allow(clippy::expect_used)]

use axum::{
    Router,
    body::Bytes,
    extract::{Request, State},
    http::{Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use ferry_load::{
    Error, FreshBooksClient, OAuthApp, Tokens,
    freshbooks::{FbItem, FbMoney, FbPayment, Membership, MemoryTokenStore},
};
use ferry_model::{
    ClientDraft, CurrencyCode, Decimal, Disposition, InvoiceDraft, InvoiceLineDraft, InvoiceStatus,
    Money, PaymentDraft,
};
use ferry_outbound::{
    BreakerConfig, ExposeSecret, HttpClient, OutboundConfig, RateLimitConfig, ReadRetryConfig,
    SecretString,
};
use serde_json::Value;
use std::{
    str::FromStr,
    sync::{Arc, Mutex},
};
use time::{OffsetDateTime, macros::date};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../sim/tests/fixtures/freshbooks"
);
const TOKEN_PATH: &str = "/auth/oauth/token";
const IDENTITY_PATH: &str = "/auth/api/v1/users/me";
/// The account in every path of the Nango recordings.
const NANGO_ACCOUNT: &str = "ZyQ04o";
/// `accounting_systemid` of the Java SDK fixtures and of the Python SDK's client list.
const SDK_ACCOUNT: &str = "ACM123";
/// Tokens the tests start with when the token endpoint is not under test.
const ACCESS: &str = "replay-access";
const REFRESH: &str = "replay-refresh";

// ---- fixtures ----

fn fixture(rel: &str) -> String {
    let path = format!("{FIXTURES}/{rel}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn fixture_json(rel: &str) -> Value {
    serde_json::from_str(&fixture(rel)).unwrap()
}

/// The one call of a Nango recording (`{input, output, api:{<method>:{<path>:{request, response, status}}}}`).
struct Recording {
    method: Method,
    path: String,
    status: StatusCode,
    /// What Nango sent (`{"data": …}` for a body).
    request: Value,
    /// FreshBooks' reply body.
    response: Value,
    /// Nango's own mapping of the reply: an independent reading of the same body.
    output: Value,
}

impl Recording {
    fn load(name: &str) -> Self {
        let file = fixture_json(&format!("nango-recordings/{name}.test.json"));
        let methods = file["api"].as_object().unwrap();
        assert_eq!(methods.len(), 1, "{name}: one recorded method");
        let (method, paths) = methods.iter().next().unwrap();
        let paths = paths.as_object().unwrap();
        assert_eq!(paths.len(), 1, "{name}: one recorded path");
        let (path, call) = paths.iter().next().unwrap();
        Self {
            method: Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
            path: path.clone(),
            status: StatusCode::from_u16(u16::try_from(call["status"].as_u64().unwrap()).unwrap())
                .unwrap(),
            request: call["request"].clone(),
            response: call["response"].clone(),
            output: file["output"].clone(),
        }
    }

    /// Serves the recorded reply at the recorded method and path, with the recorded status.
    fn route(&self) -> Route {
        Route {
            method: self.method.clone(),
            path: self.path.clone(),
            status: self.status,
            body: self.response.to_string(),
        }
    }
}

// ---- replay server ----

/// A fixture body served at one method and path.
struct Route {
    method: Method,
    path: String,
    status: StatusCode,
    body: String,
}

fn route(method: Method, path: &str, status: StatusCode, body: String) -> Route {
    Route {
        method,
        path: path.to_owned(),
        status,
        body,
    }
}

fn ok(method: Method, path: &str, body: String) -> Route {
    route(method, path, StatusCode::OK, body)
}

/// A request the replay server received.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    /// The raw query string, as encoded by the client.
    query: String,
    bearer: Option<String>,
    /// The JSON body (`Null` when there was none).
    body: Value,
}

impl Seen {
    /// The decoded value of query parameter `name`.
    fn param(&self, name: &str) -> Option<String> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&self.query)
            .unwrap()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

struct ReplayState {
    routes: Vec<Route>,
    seen: Mutex<Vec<Seen>>,
}

struct Replay {
    base: String,
    state: Arc<ReplayState>,
}

impl Replay {
    async fn spawn(routes: Vec<Route>) -> Self {
        let state = Arc::new(ReplayState {
            routes,
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(replay).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://{addr}"),
            state,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Method and path of every request so far, in order.
    fn calls(&self) -> Vec<(Method, String)> {
        self.seen()
            .into_iter()
            .map(|s| (s.method, s.path))
            .collect()
    }
}

async fn replay(State(state): State<Arc<ReplayState>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let body: Bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.seen.lock().unwrap().push(Seen {
        method: method.clone(),
        path: path.clone(),
        query,
        bearer,
        body,
    });
    match state
        .routes
        .iter()
        .find(|r| r.method == method && r.path == path)
    {
        Some(r) => (
            r.status,
            [(header::CONTENT_TYPE, "application/json")],
            r.body.clone(),
        )
            .into_response(),
        // Not a 404: that would look like FreshBooks' "not found" to the client.
        None => (
            StatusCode::NOT_IMPLEMENTED,
            format!("no fixture for {method} {path}"),
        )
            .into_response(),
    }
}

// ---- the client under test ----

fn app() -> OAuthApp {
    OAuthApp {
        client_id: "replay-client-id".into(),
        client_secret: SecretString::from("replay-client-secret"),
        redirect_uri: "https://ferry.example/callback".into(),
    }
}

/// Tokens good for an hour, so no refresh happens unless the test makes one happen.
fn live_tokens() -> Tokens {
    Tokens {
        access_token: SecretString::from(ACCESS),
        refresh_token: SecretString::from(REFRESH),
        expires_at: OffsetDateTime::now_utc() + time::Duration::hours(1),
    }
}

fn client(
    replay: &Replay,
    account_id: &str,
    tokens: Option<Tokens>,
) -> (FreshBooksClient, Arc<MemoryTokenStore>) {
    let config = OutboundConfig {
        request_timeout_ms: 5_000,
        breaker: BreakerConfig {
            enabled: false,
            ..BreakerConfig::default()
        },
        rate_limit: RateLimitConfig {
            per_second: 0,
            burst: 0,
        },
        // A request without a fixture gets a 501: fail at once rather than repeat it.
        read_retry: ReadRetryConfig {
            retries: 0,
            ..ReadRetryConfig::default()
        },
        ..OutboundConfig::default()
    };
    let store = Arc::new(MemoryTokenStore::new(tokens));
    let fb = FreshBooksClient::new(
        HttpClient::new(&config).unwrap(),
        "replay-tenant",
        &replay.base,
        &replay.base,
        account_id,
        app(),
        store.clone(),
    );
    (fb, store)
}

fn accounting(account_id: &str, rest: &str) -> String {
    format!("/accounting/account/{account_id}/{rest}")
}

fn get(path: &str) -> (Method, String) {
    (Method::GET, path.to_owned())
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn money(amount: &str, code: &str) -> FbMoney {
    FbMoney {
        amount: dec(amount),
        code: code.to_owned(),
    }
}

fn currency(code: &str) -> CurrencyCode {
    CurrencyCode::parse(code).unwrap()
}

/// Every field Nango sent in the recorded request body, Ferry sent with the same value.
fn assert_sends_recorded_fields(sent: &Value, recorded: &Value) {
    for (key, value) in recorded.as_object().unwrap() {
        assert_eq!(&sent[key], value, "field `{key}`: sent {sent}");
    }
}

// ---- identity ----

#[tokio::test]
async fn identity_fixture_yields_every_business_membership_by_account_id() {
    let replay = Replay::spawn(vec![ok(
        Method::GET,
        IDENTITY_PATH,
        fixture("python-sdk/auth_me_response.json"),
    )])
    .await;
    let (fb, _) = client(&replay, "ABC123", Some(live_tokens()));

    let memberships = fb.memberships().await.unwrap();

    // `business.id`, not the membership `id` (140130, 140135); the `business_clients` account XYZ321 is not a membership.
    assert_eq!(
        memberships,
        vec![
            Membership {
                account_id: "ABC123".into(),
                business_id: 439000,
                name: "Commonwealth of Independent Systems".into(),
                role: "owner".into(),
            },
            Membership {
                account_id: "ABC124".into(),
                business_id: 438000,
                name: "Bayern Corporation".into(),
                role: "business_employee".into(),
            },
        ]
    );
    let seen = replay.seen();
    assert_eq!(replay.calls(), [get(IDENTITY_PATH)]);
    assert_eq!(seen[0].bearer.as_deref(), Some(ACCESS));
}

#[tokio::test]
async fn live_identity_recording_yields_the_account_nango_extracted() {
    let rec = Recording::load("get-account-id");
    assert_eq!(rec.path, IDENTITY_PATH);
    let replay = Replay::spawn(vec![rec.route()]).await;
    let (fb, _) = client(&replay, NANGO_ACCOUNT, Some(live_tokens()));

    let memberships = fb.memberships().await.unwrap();

    assert_eq!(memberships.len(), 1, "{memberships:?}");
    let m = &memberships[0];
    assert_eq!(m.account_id, rec.output["accountId"].as_str().unwrap());
    assert_eq!(m.business_id, rec.output["businessId"].as_i64().unwrap());
    assert_eq!(m.name, "Nango's Company");
    assert_eq!(m.role, "owner");
    assert_eq!(replay.calls(), [get(IDENTITY_PATH)]);
}

// ---- OAuth ----

#[tokio::test]
async fn token_fixture_is_stored_on_connect_and_refreshed_before_the_next_call_because_it_expired()
{
    let replay = Replay::spawn(vec![
        ok(
            Method::POST,
            TOKEN_PATH,
            fixture("python-sdk/auth_token_response.json"),
        ),
        ok(
            Method::GET,
            IDENTITY_PATH,
            fixture("python-sdk/auth_me_response.json"),
        ),
    ])
    .await;
    let (fb, store) = client(&replay, "ABC123", None);

    let pkce = ferry_load::Pkce::generate();
    let tokens = fb
        .connect(
            "code-from-redirect",
            "https://ferry.example/callback",
            &pkce,
        )
        .await
        .unwrap();

    // created_at 1287273500 + expires_in 100.
    let expires_at = OffsetDateTime::from_unix_timestamp(1_287_273_500 + 100).unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "my_access_token");
    assert_eq!(tokens.refresh_token.expose_secret(), "my_refresh_token");
    assert_eq!(tokens.expires_at, expires_at);
    let stored = store.current().unwrap();
    assert_eq!(stored.refresh_token.expose_secret(), "my_refresh_token");
    assert_eq!(stored.expires_at, expires_at);
    let exchange = &replay.seen()[0];
    assert_eq!(
        (&exchange.method, exchange.path.as_str()),
        (&Method::POST, TOKEN_PATH)
    );
    assert_eq!(exchange.body["grant_type"], "authorization_code");
    assert_eq!(exchange.body["code"], "code-from-redirect");
    assert_eq!(exchange.body["client_id"], "replay-client-id");
    assert_eq!(exchange.body["client_secret"], "replay-client-secret");
    assert_eq!(
        exchange.body["redirect_uri"],
        "https://ferry.example/callback"
    );
    assert_eq!(
        exchange.body["code_verifier"],
        pkce.verifier.expose_secret(),
        "the PKCE verifier of the authorize URL's challenge"
    );

    // The fixture's token expired in 2010, so the next call first spends the fixture's refresh token.
    let memberships = fb.memberships().await.unwrap();

    assert_eq!(memberships.len(), 2);
    assert_eq!(
        replay.calls(),
        [
            (Method::POST, TOKEN_PATH.to_owned()),
            (Method::POST, TOKEN_PATH.to_owned()),
            get(IDENTITY_PATH),
        ]
    );
    let seen = replay.seen();
    assert_eq!(seen[1].body["grant_type"], "refresh_token");
    assert_eq!(seen[1].body["refresh_token"], "my_refresh_token");
    assert_eq!(seen[2].bearer.as_deref(), Some("my_access_token"));
}

#[tokio::test]
async fn unauthenticated_identity_reply_refreshes_once_then_disconnects_with_the_401() {
    let replay = Replay::spawn(vec![
        route(
            Method::GET,
            IDENTITY_PATH,
            StatusCode::UNAUTHORIZED,
            fixture("python-sdk/auth_me_response__no_auth.json"),
        ),
        ok(
            Method::POST,
            TOKEN_PATH,
            fixture("python-sdk/auth_token_response.json"),
        ),
    ])
    .await;
    let (fb, store) = client(&replay, "ABC123", Some(live_tokens()));

    let err = fb.memberships().await.unwrap_err();

    // Refused again with the token just refreshed: the grant is gone, the tenant must be reconnected.
    assert!(matches!(err, Error::AuthRevoked { .. }), "{err:?}");
    assert!(matches!(
        err.disposition(),
        Disposition::Disconnected { .. }
    ));
    assert!(err.to_string().contains("401"), "{err}");
    assert!(err.to_string().contains("unauthenticated"), "{err}");
    assert_eq!(
        replay.calls(),
        [
            get(IDENTITY_PATH),
            (Method::POST, TOKEN_PATH.to_owned()),
            get(IDENTITY_PATH),
        ]
    );
    let seen = replay.seen();
    assert_eq!(seen[0].bearer.as_deref(), Some(ACCESS));
    assert_eq!(seen[1].body["refresh_token"], REFRESH);
    assert_eq!(seen[2].bearer.as_deref(), Some("my_access_token"));
    // The rotation FreshBooks answered is kept: the old refresh token is spent.
    assert_eq!(
        store.current().unwrap().refresh_token.expose_secret(),
        "my_refresh_token"
    );
}

// ---- clients ----

#[tokio::test]
async fn get_client_reads_the_sdk_single_client_body() {
    // The repository holds no separate get-client fixture; the SDK's create reply carries the same
    // `response.result.client` envelope a GET returns. Its account is `accounting_systemid` 6VApk.
    let path = accounting("6VApk", "users/clients/56789");
    let replay = Replay::spawn(vec![ok(
        Method::GET,
        &path,
        fixture("python-sdk/create_client_response.json"),
    )])
    .await;
    let (fb, _) = client(&replay, "6VApk", Some(live_tokens()));

    let c = fb.get_client(56789).await.unwrap();

    assert_eq!(c.id, 56789);
    assert_eq!(c.email.as_deref(), Some("john.doe@abcorp.com"));
    assert_eq!(c.organization.as_deref(), Some("john.doe@abcorp.com"));
    assert_eq!(c.fname.as_deref(), Some(""));
    assert_eq!(c.lname.as_deref(), Some(""));
    assert_eq!(c.note, None);
    assert_eq!(c.vis_state, 0);
    assert_eq!(replay.calls(), [get(&path)]);
    assert_eq!(replay.seen()[0].query, "");
}

#[tokio::test]
async fn find_clients_by_email_sends_the_email_filter_and_keeps_only_that_client() {
    let path = accounting(SDK_ACCOUNT, "users/clients");
    let replay = Replay::spawn(vec![ok(
        Method::GET,
        &path,
        fixture("python-sdk/list_clients_response.json"),
    )])
    .await;
    let (fb, _) = client(&replay, SDK_ACCOUNT, Some(live_tokens()));

    let found = fb
        .find_clients_by_email("gordon.shumway@AmericanCyanamid.com")
        .await
        .unwrap();

    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id, 12345);
    assert_eq!(found[0].fname.as_deref(), Some("Gordon"));
    assert_eq!(found[0].lname.as_deref(), Some("Shumway"));
    assert_eq!(found[0].organization.as_deref(), Some("American Cyanamid"));
    assert_eq!(found[0].note.as_deref(), Some("I like cats"));
    // `pages` is 1: one request.
    assert_eq!(replay.calls(), [get(&path)]);
    let q = &replay.seen()[0];
    assert!(
        q.query
            .contains("search%5Bemail%5D=gordon.shumway%40AmericanCyanamid.com"),
        "{}",
        q.query
    );
    assert_eq!(q.param("page").as_deref(), Some("1"));

    // The replay ignores the filter, so the client's own check picks the row: another e-mail, another client.
    let found = fb.find_clients_by_email("gmilfoil@usaf.com").await.unwrap();
    let ids: Vec<i64> = found.iter().map(|c| c.id).collect();
    assert_eq!(ids, [12457]);
    assert_eq!(
        replay.seen()[1].param("search[email]").as_deref(),
        Some("gmilfoil@usaf.com")
    );
}

#[tokio::test]
async fn find_clients_by_marker_sends_note_like_and_checks_the_note() {
    let path = accounting(SDK_ACCOUNT, "users/clients");
    let replay = Replay::spawn(vec![ok(
        Method::GET,
        &path,
        fixture("python-sdk/list_clients_response.json"),
    )])
    .await;
    let (fb, _) = client(&replay, SDK_ACCOUNT, Some(live_tokens()));

    let found = fb.find_clients_by_marker("cats").await.unwrap();

    let ids: Vec<i64> = found.iter().map(|c| c.id).collect();
    assert_eq!(ids, [12345], "only \"I like cats\" holds the marker");
    let q = &replay.seen()[0];
    assert!(
        q.query.contains("search%5Bnote_like%5D=cats"),
        "{}",
        q.query
    );
}

#[tokio::test]
async fn create_client_reply_from_the_live_recording_parses() {
    let rec = Recording::load("create-client");
    assert_eq!(rec.path, accounting(NANGO_ACCOUNT, "users/clients"));
    let recorded = &rec.request["data"]["client"];
    let replay = Replay::spawn(vec![rec.route()]).await;
    let (fb, _) = client(&replay, NANGO_ACCOUNT, Some(live_tokens()));
    let draft = ClientDraft {
        first_name: recorded["fname"].as_str().unwrap().into(),
        last_name: recorded["lname"].as_str().unwrap().into(),
        email: recorded["email"].as_str().unwrap().into(),
        ..ClientDraft::default()
    };

    let c = fb.create_client(&draft).await.unwrap();

    assert_eq!(c.id, 567595);
    assert_eq!(c.id.to_string(), rec.output["id"].as_str().unwrap());
    assert_eq!(c.fname.as_deref(), Some("Test"));
    assert_eq!(c.lname.as_deref(), Some("Client"));
    assert_eq!(c.email.as_deref(), Some("test-client@example.com"));
    assert_eq!(c.organization.as_deref(), Some(""));
    assert_eq!(c.note, None);
    assert_eq!(c.vis_state, 0);
    assert_eq!(replay.calls(), [(Method::POST, rec.path.clone())]);
    assert_sends_recorded_fields(&replay.seen()[0].body["client"], recorded);
}

#[tokio::test]
async fn not_found_fixture_served_with_404_is_the_not_found_error() {
    // errno 1012 for client "12345", served with the 404 FreshBooks sends it with.
    let path = accounting(SDK_ACCOUNT, "users/clients/12345");
    let replay = Replay::spawn(vec![route(
        Method::GET,
        &path,
        StatusCode::NOT_FOUND,
        fixture("python-sdk/get_client_response__not_found.json"),
    )])
    .await;
    let (fb, _) = client(&replay, SDK_ACCOUNT, Some(live_tokens()));

    let err = fb.get_client(12345).await.unwrap_err();

    assert!(
        matches!(&err, Error::NotFound { what } if what.contains("12345")),
        "{err:?}"
    );
    assert!(matches!(err.disposition(), Disposition::DeadLetter { .. }));
    assert_eq!(replay.calls(), [get(&path)]);
}

#[tokio::test]
async fn old_error_envelope_served_with_200_is_refused_naming_the_errno() {
    let path = accounting(SDK_ACCOUNT, "users/clients/12345");
    let replay = Replay::spawn(vec![ok(
        Method::GET,
        &path,
        fixture("java-sdk/get_client_response__not_found_old.json"),
    )])
    .await;
    let (fb, _) = client(&replay, SDK_ACCOUNT, Some(live_tokens()));

    let err = fb.get_client(12345).await.unwrap_err();

    match &err {
        Error::Refused { reason, .. } => {
            assert!(reason.contains("errno 1012"), "{reason}");
            assert!(reason.contains("Client not found."), "{reason}");
            assert!(reason.contains("field userid"), "{reason}");
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    assert!(err.to_string().contains("errno 1012"), "{err}");
    assert!(matches!(err.disposition(), Disposition::DeadLetter { .. }));
}

// ---- invoices ----

#[tokio::test]
async fn get_invoice_reads_status_and_money_of_the_partly_paid_sdk_invoice() {
    let path = accounting(SDK_ACCOUNT, "invoices/invoices/987654");
    let replay = Replay::spawn(vec![ok(
        Method::GET,
        &path,
        fixture("java-sdk/get_invoice_response.json"),
    )])
    .await;
    let (fb, _) = client(&replay, SDK_ACCOUNT, Some(live_tokens()));

    let inv = fb.get_invoice(987654).await.unwrap();

    assert_eq!(inv.id, 987654);
    assert_eq!(inv.customerid, 12345);
    assert_eq!(inv.invoice_number.as_deref(), Some("ACM0002"));
    assert_eq!(inv.po_number, None);
    assert_eq!(inv.notes.as_deref(), Some("Thanks for your business"));
    assert_eq!(inv.status, 2);
    assert_eq!(inv.v3_status.as_deref(), Some("partial"));
    assert_eq!(inv.amount, Some(money("41.94", "CAD")));
    assert_eq!(inv.outstanding, Some(money("21.94", "CAD")));
    assert_eq!(inv.vis_state, 0);
    assert_eq!(replay.calls(), [get(&path)]);
}

#[tokio::test]
async fn list_invoices_for_client_sends_the_customerid_filter() {
    let path = accounting(SDK_ACCOUNT, "invoices/invoices");
    let replay = Replay::spawn(vec![ok(
        Method::GET,
        &path,
        fixture("java-sdk/list_invoices_response.json"),
    )])
    .await;
    let (fb, _) = client(&replay, SDK_ACCOUNT, Some(live_tokens()));

    let invoices = fb.list_invoices_for_client(12345, 1).await.unwrap();

    assert_eq!(invoices.len(), 1, "{invoices:?}");
    assert_eq!(invoices[0].id, 987654);
    assert_eq!(invoices[0].outstanding, Some(money("21.94", "CAD")));
    assert_eq!(replay.calls(), [get(&path)]);
    let q = &replay.seen()[0];
    assert!(
        q.query.contains("search%5Bcustomerid%5D=12345"),
        "{}",
        q.query
    );
}

#[tokio::test]
async fn create_invoice_reply_from_the_live_recording_is_a_draft() {
    let rec = Recording::load("create-invoice");
    assert_eq!(rec.path, accounting(NANGO_ACCOUNT, "invoices/invoices"));
    let recorded = &rec.request["data"]["invoice"];
    let replay = Replay::spawn(vec![rec.route()]).await;
    let (fb, _) = client(&replay, NANGO_ACCOUNT, Some(live_tokens()));
    let usd = currency("USD");
    let draft = InvoiceDraft {
        create_date: date!(2024 - 01 - 15),
        due_offset_days: 0,
        currency_code: usd.clone(),
        po_number: String::new(),
        invoice_number: None,
        status: InvoiceStatus::Draft,
        notes: String::new(),
        terms: String::new(),
        lines: vec![InvoiceLineDraft {
            name: "Consulting Services".into(),
            description: String::new(),
            quantity: Decimal::ONE,
            unit_cost: Money::new(dec("1500.00"), usd),
            tax1: None,
            tax2: None,
            sku: String::new(),
        }],
    };

    let inv = fb
        .create_invoice(
            567521,
            &draft,
            &ferry_load::freshbooks::InvoiceAddress::default(),
            "",
        )
        .await
        .unwrap();

    assert_eq!(inv.id, 454063);
    assert_eq!(inv.id, rec.output["id"].as_i64().unwrap());
    assert_eq!(inv.customerid, 567521);
    assert_eq!(inv.invoice_number.as_deref(), Some("0000008"));
    assert_eq!(inv.status, 1);
    assert_eq!(inv.v3_status.as_deref(), Some("draft"));
    assert_eq!(inv.amount, Some(money("1500.00", "USD")));
    assert_eq!(inv.outstanding, Some(money("1500.00", "USD")));
    assert_eq!(inv.po_number, None);
    assert_eq!(replay.calls(), [(Method::POST, rec.path.clone())]);
    // What Nango sent, Ferry sends too (Ferry sends `qty` as a decimal string, Nango as a number).
    let sent = &replay.seen()[0].body["invoice"];
    for key in ["customerid", "create_date", "currency_code"] {
        assert_eq!(sent[key], recorded[key], "`{key}`: sent {sent}");
    }
    let (sent_line, recorded_line) = (&sent["lines"][0], &recorded["lines"][0]);
    for key in ["type", "name", "unit_cost"] {
        assert_eq!(
            sent_line[key], recorded_line[key],
            "line `{key}`: sent {sent}"
        );
    }
    assert_eq!(
        dec(sent_line["qty"].as_str().unwrap()),
        dec(&recorded_line["qty"].to_string())
    );
}

#[tokio::test]
async fn mark_invoice_sent_sends_the_recorded_action_and_reads_status_sent() {
    let rec = Recording::load("send-invoice");
    assert_eq!(
        rec.path,
        accounting(NANGO_ACCOUNT, "invoices/invoices/454055")
    );
    let replay = Replay::spawn(vec![rec.route()]).await;
    let (fb, _) = client(&replay, NANGO_ACCOUNT, Some(live_tokens()));

    let inv = fb.mark_invoice_sent(454055).await.unwrap();

    assert_eq!(inv.id, 454055);
    assert_eq!(inv.invoice_number.as_deref(), Some("0000006"));
    assert_eq!(inv.status, 2);
    assert_eq!(inv.v3_status.as_deref(), Some("sent"));
    assert_eq!(inv.amount, Some(money("200.00", "KES")));
    assert_eq!(inv.outstanding, Some(money("200.00", "KES")));
    assert_eq!(replay.calls(), [(Method::PUT, rec.path.clone())]);
    assert_eq!(replay.seen()[0].body, rec.request["data"]);
}

// ---- items and taxes ----

#[tokio::test]
async fn find_items_by_sku_sends_the_sku_filter_and_returns_the_fixture_item() {
    let path = accounting(SDK_ACCOUNT, "items/items");
    let replay = Replay::spawn(vec![ok(
        Method::GET,
        &path,
        fixture("java-sdk/list_items_response.json"),
    )])
    .await;
    let (fb, _) = client(&replay, SDK_ACCOUNT, Some(live_tokens()));

    let items = fb.find_items_by_sku("SQ1234").await.unwrap();

    assert_eq!(
        items,
        vec![FbItem {
            id: 4331,
            name: "A Cheap Item".into(),
            sku: Some("SQ1234".into()),
            unit_cost: Some(money("1.00", "CAD")),
            vis_state: 0,
            description: Some("It's Cheap".into()),
            inventory: None,
            tax1: Some(7840),
        }]
    );
    assert_eq!(replay.calls(), [get(&path)]);
    let q = &replay.seen()[0];
    assert!(q.query.contains("search%5Bsku%5D=SQ1234"), "{}", q.query);
}

#[tokio::test]
async fn find_items_by_name_scans_the_list_without_a_filter() {
    let path = accounting(SDK_ACCOUNT, "items/items");
    let replay = Replay::spawn(vec![ok(
        Method::GET,
        &path,
        fixture("java-sdk/list_items_response.json"),
    )])
    .await;
    let (fb, _) = client(&replay, SDK_ACCOUNT, Some(live_tokens()));

    let items = fb.find_items_by_name("An expensive item").await.unwrap();

    let found: Vec<(i64, Option<String>, Option<FbMoney>)> = items
        .into_iter()
        .map(|i| (i.id, i.sku, i.unit_cost))
        .collect();
    assert_eq!(found, [(4333, None, Some(money("154.99", "CAD")))]);
    assert_eq!(replay.calls(), [get(&path)]);
    let q = &replay.seen()[0];
    assert!(!q.query.contains("search"), "{}", q.query);
}

#[tokio::test]
async fn list_taxes_reads_names_and_rates() {
    let path = accounting(SDK_ACCOUNT, "taxes/taxes");
    let replay = Replay::spawn(vec![ok(
        Method::GET,
        &path,
        fixture("java-sdk/list_taxes_response.json"),
    )])
    .await;
    let (fb, _) = client(&replay, SDK_ACCOUNT, Some(live_tokens()));

    let taxes = fb.list_taxes().await.unwrap();

    let got: Vec<(i64, &str, Decimal)> = taxes
        .iter()
        .map(|t| (t.id, t.name.as_str(), dec(t.amount.as_deref().unwrap())))
        .collect();
    assert_eq!(got, [(7840, "HST", dec("13")), (7841, "GST", dec("5"))]);
    assert_eq!(replay.calls(), [get(&path)]);
    assert_eq!(replay.seen()[0].param("page").as_deref(), Some("1"));
}

// ---- payments ----

#[tokio::test]
async fn list_payments_for_invoice_sends_the_invoiceid_filter_and_reads_both_payments() {
    let path = accounting(SDK_ACCOUNT, "payments/payments");
    let replay = Replay::spawn(vec![ok(
        Method::GET,
        &path,
        fixture("java-sdk/list_payments_response.json"),
    )])
    .await;
    let (fb, _) = client(&replay, SDK_ACCOUNT, Some(live_tokens()));

    let payments = fb.list_payments_for_invoice(987654).await.unwrap();

    let payment = |id: i64, kind: &str, note: &str| FbPayment {
        id,
        invoiceid: 987654,
        amount: money("41.94", "CAD"),
        date: Some("2021-04-16".into()),
        kind: Some(kind.into()),
        note: Some(note.into()),
        vis_state: 0,
        updated: Some("2021-04-17 05:29:31".into()),
    };
    assert_eq!(
        payments,
        [
            payment(235435, "Credit Card", "Some note"),
            payment(235436, "2Checkout", "Some other note"),
        ]
    );
    assert_eq!(replay.calls(), [get(&path)]);
    let q = &replay.seen()[0];
    assert!(
        q.query.contains("search%5Binvoiceid%5D=987654"),
        "{}",
        q.query
    );
}

#[tokio::test]
async fn empty_live_payment_list_with_zero_pages_is_read_in_one_request() {
    let rec = Recording::load("list-payments");
    assert_eq!(rec.path, accounting(NANGO_ACCOUNT, "payments/payments"));
    let replay = Replay::spawn(vec![rec.route()]).await;
    let (fb, _) = client(&replay, NANGO_ACCOUNT, Some(live_tokens()));

    // The invoice paid in `create-payment.test.json`; this recording lists no payments at all (`pages` 0).
    let payments = fb.list_payments_for_invoice(453899).await.unwrap();

    assert!(payments.is_empty(), "{payments:?}");
    assert_eq!(replay.calls(), [get(&rec.path)]);
}

#[tokio::test]
async fn create_payment_reply_from_the_live_recording_parses() {
    let rec = Recording::load("create-payment");
    assert_eq!(rec.path, accounting(NANGO_ACCOUNT, "payments/payments"));
    let replay = Replay::spawn(vec![rec.route()]).await;
    let (fb, _) = client(&replay, NANGO_ACCOUNT, Some(live_tokens()));
    let draft = PaymentDraft {
        amount: Money::new(dec("100.00"), currency("USD")),
        date: date!(2024 - 01 - 15),
        method: "Cash".into(),
        note: String::new(),
        transaction_id: String::new(),
    };

    let p = fb.create_payment(453899, &draft).await.unwrap();

    assert_eq!(p.id, 312143);
    assert_eq!(p.id, rec.output["id"].as_i64().unwrap());
    assert_eq!(p.invoiceid, 453899);
    assert_eq!(p.amount, money("100.00", "USD"));
    assert_eq!(p.date.as_deref(), Some("2024-01-15"));
    assert_eq!(p.kind.as_deref(), Some("Cash"));
    assert_eq!(p.note.as_deref(), Some(""));
    assert_eq!(p.vis_state, 0);
    assert_eq!(replay.calls(), [(Method::POST, rec.path.clone())]);
    assert_sends_recorded_fields(
        &replay.seen()[0].body["payment"],
        &rec.request["data"]["payment"],
    );
}
