//! A tenant whose FreshBooks authorization is refused for good (a wrong client secret: the token endpoint answers
//! `invalid_client`) is marked disconnected after the first refusal. Its events wait, queued, without dead letters
//! and without a token request each; the admin API shows the tenant disconnected and why. Once the secret is
//! fixed (a configuration change), the waiting orders run and FreshBooks ends up with each invoiced once.

use ferry_model::TenantId;
use ferry_store::EventState;
use ferry_tests::{TestApp, assert_exactly_once, valid_mix, wait_until};
use reqwest::StatusCode;
use secrecy::SecretString;
use std::time::Duration;

/// Orders placed while the tenant's secret is wrong.
const ORDERS: u64 = 20;

/// Token requests allowed while disconnected: the one refused, plus slack for a request already in flight.
const TOKEN_REQUESTS_WHILE_REFUSED: u64 = 2;

async fn waiting(app: &TestApp, tenant: &TenantId) -> u64 {
    let mut n = 0;
    for s in [EventState::Queued, EventState::Retrying] {
        n += app
            .store
            .count_in_state(Some(tenant), s)
            .await
            .expect("read the store");
    }
    n
}

async fn total(app: &TestApp, tenant: &TenantId) -> u64 {
    let mut n = 0;
    for s in [
        EventState::Queued,
        EventState::Running,
        EventState::Retrying,
        EventState::Done,
        EventState::Dead,
    ] {
        n += app
            .store
            .count_in_state(Some(tenant), s)
            .await
            .expect("read the store");
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_client_secret_parks_the_tenant_and_fixing_it_invoices_every_order_once() {
    let mut good = None;
    let mut app = TestApp::builder()
        .with_seed(16)
        .with_admin_tokens()
        .with_config(|c| {
            let wrong = SecretString::from("not-the-client-secret".to_owned());
            good = Some(std::mem::replace(
                &mut c.tenants[0].freshbooks.client_secret,
                wrong,
            ));
        })
        .spawn()
        .await
        .unwrap();
    let good = good.expect("the builder ran the config change");
    let tenant = app.tenant.clone();
    let token = app.token(tenant.as_str()).to_owned();

    let placed = app.place(0..ORDERS, &valid_mix()).await;
    wait_until(
        Duration::from_secs(60),
        "every order's webhook is stored",
        || async { total(&app, &tenant).await >= ORDERS },
    )
    .await
    .unwrap();

    // The first event asks for a token and is refused.
    let fb = app.sandbox.freshbooks.sim().clone();
    wait_until(Duration::from_secs(60), "a token request", || async {
        fb.token_requests() > 0
    })
    .await
    .unwrap();
    // Long enough for several claim polls and retry backoffs: a still-running retry loop would show here.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let refused_requests = fb.token_requests();
    let events = total(&app, &tenant).await;
    println!(
        "token requests while the client secret was wrong: {refused_requests} for {events} events"
    );
    let dead = app
        .store
        .count_in_state(Some(&tenant), EventState::Dead)
        .await
        .unwrap();
    assert_eq!(dead, 0, "nothing is dead-lettered while disconnected");
    assert_eq!(waiting(&app, &tenant).await, events, "every event waits");
    assert!(
        (1..=TOKEN_REQUESTS_WHILE_REFUSED).contains(&refused_requests),
        "a refused secret is tried once, not once per event: {refused_requests} token requests for {events} events"
    );
    let (status, view) = app.get(&format!("/tenants/{tenant}"), &token).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["freshbooks"]["connected"], false, "{view}");
    let reason = view["freshbooks"]["disconnected"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("invalid_client"), "says why: {view}");
    assert!(
        app.sandbox.invoices_by_order().is_empty(),
        "nothing was invoiced"
    );

    // The operator fixes the secret (a configuration change; here, a restart with the fixed file).
    app.config.tenants[0].freshbooks.client_secret = good;
    let app = app.restart().await.unwrap();
    let audit = app.settle(&placed).await.unwrap();
    assert_exactly_once(&audit);
    let (_, view) = app
        .get(&format!("/tenants/{tenant}"), app.token(tenant.as_str()))
        .await;
    assert_eq!(view["freshbooks"]["connected"], true, "{view}");
    assert!(view["freshbooks"]["disconnected"].is_null(), "{view}");
    println!(
        "token requests after the fix: {}",
        fb.token_requests() - refused_requests
    );
    app.stop().await;
}
