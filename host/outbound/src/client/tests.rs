//! `HttpClient::send` against local axum servers: read retries, write safety, classification, breaker.

use super::*;
use crate::{BreakerConfig, BreakerState, RateLimitConfig};
use axum::{Router, http::StatusCode as S, routing::get};
use std::time::Duration;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn config() -> OutboundConfig {
    OutboundConfig {
        connect_timeout_ms: 1_000,
        request_timeout_ms: 300,
        breaker: BreakerConfig {
            minimum_calls: 2,
            cooldown_ms: 60_000,
            ..BreakerConfig::default()
        },
        rate_limit: RateLimitConfig {
            per_second: 0,
            burst: 0,
        },
        read_retry: ReadRetryConfig {
            retries: 0,
            ..ReadRetryConfig::default()
        },
    }
}

/// A server whose first `failures` requests answer 503, counting every request.
async fn flaky(failures: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let handler = move || {
        let counter = counter.clone();
        async move {
            if counter.fetch_add(1, Ordering::SeqCst) < failures {
                (S::SERVICE_UNAVAILABLE, "busy")
            } else {
                (S::OK, "fine")
            }
        }
    };
    let app = Router::new().route("/", get(handler.clone()).post(handler));
    (serve(app).await, hits)
}

fn retrying_config() -> OutboundConfig {
    OutboundConfig {
        read_retry: ReadRetryConfig {
            retries: 2,
            backoff: crate::Backoff {
                base_ms: 1,
                cap_ms: 50,
            },
        },
        breaker: BreakerConfig::default(),
        ..config()
    }
}

#[tokio::test]
async fn transient_read_failures_are_retried_inside_the_call() {
    use std::sync::atomic::Ordering;
    let (base, hits) = flaky(2).await;
    let c = HttpClient::new(&retrying_config()).unwrap();
    let reply = c
        .send(&CallCtx::new("t", "k"), "get order", c.http().get(&base))
        .await
        .unwrap();
    assert_eq!(&reply.body[..], b"fine");
    assert_eq!(hits.load(Ordering::SeqCst), 3);

    let (base, hits) = flaky(5).await;
    let err = c
        .send(&CallCtx::new("u", "k"), "get order", c.http().get(&base))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503), "gives up after the retries");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn failed_writes_are_never_repeated_by_the_client() {
    use std::sync::atomic::Ordering;
    let (base, hits) = flaky(1).await;
    let c = HttpClient::new(&retrying_config()).unwrap();
    let err = c
        .send(
            &CallCtx::new("t", "fb"),
            "create invoice",
            c.http().post(&base),
        )
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn throttle_with_retry_after_is_classified_over_http() {
    let app = Router::new().route(
        "/",
        get(|| async { (S::TOO_MANY_REQUESTS, [("retry-after", "7")], "slow down") }),
    );
    let base = serve(app).await;
    let c = HttpClient::new(&config()).unwrap();
    let err = c
        .send(&CallCtx::new("t", "fb"), "list things", c.http().get(&base))
        .await
        .unwrap_err();
    assert_eq!(
        err.disposition(),
        ferry_model::Disposition::Retry {
            after: Some(Duration::from_secs(7))
        }
    );
    // The backoff policy never schedules the retry sooner than the downstream asked.
    let backoff = crate::Backoff {
        base_ms: 10,
        cap_ms: 100,
    };
    for attempt in 0..5 {
        assert!(backoff.delay_for(attempt, &err.disposition()) >= Some(Duration::from_secs(7)));
    }
}

#[tokio::test]
async fn throttling_does_not_open_the_breaker() {
    let app = Router::new().route(
        "/",
        get(|| async { (S::TOO_MANY_REQUESTS, [("retry-after", "1")], "slow down") }),
    );
    let base = serve(app).await;
    let c = HttpClient::new(&config()).unwrap();
    for _ in 0..5 {
        let e = c
            .send(&CallCtx::new("t", "fb"), "get", c.http().get(&base))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(429));
    }
    assert_eq!(
        c.breakers().state(&BreakerKey::new("t", "fb")),
        BreakerState::Closed
    );
}

#[tokio::test]
async fn slow_write_times_out_with_unknown_outcome() {
    let app = Router::new().route(
        "/",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "late"
        }),
    );
    let base = serve(app).await;
    let c = HttpClient::new(&config()).unwrap();
    let err = c
        .send(
            &CallCtx::new("t", "fb"),
            "create invoice",
            c.http().post(&base),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { write: true, .. }), "{err:?}");
    assert!(err.outcome_unknown());
}

#[tokio::test]
async fn repeated_5xx_opens_the_breaker_and_calls_fail_fast() {
    let app = Router::new().route("/", get(|| async { (S::SERVICE_UNAVAILABLE, "down") }));
    let base = serve(app).await;
    let c = HttpClient::new(&config()).unwrap();
    let ctx = CallCtx::new("t", "fb").with_rate_key("acct");
    for _ in 0..2 {
        let e = c.send(&ctx, "get", c.http().get(&base)).await.unwrap_err();
        assert_eq!(e.status(), Some(503));
    }
    assert_eq!(
        c.breakers().state(&BreakerKey::new("t", "fb")),
        BreakerState::Open
    );
    let e = c.send(&ctx, "get", c.http().get(&base)).await.unwrap_err();
    assert!(matches!(e, Error::BreakerOpen { .. }));
    assert!(!e.burns_attempt());
    // Another tenant is unaffected.
    let other = c
        .send(&CallCtx::new("u", "fb"), "get", c.http().get(&base))
        .await
        .unwrap_err();
    assert_eq!(other.status(), Some(503));
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = HttpClient::new(&config()).unwrap();
    let e = c
        .send(
            &CallCtx::new("t", "k"),
            "post",
            c.http().post(format!("http://{addr}/")),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e:?}");
    assert!(!e.outcome_unknown());
}
