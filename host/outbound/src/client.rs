//! `HttpClient`: one reqwest client plus the breaker registry and rate limiter, shared by every tenant.

use crate::{
    AdaptiveLimits, BreakerKey, BreakerRegistry, CallCounts, Error, KeyedLimiter, OutboundConfig,
    ReadRetryConfig, Result,
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
    /// Shared across clones: every tenant's concurrency window and 429 pause, fed by its budgeted calls and read
    /// by the worker when it claims.
    adaptive: AdaptiveLimits,
    /// Shared across clones: every request sent, per tenant and downstream, until the host takes the counts.
    calls: CallCounts,
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
            adaptive: AdaptiveLimits::new(),
            calls: CallCounts::default(),
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

    /// Each tenant's concurrency window and 429 pause, for the worker's claims.
    pub fn adaptive(&self) -> &AdaptiveLimits {
        &self.adaptive
    }

    /// The requests sent so far, per tenant, downstream and day, for the host's usage figures.
    pub fn calls(&self) -> &CallCounts {
        &self.calls
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
                        ferry_model::Disposition::DeadLetter { .. }
                        | ferry_model::Disposition::Disconnected { .. } => None,
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
        if ctx.rate_key.is_some()
            && let Some(remaining) = self.adaptive.paused(&ctx.tenant)
        {
            // The budget ran out (a 429 said so): the call would only learn that again.
            metrics::counter!(REQUESTS_TOTAL, "tenant" => ctx.tenant.clone(),
                "downstream" => ctx.downstream.clone(), "outcome" => "paused")
            .increment(1);
            return Err(Error::Throttled {
                what: what.to_owned(),
                retry_after: Some(remaining),
            });
        }
        let key = ctx.breaker_key();
        let permit = match self.breakers.acquire(&key) {
            Ok(p) => p,
            Err(remaining) => {
                metrics::counter!(REQUESTS_TOTAL, "tenant" => ctx.tenant.clone(),
                    "downstream" => ctx.downstream.clone(), "outcome" => "breaker_open")
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
        // A call is counted once it left: only a refused connection never reached the downstream.
        if !matches!(result, Err(Error::Connect { .. })) {
            self.calls.record(&ctx.tenant, &ctx.downstream);
        }
        metrics::histogram!(REQUEST_DURATION_SECONDS, "tenant" => ctx.tenant.clone(),
            "downstream" => ctx.downstream.clone())
        .record(started.elapsed().as_secs_f64());
        let outcome = result.as_ref().map_or_else(Error::kind, |_| "ok");
        metrics::counter!(REQUESTS_TOTAL, "tenant" => ctx.tenant.clone(),
            "downstream" => ctx.downstream.clone(), "outcome" => outcome)
        .increment(1);
        let failed = result
            .as_ref()
            .err()
            .is_some_and(Error::is_downstream_failure);
        self.breakers.record(&key, permit, failed);
        if ctx.rate_key.is_some() {
            match &result {
                Ok(_) => self.adaptive.on_success(&ctx.tenant),
                Err(Error::Throttled { retry_after, .. }) => {
                    self.adaptive.on_throttle(&ctx.tenant, *retry_after);
                }
                Err(_) => {}
            }
        }
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
mod tests;
