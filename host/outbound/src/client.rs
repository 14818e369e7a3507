//! `HttpClient`: one reqwest client plus the breaker registry and rate limiter, shared by every tenant.

use crate::{
    BreakerKey, BreakerRegistry, Error, KeyedLimiter, OutboundConfig, ReadRetryConfig, Result,
    classify::{from_reqwest, from_status},
    metrics::{REQUEST_DURATION_SECONDS, REQUESTS_TOTAL},
};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use std::time::Duration;

/// Who a call is for: selects the breaker and the rate-limit bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallCtx {
    /// Tenant id (breakers are per tenant).
    pub tenant: String,
    /// Downstream name, e.g. `freshbooks`.
    pub downstream: String,
    /// Rate-limit key (e.g. the FreshBooks account id); `None` skips the limiter.
    pub rate_key: Option<String>,
}

impl CallCtx {
    /// A context without rate limiting.
    pub fn new(tenant: impl Into<String>, downstream: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            downstream: downstream.into(),
            rate_key: None,
        }
    }

    /// Adds a rate-limit key.
    pub fn with_rate_key(mut self, key: impl Into<String>) -> Self {
        self.rate_key = Some(key.into());
        self
    }

    fn breaker_key(&self) -> BreakerKey {
        BreakerKey::new(self.tenant.clone(), self.downstream.clone())
    }
}

/// A successful (2xx) reply with its body read.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status (2xx).
    pub status: StatusCode,
    /// Reply headers.
    pub headers: HeaderMap,
    /// Reply body.
    pub body: Bytes,
}

/// The shared outbound client. Clones share the connection pool, breakers and buckets.
#[derive(Debug, Clone)]
pub struct HttpClient {
    http: reqwest::Client,
    /// Shared across clones so that all work for one (tenant, downstream) sees the same breaker.
    breakers: BreakerRegistry,
    /// Shared across clones so that concurrent workers draw from one bucket per key.
    limiter: KeyedLimiter,
    read_retry: ReadRetryConfig,
}

impl HttpClient {
    /// Builds the client with its own breakers and limiter.
    ///
    /// # Errors
    /// [`Error::Request`] when the TLS backend cannot be initialised.
    pub fn new(config: &OutboundConfig) -> Result<Self> {
        Self::with_shared(
            config,
            BreakerRegistry::new(config.breaker.clone()),
            KeyedLimiter::new(&config.rate_limit),
        )
    }

    /// Builds the client around an existing breaker registry and limiter (shared with other clients).
    ///
    /// # Errors
    /// [`Error::Request`] when the TLS backend cannot be initialised.
    pub fn with_shared(
        config: &OutboundConfig,
        breakers: BreakerRegistry,
        limiter: KeyedLimiter,
    ) -> Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout())
            .timeout(config.request_timeout())
            .user_agent(concat!("ferry/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Request {
                what: "build http client".into(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            breakers,
            limiter,
            read_retry: config.read_retry,
        })
    }

    /// The underlying reqwest client, to build requests with.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The breakers, for metrics and the admin API.
    pub fn breakers(&self) -> &BreakerRegistry {
        &self.breakers
    }

    /// Sends a request through breaker and limiter, reads the body and classifies failures.
    /// `what` says what is being attempted (it starts error messages).
    ///
    /// # Errors
    /// A classified [`Error`]; see [`Error::disposition`] and [`Error::outcome_unknown`].
    pub async fn send(
        &self,
        ctx: &CallCtx,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Response> {
        let request = request.build().map_err(|e| from_reqwest(what, false, &e))?;
        let write = !matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        );
        // Reads are safe to repeat: a transient failure is retried here, briefly, so that one flaky call out of
        // the dozen an order needs does not send the whole event back to the queue. Writes are never repeated
        // here: whether a failed write committed is for the caller to find out (by its marker) before retrying.
        let mut request = request;
        let mut attempt = 0;
        loop {
            let spare = if write || attempt >= self.read_retry.retries {
                None
            } else {
                request.try_clone()
            };
            let result = self.send_once(ctx, what, write, request).await;
            match (result, spare) {
                (Err(error), Some(next)) if error.is_transient() => {
                    let after = match error.disposition() {
                        ferry_model::Disposition::Retry { after } => after,
                        ferry_model::Disposition::DeadLetter { .. } => None,
                    };
                    let backoff = self.read_retry.backoff;
                    if after.is_some_and(|a| a > Duration::from_millis(backoff.cap_ms)) {
                        // A long Retry-After is the worker's to wait out, not this call's.
                        return Err(error);
                    }
                    tokio::time::sleep(backoff.delay(attempt, after)).await;
                    attempt += 1;
                    request = next;
                }
                (result, _) => return result,
            }
        }
    }

    async fn send_once(
        &self,
        ctx: &CallCtx,
        what: &str,
        write: bool,
        request: reqwest::Request,
    ) -> Result<Response> {
        let key = ctx.breaker_key();
        let permit = match self.breakers.acquire(&key) {
            Ok(p) => p,
            Err(remaining) => {
                metrics::counter!(REQUESTS_TOTAL, "downstream" => ctx.downstream.clone(), "outcome" => "breaker_open")
                    .increment(1);
                return Err(Error::BreakerOpen {
                    what: what.to_owned(),
                    downstream: ctx.downstream.clone(),
                    remaining,
                });
            }
        };
        if let Some(rk) = &ctx.rate_key {
            self.limiter.until_ready(rk).await;
        }
        let started = std::time::Instant::now();
        let result = self.execute(what, write, request).await;
        metrics::histogram!(REQUEST_DURATION_SECONDS, "downstream" => ctx.downstream.clone())
            .record(started.elapsed().as_secs_f64());
        let outcome = result.as_ref().map_or_else(Error::kind, |_| "ok");
        metrics::counter!(REQUESTS_TOTAL, "downstream" => ctx.downstream.clone(), "outcome" => outcome).increment(1);
        let failed = result
            .as_ref()
            .err()
            .is_some_and(Error::is_downstream_failure);
        self.breakers.record(&key, permit, failed);
        if let Err(error) = &result {
            tracing::debug!(%error, tenant = %ctx.tenant, downstream = %ctx.downstream, "Outbound call failed.");
        }
        result
    }

    async fn execute(
        &self,
        what: &str,
        write: bool,
        request: reqwest::Request,
    ) -> Result<Response> {
        let reply = self
            .http
            .execute(request)
            .await
            .map_err(|e| from_reqwest(what, write, &e))?;
        let status = reply.status();
        let headers = reply.headers().clone();
        let body = reply
            .bytes()
            .await
            .map_err(|e| from_reqwest(what, write, &e))?;
        if status.is_success() {
            Ok(Response {
                status,
                headers,
                body,
            })
        } else {
            Err(from_status(what, write, status, &headers, &body))
        }
    }
}

#[cfg(test)]
mod tests {
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
}
