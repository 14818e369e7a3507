//! The dispatcher against a real HTTP receiver (a Slack-compatible webhook on 127.0.0.1:0): a condition reported
//! many times sends one message and one recovery; dead letters over a window are one message with counts per
//! class; a destination over its hourly budget gets no more.

#![allow(clippy::unwrap_used)]

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use ferry_alert::{Alerts, AlertsConfig, ChannelConfig, Condition};
use ferry_model::{ErrorClass, TenantId};
use serde_json::Value;
use std::sync::{Arc, Mutex};

type Texts = Arc<Mutex<Vec<String>>>;

async fn receiver() -> (String, Texts) {
    let texts: Texts = Arc::default();
    let app = axum::Router::new()
        .route(
            "/",
            post(|State(t): State<Texts>, Json(v): Json<Value>| async move {
                t.lock()
                    .unwrap()
                    .push(v["text"].as_str().unwrap_or("").to_owned());
            }),
        )
        .with_state(texts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, texts)
}

fn start(url: &str, max_per_hour: u32) -> (Alerts, ferry_alert::AlertsHandle) {
    let config = AlertsConfig {
        channels: vec![ChannelConfig::Slack {
            url: url.to_owned().into(),
        }],
        window_secs: 600,
        max_per_hour,
        public_url: Some("https://ferry.example".to_owned()),
        ..AlertsConfig::default()
    };
    Alerts::start(config, Arc::new(|_: &TenantId| Vec::new()))
}

fn shop() -> TenantId {
    TenantId::parse("shop").unwrap()
}

#[tokio::test]
async fn a_condition_reported_many_times_sends_one_message_and_one_recovery() {
    let (url, texts) = receiver().await;
    let (alerts, handle) = start(&url, 30);
    let breaker = Condition::tenant(&shop(), "breaker.freshbooks");
    for _ in 0..20 {
        alerts.raise(
            breaker.clone(),
            "freshbooks circuit breaker opened",
            vec![],
            None,
        );
    }
    for _ in 0..5 {
        alerts.clear(breaker.clone(), "freshbooks circuit breaker closed");
    }
    // Never raised: nothing to recover from.
    alerts.clear(
        Condition::tenant(&shop(), "backlog.old"),
        "the backlog is moving again",
    );
    handle.stop().await;
    let texts = texts.lock().unwrap().clone();
    assert_eq!(texts.len(), 2, "{texts:#?}");
    // Each is delivered on its own task: they may arrive in either order.
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("[Ferry] shop: freshbooks circuit breaker opened"))
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("[Ferry] shop: resolved: freshbooks circuit breaker closed"))
    );
}

#[tokio::test]
async fn dead_letters_over_a_window_are_one_message_with_counts_per_class() {
    let (url, texts) = receiver().await;
    let (alerts, handle) = start(&url, 30);
    for i in 0..50 {
        let class = if i % 5 == 0 {
            ErrorClass::Plugin
        } else {
            ErrorClass::Validation
        };
        alerts.dead_lettered(&shop(), class);
    }
    handle.stop().await;
    let texts = texts.lock().unwrap().clone();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    let text = &texts[0];
    assert!(text.contains("50 new dead letter(s)"), "{text}");
    assert!(
        text.contains("\nvalidation: 40") && text.contains("\nplugin: 10"),
        "{text}"
    );
    assert!(
        text.contains("https://ferry.example/console/tenants/shop/dlq"),
        "{text}"
    );
}

#[tokio::test]
async fn a_destination_over_its_hourly_budget_gets_no_more_messages_and_no_orphan_recovery() {
    let (url, texts) = receiver().await;
    let (alerts, handle) = start(&url, 2);
    for name in ["a", "b", "c", "d"] {
        alerts.raise(
            Condition::tenant(&shop(), name),
            format!("condition {name}"),
            vec![],
            None,
        );
    }
    // c and d were not sent, so their recoveries are not either; a's is, past the budget.
    for name in ["a", "c", "d"] {
        alerts.clear(Condition::tenant(&shop(), name), format!("{name} cleared"));
    }
    handle.stop().await;
    let texts = texts.lock().unwrap().clone();
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert!(texts.iter().any(|t| t.contains("condition a")));
    assert!(texts.iter().any(|t| t.contains("condition b")));
    assert!(texts.iter().any(|t| t.contains("a cleared")));
}
