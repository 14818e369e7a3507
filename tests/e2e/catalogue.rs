//! The catalogue sync (issue 19): Kentico SKUs kept as FreshBooks items with their stock. A SKU created, renamed,
//! restocked, disabled and deleted in Kentico shows up so in FreshBooks; stock taken by orders matches Kentico's;
//! a redelivered event and a second backfill create no second item; a customer who registers gets a client before
//! any order. Everything is counted from the simulators' state, over real HTTP.
//!
//! Beside these: `backfill_cli` (`ferry tenant backfill --catalogue`, the binary against a running host),
//! `stock_returns` (units an edited order gives back reach the item; a cancelled order's do not come back) and
//! `calls_per_event` (what a burst of SKU events costs in Kentico calls).

mod backfill_cli;
mod calls_per_event;
mod stock_returns;

use ferry_sim::freshbooks::model::Item;
use ferry_sim::kentico::{SkuPatch, SkuSpec};
use ferry_tests::{TestApp, assert_exactly_once, valid_mix, wait_until};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use secrecy::ExposeSecret;
use serde_json::json;
use std::str::FromStr;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// A host whose tenant has the catalogue sync on (items carry the UK rate of their tax class: the seeded US has
/// state rates only).
async fn catalogue_app(seed: u64) -> anyhow::Result<TestApp> {
    catalogue_app_with(seed, ferry_tests::fast_workers()).await
}

/// [`catalogue_app`] with these worker settings.
async fn catalogue_app_with(
    seed: u64,
    workers: ferry::config::WorkerConfig,
) -> anyhow::Result<TestApp> {
    TestApp::builder()
        .with_seed(seed)
        .with_workers(workers)
        .with_admin_tokens()
        .with_config(|c| {
            for t in &mut c.tenants {
                t.catalogue.enabled = true;
                t.catalogue.tax_country = Some("GB".into());
            }
        })
        .spawn()
        .await
        .inspect(|app| app.sandbox.kentico.send_stock_webhooks(true))
}

/// Every FreshBooks item (deleted ones too) with SKU code `sku`.
fn items_with_sku(app: &TestApp, sku: &str) -> Vec<Item> {
    app.sandbox
        .freshbooks
        .items(&app.sandbox.account_id)
        .into_iter()
        .filter(|i| i.sku.as_deref() == Some(sku))
        .collect()
}

/// Waits until the one item with SKU code `sku` satisfies `ok`.
async fn wait_item(
    app: &TestApp,
    sku: &str,
    what: &str,
    ok: impl Fn(&Item) -> bool,
) -> anyhow::Result<Item> {
    wait_until(WAIT, what, || async {
        matches!(items_with_sku(app, sku).as_slice(), [one] if ok(one))
    })
    .await?;
    Ok(items_with_sku(app, sku).remove(0))
}

/// The SKU code a SKU's item is kept under (its number, or `KENTICO-SKU-<id>` without one).
fn code(s: &ferry_sim::kentico::SkuInfo) -> String {
    if s.number.is_empty() {
        format!("KENTICO-SKU-{}", s.id)
    } else {
        s.number.clone()
    }
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sku_created_renamed_restocked_disabled_and_deleted_in_kentico_shows_up_in_freshbooks()
-> anyhow::Result<()> {
    let app = catalogue_app(61).await?;
    let kentico = &app.sandbox.kentico;
    let id = kentico
        .create_sku(SkuSpec {
            number: "DG-TEST-001".into(),
            name: "Comandante C40 Grinder".into(),
            description: "Hand grinder & case".into(),
            price: dec("249.00"),
            tax_class_id: Some(1),
            parent_id: None,
            track_inventory: None,
            available_items: 7,
        })
        .await?;
    let item = wait_item(&app, "DG-TEST-001", "the new SKU's item", |i| {
        i.inventory.as_deref() == Some("7")
    })
    .await?;
    assert_eq!(item.name, "Comandante C40 Grinder");
    assert_eq!(item.description, "Hand grinder & case");
    assert_eq!(dec(&item.unit_cost.amount), dec("249.00"));
    assert_eq!(item.vis_state, 0);
    assert_ne!(item.tax1, 0, "the item carries its tax class's UK rate");

    kentico
        .update_sku(
            id,
            SkuPatch {
                name: Some("Comandante C40 MK4".into()),
                price: Some(dec("259.50")),
                ..SkuPatch::default()
            },
        )
        .await?;
    let renamed = wait_item(&app, "DG-TEST-001", "the rename", |i| {
        i.name == "Comandante C40 MK4"
    })
    .await?;
    assert_eq!(dec(&renamed.unit_cost.amount), dec("259.50"));
    assert_eq!(renamed.id, item.id, "the same item, updated");

    kentico
        .update_sku(
            id,
            SkuPatch {
                available_items: Some(40),
                ..SkuPatch::default()
            },
        )
        .await?;
    wait_item(&app, "DG-TEST-001", "the restock", |i| {
        i.inventory.as_deref() == Some("40")
    })
    .await?;

    kentico
        .update_sku(
            id,
            SkuPatch {
                enabled: Some(false),
                ..SkuPatch::default()
            },
        )
        .await?;
    wait_item(
        &app,
        "DG-TEST-001",
        "the disabled SKU's item archived",
        |i| i.vis_state == 1,
    )
    .await?;
    kentico
        .update_sku(
            id,
            SkuPatch {
                enabled: Some(true),
                available_items: Some(39),
                ..SkuPatch::default()
            },
        )
        .await?;
    wait_item(
        &app,
        "DG-TEST-001",
        "the enabled SKU's item restored",
        |i| i.vis_state == 0 && i.inventory.as_deref() == Some("39"),
    )
    .await?;
    kentico.delete_sku(id).await?;
    wait_item(
        &app,
        "DG-TEST-001",
        "the deleted SKU's item archived",
        |i| i.vis_state == 1,
    )
    .await?;

    // The run history finds the SKU's events by its code, newest first, every one of them done.
    let tenant = app.tenant.to_string();
    let (status, events) = app
        .get(
            &format!("/tenants/{tenant}/events?sku=DG-TEST-001"),
            app.token(&tenant),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    let kinds: Vec<&str> = events
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.first() == Some(&"sku.deleted") && kinds.last() == Some(&"sku.created"),
        "{kinds:?}"
    );
    assert!(kinds.len() >= 6, "{kinds:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_taken_by_orders_matches_kentico_with_one_item_per_sku() -> anyhow::Result<()> {
    let app = catalogue_app(62).await?;
    let tenant = app.tenant.to_string();
    // The catalogue first (a new tenant's backfill), then orders that take stock.
    let (status, body) = app
        .post_json(
            &format!("/tenants/{tenant}/backfill"),
            app.token(&tenant),
            &json!({ "catalogue": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let skus = app.sandbox.kentico.catalogue();
    assert_eq!(body["catalogue"]["seen"], json!(skus.len()), "{body}");
    let placed = app.place(0..6, &valid_mix()).await;
    assert_exactly_once(&app.settle(&placed).await?);

    // Every live SKU has exactly one item, whose stock is Kentico's now.
    let kentico = &app.sandbox.kentico;
    wait_until(WAIT, "every item's stock equals Kentico's", || async {
        kentico.catalogue().iter().all(|s| {
            let items = items_with_sku(&app, &code(s));
            items.len() == 1
                && items[0].inventory.as_deref() == Some(s.available_items.to_string().as_str())
        })
    })
    .await?;
    let ordered: i64 = skus
        .iter()
        .zip(kentico.catalogue())
        .map(|(before, now)| before.available_items - now.available_items)
        .sum();
    assert!(ordered > 0, "the orders took stock");

    // Redelivered: a second backfill finds everything covered, and the sender's own sku.updated of a SKU posted
    // again changes nothing.
    let (_, again) = app
        .post_json(
            &format!("/tenants/{tenant}/backfill"),
            app.token(&tenant),
            &json!({ "catalogue": true }),
        )
        .await;
    assert_eq!(again["catalogue"]["enqueued"], 0, "{again}");
    let log = kentico.webhook_log();
    let sent = log
        .iter()
        .find(|d| d.kind == "sku.updated")
        .expect("an order sent sku.updated");
    let secret = app.sandbox.webhook_secret().expose_secret().to_owned();
    let body = json!({
        "id": sent.id, "type": "sku.updated", "occurred_at": "2026-11-25T10:00:00Z",
        "object": {"object_type": "ecommerce.sku", "id": sent.object_id,
                   "guid": uuid::Uuid::nil(), "last_modified": "2026-11-25T10:00:00Z"}
    })
    .to_string();
    let status = post_signed(
        &format!("{}/hooks/kentico/{tenant}", app.host_url),
        &secret,
        &sent.id,
        &body,
    )
    .await;
    assert_eq!(status, 200, "a redelivery is a duplicate");
    for s in kentico.catalogue() {
        assert_eq!(items_with_sku(&app, &code(&s)).len(), 1, "{}", code(&s));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_customer_gets_a_client_before_any_order_when_the_tenant_asks()
-> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_seed(63)
        .with_config(|c| c.tenants[0].customers.create_before_order = true)
        .spawn()
        .await?;
    let customer = app.sandbox.kentico.register_customer().await;
    let fb = &app.sandbox.freshbooks;
    let account = &app.sandbox.account_id;
    wait_until(WAIT, "the new customer's client", || async {
        fb.clients(account)
            .iter()
            .filter(|c| c.email.eq_ignore_ascii_case(&customer.email))
            .count()
            == 1
    })
    .await?;
    Ok(())
}

/// Posts `body` signed with `secret` under event id `id`; the status.
async fn post_signed(url: &str, secret: &str, id: &str, body: &str) -> u16 {
    ferry_tests::webhook::post_signed(url, secret, id, body)
        .await
        .status()
        .as_u16()
}
