//! Anomaly checks (`[tenants.anomaly]`): with the checks on, an order far above the tenant's usual totals is held
//! for review (no invoice, a dead letter with the reason) until one replay sends it on; with the default config
//! nothing is held. Counted from the FreshBooks simulator and the admin API.

use ferry_sim::kentico::{LineSpec, OrderSpec, PlacedOrder, SkuKind};
use ferry_tests::TestApp;
use ferry_transform::AnomalyConfig;
use reqwest::StatusCode;

/// Ordinary orders placed before the outlier.
const ORDINARY: usize = 6;

/// The most expensive product of the simulator's catalogue, and a customer to order it.
fn product_and_customer(app: &TestApp) -> (i64, i64) {
    let sku = app
        .sandbox
        .kentico
        .catalogue()
        .into_iter()
        .filter(|s| s.kind == SkuKind::Product)
        .max_by_key(|s| s.price)
        .expect("a product");
    let customer = app.sandbox.kentico.customers()[0].id;
    (sku.id, customer)
}

/// Places one unpaid order of `quantity` units of `sku` and runs what its webhook queued.
async fn place_and_drain(
    app: &TestApp,
    sku: i64,
    customer: i64,
    quantity: i32,
) -> anyhow::Result<(PlacedOrder, ferry_tests::Drained)> {
    let placed = app
        .sandbox
        .kentico
        .place_order(OrderSpec {
            customer_id: Some(customer),
            lines: vec![LineSpec {
                sku_id: sku,
                quantity,
            }],
            ..OrderSpec::default()
        })
        .await;
    Ok((placed, app.drain_webhooks().await?))
}

/// The live invoices FreshBooks has for an order.
fn invoices_of(app: &TestApp, order: &PlacedOrder) -> Vec<u64> {
    app.sandbox
        .invoices_by_order()
        .remove(&order.guid.to_string())
        .unwrap_or_default()
}

/// A host without workers (the test steps them) whose tenant has `anomaly`.
async fn host(seed: u64, anomaly: AnomalyConfig) -> anyhow::Result<TestApp> {
    TestApp::builder()
        .with_seed(seed)
        .without_workers()
        .with_admin_tokens()
        .with_config(move |c| c.tenants[0].anomaly = anomaly)
        .spawn()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outlier_order_is_held_for_review_until_one_replay_sends_it() -> anyhow::Result<()> {
    let app = host(
        61,
        AnomalyConfig {
            enabled: true,
            min_history: 5,
            // Only the amount rule, so the reason is exactly one.
            quantity_factor: None,
            new_country_factor: None,
            ..AnomalyConfig::default()
        },
    )
    .await?;
    let tenant = app.tenant.to_string();
    let token = app.token(&tenant).to_owned();
    let (sku, customer) = product_and_customer(&app);
    for _ in 0..ORDINARY {
        let (order, drained) = place_and_drain(&app, sku, customer, 1).await?;
        assert_eq!(drained.dead_lettered, 0, "an ordinary order: {drained:?}");
        assert_eq!(invoices_of(&app, &order).len(), 1);
    }

    // Twenty units where every earlier order had one: far above ten times the median total.
    let (outlier, drained) = place_and_drain(&app, sku, customer, 20).await?;
    assert_eq!(drained.dead_lettered, 1, "{drained:?}");
    assert!(
        invoices_of(&app, &outlier).is_empty(),
        "nothing written to FreshBooks for a held order"
    );
    let (status, dlq) = app.get(&format!("/tenants/{tenant}/dlq"), &token).await;
    assert_eq!(status, StatusCode::OK, "{dlq}");
    let dead: Vec<_> = dlq
        .as_array()
        .expect("a list")
        .iter()
        .filter(|d| d["object_id"] == outlier.id)
        .collect();
    assert_eq!(dead.len(), 1, "{dlq}");
    let reason = dead[0]["last_error"].as_str().unwrap_or_default();
    let total = app
        .sandbox
        .kentico
        .order(outlier.id)
        .expect("the order")
        .total;
    assert!(
        reason.starts_with(&format!("order {} total ", outlier.number))
            && reason.contains(&format!("× the median of the last {ORDINARY} orders"))
            && reason.ends_with("; held for review"),
        "{reason}"
    );
    let job = dead[0]["job"].as_i64().expect("job");
    let (_, history) = app
        .get(&format!("/tenants/{tenant}/events/{job}"), &token)
        .await;
    let step = history["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == "anomaly")
        .cloned()
        .unwrap_or_default();
    assert_eq!(step["ok"], false, "run history shows the hold: {history}");
    assert!(
        step["detail"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("held for review")),
        "{step}"
    );

    // Held means held: nothing runs it again on its own.
    assert_eq!(app.drain().await?.steps(), 0);
    assert!(invoices_of(&app, &outlier).is_empty());

    // One replay sends it on, unchecked.
    let (status, body) = app
        .post(&format!("/tenants/{tenant}/dlq/{job}/replay"), &token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let drained = app.drain().await?;
    assert_eq!(drained.completed, 1, "{drained:?}");
    let invoices = invoices_of(&app, &outlier);
    assert_eq!(
        invoices.len(),
        1,
        "exactly one invoice for the replayed order"
    );
    let view = app
        .sandbox
        .freshbooks
        .invoice_view(&app.sandbox.account_id, invoices[0])
        .expect("the invoice");
    assert_eq!(view.amount, total, "invoiced at the order's total");

    // A later change to the order (paid in Kentico) is not held again: the order was sent.
    assert!(app.sandbox.kentico.mark_paid(outlier.id).await);
    let drained = app.drain_webhooks().await?;
    assert_eq!(drained.dead_lettered, 0, "{drained:?}");
    assert_eq!(
        invoices_of(&app, &outlier),
        invoices,
        "still the one invoice"
    );
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_default_config_nothing_is_held() -> anyhow::Result<()> {
    let app = host(62, AnomalyConfig::default()).await?;
    let (sku, customer) = product_and_customer(&app);
    for _ in 0..ORDINARY {
        place_and_drain(&app, sku, customer, 1).await?;
    }
    let (outlier, drained) = place_and_drain(&app, sku, customer, 20).await?;
    assert_eq!(drained.dead_lettered, 0, "{drained:?}");
    assert_eq!(invoices_of(&app, &outlier).len(), 1);
    assert!(
        app.store
            .dead_letters(Some(&app.tenant), 100)
            .await?
            .is_empty()
    );
    app.stop().await;
    Ok(())
}
