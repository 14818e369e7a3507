//! ferry-outbound: the one way Ferry talks HTTP to a downstream (Kentico, FreshBooks).
//!
//! Where it sits: webhook → store → **extract** → transform → **load**. Both outbound stages send
//! their requests through [`HttpClient`], which applies timeouts, a circuit breaker per
//! (tenant, downstream), a rate limit per key (a FreshBooks account), and turns every failure into
//! an [`Error`] that answers the worker's question through [`Error::disposition`]. Secrets travel
//! as [`secrecy::SecretString`] or [`Redacted`] and are never logged.
//!
//! Layout:
//! - `config`: `OutboundConfig` with timeouts, breaker and rate-limit sections.
//! - `error`: the classified `Error` (retry / dead-letter / auth refresh / outcome unknown).
//! - `classify`: HTTP status, `Retry-After` and transport failures → `Error`.
//! - `backoff`: exponential backoff with full jitter that honours `Retry-After`.
//! - `breaker`: circuit breaker registry keyed by (tenant, downstream), observable state.
//! - `limit`: governor rate limiter per key.
//! - `calls`: calls made, counted per tenant, downstream and UTC day for the host's usage figures.
//! - `adaptive`: each tenant's concurrency window (AIMD on 429s) and the pause a 429's `Retry-After` asks for.
//! - `redact`: `Redacted<T>` and header/body helpers that keep secrets out of logs.
//! - `metrics`: metric name constants.
//! - `client`: `HttpClient::send`, tying the above together; `client/tests.rs` runs it against local servers.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod adaptive;
mod backoff;
mod breaker;
mod calls;
mod classify;
mod client;
mod config;
mod error;
mod limit;
pub mod metrics;
mod redact;

pub use adaptive::AdaptiveLimits;
pub use backoff::Backoff;
pub use breaker::{BreakerKey, BreakerRegistry, BreakerSnapshot, BreakerState};
pub use calls::{CallCounts, CallKey};
pub use classify::parse_retry_after;
pub use client::{CallCtx, HttpClient, Response};
pub use config::{BreakerConfig, OutboundConfig, RateLimitConfig, ReadRetryConfig};
pub use error::{Error, Result};
pub use limit::{KeyedLimiter, SharedRateBudget};
pub use redact::{Redacted, redact_headers, summarize_body};
pub use secrecy::{ExposeSecret, SecretString};
