//! "Connect FreshBooks" in the browser: a browser (cookies kept, redirects followed) opens the host's start route with
//! an admin token, lands on the FreshBooks simulator's authorize page, clicks "Allow", and is sent back to the host's
//! one callback (`[admin] public_url` + `/oauth/freshbooks/callback`), which exchanges the code and seals the tokens.
//! Counted from the simulators: a file tenant that FreshBooks disconnected gets its waiting order invoiced once after
//! the reconnect; a stored tenant that never had tokens invoices its next order. A tampered, expired, replayed or
//! other browser's state, and a denied authorization, are refused with a page saying so, and nothing is stored.

use crate::admin_api::{OTHER, SHOP, admin_host, valid};
use ferry_secrets::Keyring;
use ferry_tests::browser::{Browser, Page};
use ferry_tests::{TestApp, assert_exactly_once, process::free_port, wait_until};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::time::Duration;

/// A host listening on a port chosen first, so `admin.public_url` can name it; states expire after `ttl_secs`.
async fn host_with_public_url(ttl_secs: u64, without_shop: bool) -> TestApp {
    let port = free_port().unwrap();
    admin_host()
        .with_config(move |c| {
            c.server.listen = ([127, 0, 0, 1], port).into();
            c.admin.public_url = Some(format!("http://127.0.0.1:{port}"));
            c.admin.connect_ttl_secs = ttl_secs;
            if without_shop {
                c.tenants.retain(|t| t.id.as_str() != SHOP);
            }
        })
        .spawn()
        .await
        .unwrap()
}

fn callback_url(host: &TestApp) -> String {
    format!("{}/oauth/freshbooks/callback", host.host_url)
}

/// The refresh token stored for `tenant`, opened with the host's master key.
async fn stored_refresh_token(host: &TestApp, tenant: &str) -> Option<String> {
    let id = ferry_model::TenantId::parse(tenant).unwrap();
    let keyring = Keyring::from_encoded(&host.config.secrets.master_keys).unwrap();
    let account = host.sandbox.freshbooks.sim().summaries()[0]
        .account_id
        .clone();
    let sealed = host.store.tokens(&id, &account).await.unwrap()?;
    Some(
        keyring
            .open(&sealed.refresh_token)
            .unwrap()
            .expose_secret()
            .to_owned(),
    )
}

/// Opens the start route as `token` and returns the authorize page the browser lands on.
async fn authorize_page(browser: &mut Browser, host: &TestApp, tenant: &str, token: &str) -> Page {
    let page = browser
        .open(
            &format!("{}/connect/freshbooks/{tenant}", host.host_url),
            Some(token),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.url
            .as_str()
            .starts_with(&host.sandbox.freshbooks.base_url()),
        "the browser is on FreshBooks' page: {}",
        page.url
    );
    assert!(page.body.contains("Allow as"), "{}", page.body);
    page
}

async fn connections(host: &TestApp, tenant: &str) -> Value {
    let (status, report) = host
        .post(
            &format!("/tenants/{tenant}/connections/test"),
            &host.operator,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_file_tenant_reconnects_in_the_browser_and_its_waiting_order_is_invoiced_once()
 {
    let host = host_with_public_url(600, false).await;
    let fb = host.sandbox.freshbooks.sim().clone();
    fb.set_auto_approve(false);
    fb.register_redirect_uri(&callback_url(&host));
    let account = fb.summaries()[0].account_id.clone();
    let shop = ferry_model::TenantId::parse(SHOP).unwrap();

    // The owner removes the app in FreshBooks: the next order's refresh is refused and the tenant is disconnected.
    assert!(fb.revoke_tokens(&account) > 0);
    let placed = host.place(0..1, &valid()).await;
    wait_until(
        Duration::from_secs(60),
        "the tenant is marked disconnected",
        || async { host.store.disconnection(&shop).await.unwrap().is_some() },
    )
    .await
    .unwrap();
    let report = connections(&host, SHOP).await;
    assert_eq!(report["freshbooks"]["problem"], "revoked", "{report}");
    let before = stored_refresh_token(&host, SHOP).await.unwrap();

    let mut browser = Browser::new();
    let page = authorize_page(&mut browser, &host, SHOP, host.token(SHOP)).await;
    let done = browser.submit(&page, "Allow as", |_| {}).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.url.as_str().starts_with(&callback_url(&host)),
        "{}",
        done.url
    );
    assert!(done.body.contains("FreshBooks connected"), "{}", done.body);
    assert!(
        done.body.contains("Tenant shop is connected"),
        "{}",
        done.body
    );

    // What FreshBooks saw: the tenant's app, the host's one redirect URI, a state and a PKCE challenge.
    let seen = fb.authorizations();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].client_id.as_deref(),
        Some(ferry::sandbox::SANDBOX_CLIENT_ID)
    );
    assert_eq!(seen[0].redirect_uri, callback_url(&host));
    assert!(seen[0].has_state);
    assert_eq!(seen[0].pkce_method.as_deref(), Some("S256"));

    // New tokens, sealed; the disconnected mark is gone and the waiting order is invoiced, once.
    let after = stored_refresh_token(&host, SHOP).await.unwrap();
    assert_ne!(after, before, "the new pair replaced the refused one");
    let db = std::fs::read(host.dir.path().join("ferry.db")).unwrap();
    let wal = std::fs::read(host.dir.path().join("ferry.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(after.len()).any(|w| w == after.as_bytes()),
            "the refresh token is stored sealed"
        );
    }
    assert!(host.store.disconnection(&shop).await.unwrap().is_none());
    let audit = host.settle(&placed).await.unwrap();
    assert_exactly_once(&audit);
    assert_eq!(audit.invoiced, 1, "{audit:#?}");
    let report = connections(&host, SHOP).await;
    assert_eq!(report["ok"], true, "{report}");

    // The same redirect again (a reload, or someone replaying it): refused, nothing changes.
    let callback = done.visited.last().unwrap().clone();
    let token_requests = fb.token_requests();
    let replay = browser.open(callback.as_str(), None).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{}", replay.body);
    assert!(replay.body.contains("already used"), "{}", replay.body);
    assert_eq!(
        fb.token_requests(),
        token_requests,
        "the code was not sent again"
    );
    assert_eq!(stored_refresh_token(&host, SHOP).await.unwrap(), after);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_tenant_without_tokens_connects_in_the_browser_and_its_next_order_is_invoiced() {
    let host = host_with_public_url(600, true).await;
    let fb = host.sandbox.freshbooks.sim().clone();
    fb.set_auto_approve(false);
    let other = host
        .config
        .tenants
        .iter()
        .find(|t| t.id.as_str() == OTHER)
        .unwrap();
    let mut body = ferry::sandbox::Sandbox::tenant_request(other);
    body["id"] = json!(SHOP);
    body["freshbooks"]
        .as_object_mut()
        .unwrap()
        .remove("refresh_token");
    let (status, view) = host.post_json("/tenants", &host.operator, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{view}");
    let report = connections(&host, SHOP).await;
    assert_eq!(report["freshbooks"]["problem"], "not_connected", "{report}");
    assert_eq!(report["kentico"]["ok"], true, "{report}");
    assert_eq!(stored_refresh_token(&host, SHOP).await, None);

    let token = host.api_token(SHOP).await;
    let mut browser = Browser::new();
    let page = authorize_page(&mut browser, &host, SHOP, &token).await;
    let done = browser.submit(&page, "Allow as", |_| {}).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains("Tenant shop is connected"),
        "{}",
        done.body
    );
    assert!(
        stored_refresh_token(&host, SHOP).await.is_some(),
        "tokens stored"
    );

    let placed = host.place(0..2, &valid()).await;
    let audit = host.settle(&placed).await.unwrap();
    assert_exactly_once(&audit);
    assert_eq!(audit.invoiced, 2, "{audit:#?}");
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_expired_other_browser_and_denied_authorizations_are_refused_and_store_nothing() {
    // States live 2 s here, so one can expire during the test.
    let host = host_with_public_url(2, false).await;
    let fb = host.sandbox.freshbooks.sim().clone();
    fb.set_auto_approve(false);
    let before = stored_refresh_token(&host, SHOP).await.unwrap();
    let token_requests_before = fb.token_requests();
    let token = host.token(SHOP).to_owned();

    // An altered state.
    let mut browser = Browser::new();
    let page = authorize_page(&mut browser, &host, SHOP, &token).await;
    let altered = browser
        .submit(&page, "Allow as", |fields| {
            let state = fields.iter_mut().find(|(k, _)| k == "state").unwrap();
            let mut bytes = state.1.clone().into_bytes();
            let i = bytes.len() / 2;
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            state.1 = String::from_utf8(bytes).unwrap();
        })
        .await;
    assert_eq!(altered.status, StatusCode::BAD_REQUEST, "{}", altered.body);
    assert!(
        altered
            .body
            .contains("was altered or was not issued by this host"),
        "{}",
        altered.body
    );

    // Another browser finishing this browser's request (a link sent to someone else).
    let page = authorize_page(&mut browser, &host, SHOP, &token).await;
    let mut stranger = Browser::new();
    let foreign = stranger.submit(&page, "Allow as", |_| {}).await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST, "{}", foreign.body);
    assert!(
        foreign.body.contains("this browser did not start"),
        "{}",
        foreign.body
    );

    // The user clicks "Deny".
    let page = authorize_page(&mut browser, &host, SHOP, &token).await;
    let denied = browser.submit(&page, "Deny", |_| {}).await;
    assert_eq!(denied.status, StatusCode::BAD_REQUEST, "{}", denied.body);
    assert!(
        denied.body.contains("did not grant access (access_denied)"),
        "{}",
        denied.body
    );

    // Too slow: the state expired between the click on "Connect" and FreshBooks' redirect back.
    let page = authorize_page(&mut browser, &host, SHOP, &token).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let expired = browser.submit(&page, "Allow as", |_| {}).await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST, "{}", expired.body);
    assert!(expired.body.contains("expired"), "{}", expired.body);

    // No callback reached the token endpoint, and the stored tokens are the ones from before.
    assert_eq!(fb.token_requests(), token_requests_before);
    assert_eq!(stored_refresh_token(&host, SHOP).await.unwrap(), before);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_token_that_may_see_the_tenant_starts_its_connection() {
    let host = host_with_public_url(600, false).await;
    let start = |tenant: &str| format!("{}/connect/freshbooks/{tenant}", host.host_url);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let send = |tenant: &str, token: Option<&str>| {
        let mut req = http.get(start(tenant));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let other_tenant = send(OTHER, Some(host.token(SHOP))).await.unwrap();
    assert_eq!(other_tenant.status(), StatusCode::FORBIDDEN);
    let body: Value = other_tenant.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may not see tenant other"),
        "{body}"
    );
    assert_eq!(
        send(SHOP, None).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(SHOP, Some("ferry_not-a-token"))
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let own = send(SHOP, Some(host.token(SHOP))).await.unwrap();
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    assert!(
        own.headers()["location"]
            .to_str()
            .unwrap()
            .contains("/oauth/authorize?")
    );
    let cookie = own.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Path=/oauth/freshbooks/callback"),
        "{cookie}"
    );
    let operator = send(OTHER, Some(&host.operator)).await.unwrap();
    assert_eq!(
        operator.status(),
        StatusCode::SEE_OTHER,
        "operators may connect any tenant"
    );
    // Nothing reached FreshBooks' token endpoint.
    assert_eq!(host.sandbox.freshbooks.sim().authorizations().len(), 0);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_public_url_the_start_route_names_the_missing_setting() {
    let host = crate::admin_api::spawn_admin_host().await;
    let response = reqwest::Client::new()
        .get(format!("{}/connect/freshbooks/{SHOP}", host.host_url))
        .bearer_auth(host.token(SHOP))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("admin.public_url"),
        "{body}"
    );
    host.stop().await;
}
