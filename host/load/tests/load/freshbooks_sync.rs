//! `sync_order`, `sync_customer` and OAuth refresh against a mock FreshBooks over real sockets.

use crate::support::mock_freshbooks::{Fault, MockFb};
use axum::http::Method;
use ferry_load::{
    Error, FreshBooksClient, Ledger, LedgerEntry, MemoryLedger, OAuthApp, SyncOptions, Tokens,
    freshbooks::MemoryTokenStore, sync_customer, sync_order,
};
use ferry_model::{
    ClientDraft, CurrencyCode, Customer, Decimal, Disposition, Drafts, InvoiceDraft,
    InvoiceLineDraft, InvoiceStatus, ItemDraft, LineTax, Money, Order, OrderStatus, OrderTotals,
    Payment, PaymentDraft, TenantId, UnknownSkuPolicy,
};
use ferry_outbound::{ExposeSecret, HttpClient, OutboundConfig, RateLimitConfig, SecretString};
use std::sync::Arc;
use time::{OffsetDateTime, macros::date};
use uuid::Uuid;

const ORDER_GUID: &str = "3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51";
const CUSTOMER_GUID: &str = "0f8e4d3c-2b1a-4c5d-8e7f-6a5b4c3d2e1f";

fn tokens(access: &str, refresh: &str, valid_for: time::Duration) -> Tokens {
    Tokens {
        access_token: SecretString::from(access),
        refresh_token: SecretString::from(refresh),
        expires_at: OffsetDateTime::now_utc() + valid_for,
    }
}

fn app() -> OAuthApp {
    OAuthApp {
        client_id: "cid".into(),
        client_secret: SecretString::from("csecret"),
        redirect_uri: "https://ferry.example/callback".into(),
    }
}

async fn setup(store_tokens: Option<Tokens>) -> (FreshBooksClient, Arc<MemoryTokenStore>, MockFb) {
    let mock = MockFb::spawn("at-0", "rt-0").await;
    let store = Arc::new(MemoryTokenStore::new(store_tokens));
    let config = OutboundConfig {
        request_timeout_ms: 2_000,
        rate_limit: RateLimitConfig {
            per_second: 0,
            burst: 0,
        },
        ..OutboundConfig::default()
    };
    let http = HttpClient::new(&config).unwrap();
    let fb = FreshBooksClient::new(
        http,
        "acme",
        &mock.base,
        &mock.base,
        "ZyQ04o",
        app(),
        store.clone(),
    );
    (fb, store, mock)
}

fn usd() -> CurrencyCode {
    CurrencyCode::parse("USD").unwrap()
}

fn order(paid: bool) -> Order {
    let now = OffsetDateTime::now_utc();
    Order {
        id: 27,
        guid: Uuid::parse_str(ORDER_GUID).unwrap(),
        number: "27".into(),
        status: OrderStatus {
            id: 3,
            code: "New".into(),
            display_name: "New".into(),
            marks_paid: false,
        },
        created_at: now,
        last_modified: now,
        currency: usd(),
        totals: OrderTotals {
            total: Decimal::new(2700, 2),
            tax: Decimal::ZERO,
            shipping: Decimal::ZERO,
            grand_total: Decimal::new(2700, 2),
        },
        customer: Customer {
            id: 12,
            guid: Uuid::parse_str(CUSTOMER_GUID).unwrap(),
            first_name: "Ana".into(),
            last_name: "Silva".into(),
            email: Some("ana@example.com".into()),
            phone: String::new(),
            company: String::new(),
            tax_registration_id: String::new(),
            organization_id: String::new(),
            custom_fields: vec![],
            address: None,
            last_modified: now,
        },
        billing_address: None,
        shipping_address: None,
        lines: vec![],
        custom_attributes: vec![],
        note: String::new(),
        payment: Payment {
            is_paid: paid,
            method: "Credit card".into(),
            transaction_id: String::new(),
            amount: Money::new(Decimal::new(2700, 2), usd()),
            paid_at: None,
        },
        discounts: vec![],
        coupon_codes: vec![],
        other_payments: vec![],
        taxes: vec![],
    }
}

fn drafts(paid: bool) -> Drafts {
    let tax = LineTax {
        name: "Sales tax".into(),
        percent: Decimal::new(825, 2),
    };
    let unit = Money::new(Decimal::new(1350, 2), usd());
    Drafts {
        client: ClientDraft {
            first_name: "Ana".into(),
            last_name: "Silva".into(),
            email: "ana@example.com".into(),
            currency_code: Some(usd()),
            ..ClientDraft::default()
        },
        items: vec![ItemDraft {
            name: "Colombia".into(),
            description: String::new(),
            sku: "COL-250".into(),
            unit_cost: unit.clone(),
            taxable: true,
            tax: Some(tax.clone()),
        }],
        invoice: InvoiceDraft {
            create_date: date!(2026 - 11 - 20),
            due_offset_days: 14,
            currency_code: usd(),
            po_number: "27".into(),
            invoice_number: None,
            status: InvoiceStatus::Sent,
            notes: "Kentico order 27".into(),
            terms: String::new(),
            lines: vec![InvoiceLineDraft {
                name: "Colombia".into(),
                description: String::new(),
                quantity: Decimal::new(2, 0),
                unit_cost: unit,
                tax1: Some(tax),
                tax2: None,
                sku: "COL-250".into(),
            }],
        },
        payment: paid.then(|| PaymentDraft {
            amount: Money::new(Decimal::new(2700, 2), usd()),
            date: date!(2026 - 11 - 20),
            method: "Credit Card".into(),
            note: "Kentico order 27".into(),
            transaction_id: String::new(),
        }),
        gift_cards: vec![],
        cancelled: false,
    }
}

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn valid() -> Option<Tokens> {
    Some(tokens("at-0", "rt-0", time::Duration::hours(10)))
}

#[tokio::test]
async fn order_sync_creates_everything_once_and_is_idempotent() {
    let (fb, _, mock) = setup(valid()).await;
    let ledger = MemoryLedger::new();
    let opts = SyncOptions::default();
    let first = sync_order(&fb, &ledger, &tenant(), &order(true), &drafts(true), &opts)
        .await
        .unwrap();
    let second = sync_order(&fb, &ledger, &tenant(), &order(true), &drafts(true), &opts)
        .await
        .unwrap();
    assert_eq!(first, second);
    for r in ["clients", "items", "taxes", "invoices", "payments"] {
        assert_eq!(mock.count(r), 1, "{r}");
    }
    let inv = &mock.invoices()[0];
    assert_eq!(inv["status"], 2, "marked sent");
    assert_eq!(inv["po_number"], "27");
    assert!(
        inv["notes"]
            .as_str()
            .unwrap()
            .contains(&format!("ferry:order:{ORDER_GUID}"))
    );
    assert!(first.payment_id.is_some());
    assert_eq!(
        first.item_ids.get("COL-250"),
        Some(&second.item_ids["COL-250"])
    );
    assert!(
        ledger
            .entries()
            .iter()
            .all(|(_, e)| matches!(e, LedgerEntry::Done { .. }))
    );
}

#[tokio::test]
async fn lost_invoice_reply_is_adopted_by_marker_on_retry() {
    let (fb, _, mock) = setup(valid()).await;
    let ledger = MemoryLedger::new();
    let opts = SyncOptions::default();
    mock.fail_next(Method::POST, "invoices", Fault::CommitThenDrop);
    let err = sync_order(
        &fb,
        &ledger,
        &tenant(),
        &order(false),
        &drafts(false),
        &opts,
    )
    .await
    .unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    assert_eq!(err.disposition(), Disposition::Retry { after: None });
    assert_eq!(
        mock.count("invoices"),
        1,
        "freshbooks committed the invoice"
    );
    let key = format!("acme:invoice:{ORDER_GUID}");
    assert_eq!(ledger.get(&key).await.unwrap(), Some(LedgerEntry::Intent));

    let synced = sync_order(
        &fb,
        &ledger,
        &tenant(),
        &order(false),
        &drafts(false),
        &opts,
    )
    .await
    .unwrap();
    assert_eq!(mock.count("invoices"), 1, "exactly one invoice");
    assert_eq!(
        synced.invoice_id,
        mock.invoices()[0]["id"].as_i64().unwrap()
    );
    assert_eq!(synced.adopted, vec![key]);
}

#[tokio::test]
async fn lost_payment_reply_is_adopted_from_the_invoice_payments() {
    let (fb, _, mock) = setup(valid()).await;
    let ledger = MemoryLedger::new();
    let opts = SyncOptions::default();
    mock.fail_next(Method::POST, "payments", Fault::CommitThenDrop);
    let err = sync_order(&fb, &ledger, &tenant(), &order(true), &drafts(true), &opts)
        .await
        .unwrap_err();
    assert!(err.outcome_unknown());
    let synced = sync_order(&fb, &ledger, &tenant(), &order(true), &drafts(true), &opts)
        .await
        .unwrap();
    assert_eq!(mock.count("payments"), 1);
    assert_eq!(mock.count("invoices"), 1);
    assert!(synced.adopted.iter().any(|k| k.contains(":payment:")));
}

#[tokio::test]
async fn lost_client_reply_is_adopted_by_customer_marker() {
    let (fb, _, mock) = setup(valid()).await;
    let ledger = MemoryLedger::new();
    let mut d = drafts(false);
    d.client.email = String::new(); // no e-mail: only the marker can find it again
    mock.fail_next(Method::POST, "clients", Fault::CommitThenDrop);
    let opts = SyncOptions::default();
    assert!(
        sync_order(&fb, &ledger, &tenant(), &order(false), &d, &opts)
            .await
            .unwrap_err()
            .outcome_unknown()
    );
    sync_order(&fb, &ledger, &tenant(), &order(false), &d, &opts)
        .await
        .unwrap();
    assert_eq!(mock.count("clients"), 1);
}

#[tokio::test]
async fn expired_token_is_refreshed_on_401_and_the_rotation_persisted() {
    let (fb, store, mock) = setup(valid()).await;
    mock.expire_access();
    // The server now only accepts a refreshed token; rt-0 is single-use.
    let err = fb.get_client(1).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let stored = store.current().unwrap();
    assert_eq!(stored.refresh_token.expose_secret(), "rt-1");
    assert_eq!(stored.access_token.expose_secret(), "at-1");
    assert_eq!(mock.state.lock().unwrap().token_calls, 1);
}

#[tokio::test]
async fn token_about_to_expire_is_refreshed_before_the_call() {
    let (fb, store, mock) = setup(Some(tokens("at-0", "rt-0", time::Duration::seconds(30)))).await;
    fb.list_taxes().await.unwrap();
    assert_eq!(mock.state.lock().unwrap().token_calls, 1);
    assert_eq!(
        store.current().unwrap().refresh_token.expose_secret(),
        "rt-1"
    );
    assert!(
        !mock
            .state
            .lock()
            .unwrap()
            .log
            .iter()
            .any(|l| l.contains("401"))
    );
}

#[tokio::test]
async fn concurrent_401s_refresh_only_once() {
    let (fb, _, mock) = setup(valid()).await;
    mock.expire_access();
    let calls: Vec<_> = (0..6)
        .map(|_| fb.clone())
        .map(|c| tokio::spawn(async move { c.list_taxes().await }))
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(mock.state.lock().unwrap().token_calls, 1);
}

#[tokio::test]
async fn refresh_token_used_elsewhere_disconnects_the_tenant() {
    let (fb, _, mock) = setup(Some(tokens("at-0", "rt-stale", time::Duration::hours(10)))).await;
    mock.expire_access();
    let err = fb.list_taxes().await.unwrap_err();
    assert!(matches!(err, Error::AuthRevoked { .. }), "{err:?}");
    assert!(matches!(
        err.disposition(),
        Disposition::Disconnected { .. }
    ));
}

#[tokio::test]
async fn a_refused_refresh_token_is_not_sent_again() {
    let (fb, _, mock) = setup(Some(tokens("at-0", "rt-stale", time::Duration::hours(10)))).await;
    mock.expire_access();
    for _ in 0..3 {
        let err = fb.list_taxes().await.unwrap_err();
        assert!(matches!(err, Error::AuthRevoked { .. }), "{err:?}");
    }
    assert_eq!(mock.state.lock().unwrap().token_calls, 1);
}

#[tokio::test]
async fn unauthorized_right_after_a_refresh_disconnects_the_tenant() {
    let (fb, _, mock) = setup(Some(tokens("at-0", "rt-0", time::Duration::hours(10)))).await;
    for _ in 0..2 {
        mock.fail_next(Method::GET, "taxes", Fault::Status(401, None));
    }
    let err = fb.list_taxes().await.unwrap_err();
    assert!(matches!(err, Error::AuthRevoked { .. }), "{err:?}");
    assert!(matches!(
        err.disposition(),
        Disposition::Disconnected { .. }
    ));
    assert_eq!(mock.state.lock().unwrap().token_calls, 1);
}

#[tokio::test]
async fn not_connected_account_is_a_dead_letter() {
    let (fb, _, _) = setup(None).await;
    let err = fb.list_taxes().await.unwrap_err();
    assert!(matches!(err, Error::NotConnected { .. }));
}

#[tokio::test]
async fn connect_exchanges_the_code_and_stores_tokens() {
    let (fb, store, _) = setup(None).await;
    let pkce = ferry_load::Pkce::generate();
    let url = fb.authorize_url("https://ferry.example/cb", "st8", &pkce);
    assert!(url.contains("response_type=code"), "{url}");
    assert!(
        url.contains("code_challenge_method=S256") && url.contains(&pkce.challenge()),
        "{url}"
    );
    assert!(matches!(
        fb.connect("bad-code", "https://ferry.example/cb", &pkce)
            .await
            .unwrap_err(),
        Error::AuthRevoked { .. }
    ));
    fb.connect("good-code", "https://ferry.example/cb", &pkce)
        .await
        .unwrap();
    assert_eq!(
        store.current().unwrap().refresh_token.expose_secret(),
        "rt-1"
    );
    fb.list_taxes().await.unwrap();
}

#[tokio::test]
async fn existing_client_with_same_email_is_reused() {
    let (fb, _, mock) = setup(valid()).await;
    let existing = fb.create_client(&drafts(false).client).await.unwrap();
    let ledger = MemoryLedger::new();
    let synced = sync_order(
        &fb,
        &ledger,
        &tenant(),
        &order(false),
        &drafts(false),
        &SyncOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(synced.client_id, existing.id);
    assert_eq!(mock.count("clients"), 1);
}

#[tokio::test]
async fn validation_error_dead_letters_and_throttle_retries_after() {
    let (fb, _, mock) = setup(valid()).await;
    let mut bad = drafts(false).client;
    bad.email = "invalid".into();
    let err = fb.create_client(&bad).await.unwrap_err();
    match err.disposition() {
        Disposition::DeadLetter { reason } => assert!(reason.contains("Invalid email"), "{reason}"),
        other => panic!("{other:?}"),
    }
    mock.fail_next(Method::GET, "taxes", Fault::Status(429, Some(9)));
    let err = fb.list_taxes().await.unwrap_err();
    assert_eq!(
        err.disposition(),
        Disposition::Retry {
            after: Some(std::time::Duration::from_secs(9))
        }
    );
}

#[tokio::test]
async fn default_item_policy_maps_unknown_skus() {
    let (fb, _, mock) = setup(valid()).await;
    let ledger = MemoryLedger::new();
    let opts = SyncOptions {
        unknown_sku: UnknownSkuPolicy::DefaultItem,
        default_item: "Kentico product".into(),
        ..SyncOptions::default()
    };
    let err = sync_order(
        &fb,
        &ledger,
        &tenant(),
        &order(false),
        &drafts(false),
        &opts,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    let mut default = drafts(false).items[0].clone();
    default.name = "Kentico product".into();
    default.sku = "DEFAULT".into();
    let item = fb.create_item(&default, None).await.unwrap();
    let synced = sync_order(
        &fb,
        &ledger,
        &tenant(),
        &order(false),
        &drafts(false),
        &opts,
    )
    .await
    .unwrap();
    assert_eq!(synced.item_ids["COL-250"], item.id);
    assert_eq!(mock.count("items"), 1);
}

#[tokio::test]
async fn customer_update_changes_the_known_client() {
    let (fb, _, mock) = setup(valid()).await;
    let ledger = MemoryLedger::new();
    let o = order(false);
    assert_eq!(
        sync_customer(&fb, &ledger, &tenant(), &o.customer, &drafts(false).client)
            .await
            .unwrap(),
        None
    );
    let synced = sync_order(
        &fb,
        &ledger,
        &tenant(),
        &o,
        &drafts(false),
        &SyncOptions::default(),
    )
    .await
    .unwrap();
    let mut changed = drafts(false).client;
    changed.organization = "Silva Coffee".into();
    let id = sync_customer(&fb, &ledger, &tenant(), &o.customer, &changed)
        .await
        .unwrap();
    assert_eq!(id, Some(synced.client_id));
    let c = fb.get_client(synced.client_id).await.unwrap();
    assert_eq!(c.organization.as_deref(), Some("Silva Coffee"));
    assert!(c.note.unwrap().contains(CUSTOMER_GUID));
    assert_eq!(mock.count("clients"), 1);
}
