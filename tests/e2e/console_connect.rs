//! A tenant's console page in a real headless Chromium (JavaScript off): "Test connection" names what fails (a
//! FreshBooks authorization revoked in FreshBooks, Kentico's REST service switched off, a wrong Kentico password);
//! "Connect FreshBooks" goes through the FreshBooks simulator's authorize page and lands back on the tenant's page,
//! connected, with a new token pair sealed in the store; then both connections test OK — with FreshBooks accepting the
//! new token, since it refuses every token from before.

use crate::console::sign_in;
use ferry_secrets::Keyring;
use ferry_tests::chromium::{Chromium, screenshot_dir};
use ferry_tests::{TestApp, fast_workers, process::free_port};
use secrecy::{ExposeSecret, SecretString};

const SHOP: &str = "shop";
/// A tenant whose Kentico password is wrong.
const WRONG: &str = "wrong";

/// The refresh token stored for `tenant`, opened with the host's master key.
async fn stored_refresh_token(host: &TestApp, tenant: &str) -> anyhow::Result<Option<String>> {
    let id = ferry_model::TenantId::parse(tenant)?;
    let keyring = Keyring::from_encoded(&host.config.secrets.master_keys)?;
    let Some(sealed) = host.store.tokens(&id, &host.sandbox.account_id).await? else {
        return Ok(None);
    };
    Ok(Some(
        keyring
            .open(&sealed.refresh_token)?
            .expose_secret()
            .to_owned(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_page_tests_its_connections_and_connects_freshbooks_through_the_authorize_page()
-> anyhow::Result<()> {
    // The host's public URL names its port, so FreshBooks can send the browser back to it.
    let port = free_port()?;
    let host = TestApp::builder()
        .with_tenants(&[SHOP, WRONG])
        .with_workers(ferry::config::WorkerConfig {
            reconcile_every_secs: 0,
            ..fast_workers()
        })
        .with_config(move |c| {
            c.server.listen = ([127, 0, 0, 1], port).into();
            c.admin.public_url = Some(format!("http://127.0.0.1:{port}"));
            if let Some(t) = c.tenants.iter_mut().find(|t| t.id.as_str() == WRONG) {
                t.kentico.password = SecretString::from("not-the-password".to_owned());
            }
        })
        .with_admin_tokens()
        .spawn()
        .await?;
    let fb = host.sandbox.freshbooks.sim().clone();
    fb.set_auto_approve(false);
    fb.register_redirect_uri(&format!("{}/oauth/freshbooks/callback", host.host_url));
    let account = host.sandbox.account_id.clone();

    // The owner removes the app in FreshBooks: every token Ferry holds is refused from now on.
    assert!(fb.revoke_tokens(&account) > 0);
    fb.expire_access_tokens(None);
    let before = stored_refresh_token(&host, SHOP).await?;

    let browser = Chromium::start().await?;
    sign_in(&browser, &host, &host.operator).await?;
    let page = browser
        .open(&format!("{}/console/tenants/{SHOP}", host.host_url))
        .await?;
    assert!(page.contains("Connect FreshBooks"), "{page}");
    let page = browser.click("#test").await?;
    assert!(
        browser
            .text_of("#test-result tr[data-service=kentico]")
            .await?
            .contains("works"),
        "{page}"
    );
    let freshbooks = browser
        .text_of("#test-result tr[data-service=freshbooks]")
        .await?;
    assert!(
        freshbooks.contains("revoked") && freshbooks.contains("connect FreshBooks again"),
        "{freshbooks}"
    );
    browser.screenshot("tenant-revoked").await?;

    // Connect FreshBooks: FreshBooks' page, "Allow", and back on the tenant's page, connected.
    let page = browser.click("#connect").await?;
    assert!(page.contains("Allow as"), "on FreshBooks' page: {page}");
    browser.screenshot("freshbooks-authorize").await?;
    let page = browser.click("button[value=allow]").await?;
    let url = browser.client.current_url().await?;
    assert_eq!(
        url.path(),
        format!("/console/tenants/{SHOP}"),
        "back on the console: {page}"
    );
    assert!(page.contains("FreshBooks is connected"), "{page}");
    assert_eq!(
        browser
            .text_of("#connections tr[data-service=freshbooks] .badge")
            .await?,
        "connected"
    );
    assert_eq!(fb.authorizations().len(), 1, "one authorization allowed");
    let after = stored_refresh_token(&host, SHOP).await?;
    assert!(
        after.is_some() && after != before,
        "a new refresh token, sealed"
    );
    browser.screenshot("tenant-connected").await?;

    // Both work: FreshBooks answers, which it only does for the token pair just granted.
    browser.click("#test").await?;
    for service in ["kentico", "freshbooks"] {
        let row = browser
            .text_of(&format!("#test-result tr[data-service={service}]"))
            .await?;
        assert!(row.contains("works"), "{service}: {row}");
    }
    browser.screenshot("tenant-test-ok").await?;

    // Kentico's REST service switched off in its settings: named, with where to switch it on.
    host.sandbox.kentico.set_rest_enabled(false);
    browser.click("#test").await?;
    let kentico = browser
        .text_of("#test-result tr[data-service=kentico]")
        .await?;
    assert!(
        kentico.contains("service_disabled") && kentico.contains("Settings → Integration → REST"),
        "{kentico}"
    );
    assert!(
        browser
            .text_of("#test-result tr[data-service=freshbooks]")
            .await?
            .contains("works")
    );
    browser.screenshot("tenant-kentico-disabled").await?;
    host.sandbox.kentico.set_rest_enabled(true);

    // A wrong Kentico password: named, with the fields to check.
    browser
        .open(&format!("{}/console/tenants/{WRONG}", host.host_url))
        .await?;
    browser.click("#test").await?;
    let kentico = browser
        .text_of("#test-result tr[data-service=kentico]")
        .await?;
    assert!(
        kentico.contains("bad_credentials")
            && kentico.contains("tenants.wrong.kentico.username and password"),
        "{kentico}"
    );

    // A tenant token does not see another tenant's page, so it cannot connect or test it.
    sign_in(&browser, &host, host.token(WRONG)).await?;
    let other = browser
        .open(&format!("{}/console/tenants/{SHOP}", host.host_url))
        .await?;
    assert!(other.contains("403"), "{other}");

    browser.quit().await;
    println!("console screenshots: {}", screenshot_dir().display());
    host.stop().await;
    Ok(())
}
