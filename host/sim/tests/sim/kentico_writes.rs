//! `PUT` through the Kentico simulator's REST service: what a payment write-back relies on — the permission model's
//! refusals (read-only site, no modify permission, create and delete), 400s for what cannot be written, and an
//! accepted write that changes the order, raises its webhook events and is recorded once.

use ferry_sim::kentico::{KenticoSim, KenticoSimConfig, OrderMix, WebhookTarget};
use serde_json::json;

async fn put(
    sim: &ferry_sim::kentico::KenticoHandle,
    path: &str,
    body: serde_json::Value,
) -> anyhow::Result<(u16, String)> {
    let r = reqwest::Client::new()
        .put(format!("{}/rest/{path}?format=json", sim.base_url()))
        .basic_auth("ferry", Some("sandbox"))
        .json(&body)
        .send()
        .await?;
    Ok((r.status().as_u16(), r.text().await?))
}

#[tokio::test]
async fn an_order_put_marks_it_paid_and_the_permission_model_refuses_the_rest() -> anyhow::Result<()>
{
    let sim = KenticoSim::start(KenticoSimConfig::default()).await?;
    // A receiver that takes every webhook, so the emitted events can be counted.
    let app = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    sim.set_webhook(Some(WebhookTarget {
        url: hook,
        secret: ferry_sim::kentico::random_secret(1),
    }));
    let mix = OrderMix {
        invalid: 0.0,
        foreign_currency: 0.0,
        paid: 0.0,
    };
    let placed = sim.place_order(sim.random_order(0, &mix)).await;
    let before = sim.order(placed.id).expect("order");
    assert!(!before.is_paid);
    let emitted = sim.webhook_stats().emitted;

    // Unknown columns and bad values are refused and change nothing.
    let (s, _) = put(
        &sim,
        &format!("ecommerce.order/{}", placed.id),
        json!({"data": {"OrderNope": 1}}),
    )
    .await?;
    assert_eq!(s, 400);
    let (s, _) = put(
        &sim,
        &format!("ecommerce.order/{}", placed.id),
        json!({"data": {"OrderStatusID": 999}}),
    )
    .await?;
    assert_eq!(s, 400);
    let (s, _) = put(
        &sim,
        &format!("ecommerce.order/{}", placed.id),
        json!({"data": {"OrderTotalPrice": 1}}),
    )
    .await?;
    assert_eq!(s, 400);
    // Other types need their own modify permission; unknown orders are 404.
    let (s, _) = put(
        &sim,
        "ecommerce.customer/1",
        json!({"data": {"CustomerFirstName": "x"}}),
    )
    .await?;
    assert_eq!(s, 403);
    let (s, _) = put(
        &sim,
        "ecommerce.order/999999",
        json!({"data": {"OrderIsPaid": true}}),
    )
    .await?;
    assert_eq!(s, 404);
    assert!(sim.rest_writes().is_empty());

    // The write: OrderIsPaid and the status, by GUID, in one PUT.
    let (s, body) = put(
        &sim,
        &format!("ecommerce.order/{}", placed.guid),
        json!({"data": {"OrderIsPaid": true, "OrderStatusID": status_id(&sim, "PaymentReceived").await?}}),
    )
    .await?;
    assert_eq!(s, 200, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(reply["COM_Order"]["OrderID"], placed.id);
    let after = sim.order(placed.id).expect("order");
    assert!(after.is_paid);
    assert_eq!(after.status, "PaymentReceived");
    assert_eq!(sim.rest_writes().len(), 1);
    assert!(sim.rest_writes()[0].changed);
    assert!(
        sim.webhook_stats().emitted >= emitted + 2,
        "order.status_changed and order.paid"
    );

    // The same PUT again changes nothing and raises nothing.
    let emitted = sim.webhook_stats().emitted;
    let (s, _) = put(
        &sim,
        &format!("ecommerce.order/{}", placed.id),
        json!({"COM_Order": {"OrderIsPaid": true}}),
    )
    .await?;
    assert_eq!(s, 200);
    assert!(!sim.rest_writes()[1].changed);
    assert_eq!(sim.webhook_stats().emitted, emitted);

    // Create and delete are never permitted; a read-only site refuses every write.
    let r = reqwest::Client::new()
        .delete(format!(
            "{}/rest/ecommerce.order/{}",
            sim.base_url(),
            placed.id
        ))
        .basic_auth("ferry", Some("sandbox"))
        .send()
        .await?;
    assert_eq!(r.status(), 403);
    let ro = KenticoSim::start(KenticoSimConfig {
        objects_read_only: true,
        ..KenticoSimConfig::default()
    })
    .await?;
    let placed = ro.place_order(ro.random_order(0, &mix)).await;
    let (s, body) = put(
        &ro,
        &format!("ecommerce.order/{}", placed.id),
        json!({"data": {"OrderIsPaid": true}}),
    )
    .await?;
    assert_eq!(
        (s, body.as_str()),
        (403, "The REST service is set to read-only mode.")
    );
    assert!(!ro.order(placed.id).expect("order").is_paid);
    Ok(())
}

async fn status_id(sim: &ferry_sim::kentico::KenticoHandle, code: &str) -> anyhow::Result<i64> {
    let v =
        crate::kentico_rest_json(sim, &format!("ecommerce.orderstatus/currentsite/{code}")).await?;
    let row = v["data"]
        .as_object()
        .and_then(|d| {
            d.values()
                .next()
                .filter(|x| x.is_object())
                .or(Some(&v["data"]))
                .cloned()
        })
        .unwrap_or_default();
    row["StatusID"]
        .as_i64()
        .or_else(|| v["data"]["StatusID"].as_i64())
        .ok_or_else(|| anyhow::anyhow!("no StatusID in {v}"))
}
