//! Finding an order by its Kentico number when it never reached FreshBooks: orders refused by validation are
//! dead-lettered, and each is found by its number in the admin API's run history and dead-letter lists and on the
//! console's dead-letter and run history pages (in a real headless Chromium) — the events of that order and no
//! other, as the store holds them.

use crate::admin_api::invalid;
use crate::console::sign_in;
use ferry_tests::chromium::Chromium;
use ferry_tests::{TestApp, assert_exactly_once, fast_workers};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;

/// Orders placed, every one with a defect validation refuses.
const ORDERS: usize = 3;

/// The `job` of every event in an admin API list.
fn jobs(list: &Value) -> BTreeSet<i64> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["job"].as_i64())
        .collect()
}

/// The `data-job` of every row of the page's event table.
async fn listed(browser: &Chromium) -> anyhow::Result<BTreeSet<i64>> {
    let mut out = BTreeSet::new();
    for row in browser
        .client
        .find_all(fantoccini::Locator::Css("table.events tbody tr"))
        .await?
    {
        if let Some(job) = row.attr("data-job").await? {
            out.insert(job.parse()?);
        }
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_order_that_dead_letters_is_found_by_its_number() -> anyhow::Result<()> {
    let host = TestApp::builder()
        .with_workers(ferry::config::WorkerConfig {
            reconcile_every_secs: 0,
            ..fast_workers()
        })
        .with_admin_tokens()
        .spawn()
        .await?;
    let placed = host.place(0..ORDERS as u64, &invalid()).await;
    // Settled: every event of every order has run, and each order is dead-lettered, none invoiced.
    let audit = host.settle(&placed).await?;
    assert_exactly_once(&audit);
    assert_eq!(audit.invalid, ORDERS, "{audit:#?}");
    let order = &placed[1].order;
    let number = order.number.clone();
    // What the store holds of this order: its dead events, by the Kentico object they are about.
    let dead = host.store.dead_letters(Some(&host.tenant), 100).await?;
    let expected: BTreeSet<i64> = dead
        .iter()
        .filter(|e| e.object_id == order.id)
        .map(|e| e.job.0)
        .collect();
    assert!(!expected.is_empty(), "{dead:?}");
    assert_eq!(
        host.sandbox
            .freshbooks
            .invoices(&host.sandbox.account_id)
            .len(),
        0,
        "nothing reached FreshBooks"
    );

    // The admin API: run history, the tenant's dead letters and every tenant's, by order number.
    let shop = host.tenant.to_string();
    for path in [
        format!("/tenants/{shop}/events?order_number={number}"),
        format!("/tenants/{shop}/dlq?order_number={number}"),
        format!("/dlq?order_number={number}"),
    ] {
        let (status, list) = host.get(&path, &host.operator).await;
        assert_eq!(status, StatusCode::OK, "{path}: {list}");
        assert_eq!(jobs(&list), expected, "{path}: {list}");
        assert!(
            list.as_array()
                .into_iter()
                .flatten()
                .all(|e| e["order_number"] == number.as_str() && e["state"] == "dead"),
            "{path}: {list}"
        );
    }
    let (_, none) = host
        .get(
            &format!("/tenants/{shop}/dlq?order_number=no-such-order"),
            &host.operator,
        )
        .await;
    assert_eq!(jobs(&none), BTreeSet::new(), "{none}");

    // The console: the dead-letter page's order field, then the run history's.
    let browser = Chromium::start().await?;
    sign_in(&browser, &host, &host.operator).await?;
    let page = browser
        .open(&format!("{}/console/tenants/{shop}/dlq", host.host_url))
        .await?;
    assert_eq!(listed(&browser).await?.len(), dead.len(), "{page}");
    browser.fill("order", &number).await?;
    let page = browser.click("form.filters button[type=submit]").await?;
    assert_eq!(listed(&browser).await?, expected, "{page}");
    assert!(page.contains(&format!("of order {number}")), "{page}");
    browser.screenshot("dead-letters-by-order").await?;
    browser
        .open(&format!("{}/console/tenants/{shop}/events", host.host_url))
        .await?;
    browser.fill("order", &number).await?;
    let page = browser.click("form.filters button[type=submit]").await?;
    assert_eq!(listed(&browser).await?, expected, "{page}");
    browser.quit().await;
    host.stop().await;
    Ok(())
}
