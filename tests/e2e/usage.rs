//! Usage, what an operator bills on, counted from the simulators: orders through a real host, then the admin API's
//! usage for the tenant equals what the FreshBooks simulator saw (every request it served, its invoices) and what
//! the Kentico simulator served; `/metrics` and the console's usage page (in a real headless Chromium) say the same;
//! a restart keeps it; a tenant token sees its own only; a bad range is refused naming the field.
//!
//! The host's other tenant never calls anything (no polling, webhooks go to the first tenant), so the simulators'
//! totals are the first tenant's. Tenant ids are this module's own: metrics are shared by the test binary.

use crate::console::sign_in;
use ferry_tests::admin::assert_error;
use ferry_tests::chromium::Chromium;
use ferry_tests::{TestApp, assert_exactly_once, fast_workers, valid_mix, wait_until};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

const BILLED: &str = "billed";
const IDLE: &str = "idle";
/// Orders placed.
const ORDERS: u64 = 8;

/// Every request each simulator served so far: (FreshBooks, Kentico).
fn served(host: &TestApp) -> (u64, u64) {
    let fb = host.sandbox.freshbooks.request_counts().values().sum();
    let kentico = host.sandbox.kentico.request_counts().values().sum();
    (fb, kentico)
}

/// `GET /tenants/{tenant}/usage` (this month) as `token`.
async fn usage(host: &TestApp, tenant: &str, token: &str) -> Value {
    let (status, body) = host.get(&format!("/tenants/{tenant}/usage"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Waits until the tenant's usage (written every 100 ms) counts what the simulators served and `invoices`.
async fn wait_counted(host: &TestApp, invoices: u64) -> anyhow::Result<Value> {
    wait_until(
        Duration::from_secs(30),
        "usage equal to the simulators' counts",
        || async {
            let total = &usage(host, BILLED, &host.operator).await["total"];
            let (fb, kentico) = served(host);
            total["freshbooks_calls"] == fb
                && total["kentico_calls"] == kentico
                && total["orders_synced"] == invoices
        },
    )
    .await?;
    Ok(usage(host, BILLED, &host.operator).await)
}

/// The value of the counter `name` of [`BILLED`] (with `downstream`, when given) in `/metrics`; 0 when absent.
async fn metric(host: &TestApp, name: &str, downstream: Option<&str>) -> anyhow::Result<f64> {
    let text = reqwest::get(format!("{}/metrics", host.host_url))
        .await?
        .error_for_status()?
        .text()
        .await?;
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))?;
    Ok(scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == name
                && s.labels.get("tenant") == Some(BILLED)
                && s.labels.get("downstream") == downstream
        })
        .map_or(0.0, |s| match s.value {
            prometheus_parse::Value::Counter(v) => v,
            _ => f64::NAN,
        }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_counts_the_calls_and_orders_the_simulators_saw_and_survives_a_restart()
-> anyhow::Result<()> {
    let host = TestApp::builder()
        .with_tenants(&[BILLED, IDLE])
        .with_workers(ferry::config::WorkerConfig {
            reconcile_every_secs: 0,
            ..fast_workers()
        })
        .with_config(|c| c.usage.flush_every_ms = 100)
        .with_admin_tokens()
        .spawn()
        .await?;
    let account = host.sandbox.account_id.clone();
    let placed = host.place(0..ORDERS, &valid_mix()).await;
    let audit = host.settle(&placed).await?;
    assert_exactly_once(&audit);
    let invoices = host.sandbox.freshbooks.invoices(&account).len() as u64;
    assert_eq!(invoices, ORDERS);

    let report = wait_counted(&host, invoices).await?;
    let (fb, kentico) = served(&host);
    assert!(fb > ORDERS && kentico >= ORDERS, "{fb} {kentico}");
    // Today's row holds them; the month's total is the same.
    assert_eq!(report["months"][0]["freshbooks_calls"], fb, "{report}");
    assert_eq!(report["days"].as_array().map(Vec::len), Some(1), "{report}");

    // The metrics count the same.
    assert_eq!(
        metric(&host, "ferry_usage_calls_total", Some("freshbooks")).await?,
        fb as f64
    );
    assert_eq!(
        metric(&host, "ferry_usage_calls_total", Some("kentico")).await?,
        kentico as f64
    );
    assert_eq!(
        metric(&host, "ferry_usage_orders_synced_total", None).await?,
        invoices as f64
    );

    // Every tenant for the operator (the idle one at zero); a tenant token sees its own only.
    let (status, all) = host.get("/usage", &host.operator).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let tenants: Vec<&str> = all["tenants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["tenant"].as_str())
        .collect();
    assert_eq!(tenants, [BILLED, IDLE], "{all}");
    assert_eq!(all["tenants"][1]["total"]["freshbooks_calls"], 0, "{all}");
    let (status, own) = host.get("/usage", host.token(IDLE)).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(own["tenants"].as_array().map(Vec::len), Some(1), "{own}");
    assert_eq!(own["tenants"][0]["tenant"], IDLE, "{own}");
    let (status, body) = host
        .get(&format!("/tenants/{BILLED}/usage"), host.token(IDLE))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");

    // The console's usage page shows the same, an operator every tenant, a tenant token its own.
    let browser = Chromium::start().await?;
    sign_in(&browser, &host, &host.operator).await?;
    let page = browser
        .open(&format!("{}/console/usage", host.host_url))
        .await?;
    let row = format!("#usage tr[data-tenant={BILLED}]");
    assert_eq!(
        browser.text_of(&format!("{row} td.orders")).await?,
        invoices.to_string(),
        "{page}"
    );
    assert_eq!(
        browser.text_of(&format!("{row} td.freshbooks")).await?,
        fb.to_string(),
        "{page}"
    );
    assert_eq!(
        browser.text_of(&format!("{row} td.kentico")).await?,
        kentico.to_string(),
        "{page}"
    );
    assert_eq!(
        browser
            .text_of(&format!("#usage tr[data-tenant={IDLE}] td.freshbooks"))
            .await?,
        "0"
    );
    browser.screenshot("usage").await?;
    let page = browser.click(&format!("{row} a")).await?;
    assert_eq!(
        browser.text_of("#days tbody tr td.freshbooks").await?,
        fb.to_string(),
        "{page}"
    );
    browser.screenshot("usage-tenant").await?;
    sign_in(&browser, &host, host.token(IDLE)).await?;
    let page = browser
        .open(&format!("{}/console/usage", host.host_url))
        .await?;
    assert!(
        page.contains("Usage · idle") && !page.contains(BILLED),
        "{page}"
    );
    let page = browser
        .open(&format!("{}/console/usage?tenant={BILLED}", host.host_url))
        .await?;
    assert!(page.contains("403"), "{page}");
    browser.quit().await;

    // A bad range says what is wrong.
    for (path, message) in [
        (
            format!("/tenants/{BILLED}/usage?from=2026-13-01"),
            "from: \"2026-13-01\" is not a date (YYYY-MM-DD)",
        ),
        (
            "/usage?from=2026-12-06&to=2026-12-05".to_owned(),
            "from (2026-12-06) is after to (2026-12-05)",
        ),
    ] {
        let (status, body) = host.get(&path, &host.operator).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
        assert_eq!(body["error"]["message"], message, "{path}");
    }

    // A restart keeps what was counted, and counts on from there.
    let host = host.restart().await?;
    let after = wait_counted(&host, invoices).await?;
    assert!(
        after["total"]["freshbooks_calls"].as_u64() >= Some(fb),
        "{after}"
    );
    host.stop().await;
    Ok(())
}
