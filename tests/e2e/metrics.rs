//! `/metrics` after a run, read as Prometheus reads it (`prometheus-parse`): every family the README documents is
//! there with its HELP line, its type and its labels, and its values are what happened: the webhooks the test
//! posted, the events the store holds in each state, the runs and steps the store recorded.
//!
//! The host runs in this test binary's process, where every host shares one metrics recorder, so the tenant has a
//! name of its own and every check reads only that tenant's series.

use ferry_store::EventState;
use ferry_tests::{SETTLE_TIMEOUT, TestApp, assert_exactly_once, valid_mix, wait_until};
use prometheus_parse::{Sample, Scrape, Value};
use secrecy::ExposeSecret as _;
use std::collections::BTreeMap;
use std::time::Duration;

/// Every family the README's metrics table documents, with its type and the labels each series carries.
const DOCUMENTED: &[(&str, Kind, &[&str])] = &[
    ("ferry_store_events", Kind::Gauge, &["tenant", "state"]),
    (
        "ferry_pipeline_step_seconds",
        Kind::Histogram,
        &["tenant", "step"],
    ),
    (
        "ferry_worker_runs_total",
        Kind::Counter,
        &["tenant", "outcome"],
    ),
    (
        "ferry_ingest_webhooks_total",
        Kind::Counter,
        &["tenant", "result"],
    ),
    ("ferry_reconcile_enqueued_total", Kind::Counter, &["tenant"]),
    (
        "ferry_outbound_breaker_state",
        Kind::Gauge,
        &["tenant", "downstream"],
    ),
    (
        "ferry_outbound_requests_total",
        Kind::Counter,
        &["tenant", "downstream", "outcome"],
    ),
    (
        "ferry_outbound_request_duration_seconds",
        Kind::Histogram,
        &["tenant", "downstream"],
    ),
    (
        "ferry_usage_orders_synced_total",
        Kind::Counter,
        &["tenant"],
    ),
    (
        "ferry_usage_calls_total",
        Kind::Counter,
        &["tenant", "downstream"],
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

fn kind(value: &Value) -> Option<Kind> {
    match value {
        Value::Counter(_) => Some(Kind::Counter),
        Value::Gauge(_) => Some(Kind::Gauge),
        Value::Histogram(_) => Some(Kind::Histogram),
        Value::Summary(_) | Value::Untyped(_) => None,
    }
}

/// A counter's or gauge's value, or a histogram's observation count (its `+Inf` bucket).
fn number(value: &Value) -> f64 {
    match value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        Value::Histogram(buckets) => buckets
            .iter()
            .find(|b| b.less_than.is_infinite())
            .map_or(f64::NAN, |b| b.count),
        Value::Summary(_) => f64::NAN,
    }
}

async fn scrape(app: &TestApp) -> anyhow::Result<Scrape> {
    let text = reqwest::get(format!("{}/metrics", app.host_url))
        .await?
        .error_for_status()?
        .text()
        .await?;
    Ok(Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))?)
}

/// The samples of `family` that belong to `tenant`.
fn of<'a>(scrape: &'a Scrape, family: &str, tenant: &str) -> Vec<&'a Sample> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == family && s.labels.get("tenant") == Some(tenant))
        .collect()
}

/// The value of the one sample of `family` for `tenant` whose labels include `labels` (0 when there is none).
fn value(scrape: &Scrape, family: &str, tenant: &str, labels: &[(&str, &str)]) -> f64 {
    let matching: Vec<_> = of(scrape, family, tenant)
        .into_iter()
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect();
    assert!(
        matching.len() <= 1,
        "{family} {labels:?}: one series, got {matching:?}"
    );
    matching.first().map_or(0.0, |s| number(&s.value))
}

/// Posts the Kentico webhook for `order` signed with `secret` (or a wrong secret); returns the HTTP status.
async fn post_webhook(url: &str, secret: &str, order: &ferry_sim::kentico::PlacedOrder) -> u16 {
    let id = format!("evt_{}", order.guid);
    let body = serde_json::json!({
        "id": id,
        "type": "order.created",
        "occurred_at": "2026-11-25T10:00:00Z",
        "object": {"object_type": "ecommerce.order", "id": order.id, "guid": order.guid,
                   "last_modified": "2026-11-25T10:00:00Z"}
    })
    .to_string();
    ferry_tests::webhook::post_signed(url, secret, &id, &body)
        .await
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_a_run_have_every_documented_family_with_type_labels_and_the_run_in_their_values()
-> anyhow::Result<()> {
    let tenant = format!(
        "metrics-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let app = TestApp::builder()
        .with_seed(61)
        .with_tenants(&[&tenant])
        // Usage calls reach their counter when they are written to the store.
        .with_config(|c| c.usage.flush_every_ms = 100)
        .spawn()
        .await?;
    // The test delivers the webhooks itself, so it knows what was posted; one order gets none, and polling
    // reconciliation has to find it.
    app.sandbox.kentico.set_webhook(None);
    let placed = app.place(0..6, &valid_mix()).await;
    let url = format!("{}/hooks/kentico/{tenant}", app.host_url);
    let secret = app.sandbox.webhook_secret().expose_secret().to_owned();
    let mut accepted = 0.0;
    for p in &placed[..5] {
        assert_eq!(post_webhook(&url, &secret, &p.order).await, 202);
        accepted += 1.0;
    }
    assert_eq!(post_webhook(&url, &secret, &placed[0].order).await, 200);
    let wrong = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    assert_eq!(post_webhook(&url, wrong, &placed[1].order).await, 401);
    let audit = app.settle(&placed).await?;
    assert_exactly_once(&audit);

    let t = ferry_model::TenantId::parse(&tenant)?;
    let open = [
        EventState::Queued,
        EventState::Running,
        EventState::Retrying,
    ];
    wait_until(
        SETTLE_TIMEOUT,
        "every event of the tenant finished",
        || async {
            let mut n = 0;
            for s in open {
                n += app.store.count_in_state(Some(&t), s).await.unwrap_or(1);
            }
            n == 0
        },
    )
    .await?;
    let done = app.store.count_in_state(Some(&t), EventState::Done).await?;
    // The run's answer is recorded in the store just before it is counted, and calls are counted as usage once
    // written; wait for the counts to catch up.
    wait_until(
        Duration::from_secs(30),
        "runs and calls counted",
        || async {
            scrape(&app).await.is_ok_and(|s| {
                value(
                    &s,
                    "ferry_worker_runs_total",
                    &tenant,
                    &[("outcome", "completed")],
                ) == done as f64
                    && value(
                        &s,
                        "ferry_usage_calls_total",
                        &tenant,
                        &[("downstream", "freshbooks")],
                    ) > 0.0
            })
        },
    )
    .await?;
    let scrape = scrape(&app).await?;

    // Every documented family: HELP, type and labels.
    for (family, expected, labels) in DOCUMENTED {
        assert!(
            scrape.docs.get(*family).is_some_and(|d| !d.is_empty()),
            "{family} has a HELP line"
        );
        let samples = of(&scrape, family, &tenant);
        assert!(!samples.is_empty(), "{family} has series for {tenant}");
        for s in samples {
            assert_eq!(kind(&s.value), Some(*expected), "{family}: {s:?}");
            for l in *labels {
                assert!(s.labels.get(l).is_some(), "{family} has label {l}: {s:?}");
            }
        }
    }

    // Webhooks: what the test posted.
    let webhooks = |result| {
        value(
            &scrape,
            "ferry_ingest_webhooks_total",
            &tenant,
            &[("result", result)],
        )
    };
    assert_eq!(webhooks("accepted"), accepted);
    assert_eq!(webhooks("duplicate"), 1.0);
    assert_eq!(webhooks("bad_signature"), 1.0);

    // Events by state: what the store holds.
    let mut stored = 0;
    for state in [
        EventState::Received,
        EventState::Queued,
        EventState::Running,
        EventState::Retrying,
        EventState::Done,
        EventState::Dead,
        EventState::Discarded,
    ] {
        let n = app.store.count_in_state(Some(&t), state).await?;
        stored += n;
        assert_eq!(
            value(
                &scrape,
                "ferry_store_events",
                &tenant,
                &[("state", state.as_str())]
            ),
            n as f64,
            "ferry_store_events{{state={state}}}"
        );
    }
    // Every stored event came from a webhook the test posted or from reconciliation.
    assert_eq!(
        value(&scrape, "ferry_reconcile_enqueued_total", &tenant, &[]),
        stored as f64 - accepted
    );
    assert!(
        stored as f64 > accepted,
        "reconciliation found the order without a webhook"
    );

    // Steps: one observation per step the store recorded.
    let mut steps: BTreeMap<String, u64> = BTreeMap::new();
    let events = app.store.events_page(&t, None, None, 1000).await?;
    for e in &events {
        for s in app.store.run_history(e.job).await?.steps {
            *steps.entry(s.name).or_default() += 1;
        }
    }
    assert!(steps.contains_key("load"), "{steps:?}");
    for (step, n) in &steps {
        assert_eq!(
            value(
                &scrape,
                "ferry_pipeline_step_seconds",
                &tenant,
                &[("step", step)]
            ),
            *n as f64,
            "observations of step {step}"
        );
    }

    // Outbound calls: each downstream answered, each call timed, and both breakers closed.
    for downstream in ["kentico", "freshbooks"] {
        let calls: f64 = of(&scrape, "ferry_outbound_requests_total", &tenant)
            .iter()
            .filter(|s| s.labels.get("downstream") == Some(downstream))
            .filter(|s| s.labels.get("outcome") != Some("breaker_open"))
            .map(|s| number(&s.value))
            .sum();
        assert!(calls > 0.0, "{downstream} was called");
        assert_eq!(
            value(
                &scrape,
                "ferry_outbound_request_duration_seconds",
                &tenant,
                &[("downstream", downstream)]
            ),
            calls,
            "every {downstream} call is timed"
        );
        assert_eq!(
            value(
                &scrape,
                "ferry_outbound_breaker_state",
                &tenant,
                &[("downstream", downstream)]
            ),
            0.0,
            "{downstream} breaker closed"
        );
    }
    app.stop().await;
    Ok(())
}
