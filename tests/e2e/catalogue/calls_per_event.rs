//! What a SKU event costs in Kentico calls, counted at the Kentico simulator by kind: a burst of restocks for one
//! tenant lists the site's currencies and countries once between them (not once per event), and once the tax
//! classes are known each event reads just its SKU. Reconciliation is off, so every call counted is an event's.

use super::{catalogue_app_with, code, wait_item};
use ferry_sim::kentico::{SkuKind, SkuPatch};
use ferry_tests::TestApp;
use std::collections::BTreeMap;

/// SKUs restocked per burst.
const BURST: usize = 10;

/// Kentico calls made since `before`, by kind.
fn calls_since(app: &TestApp, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    app.sandbox
        .kentico
        .request_counts()
        .into_iter()
        .map(|(k, n)| {
            let d = n - before.get(&k).copied().unwrap_or(0);
            (k, d)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Restocks every SKU in `ids` by five units at once and waits until each item shows the new count; the calls
/// that took, by kind.
async fn restock(app: &TestApp, ids: &[i64]) -> anyhow::Result<BTreeMap<String, u64>> {
    let kentico = &app.sandbox.kentico;
    let before = kentico.request_counts();
    for id in ids {
        let now = kentico
            .catalogue()
            .into_iter()
            .find(|s| s.id == *id)
            .map_or(0, |s| s.available_items);
        kentico
            .update_sku(
                *id,
                SkuPatch {
                    available_items: Some(now + 5),
                    ..SkuPatch::default()
                },
            )
            .await?;
    }
    for s in kentico.catalogue().iter().filter(|s| ids.contains(&s.id)) {
        let want = s.available_items.to_string();
        wait_item(app, &code(s), "the restocked item", |i| {
            i.inventory.as_deref() == Some(want.as_str())
        })
        .await?;
    }
    let calls = calls_since(app, &before);
    let total: u64 = calls.values().sum();
    eprintln!(
        "Kentico calls per SKU event: {:.2} ({total} for {} events)",
        total as f64 / ids.len() as f64,
        ids.len()
    );
    for (kind, n) in &calls {
        eprintln!("  {kind:<40} {n}");
    }
    Ok(calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sku_events_lists_the_reference_data_once_and_then_reads_only_each_sku()
-> anyhow::Result<()> {
    let app = catalogue_app_with(
        66,
        ferry::config::WorkerConfig {
            reconcile_every_secs: 0,
            ..ferry_tests::fast_workers()
        },
    )
    .await?;
    // Products of their own (no parent to read), enabled, so each restock is one plain SKU event.
    let ids: Vec<i64> = app
        .sandbox
        .kentico
        .catalogue()
        .into_iter()
        .filter(|s| s.kind == SkuKind::Product && s.parent_id.is_none() && s.enabled)
        .map(|s| s.id)
        .take(BURST)
        .collect();
    assert_eq!(
        ids.len(),
        BURST,
        "the seeded catalogue has {BURST} products"
    );

    // Cold: the first events list the currencies and countries, the others wait for that answer.
    let cold = restock(&app, &ids).await?;
    let listed = |calls: &BTreeMap<String, u64>, what: &str| -> u64 {
        calls
            .iter()
            .filter(|(kind, _)| kind.contains(what) && !kind.contains("/children/"))
            .map(|(_, n)| *n)
            .sum()
    };
    assert_eq!(listed(&cold, "ecommerce.currency"), 1, "{cold:?}");
    assert_eq!(listed(&cold, "cms.country"), 1, "{cold:?}");

    // Warm: each event reads its SKU, nothing else.
    let warm = restock(&app, &ids).await?;
    let total: u64 = warm.values().sum();
    assert_eq!(total, BURST as u64, "one call per SKU event: {warm:?}");
    assert!(warm.keys().all(|k| k.contains("ecommerce.sku")), "{warm:?}");
    app.stop().await;
    Ok(())
}
