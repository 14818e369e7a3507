//! Every dead letter carries the class of its error (validation, plugin, authorization, rate_limit, upstream,
//! not_found, conflict, review, internal): listed, shown, filtered with `?class=`, and replayed or discarded by
//! class.

use crate::admin_api::{OTHER, SHOP, invalid, spawn_admin_host};
use ferry_tests::admin::assert_error;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn jobs(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["job"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_carry_their_error_class_and_are_filtered_replayed_and_discarded_by_it() {
    let host = spawn_admin_host().await;
    host.place_and_settle(0..3, &invalid()).await;

    // Invalid orders are validation failures, in the list and in the detail.
    let (status, dead) = host.get("/tenants/shop/dlq", host.token(SHOP)).await;
    assert_eq!(status, StatusCode::OK, "{dead}");
    let all = jobs(&dead);
    assert!(all.len() >= 3, "{dead}");
    assert!(
        dead.as_array()
            .unwrap()
            .iter()
            .all(|e| e["error_class"] == "validation"),
        "{dead}"
    );
    let (status, detail) = host
        .get(&format!("/tenants/shop/dlq/{}", all[0]), host.token(SHOP))
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["event"]["error_class"], "validation", "{detail}");

    // The filter, on both lists; an unknown class is named back.
    let (_, validation) = host.get("/dlq?class=validation", &host.operator).await;
    assert_eq!(jobs(&validation), all);
    let (_, plugin) = host
        .get("/tenants/shop/dlq?class=plugin", host.token(SHOP))
        .await;
    assert_eq!(plugin, json!([]));
    let (_, other) = host.get("/dlq?class=validation", host.token(OTHER)).await;
    assert_eq!(
        other,
        json!([]),
        "other tenant sees none of shop's dead letters"
    );
    let (status, body) = host.get("/dlq?class=bogus", &host.operator).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    assert!(body.to_string().contains("bogus"), "{body}");

    // Replay and discard by class touch only that class.
    let (status, none) = host
        .post(
            "/tenants/shop/dlq/replay-all?class=plugin",
            host.token(SHOP),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert_eq!(none["replayed"], 0);
    let (_, still) = host.get("/tenants/shop/dlq", host.token(SHOP)).await;
    assert_eq!(jobs(&still), all);

    let (status, body) = host
        .post_json(
            "/tenants/shop/dlq/discard-all",
            host.token(SHOP),
            &json!({ "class": "validation", "reason": " " }),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "bad_request");
    let (status, discarded) = host
        .post_json(
            "/tenants/shop/dlq/discard-all",
            host.token(SHOP),
            &json!({ "class": "validation", "reason": "test orders" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{discarded}");
    assert_eq!(discarded["discarded"], all.len());
    let (_, left) = host.get("/tenants/shop/dlq", host.token(SHOP)).await;
    assert_eq!(left, json!([]));
    for job in &all {
        let (_, history) = host
            .get(&format!("/tenants/shop/events/{job}"), host.token(SHOP))
            .await;
        assert_eq!(history["event"]["state"], "discarded", "{history}");
    }
    host.stop().await;
}
