//! Outbound settings: timeouts, breaker thresholds, rate limits. Read once by `main`, passed down by value.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Timeouts and resilience settings for one downstream client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundConfig {
    /// Milliseconds allowed to open a TCP/TLS connection.
    pub connect_timeout_ms: u64,
    /// Milliseconds allowed for a whole request, reply body included.
    pub request_timeout_ms: u64,
    /// Circuit breaker per (tenant, downstream).
    pub breaker: BreakerConfig,
    /// Rate limit per key (e.g. per FreshBooks account).
    pub rate_limit: RateLimitConfig,
    /// In-call retries of reads (GET) that failed transiently.
    pub read_retry: ReadRetryConfig,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 5_000,
            request_timeout_ms: 30_000,
            breaker: BreakerConfig::default(),
            rate_limit: RateLimitConfig::default(),
            read_retry: ReadRetryConfig::default(),
        }
    }
}

impl OutboundConfig {
    /// The connect timeout as a duration.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// The request timeout as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

/// When a breaker opens and how it recovers (defaults follow resilience4j: 50 % over a window, 60 s open).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Whether breakers are used at all.
    pub enabled: bool,
    /// Failure percentage (0–100) at or above which the breaker opens.
    pub failure_rate_percent: u8,
    /// Calls needed inside the window before the rate is judged.
    pub minimum_calls: u32,
    /// Milliseconds of history the failure rate is computed over.
    pub window_ms: u64,
    /// Milliseconds the breaker stays open before letting probes through.
    pub cooldown_ms: u64,
    /// Concurrent probe calls allowed while half-open.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            failure_rate_percent: 50,
            minimum_calls: 10,
            window_ms: 60_000,
            cooldown_ms: 60_000,
            half_open_probes: 3,
        }
    }
}

impl BreakerConfig {
    /// The window as a duration.
    pub fn window(&self) -> Duration {
        Duration::from_millis(self.window_ms)
    }

    /// The cooldown as a duration.
    pub fn cooldown(&self) -> Duration {
        Duration::from_millis(self.cooldown_ms)
    }
}

/// Requests per second allowed per key; FreshBooks publishes no limit, so this is our own politeness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per second per key; 0 disables the limiter.
    pub per_second: u32,
    /// Burst size allowed on top of the sustained rate.
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_second: 5,
            burst: 10,
        }
    }
}

/// How often a read that failed transiently (5xx, 429 with a short `Retry-After`, reset, timeout) is repeated
/// inside the call before the failure reaches the worker. Writes are never repeated here.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadRetryConfig {
    /// Extra attempts after the first; 0 disables.
    pub retries: u32,
    /// Delay between attempts (full jitter); a `Retry-After` longer than its cap ends the retries.
    pub backoff: crate::Backoff,
}

impl Default for ReadRetryConfig {
    fn default() -> Self {
        Self {
            retries: 3,
            backoff: crate::Backoff {
                base_ms: 50,
                cap_ms: 2_000,
            },
        }
    }
}
