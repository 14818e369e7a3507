//! The dry run takes order events only: given a stored event of another kind (a SKU changed in the catalogue, a
//! customer's details changed), it answers 400 naming the event's kind and what it takes, not a 502 from reading an
//! order that does not exist.

use crate::admin_api::{SHOP, spawn_admin_host};
use ferry_sim::kentico::{CustomerPatch, SkuPatch};
use ferry_tests::admin::assert_error;
use ferry_tests::plugins::wasm;
use ferry_tests::{TestApp, wait_until};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// The job of the tenant's newest stored event of `kind`, once the webhook has been stored.
async fn stored_event_of(host: &TestApp, kind: &str) -> i64 {
    let newest = || async {
        let (_, events) = host.get("/tenants/shop/events", host.token(SHOP)).await;
        events.as_array().and_then(|e| {
            e.iter()
                .find(|e| e["kind"] == kind)
                .and_then(|e| e["job"].as_i64())
        })
    };
    wait_until(
        Duration::from_secs(30),
        &format!("a stored {kind} event"),
        || async { newest().await.is_some() },
    )
    .await
    .unwrap();
    newest().await.unwrap()
}

async fn dry_run(host: &TestApp, job: i64) -> (StatusCode, Value) {
    host.send(
        reqwest::Method::POST,
        &format!("/tenants/shop/plugins/dry-run?name=renamer&event={job}"),
        Some(host.token(SHOP)),
        Some(wasm("contract-v0-1").into()),
        "application/wasm",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_of_a_sku_or_customer_event_answers_400_naming_its_kind() {
    let host = spawn_admin_host().await;
    let kentico = &host.sandbox.kentico;
    let sku = kentico.catalogue()[0].id;
    kentico
        .update_sku(
            sku,
            SkuPatch {
                name: Some("Renamed for the dry run".into()),
                ..SkuPatch::default()
            },
        )
        .await
        .unwrap();
    let job = stored_event_of(&host, "sku.updated").await;
    let (status, body) = dry_run(&host, job).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("sku.updated") && message.contains("only order events"),
        "{message}"
    );

    let customer = kentico.customers()[0].id;
    assert!(
        kentico
            .update_customer(
                customer,
                CustomerPatch {
                    phone: Some("+44 20 7946 0000".into()),
                    ..CustomerPatch::default()
                },
            )
            .await
    );
    let job = stored_event_of(&host, "customer.updated").await;
    let (status, body) = dry_run(&host, job).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("customer.updated"), "{message}");
    host.stop().await;
}
