//! The serde shapes of the fault settings, the counters and the control-API requests.

use serde::{Deserialize, Serialize};

/// Standing fault settings: probabilities and delays applied to every API request.
///
/// One-shot faults (fail-next, 429 bursts, reset-next, drop-reply-next, outage windows) are not part of this
/// struct; they are armed through [`crate::faults::Faults`] methods or the control API and consumed as requests
/// arrive.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Fixed delay added before every API request is handled, in milliseconds.
    pub latency_ms: u64,
    /// Extra random delay, uniform in `0..=jitter_ms`, drawn from the seeded generator.
    pub jitter_ms: u64,
    /// Probability in `0.0..=1.0` that a request is answered with `error_status` instead of being handled.
    pub error_rate: f64,
    /// Status used for `error_rate` faults; 500 when unset or not a 5xx.
    pub error_status: Option<u16>,
    /// Probability that the connection is closed without any response (the handler does not run).
    pub reset_rate: f64,
    /// Probability that the handler runs (the object is created) and the connection is then closed without
    /// sending the reply.
    pub drop_reply_rate: f64,
}

/// How many faults of each kind have been injected since the last clear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounters {
    /// Requests that passed through the fault layer (API routes only).
    pub requests: u64,
    /// Requests that were delayed by a non-zero latency.
    pub delayed: u64,
    /// Requests answered with a random 5xx (`error_rate`).
    pub errors: u64,
    /// Requests answered by a fail-next rule.
    pub failed_next: u64,
    /// Requests answered 429 by a burst.
    pub throttled: u64,
    /// Connections closed before the handler ran.
    pub resets: u64,
    /// Requests whose handler ran but whose reply was dropped.
    pub dropped_replies: u64,
    /// Requests answered 503 (or refused) because an outage window was open.
    pub outages: u64,
}

/// Which fault was injected into a request; handed to the body builder so each simulator can answer in its
/// vendor's error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A random 5xx from `error_rate`.
    Error,
    /// A queued fail-next status.
    FailNext,
    /// A 429 from a burst.
    Throttle,
    /// The outage window's 503.
    Outage,
}

/// Body of `POST /_sim/faults/fail-next`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub struct FailNextRequest {
    /// How many upcoming API requests fail.
    pub count: u32,
    /// The HTTP status they fail with.
    pub status: u16,
}

/// Body of `POST /_sim/faults/throttle`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub struct ThrottleRequest {
    /// How many upcoming API requests get 429.
    pub count: u32,
    /// Value of the `Retry-After` header in seconds; omitted from the reply when `None`.
    pub retry_after_secs: Option<u64>,
}

/// Body of `POST /_sim/faults/reset-next` and `POST /_sim/faults/drop-reply-next`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub struct CountRequest {
    /// How many upcoming API requests are affected.
    pub count: u32,
}

/// Body of `POST /_sim/faults/outage`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub struct OutageRequest {
    /// How long every API request is answered 503, from now, in milliseconds.
    pub duration_ms: u64,
    /// Close connections without a response instead of answering 503.
    #[serde(default)]
    pub refuse: bool,
}

/// Reply of `GET /_sim/faults`: the standing config, the armed one-shot faults and the counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultStatus {
    /// The standing settings.
    pub config: FaultConfig,
    /// The seed the generator was last (re)seeded with.
    pub seed: u64,
    /// Fail-next rules still armed, as `(remaining, status)`.
    pub fail_next: Vec<(u32, u16)>,
    /// 429s left in the current burst.
    pub throttle_remaining: u32,
    /// Resets still armed.
    pub reset_remaining: u32,
    /// Dropped replies still armed.
    pub drop_reply_remaining: u32,
    /// Milliseconds left in the outage window (0 when none is open).
    pub outage_remaining_ms: u64,
    /// Faults injected so far.
    pub counters: FaultCounters,
}
