//! `POST /tenants/{tenant}/backfill`: orders whose webhooks never reached the host (and that the host never polled
//! for: reconciliation is off in these tests) are read from Kentico, enqueued and invoiced once; a second backfill
//! finds everything covered and enqueues nothing.

use crate::managed_tenants::tenant_cli;
use crate::support::{Host, OTHER, SHOP, assert_error, valid};
use ferry_model::TenantId;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_enqueues_what_no_webhook_delivered_and_only_once() {
    let host = Host::spawn().await;
    let shop = TenantId::parse(SHOP).unwrap();
    host.sandbox.kentico.skip_webhooks(1.0);
    let mut placed = Vec::new();
    for n in 0..3 {
        placed.push(host.sandbox.place(n, &valid()).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, events) = host.get("/tenants/shop/events", &host.shop).await;
    assert_eq!(events, json!([]), "no webhook reached the host: {events}");

    let since = json!({ "since": "2000-01-01" });
    let (status, body) = host
        .post_json("/tenants/shop/backfill", &host.shop, &since)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["since"], "2000-01-01T00:00:00Z");
    let enqueued = body["enqueued"].as_u64().unwrap();
    assert!(
        enqueued >= 3 && body["seen"].as_u64().unwrap() >= enqueued,
        "the three orders (and the store's customers) were enqueued: {body}"
    );
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
            &host.shop,
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
        .post_json(&format!("/tenants/{OTHER}/backfill"), &host.shop, &since)
        .await;
    assert_error(status, &err, StatusCode::FORBIDDEN, "forbidden");
    host.stop().await;
}
