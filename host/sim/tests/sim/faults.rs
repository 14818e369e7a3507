//! Each fault mode over real HTTP, against a tiny counting app served by `faults::serve`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use ferry_sim::faults::{self, Faults};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

struct TestServer {
    base: String,
    faults: Faults,
    /// How many times the handler ran (i.e. how many objects were "created").
    created: Arc<AtomicU64>,
    _stop: oneshot::Sender<()>,
}

async fn start(seed: u64) -> anyhow::Result<TestServer> {
    let faults = Faults::new(seed);
    let created = Arc::new(AtomicU64::new(0));
    let api = Router::new()
        .route(
            "/things",
            post(|State(n): State<Arc<AtomicU64>>| async move {
                format!("{}", n.fetch_add(1, Ordering::SeqCst) + 1)
            }),
        )
        .with_state(created.clone())
        .layer(faults.layer());
    let app = Router::new()
        .merge(api)
        .nest(faults::CONTROL_PATH, faults.router());
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(faults::serve(listener, app, async {
        let _ = rx.await;
    }));
    Ok(TestServer {
        base,
        faults,
        created,
        _stop: tx,
    })
}

fn http() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?)
}

async fn post_thing(
    http: &reqwest::Client,
    s: &TestServer,
) -> Result<reqwest::Response, reqwest::Error> {
    http.post(format!("{}/things", s.base)).send().await
}

#[tokio::test]
async fn latency_delays_every_request() -> anyhow::Result<()> {
    let s = start(1).await?;
    s.faults
        .set_latency(Duration::from_millis(150), Duration::from_millis(50));
    let started = Instant::now();
    let response = post_thing(&http()?, &s).await?;
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(s.faults.counters().delayed, 1);
    Ok(())
}

#[tokio::test]
async fn error_rate_answers_configured_5xx_and_is_deterministic_per_seed() -> anyhow::Result<()> {
    let http = http()?;
    let mut patterns = Vec::new();
    for _ in 0..2 {
        let s = start(42).await?;
        s.faults.set_error_rate(0.5, 503);
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(post_thing(&http, &s).await?.status().as_u16());
        }
        assert!(
            statuses.contains(&503) && statuses.contains(&200),
            "{statuses:?}"
        );
        assert_eq!(
            s.faults.counters().errors,
            statuses.iter().filter(|c| **c == 503).count() as u64
        );
        patterns.push(statuses);
    }
    assert_eq!(patterns[0], patterns[1]);
    Ok(())
}

#[tokio::test]
async fn throttle_burst_answers_429_with_retry_after_then_recovers() -> anyhow::Result<()> {
    let s = start(2).await?;
    s.faults.throttle_next(2, Some(Duration::from_secs(3)));
    let http = http()?;
    for _ in 0..2 {
        let r = post_thing(&http, &s).await?;
        assert_eq!(r.status(), 429);
        assert_eq!(
            r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
            Some("3")
        );
    }
    assert_eq!(post_thing(&http, &s).await?.status(), 200);
    assert_eq!(s.faults.counters().throttled, 2);
    assert_eq!(s.created.load(Ordering::SeqCst), 1);
    Ok(())
}

#[tokio::test]
async fn reset_closes_the_connection_without_running_the_handler() -> anyhow::Result<()> {
    let s = start(3).await?;
    s.faults.reset_next(1);
    let http = http()?;
    let error = post_thing(&http, &s)
        .await
        .err()
        .ok_or_else(|| anyhow::anyhow!("expected a transport error"))?;
    assert!(!error.is_timeout() && error.status().is_none(), "{error:?}");
    assert_eq!(s.created.load(Ordering::SeqCst), 0);
    assert_eq!(post_thing(&http, &s).await?.status(), 200);
    assert_eq!(s.faults.counters().resets, 1);
    Ok(())
}

#[tokio::test]
async fn drop_reply_commits_the_effect_but_the_client_gets_no_answer() -> anyhow::Result<()> {
    let s = start(4).await?;
    s.faults.drop_reply_next(1);
    let http = http()?;
    assert!(post_thing(&http, &s).await.is_err());
    assert_eq!(
        s.created.load(Ordering::SeqCst),
        1,
        "the handler ran even though the reply was lost"
    );
    let second = post_thing(&http, &s).await?.text().await?;
    assert_eq!(second, "2");
    assert_eq!(s.faults.counters().dropped_replies, 1);
    Ok(())
}

#[tokio::test]
async fn outage_window_answers_503_until_it_ends_but_control_routes_stay_up() -> anyhow::Result<()>
{
    let s = start(5).await?;
    let http = http()?;
    let status = http
        .post(format!("{}/_sim/faults/outage", s.base))
        .json(&serde_json::json!({"duration_ms": 300}))
        .send()
        .await?
        .status();
    assert_eq!(status, 200);
    assert_eq!(post_thing(&http, &s).await?.status(), 503);
    assert_eq!(
        http.get(format!("{}/_sim/faults", s.base))
            .send()
            .await?
            .status(),
        200
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let code = post_thing(&http, &s).await?.status();
        if code == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "outage never ended");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(s.faults.counters().outages >= 1);
    Ok(())
}

#[tokio::test]
async fn refusing_outage_closes_connections_until_ended() -> anyhow::Result<()> {
    let s = start(8).await?;
    let http = http()?;
    http.post(format!("{}/_sim/faults/outage", s.base))
        .json(&serde_json::json!({"duration_ms": 60_000, "refuse": true}))
        .send()
        .await?
        .error_for_status()?;
    assert!(post_thing(&http, &s).await.is_err());
    assert_eq!(s.created.load(Ordering::SeqCst), 0);
    http.delete(format!("{}/_sim/faults/outage", s.base))
        .send()
        .await?
        .error_for_status()?;
    assert_eq!(post_thing(&http, &s).await?.status(), 200);
    Ok(())
}

#[tokio::test]
async fn fail_next_via_control_api_fails_exactly_n_requests() -> anyhow::Result<()> {
    let s = start(6).await?;
    let http = http()?;
    http.post(format!("{}/_sim/faults/fail-next", s.base))
        .json(&serde_json::json!({"count": 2, "status": 502}))
        .send()
        .await?
        .error_for_status()?;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(post_thing(&http, &s).await?.status().as_u16());
    }
    assert_eq!(codes, vec![502, 502, 200]);
    let counters: serde_json::Value = http
        .get(format!("{}/_sim/faults/counters", s.base))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(counters["failed_next"], 2);
    assert_eq!(counters["requests"], 3, "control calls are not counted");
    http.post(format!("{}/_sim/faults/clear", s.base))
        .send()
        .await?
        .error_for_status()?;
    assert_eq!(s.faults.counters().requests, 0);
    Ok(())
}

#[tokio::test]
async fn standing_config_can_be_replaced_over_http() -> anyhow::Result<()> {
    let s = start(7).await?;
    let http = http()?;
    http.put(format!("{}/_sim/faults", s.base))
        .json(&serde_json::json!({"error_rate": 1.0, "error_status": 500}))
        .send()
        .await?
        .error_for_status()?;
    assert_eq!(post_thing(&http, &s).await?.status(), 500);
    assert_eq!(s.faults.config().error_rate, 1.0);
    Ok(())
}
