//! The web console in a real headless Chromium (JavaScript off): sign in with an operator token, the tenants
//! overview, an order found by its Kentico number, its timeline, a dead letter replayed from its page and seen to
//! succeed (counted in the FreshBooks simulator), a POST without the CSRF token refused, and a tenant token that
//! cannot see another tenant's pages. Screenshots of the main pages go to `target/console-screenshots` (or
//! `FERRY_SCREENSHOTS`).

use ferry_store::EventState;
use ferry_tests::chromium::{Chromium, screenshot_dir};
use ferry_tests::{TestApp, assert_exactly_once, fast_workers, valid_mix, wait_until};
use reqwest::StatusCode;
use std::time::Duration;

const SHOP: &str = "shop";
const OTHER: &str = "other";

pub(crate) async fn sign_in(
    browser: &Chromium,
    host: &TestApp,
    token: &str,
) -> anyhow::Result<String> {
    browser
        .open(&format!("{}/console/sign-in", host.host_url))
        .await?;
    browser.fill("token", token).await?;
    browser.click("button[type=submit]").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finds_an_order_replays_its_dead_letter_and_a_tenant_sees_only_its_own()
-> anyhow::Result<()> {
    // One attempt per event, so a FreshBooks failure dead-letters at once; no polling, so only webhooks bring events.
    let host = TestApp::builder()
        .with_tenants(&[SHOP, OTHER])
        .with_workers(ferry::config::WorkerConfig {
            max_attempts: 1,
            reconcile_every_secs: 0,
            ..fast_workers()
        })
        .with_admin_tokens()
        // The 503s below may open the FreshBooks breaker; an event that meets it open waits out the cooldown
        // without spending its attempt. The default cooldown (60 s) is as long as the waits below, so a short one.
        .with_config(|config| config.outbound.breaker.cooldown_ms = 1_000)
        .spawn()
        .await?;
    let fb = &host.sandbox.freshbooks;
    let account = host.sandbox.account_id.clone();

    // One order synced, then one dead-lettered while FreshBooks answers 503.
    let synced = host.place_and_settle(0..1, &valid_mix()).await;
    let number = synced[0].order.number.clone();
    assert_eq!(
        fb.invoices(&account).len(),
        1,
        "the first order is invoiced"
    );
    fb.faults().fail_next(1_000, 503);
    let failed = host.place(1..2, &valid_mix()).await;
    wait_until(Duration::from_secs(30), "a dead letter", || async {
        host.store
            .count_in_state(Some(&host.tenant), EventState::Dead)
            .await
            .is_ok_and(|n| n > 0)
    })
    .await?;
    fb.faults().clear();
    // The order's other webhook (a checkout brings two) may have waited out the open breaker instead of dying: it
    // runs now. Nothing is left waiting before the pages are read.
    wait_until(Duration::from_secs(60), "an empty backlog", || async {
        let count = |state| host.store.count_in_state(Some(&host.tenant), state);
        matches!(
            (
                count(EventState::Queued).await,
                count(EventState::Running).await,
                count(EventState::Retrying).await
            ),
            (Ok(0), Ok(0), Ok(0))
        )
    })
    .await?;
    let job = host.store.dead_letters(Some(&host.tenant), 1).await?[0].job;

    let browser = Chromium::start().await?;
    let url = |path: &str| format!("{}/console{path}", host.host_url);

    // Without a session every page sends the browser to the sign-in page; a wrong token is refused.
    let page = browser.open(&url("/tenants")).await?;
    assert!(page.contains("Admin token"), "{page}");
    browser.fill("token", "ferry_not_a_token").await?;
    let page = browser.click("button[type=submit]").await?;
    assert!(page.contains("Unknown or revoked admin token"), "{page}");
    browser.screenshot("sign-in").await?;

    // The operator sees both tenants, shop's backlog empty and its dead letters counted.
    let page = sign_in(&browser, &host, &host.operator).await?;
    assert!(page.contains("Tenants"), "{page}");
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("#tenants tbody tr"))
        .await?;
    assert_eq!(rows.len(), 2, "{page}");
    let cell = |css: &'static str| {
        let browser = &browser;
        async move {
            browser
                .client
                .find(fantoccini::Locator::Css(css))
                .await?
                .text()
                .await
                .map_err(anyhow::Error::from)
        }
    };
    let dead_in_store = host
        .store
        .count_in_state(Some(&host.tenant), EventState::Dead)
        .await?;
    assert_eq!(
        cell("tr[data-tenant=shop] td.dead-letters").await?,
        dead_in_store.to_string(),
        "shop's dead letters counted"
    );
    assert_eq!(cell("tr[data-tenant=shop] td.backlog").await?, "0");
    assert_eq!(
        cell("tr[data-tenant=shop] .badge.connected").await?,
        "connected",
        "FreshBooks connected"
    );
    browser.screenshot("tenants").await?;

    // Find the synced order by its number and open its timeline: done, with its invoice.
    browser
        .open(&url(&format!("/tenants/{SHOP}/events")))
        .await?;
    browser.fill("order", &number).await?;
    let page = browser.click("form.filters button[type=submit]").await?;
    let listed = browser
        .client
        .find_all(fantoccini::Locator::Css("table.events tbody tr"))
        .await?;
    let in_store = host
        .store
        .find_by_order_number(&host.tenant, &number)
        .await?;
    assert!(!in_store.is_empty());
    assert_eq!(listed.len(), in_store.len(), "{page}");
    browser.screenshot("run-history").await?;
    let done = in_store
        .iter()
        .find(|e| e.invoice_id.is_some())
        .expect("an event of the order made its invoice");
    let page = browser
        .click(&format!("tr[data-job=\"{}\"] a", done.job))
        .await?;
    assert!(page.contains(&format!("Event #{}", done.job)), "{page}");
    let invoice = done.invoice_id.clone().unwrap_or_default();
    assert_eq!(
        fb.invoices(&account)[0].id.to_string(),
        invoice,
        "the page's invoice is FreshBooks' invoice"
    );
    let objects = browser
        .client
        .find(fantoccini::Locator::Css("#objects"))
        .await?
        .text()
        .await?;
    assert!(objects.contains(&invoice), "{objects}");
    let timeline = browser
        .client
        .find(fantoccini::Locator::Css("#timeline"))
        .await?
        .text()
        .await?;
    for step in ["extract", "load", "→ done"] {
        assert!(timeline.contains(step), "{step}: {timeline}");
    }
    browser.screenshot("event-timeline").await?;

    // The dead letter, from the dead-letter page (counted per class) to its page.
    let page = browser.open(&url(&format!("/tenants/{SHOP}/dlq"))).await?;
    assert!(page.contains("upstream"), "filed as upstream: {page}");
    browser.screenshot("dead-letters").await?;
    let page = browser.click(&format!("tr[data-job=\"{job}\"] a")).await?;
    assert!(
        page.contains("→ dead"),
        "the timeline shows the dead letter: {page}"
    );
    browser.screenshot("event-dead").await?;

    // A POST carrying the session cookie but no CSRF token is refused, and changes nothing.
    let session = browser
        .cookie("ferry_console")
        .await?
        .expect("the session cookie");
    let forged = reqwest::Client::new()
        .post(url(&format!("/tenants/{SHOP}/dlq/{job}/replay")))
        .header("cookie", format!("ferry_console={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await?;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(host.store.event(job).await?.state, EventState::Dead);

    // Replay it from its page; the worker runs it, and its page shows it done with its invoice.
    browser.click("#replay").await?;
    wait_until(
        Duration::from_secs(60),
        "the replayed event done",
        || async {
            host.store
                .event(job)
                .await
                .is_ok_and(|e| e.state == EventState::Done)
        },
    )
    .await?;
    let page = browser
        .open(&url(&format!("/tenants/{SHOP}/events/{job}")))
        .await?;
    let state = browser
        .client
        .find(fantoccini::Locator::Css("#state"))
        .await?
        .text()
        .await?;
    assert_eq!(state, "done", "{page}");
    browser.screenshot("event-replayed").await?;

    // Whatever else died with it goes back through the confirmation page, which counts them.
    let left = host
        .store
        .count_in_state(Some(&host.tenant), EventState::Dead)
        .await?;
    if left > 0 {
        browser.open(&url(&format!("/tenants/{SHOP}/dlq"))).await?;
        let page = browser.click("#replay-all").await?;
        assert!(
            page.contains(&format!("Replay {left} dead letters")),
            "{page}"
        );
        let page = browser.click("#confirm").await?;
        assert!(
            page.contains(&format!("Replayed {left} dead letters")),
            "{page}"
        );
    }
    // Counted in FreshBooks: both orders invoiced, once each.
    let audit = host.settle(&[synced.clone(), failed].concat()).await?;
    assert_exactly_once(&audit);
    assert_eq!(
        fb.invoices(&account).len(),
        2,
        "{:?}",
        fb.invoices(&account)
    );

    // Tokens page (operator only).
    browser.open(&url("/tokens")).await?;
    browser.screenshot("tokens").await?;

    // Sign out: the old cookie no longer opens a page.
    browser.click("form.signout button").await?;
    let after = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?
        .get(url("/tenants"))
        .header("cookie", format!("ferry_console={session}"))
        .send()
        .await?;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);

    // A tenant token sees its own tenant only; shop's pages answer 403.
    let page = sign_in(&browser, &host, host.token(OTHER)).await?;
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("#tenants tbody tr"))
        .await?;
    assert_eq!(rows.len(), 1, "{page}");
    assert!(!page.contains("\nshop"), "{page}");
    for path in [
        format!("/tenants/{SHOP}/events"),
        format!("/tenants/{SHOP}/events/{job}"),
        format!("/tenants/{SHOP}/dlq"),
        "/tokens".to_owned(),
    ] {
        let page = browser.open(&url(&path)).await?;
        assert!(page.contains("403"), "{path}: {page}");
    }
    // shop's event under other's path is not found, so ids do not leak across tenants.
    let page = browser
        .open(&url(&format!("/tenants/{OTHER}/events/{job}")))
        .await?;
    assert!(page.contains("404"), "{page}");
    browser.screenshot("tenant-forbidden").await?;

    browser.quit().await;
    println!("console screenshots: {}", screenshot_dir().display());
    host.stop().await;
    Ok(())
}
