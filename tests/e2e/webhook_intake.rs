//! The webhook door: a signed event is stored once however often it is delivered; a bad one is refused with a
//! reason and stores nothing.

use ferry_tests::webhook::post_signed;
use ferry_tests::{TestApp, assert_exactly_once, valid_mix};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_webhook_creates_one_invoice() -> anyhow::Result<()> {
    let app = TestApp::spawn(21).await?;
    // The sender's own event reaches Ferry; then a replay of the very same event arrives three more times.
    app.sandbox.kentico.set_webhook(None);
    let placed = app.place(0..1, &valid_mix()).await;
    let order = &placed[0].order;
    let body = serde_json::json!({
        "id": format!("evt_{}", order.guid),
        "type": "order.created",
        "occurred_at": "2026-11-25T10:00:00Z",
        "object": {"object_type": "ecommerce.order", "id": order.id, "guid": order.guid,
                   "last_modified": "2026-11-25T10:00:00Z"}
    })
    .to_string();
    let url = format!("{}/hooks/kentico/{}", app.host_url, app.tenant);
    use secrecy::ExposeSecret;
    let secret = app.sandbox.webhook_secret().expose_secret().to_owned();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let id = format!("evt_{}", order.guid);
        statuses.push(
            post_signed(&url, &secret, &id, &body)
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(
        statuses.iter().all(|s| (200..300).contains(s)),
        "{statuses:?}"
    );
    let audit = app.settle(&placed).await?;
    assert_exactly_once(&audit);
    let stored = app
        .store
        .count_in_state(Some(&app.tenant), ferry_store::EventState::Done)
        .await?;
    assert_eq!(stored, 1, "one event stored for four deliveries");
    app.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_badly_signed_webhook_is_refused_and_stores_nothing() -> anyhow::Result<()> {
    // No workers: whatever the refused webhooks might have stored stays in the store for the checks below.
    let app = TestApp::builder()
        .with_seed(22)
        .without_workers()
        .spawn()
        .await?;
    let url = format!("{}/hooks/kentico/{}", app.host_url, app.tenant);
    let body = r#"{"id":"evt_1","type":"order.created","occurred_at":"2026-11-25T10:00:00Z","object":{"object_type":"ecommerce.order","id":1,"guid":"3f1c2a9e-5b7d-4c11-9a4e-2d7f0c8b6a51","last_modified":"2026-11-25T10:00:00Z"}}"#;
    let wrong = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let res = post_signed(&url, wrong, "evt_1", body).await;
    assert_eq!(res.status().as_u16(), 401);
    let err: serde_json::Value = res.json().await?;
    assert!(err["error"]["code"].is_string(), "{err}");
    let unknown = format!("{}/hooks/kentico/nobody", app.host_url);
    use secrecy::ExposeSecret;
    let secret = app.sandbox.webhook_secret().expose_secret().to_owned();
    let res = post_signed(&unknown, &secret, "evt_1", body).await;
    assert_eq!(res.status().as_u16(), 404);
    for state in [
        ferry_store::EventState::Queued,
        ferry_store::EventState::Done,
    ] {
        assert_eq!(app.store.count_in_state(None, state).await?, 0);
    }
    let drained = app.drain().await?;
    assert_eq!(drained.steps(), 0, "no event to run: {drained:?}");
    app.stop().await;
    Ok(())
}
