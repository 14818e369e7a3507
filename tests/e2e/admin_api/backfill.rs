//! `POST /tenants/{tenant}/backfill`: orders whose webhooks never reached the host (and that the host never polled
//! for: reconciliation is off in these tests) are read from Kentico, enqueued and invoiced once; a second backfill
//! finds everything covered and enqueues nothing.

use crate::admin_api::managed_tenants::tenant_cli;
use crate::admin_api::{OTHER, SHOP, admin_host, valid};
use ferry_model::TenantId;
use ferry_tests::admin::assert_error;
use ferry_tests::wait_until;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

/// Places three orders whose webhooks Kentico never sends, and waits until its sender has given them all up.
async fn place_unannounced(host: &ferry_tests::TestApp) -> Vec<ferry::sandbox::audit::Placed> {
    host.sandbox.kentico.skip_webhooks(1.0);
    let mut placed = Vec::new();
    for n in 0..3 {
        placed.push(host.sandbox.place(n, &valid()).await);
    }
    let sender = &host.sandbox.kentico;
    wait_until(
        Duration::from_secs(30),
        "the webhook sender is idle",
        move || async move {
            let stats = sender.webhook_stats();
            stats.emitted >= 3 && stats.emitted == stats.delivered + stats.skipped + stats.gave_up
        },
    )
    .await
    .unwrap();
    placed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_enqueues_what_no_webhook_delivered_and_only_once() {
    // No workers: the test steps the pipeline itself, so "nothing arrived" is checked without waiting.
    let host = admin_host().without_workers().spawn().await.unwrap();
    let shop = TenantId::parse(SHOP).unwrap();
    let placed = place_unannounced(&host).await;
    let (_, events) = host.get("/tenants/shop/events", host.token(SHOP)).await;
    assert_eq!(events, json!([]), "no webhook reached the host: {events}");
    let drained = host.drain().await.unwrap();
    assert_eq!(
        drained.steps(),
        0,
        "nothing to run before the backfill: {drained:?}"
    );

    let since = json!({ "since": "2000-01-01" });
    let (status, body) = host
        .post_json("/tenants/shop/backfill", host.token(SHOP), &since)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["since"], "2000-01-01T00:00:00Z");
    let enqueued = body["enqueued"].as_u64().unwrap();
    assert!(
        enqueued >= 3 && body["seen"].as_u64().unwrap() >= enqueued,
        "the three orders (and the store's customers) were enqueued: {body}"
    );
    host.drain_until_idle(Duration::from_secs(120))
        .await
        .unwrap();
    let settled = host
        .sandbox
        .wait_settled(&host.store, &shop, &placed, Duration::from_secs(120))
        .await
        .unwrap();
    assert!(settled, "the backfilled orders settled");
    let invoices = host.sandbox.invoices_by_order();
    for p in &placed {
        let guid = p.order.guid.to_string();
        assert_eq!(
            invoices.get(&guid).map(Vec::len),
            Some(1),
            "order {guid} has one invoice"
        );
    }

    // Again, through `ferry tenant backfill`.
    let printed = tenant_cli(&host, &["backfill", SHOP, "--since", "2000-01-01"])
        .await
        .unwrap();
    let again: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(again["enqueued"], 0, "everything is covered now: {again}");
    assert_eq!(again["seen"], body["seen"]);

    let (status, err) = host
        .post_json(
            "/tenants/shop/backfill",
            host.token(SHOP),
            &json!({ "since": "last week" }),
        )
        .await;
    assert_error(status, &err, StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("since:")
    );
    let (status, err) = host
        .post_json(
            &format!("/tenants/{OTHER}/backfill"),
            host.token(SHOP),
            &since,
        )
        .await;
    assert_error(status, &err, StatusCode::FORBIDDEN, "forbidden");
    host.stop().await;
}

/// `ferry tenant backfill --wait` returns only once the backfilled orders are worked off: their invoices are in
/// FreshBooks when it returns, without waiting further.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_wait_returns_when_the_backlog_is_worked_off() {
    let host = admin_host().spawn().await.unwrap();
    let placed = place_unannounced(&host).await;

    let printed = tenant_cli(
        &host,
        &["backfill", SHOP, "--since", "2000-01-01", "--wait"],
    )
    .await
    .unwrap();
    let (answer, summary) = printed.rsplit_once("}\n").unwrap();
    let answer: serde_json::Value = serde_json::from_str(&format!("{answer}}}")).unwrap();
    let enqueued = answer["enqueued"].as_u64().unwrap();
    assert!(enqueued >= 3, "{printed}");
    assert!(
        summary
            .contains("finished since the backfill began, 0 of them dead-lettered; backlog empty"),
        "{printed}"
    );
    let invoices = host.sandbox.invoices_by_order();
    for p in &placed {
        let guid = p.order.guid.to_string();
        assert_eq!(
            invoices.get(&guid).map(Vec::len),
            Some(1),
            "order {guid} is invoiced once when --wait returns: {printed}"
        );
    }
    host.stop().await;
}
