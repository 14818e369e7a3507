//! The console's plugin pages in a real headless Chromium (JavaScript off), signed in with the shop's own token: a
//! real component from `plugins/` (`contract-v0-1`, which renames invoice lines, capitalises the last name, adds an
//! invoice note and logs "rebuilt N lines") uploaded through the form, dry-run against a stored order found by its
//! Kentico number (the drafts before and after side by side, checked against what FreshBooks holds), activated,
//! seen in the next order's invoice and in the tenant's plugin log page; settings, rollback, moving, removing and
//! putting back, each checked in the store; and the shop's session refused on the other tenant's plugin pages.
//! Screenshots go to the folder `console` names (`target/console-screenshots` or `FERRY_SCREENSHOTS`).

use crate::console::sign_in;
use fantoccini::Locator::Css;
use ferry_model::TenantId;
use ferry_store::PluginState;
use ferry_tests::chromium::{Chromium, screenshot_dir};
use ferry_tests::plugins::wasm;
use ferry_tests::{TestApp, fast_workers, valid_mix, wait_until};
use reqwest::StatusCode;
use std::time::Duration;

const SHOP: &str = "shop";
const OTHER: &str = "other";

/// The visible text of the first element matching `css`.
async fn text(browser: &Chromium, css: &str) -> anyhow::Result<String> {
    Ok(browser.client.find(Css(css)).await?.text().await?)
}

/// Waits (up to 120 s) until version `version` of the tenant's plugin `name` is as `done` says.
async fn wait_for(
    host: &TestApp,
    tenant: &TenantId,
    name: &str,
    version: u32,
    done: impl Fn(&ferry_store::PluginVersion) -> bool,
) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let v = host.store.plugin_version(tenant, name, version).await?;
        if done(&v) {
            return Ok(());
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "{name} v{version} did not settle: {v:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Fills the upload form with `name` and the component at `file` (ticking "activate now" when asked), sends it and
/// returns the page it leads to.
async fn upload(
    browser: &Chromium,
    name: &str,
    file: &std::path::Path,
    activate: bool,
) -> anyhow::Result<String> {
    browser.fill("name", name).await?;
    browser
        .client
        .find(Css("input[name=component]"))
        .await?
        .send_keys(&file.display().to_string())
        .await?;
    if activate {
        browser
            .client
            .find(Css("input[name=activate]"))
            .await?
            .click()
            .await?;
    }
    browser.click("#upload button[type=submit]").await
}

/// A `multipart/form-data` body of text `fields` and one file `component`, and its content type.
fn multipart(fields: &[(&str, &str)], component: &[u8]) -> (Vec<u8>, String) {
    let boundary = "ferry-test-boundary-7d3a";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"component\"; filename=\"x.wasm\"\r\n\
             Content-Type: application/wasm\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(component);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_uploads_dry_runs_and_activates_a_plugin_and_reads_its_log() -> anyhow::Result<()>
{
    let host = TestApp::builder()
        .with_tenants(&[SHOP, OTHER])
        .with_workers(ferry::config::WorkerConfig {
            reconcile_every_secs: 0,
            ..fast_workers()
        })
        .with_admin_tokens()
        .spawn()
        .await?;
    let shop = host.tenant.clone();
    let other = ferry_model::TenantId::parse(OTHER)?;
    let fb = &host.sandbox.freshbooks;
    let account = host.sandbox.account_id.clone();

    // One order synced with no plugin: the stored event the dry run takes, and what FreshBooks holds for it.
    let first = host.place_and_settle(0..1, &valid_mix()).await;
    let number = first[0].order.number.clone();
    let invoices = fb.invoices(&account);
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    let clients = fb.clients(&account);
    assert_eq!(clients.len(), 1, "{clients:?}");
    let last_name = clients[0].lname.clone();

    let component = wasm("contract-v0-1");
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("renamer.wasm");
    std::fs::write(&file, &component)?;

    let browser = Chromium::start().await?;
    let url = |path: &str| format!("{}/console{path}", host.host_url);
    sign_in(&browser, &host, host.token(SHOP)).await?;
    let page = browser.click("nav a[href$=\"/plugins\"]").await?;
    assert!(page.contains("Plugins · shop"), "{page}");
    assert!(page.contains("Nothing uploaded yet"), "{page}");

    // Upload through the form, not activated.
    // It answers before the compile: the version shows its compile state, and is ready once compiled.
    let page = upload(&browser, "renamer", &file, false).await?;
    assert!(page.contains("Uploaded renamer v1"), "{page}");
    let state = text(&browser, "#versions tr[data-plugin=renamer] td.compile").await?;
    assert!(
        state.contains("compiling") || state.contains("ready"),
        "{state}"
    );
    wait_for(&host, &shop, "renamer", 1, |v| {
        v.state == PluginState::Ready
    })
    .await?;
    let page = browser.open(&url("/tenants/shop/plugins")).await?;
    let state = text(&browser, "#versions tr[data-plugin=renamer] td.compile").await?;
    assert_eq!(state.trim(), "ready", "{page}");
    let stored = host.store.plugin_versions(&shop, Some("renamer")).await?;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].size, component.len() as u64);
    assert!(!stored[0].active);
    browser.screenshot("plugins-uploaded").await?;

    // Dry run of v1 on the first order, picked by its Kentico number.
    browser.fill("order", &number).await?;
    let page = browser.click("#dry-run button[type=submit]").await?;
    assert!(page.contains(&format!("Kentico order {number}")), "{page}");
    let last_row = "#drafts tr[data-path=\"/client/last_name\"]";
    assert_eq!(
        text(&browser, &format!("{last_row} td.before")).await?,
        last_name,
        "before: what the serving chain sent FreshBooks"
    );
    assert_eq!(
        text(&browser, &format!("{last_row} td.after")).await?,
        last_name.to_uppercase(),
        "after: the candidate's capitals"
    );
    let note = text(
        &browser,
        "#drafts tr[data-path=\"/invoice/notes\"] td.after",
    )
    .await?;
    assert!(
        note.contains(&format!("v0.1: order {number} has")),
        "{note}"
    );
    let changed = browser.client.find_all(Css("#drafts tr.changed")).await?;
    assert!(changed.len() >= 2, "{page}");
    assert_eq!(
        text(&browser, "#changed-count").await?,
        format!("{} values differ", changed.len())
    );
    let marked = browser
        .client
        .find(Css(last_row))
        .await?
        .attr("class")
        .await?;
    assert_eq!(marked.as_deref(), Some("changed"));
    browser.screenshot("plugin-dry-run").await?;
    // The dry run wrote nothing: no invoice, no activation, no log line.
    assert_eq!(fb.invoices(&account).len(), 1);
    assert!(host.store.active_plugins(&shop).await?.is_empty());
    assert!(host.store.plugin_log(&shop, None, 10).await?.is_empty());

    // Activate v1; the next order runs through it.
    browser.open(&url("/tenants/shop/plugins")).await?;
    let page = browser.click("#activate-renamer-1").await?;
    assert!(page.contains("renamer v1 is active."), "{page}");
    let active = host.store.active_plugins(&shop).await?;
    assert_eq!(
        active
            .iter()
            .map(|v| (v.name.as_str(), v.version))
            .collect::<Vec<_>>(),
        [("renamer", 1)]
    );
    assert_eq!(
        text(&browser, "#chain tr[data-plugin=renamer] td.version").await?,
        "v1"
    );
    browser.screenshot("plugins-active").await?;

    let second = host.place_and_settle(1..2, &valid_mix()).await;
    let second_number = second[0].order.number.clone();
    let noted = fb
        .invoices(&account)
        .into_iter()
        .filter(|i| {
            i.notes
                .contains(&format!("v0.1: order {second_number} has"))
        })
        .count();
    assert_eq!(
        noted, 1,
        "FreshBooks has the second order's invoice with the plugin's note"
    );
    let jobs: Vec<i64> = host
        .store
        .find_by_order_number(&shop, &second_number)
        .await?
        .iter()
        .map(|e| e.job.0)
        .collect();
    wait_until(Duration::from_secs(20), "the plugin's log line", || async {
        host.store
            .plugin_log(&shop, None, 100)
            .await
            .is_ok_and(|l| !l.is_empty())
    })
    .await?;

    // The plugin log page shows the store's lines: plugin, version, level, the event, the message.
    let page = browser.click("#log-link").await?;
    let lines = host.store.plugin_log(&shop, None, 200).await?;
    let rows = browser.client.find_all(Css("#log tbody tr")).await?;
    assert_eq!(rows.len(), lines.len(), "{page}");
    let row = rows[0].text().await?;
    for part in ["renamer", "v1", "info", "rebuilt "] {
        assert!(row.contains(part), "{part}: {row}");
    }
    assert!(
        jobs.iter().any(|j| row.contains(&format!("#{j}"))),
        "the line links the second order's event {jobs:?}: {row}"
    );
    browser.screenshot("plugin-log").await?;
    let page = browser
        .open(&url("/tenants/shop/plugins/log?plugin=renamer"))
        .await?;
    assert_eq!(
        browser.client.find_all(Css("#log tbody tr")).await?.len(),
        lines.len(),
        "{page}"
    );

    // Settings through the form.
    browser.open(&url("/tenants/shop/plugins")).await?;
    browser
        .click("#chain tr[data-plugin=renamer] a[href$=\"/settings\"]")
        .await?;
    browser.fill("key", "note-prefix").await?;
    browser.fill("value", "Shop").await?;
    let page = browser.click("#save").await?;
    assert!(page.contains("Saved 1 settings of renamer."), "{page}");
    let chain = host.store.plugin_chain(&shop).await?;
    let settings = chain[0].settings.clone().unwrap_or_default();
    assert_eq!(
        settings.get("note-prefix").map(String::as_str),
        Some("Shop")
    );

    // A second version activated on upload, then rolled back to v1.
    std::fs::write(&file, wasm("pass-through"))?;
    // Activated once it is compiled (at once when these bytes were compiled before).
    let page = upload(&browser, "renamer", &file, true).await?;
    assert!(
        page.contains("Uploaded renamer v2 and activated it.")
            || page.contains("Uploaded renamer v2; it is compiling and activates when ready."),
        "{page}"
    );
    wait_for(&host, &shop, "renamer", 2, |v| v.active).await?;
    browser.open(&url("/tenants/shop/plugins")).await?;
    let page = browser.click("#rollback-renamer").await?;
    assert!(page.contains("Rolled renamer back to v1."), "{page}");
    let active = host.store.active_plugins(&shop).await?;
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].version, 1);

    // A second plugin: moved before renamer, taken out of the chain, put back.
    let page = upload(&browser, "late", &file, true).await?;
    assert!(
        page.contains("Uploaded late v1 and activated it."),
        "{page}"
    );
    let page = browser.click("#move-up-late").await?;
    assert!(page.contains("Moved late up."), "{page}");
    let order: Vec<String> = host
        .store
        .plugin_chain(&shop)
        .await?
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(order, ["late", "renamer"]);
    let page = browser.click("#deactivate-late").await?;
    assert!(page.contains("late is out of the chain"), "{page}");
    assert!(
        !host
            .store
            .active_plugins(&shop)
            .await?
            .iter()
            .any(|v| v.name == "late")
    );
    browser.screenshot("plugins-chain").await?;
    let page = browser.click("#reactivate-late").await?;
    assert!(page.contains("late v1 is back in the chain."), "{page}");
    assert!(
        host.store
            .active_plugins(&shop)
            .await?
            .iter()
            .any(|v| v.name == "late")
    );

    // The shop's session: another tenant's plugin pages answer 403, and its forms change nothing there.
    for path in [
        "/tenants/other/plugins",
        "/tenants/other/plugins/log",
        "/tenants/other/plugins/renamer/settings",
    ] {
        let page = browser.open(&url(path)).await?;
        assert!(page.contains("403"), "{path}: {page}");
    }
    browser.screenshot("plugins-forbidden").await?;
    browser.open(&url("/tenants/shop/plugins")).await?;
    let csrf = browser
        .client
        .find(Css("input[name=csrf]"))
        .await?
        .attr("value")
        .await?
        .unwrap_or_default();
    let session = browser
        .cookie("ferry_console")
        .await?
        .expect("the session cookie");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = format!("ferry_console={session}");
    let (body, content_type) = multipart(
        &[("csrf", &csrf), ("name", "sneaky"), ("activate", "true")],
        &component,
    );
    let forged = http
        .post(url("/tenants/other/plugins/upload"))
        .header("cookie", &cookie)
        .header("content-type", &content_type)
        .body(body)
        .send()
        .await?;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(host.store.plugin_versions(&other, None).await?.is_empty());
    for action in ["renamer/deactivate", "renamer/rollback"] {
        let forged = http
            .post(url(&format!("/tenants/other/plugins/{action}")))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}"))
            .send()
            .await?;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN, "{action}");
    }
    // An upload to the shop itself without the form's token is refused as well.
    let (body, content_type) = multipart(&[("name", "sneaky")], &component);
    let forged = http
        .post(url("/tenants/shop/plugins/upload"))
        .header("cookie", &cookie)
        .header("content-type", &content_type)
        .body(body)
        .send()
        .await?;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(
        host.store
            .plugin_versions(&shop, Some("sneaky"))
            .await?
            .is_empty()
    );

    browser.quit().await;
    println!("console screenshots: {}", screenshot_dir().display());
    host.stop().await;
    Ok(())
}
