//! `sync_order` against the independent ferry-sim FreshBooks simulator (its own reading of the reference).

use ferry_load::{
    BoxFuture, FreshBooksClient, Ledger, LedgerEntry, LedgerError, LedgerLock, MemoryLedger,
    OAuthApp, SyncOptions, Tokens, freshbooks::MemoryTokenStore, sync_order,
};
use ferry_model::{
    ClientDraft, CurrencyCode, Customer, Decimal, Drafts, InvoiceDraft, InvoiceLineDraft,
    InvoiceStatus, ItemDraft, LineTax, Money, Order, OrderStatus, OrderTotals, Payment,
    PaymentDraft, TenantId,
};
use ferry_outbound::{ExposeSecret, HttpClient, OutboundConfig, RateLimitConfig, SecretString};
use ferry_sim::{
    faults::Faults,
    freshbooks::{FreshBooksHandle, FreshBooksSim, FreshBooksSimConfig},
};
use std::sync::Arc;
use time::{OffsetDateTime, macros::date};
use uuid::Uuid;

const ORDER_GUID: &str = "3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51";

/// A ledger that arms "commit, then drop the reply" on the simulator right before the chosen create is sent.
struct DropReplyBefore {
    inner: MemoryLedger,
    faults: Faults,
    kind: &'static str,
    armed: std::sync::atomic::AtomicBool,
}

impl Ledger for DropReplyBefore {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<LedgerEntry>, LedgerError>> {
        self.inner.get(key)
    }
    fn intent<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, LedgerError>> {
        if key.contains(self.kind) && !self.armed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.faults.drop_reply_next(1);
        }
        self.inner.intent(key)
    }
    fn done<'a>(
        &'a self,
        key: &'a str,
        external_id: &'a str,
    ) -> BoxFuture<'a, Result<(), LedgerError>> {
        self.inner.done(key, external_id)
    }
    fn lock<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<LedgerLock, LedgerError>> {
        self.inner.lock(key)
    }
}

async fn setup() -> (
    FreshBooksHandle,
    String,
    FreshBooksClient,
    Arc<MemoryTokenStore>,
) {
    let handle = FreshBooksSim::start(FreshBooksSimConfig::default())
        .await
        .unwrap();
    let (account, t) = handle
        .sim()
        .create_account_with_tokens("Acme Coffee", "USD");
    let tokens = Tokens {
        access_token: SecretString::from(t.access_token),
        refresh_token: SecretString::from(t.refresh_token),
        expires_at: OffsetDateTime::now_utc() + time::Duration::hours(10),
    };
    let store = Arc::new(MemoryTokenStore::new(Some(tokens)));
    let config = OutboundConfig {
        request_timeout_ms: 5_000,
        rate_limit: RateLimitConfig {
            per_second: 0,
            burst: 0,
        },
        ..OutboundConfig::default()
    };
    let app = OAuthApp {
        client_id: "cid".into(),
        client_secret: SecretString::from("secret"),
        redirect_uri: "https://ferry.example/cb".into(),
    };
    let base = handle.base_url();
    let fb = FreshBooksClient::new(
        HttpClient::new(&config).unwrap(),
        "acme",
        &base,
        &base,
        account.account_id.clone(),
        app,
        store.clone(),
    );
    (handle, account.account_id, fb, store)
}

fn usd() -> CurrencyCode {
    CurrencyCode::parse("USD").unwrap()
}

fn order() -> Order {
    let now = OffsetDateTime::now_utc();
    Order {
        id: 27,
        guid: Uuid::parse_str(ORDER_GUID).unwrap(),
        number: "27".into(),
        status: OrderStatus {
            id: 2,
            code: "PaymentReceived".into(),
            display_name: "Paid".into(),
            marks_paid: true,
        },
        created_at: now,
        last_modified: now,
        currency: usd(),
        totals: OrderTotals {
            total: Decimal::new(2923, 2),
            tax: Decimal::new(223, 2),
            shipping: Decimal::ZERO,
            grand_total: Decimal::new(2923, 2),
        },
        customer: Customer {
            id: 12,
            guid: Uuid::parse_str("0f8e4d3c-2b1a-4c5d-8e7f-6a5b4c3d2e1f").unwrap(),
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
            is_paid: true,
            method: "Credit card".into(),
            transaction_id: "TX-1".into(),
            amount: Money::new(Decimal::new(2923, 2), usd()),
            paid_at: None,
        },
        discounts: vec![],
        coupon_codes: vec![],
        other_payments: vec![],
        taxes: vec![],
    }
}

fn drafts() -> Drafts {
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
            description: "250 g".into(),
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
            terms: "Net 14".into(),
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
        payment: Some(PaymentDraft {
            amount: Money::new(Decimal::new(2923, 2), usd()),
            date: date!(2026 - 11 - 20),
            method: "Credit Card".into(),
            note: "Kentico order 27".into(),
            transaction_id: "TX-1".into(),
        }),
        gift_cards: vec![],
        cancelled: false,
    }
}

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

#[tokio::test]
async fn order_syncs_into_the_simulator_once() {
    let (handle, account, fb, _) = setup().await;
    let ledger = MemoryLedger::new();
    let a = sync_order(
        &fb,
        &ledger,
        &tenant(),
        &order(),
        &drafts(),
        &SyncOptions::default(),
    )
    .await
    .unwrap();
    let b = sync_order(
        &fb,
        &ledger,
        &tenant(),
        &order(),
        &drafts(),
        &SyncOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(a, b);
    let s = handle.sim().summary(&account).unwrap();
    assert_eq!(
        (s.clients, s.items, s.taxes, s.invoices, s.payments),
        (1, 1, 1, 1, 1)
    );
}

#[tokio::test]
async fn a_gift_card_and_the_gateway_payment_settle_the_invoice_once() {
    let (handle, account, fb, _) = setup().await;
    let ledger = MemoryLedger::new();
    let mut d = drafts();
    // 2 × 13.50 + 8.25 % = 29.23: 10.00 paid with a gift card, 19.23 by card.
    d.gift_cards = vec![PaymentDraft {
        amount: Money::new(Decimal::new(1000, 2), usd()),
        date: date!(2026 - 11 - 20),
        method: "Other".into(),
        note: "Gift card GC-1, Kentico order 27".into(),
        transaction_id: String::new(),
    }];
    if let Some(p) = d.payment.as_mut() {
        p.amount = Money::new(Decimal::new(1923, 2), usd());
    }
    let opts = SyncOptions::default();
    let a = sync_order(&fb, &ledger, &tenant(), &order(), &d, &opts)
        .await
        .unwrap();
    let again = sync_order(&fb, &ledger, &tenant(), &order(), &d, &opts)
        .await
        .unwrap();
    // A lost ledger (a second host, a restored backup) finds both payments by their markers.
    let fresh = sync_order(&fb, &MemoryLedger::new(), &tenant(), &order(), &d, &opts)
        .await
        .unwrap();
    assert_eq!(a, again);
    assert_eq!(
        (fresh.payment_id, &fresh.gift_card_payment_ids),
        (a.payment_id, &a.gift_card_payment_ids)
    );
    assert_eq!(a.gift_card_payment_ids.len(), 1);
    let view = handle
        .sim()
        .invoice_view(&account, u64::try_from(a.invoice_id).unwrap())
        .unwrap();
    assert_eq!(view.amount, Decimal::new(2923, 2));
    assert_eq!(view.outstanding, Decimal::ZERO, "{view:?}");
    assert_eq!(view.payments.len(), 2, "{:?}", view.payments);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_of_one_customer_synced_side_by_side_share_one_client_item_and_tax() {
    let (handle, account, fb, _) = setup().await;
    let ledger = Arc::new(MemoryLedger::new());
    let mut tasks = Vec::new();
    for n in 0..8u128 {
        let (fb, ledger) = (fb.clone(), ledger.clone());
        tasks.push(tokio::spawn(async move {
            let mut o = order();
            o.guid = Uuid::from_u128(0x1000 + n);
            o.number = format!("{}", 100 + n);
            sync_order(
                &fb,
                &*ledger,
                &tenant(),
                &o,
                &drafts(),
                &SyncOptions::default(),
            )
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let s = handle.sim().summary(&account).unwrap();
    assert_eq!(
        (s.clients, s.items, s.taxes, s.invoices, s.payments),
        (1, 1, 1, 8, 8)
    );
}

#[tokio::test]
async fn lost_invoice_reply_from_the_simulator_yields_one_invoice() {
    let (handle, account, fb, _) = setup().await;
    let ledger = DropReplyBefore {
        inner: MemoryLedger::new(),
        faults: handle.sim().faults().clone(),
        kind: ":invoice:",
        armed: false.into(),
    };
    let err = sync_order(
        &fb,
        &ledger,
        &tenant(),
        &order(),
        &drafts(),
        &SyncOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    assert_eq!(
        handle.sim().invoices(&account).len(),
        1,
        "the simulator committed it"
    );
    let synced = sync_order(
        &fb,
        &ledger,
        &tenant(),
        &order(),
        &drafts(),
        &SyncOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        handle.sim().invoices(&account).len(),
        1,
        "adopted, not duplicated"
    );
    assert!(
        synced.adopted.iter().any(|k| k.contains(":invoice:")),
        "{:?}",
        synced.adopted
    );
    assert_eq!(handle.sim().payments(&account).len(), 1);
}

#[tokio::test]
async fn lost_payment_reply_from_the_simulator_yields_one_payment() {
    let (handle, account, fb, _) = setup().await;
    let ledger = DropReplyBefore {
        inner: MemoryLedger::new(),
        faults: handle.sim().faults().clone(),
        kind: ":payment:",
        armed: false.into(),
    };
    assert!(
        sync_order(
            &fb,
            &ledger,
            &tenant(),
            &order(),
            &drafts(),
            &SyncOptions::default()
        )
        .await
        .unwrap_err()
        .outcome_unknown()
    );
    sync_order(
        &fb,
        &ledger,
        &tenant(),
        &order(),
        &drafts(),
        &SyncOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(handle.sim().payments(&account).len(), 1);
}

#[tokio::test]
async fn expired_access_token_in_the_simulator_is_refreshed_and_rotated() {
    let (handle, _, fb, store) = setup().await;
    let before = refresh_token(&store);
    handle.sim().expire_access_tokens(None);
    fb.list_taxes().await.unwrap();
    let after = refresh_token(&store);
    assert_ne!(before, after, "rotated refresh token persisted");
    let members = fb.memberships().await.unwrap();
    assert_eq!(members[0].account_id, fb.account_id());
}

/// A token store whose first `failures` rotations fail (the database briefly unreachable).
struct FlakyRotation {
    inner: Arc<MemoryTokenStore>,
    failures: std::sync::atomic::AtomicU32,
}

impl ferry_load::TokenStore for FlakyRotation {
    fn load(&self) -> BoxFuture<'_, Result<Option<Tokens>, ferry_load::TokenStoreError>> {
        self.inner.load()
    }
    fn rotate<'a>(
        &'a self,
        old_refresh: Option<&'a SecretString>,
        new: &'a Tokens,
    ) -> BoxFuture<'a, Result<bool, ferry_load::TokenStoreError>> {
        let left = self.failures.load(std::sync::atomic::Ordering::SeqCst);
        if left > 0 {
            self.failures
                .store(left - 1, std::sync::atomic::Ordering::SeqCst);
            return Box::pin(async {
                Err(ferry_load::TokenStoreError("database unreachable".into()))
            });
        }
        self.inner.rotate(old_refresh, new)
    }
}

/// Another host takes the refresh lock as soon as this one lets it go and reads the store: the rotated pair must be
/// there by then, or that host sends the refresh token FreshBooks has just spent and the tenant is disconnected.
#[tokio::test]
async fn a_rotation_the_store_refuses_at_first_is_stored_before_the_refresh_returns() {
    let (handle, account_id, _, memory) = setup().await;
    let before = refresh_token(&memory);
    let flaky = Arc::new(FlakyRotation {
        inner: memory.clone(),
        failures: std::sync::atomic::AtomicU32::new(2),
    });
    let base = handle.base_url();
    let fb = FreshBooksClient::new(
        HttpClient::new(&OutboundConfig::default()).unwrap(),
        "acme",
        &base,
        &base,
        account_id,
        OAuthApp {
            client_id: "cid".into(),
            client_secret: SecretString::from("secret"),
            redirect_uri: "https://ferry.example/cb".into(),
        },
        flaky,
    );
    handle.sim().expire_access_tokens(None);
    fb.list_taxes().await.unwrap();
    let stored = refresh_token(&memory);
    assert_ne!(
        before, stored,
        "the rotated pair is in the store, not only in memory"
    );
}

/// The refresh token `store` holds.
fn refresh_token(store: &MemoryTokenStore) -> String {
    store
        .current()
        .unwrap()
        .refresh_token
        .expose_secret()
        .to_owned()
}
