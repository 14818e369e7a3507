//! Callbacks (docs/freshbooks.md §10): registration answers the events family's shapes, the handshake reaches the
//! receiver before anything else, nothing is delivered until the verifier is confirmed, and then each payment write
//! is delivered as a signed form — the signature being HMAC-SHA256 of Python's `json.dumps` of the fields, keyed by
//! the verifier — with drops and duplicates when asked for.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry_sim::freshbooks::{CallbackFaults, FreshBooksSimConfig, HEADER_HMAC, sign};
use serde_json::json;

use super::Ctx;

type Received = Arc<Mutex<Vec<(Vec<(String, String)>, Option<String>)>>>;

/// A receiver that records every form POSTed to it, with its signature header.
async fn receiver() -> anyhow::Result<(String, Received)> {
    let got: Received = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: http::HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let form: Vec<(String, String)> =
                    serde_urlencoded::from_str(&body).unwrap_or_default();
                let sig = headers
                    .get(HEADER_HMAC)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((form, sig));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, got))
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn events_url(c: &Ctx, tail: &str) -> String {
    format!(
        "{}/events/account/{}/events/callbacks{tail}",
        c.sim.base_url(),
        c.account.account_id
    )
}

#[tokio::test]
async fn a_verified_callback_gets_each_payment_signed_with_its_verifier() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let (url, got) = receiver().await?;
    // Validation and auth refusals use the events family's bodies.
    let (s, body) = c
        .send(
            c.http
                .post(events_url(&c, ""))
                .json(&json!({"callback": {"event": "nope", "uri": "x"}})),
        )
        .await?;
    assert_eq!(s, 400);
    assert_eq!(body["errno"], 422);
    assert_eq!(body["details"].as_array().map(Vec::len), Some(2));
    let r = c.http.get(events_url(&c, "")).send().await?;
    assert_eq!(r.status(), 401);

    let (s, body) = c
        .send(
            c.http
                .post(events_url(&c, ""))
                .json(&json!({"callback": {"event": "payment", "uri": url}})),
        )
        .await?;
    assert_eq!(s, 200, "{body}");
    let cb = &body["response"]["result"]["callback"];
    assert_eq!(cb["verified"], false);
    let id = cb["callbackid"].as_u64().unwrap_or_default();
    c.sim.wait_callbacks_idle(Duration::from_secs(5)).await;
    let handshake = got.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(handshake.len(), 1, "the handshake, and nothing else");
    let verifier = field(&handshake[0].0, "verifier")
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        field(&handshake[0].0, "object_id"),
        Some(id.to_string().as_str())
    );

    // Unverified: a payment is not delivered.
    let customer = c.create_client("cb@example.com").await?;
    let inv = c
        .create_invoice(
            customer,
            json!([{"name": "A", "qty": 1, "unit_cost": {"amount": "40"}}]),
            json!({}),
        )
        .await?;
    let invoice = inv["id"].as_u64().unwrap_or_default();
    c.pay(invoice, "10.00", "Cash").await?;
    c.sim.wait_callbacks_idle(Duration::from_secs(5)).await;
    assert_eq!(got.lock().unwrap_or_else(|p| p.into_inner()).len(), 1);

    // A wrong verifier is refused; the right one verifies.
    let (s, _) = c
        .send(
            c.http
                .put(events_url(&c, &format!("/{id}")))
                .json(&json!({"callback": {"verifier": "wrong"}})),
        )
        .await?;
    assert_eq!(s, 400);
    let (s, body) = c
        .send(
            c.http
                .put(events_url(&c, &format!("/{id}")))
                .json(&json!({"callback": {"verifier": verifier}})),
        )
        .await?;
    assert_eq!(s, 200);
    assert_eq!(body["response"]["result"]["callback"]["verified"], true);

    // Now each payment write is delivered once, signed.
    let (_, paid) = c.pay(invoice, "30.00", "Cash").await?;
    let payment = paid["response"]["result"]["payment"]["id"]
        .as_u64()
        .unwrap_or_default();
    c.sim.wait_callbacks_idle(Duration::from_secs(5)).await;
    let all = got.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(all.len(), 2);
    let (form, sig) = &all[1];
    assert_eq!(field(form, "name"), Some("payment.create"));
    assert_eq!(field(form, "object_id"), Some(payment.to_string().as_str()));
    assert_eq!(
        field(form, "account_id"),
        Some(c.account.account_id.as_str())
    );
    assert_eq!(sig.as_deref(), Some(sign(&verifier, form).as_str()));
    assert_ne!(sig.as_deref(), Some(sign("other", form).as_str()));

    // Refunded to zero: payment.update; deleted: payment.delete.
    c.put(
        &format!("payments/payments/{payment}"),
        json!({"payment": {"amount": {"amount": "0.00"}}}),
    )
    .await?;
    c.put(
        &format!("payments/payments/{payment}"),
        json!({"payment": {"vis_state": 1}}),
    )
    .await?;
    c.sim.wait_callbacks_idle(Duration::from_secs(5)).await;
    let names: Vec<String> = got.lock().unwrap_or_else(|p| p.into_inner())[2..]
        .iter()
        .filter_map(|(f, _)| field(f, "name").map(str::to_owned))
        .collect();
    assert_eq!(names, ["payment.update", "payment.delete"]);

    // Faults: every delivery dropped, then every one sent twice.
    c.sim.set_callback_faults(CallbackFaults {
        drop: 1.0,
        ..CallbackFaults::default()
    });
    c.pay(invoice, "1.00", "Cash").await?;
    c.sim.wait_callbacks_idle(Duration::from_secs(5)).await;
    assert_eq!(got.lock().unwrap_or_else(|p| p.into_inner()).len(), 4);
    c.sim.set_callback_faults(CallbackFaults {
        duplicate: 1.0,
        ..CallbackFaults::default()
    });
    c.pay(invoice, "1.00", "Cash").await?;
    c.sim.wait_callbacks_idle(Duration::from_secs(5)).await;
    assert_eq!(got.lock().unwrap_or_else(|p| p.into_inner()).len(), 6);
    let stats = c.sim.callback_stats();
    assert_eq!((stats.dropped, stats.duplicated), (1, 1));

    // Delete answers 204 and stops deliveries.
    let r = c
        .http
        .delete(events_url(&c, &format!("/{id}")))
        .bearer_auth(&c.token)
        .send()
        .await?;
    assert_eq!(r.status(), 204);
    assert!(c.sim.callbacks(&c.account.account_id).is_empty());
    Ok(())
}
