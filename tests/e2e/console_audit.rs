//! The books audit in the console, in a real headless Chromium (JavaScript off): a tenant signs in, audits now and
//! sees its books clean; an invoice an accountant deleted shows up as `deleted_by_hand` with what a repair would do
//! (the tenant's policy lets Ferry overwrite); the repair button restores it (counted in the FreshBooks simulator)
//! and a second press does nothing; another tenant's token cannot see the audits. Screenshots of the audit pages go
//! to the console's screenshot folder.

use ferry_sim::kentico::OrderMix;
use ferry_tests::by_hand::delete_invoice;
use ferry_tests::chromium::Chromium;
use ferry_tests::{TestApp, wait_until};
use std::time::Duration;

const SHOP: &str = "shop";
const OTHER: &str = "other";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_audits_its_books_and_repairs_a_deleted_invoice_from_the_console()
-> anyhow::Result<()> {
    let host = TestApp::builder()
        .with_tenants(&[SHOP, OTHER])
        .with_admin_tokens()
        .with_config(|c| {
            c.worker.reconcile_every_secs = 0;
            c.tenants[0].audit.manual_changes = ferry_model::ManualChanges::Overwrite;
        })
        .spawn()
        .await?;
    // Unpaid orders: a deleted invoice's payments are a person's business, which no overwrite brings back.
    let mix = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.3,
        paid: 0.0,
    };
    let placed = host.place_and_settle(0..3, &mix).await;
    let fb = &host.sandbox.freshbooks;
    let account = host.sandbox.account_id.clone();
    let browser = Chromium::start().await?;
    let url = |path: &str| format!("{}/console{path}", host.host_url);

    browser.open(&url("/sign-in")).await?;
    browser.fill("token", host.token(SHOP)).await?;
    browser.click("button[type=submit]").await?;
    let page = browser.click("nav a[href$=\"/audits\"]").await?;
    assert!(page.contains("No audit yet"), "{page}");
    let page = browser.click("#run-audit button[type=submit]").await?;
    assert!(page.contains(&format!("{} orders", placed.len())), "{page}");
    assert_eq!(browser.text_of("#result").await?, "clean", "{page}");

    // An accountant deletes an invoice; the next audit names it, and what the repair will do.
    let invoice = host.sandbox.invoices_by_order()[&placed[1].order.guid.to_string()][0];
    delete_invoice(&host, invoice).await;
    browser
        .open(&url(&format!("/tenants/{SHOP}/audits")))
        .await?;
    let page = browser.click("#run-audit button[type=submit]").await?;
    assert_eq!(
        browser.text_of("#result").await?,
        "1 deleted_by_hand",
        "{page}"
    );
    let row = browser
        .text_of("#differences tr[data-class=deleted_by_hand]")
        .await?;
    assert!(row.contains(&placed[1].order.number), "{row}");
    assert!(row.contains("restore the invoice"), "{row}");
    browser.screenshot("audit-differences").await?;

    let page = browser.click("#repair button[type=submit]").await?;
    assert!(page.contains("1 invoices overwritten"), "{page}");
    wait_until(Duration::from_secs(30), "the invoice restored", || async {
        fb.invoice_view(&account, invoice)
            .is_some_and(|v| v.vis_state == 0)
    })
    .await?;
    // The form pressed again: repaired before, nothing more done.
    let page = browser.click("#repair button[type=submit]").await?;
    assert!(page.contains("repaired before"), "{page}");
    browser.screenshot("audit-repaired").await?;
    browser
        .open(&url(&format!("/tenants/{SHOP}/audits")))
        .await?;
    browser.click("#run-audit button[type=submit]").await?;
    assert_eq!(browser.text_of("#result").await?, "clean");
    assert_eq!(
        host.sandbox.invoices_by_order()[&placed[1].order.guid.to_string()],
        vec![invoice],
        "the order keeps its one invoice, restored"
    );

    // Another tenant's token sees none of it.
    browser.click("form.signout button").await?;
    browser.open(&url("/sign-in")).await?;
    browser.fill("token", host.token(OTHER)).await?;
    browser.click("button[type=submit]").await?;
    let page = browser
        .open(&url(&format!("/tenants/{SHOP}/audits")))
        .await?;
    assert!(page.contains("403"), "{page}");
    browser.quit().await;
    host.stop().await;
    Ok(())
}
