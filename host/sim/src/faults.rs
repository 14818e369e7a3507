//! Fault injection shared by every simulator: a tower layer in front of the API routes, a control API, and the
//! accept loop that lets a fault close a connection without replying.
//!
//! All randomness comes from one seeded generator, so a test that sets a seed and sends the same requests in the
//! same order sees the same faults. One-shot faults (fail-next, 429 bursts, resets, dropped replies) are consumed
//! in arrival order; an outage window is wall-clock based.
//!
//! Layout:
//! - `config`: serde shapes of the settings, counters and control requests.
//! - `layer`: [`FaultLayer`] / `FaultService`, which apply a decision to each request.
//! - `control`: the `/_sim/faults` router.
//! - `serve`: [`serve`], the hyper accept loop with per-connection kill switches (real resets).

mod config;
mod control;
mod layer;
mod serve;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use config::{
    CountRequest, FailNextRequest, FaultConfig, FaultCounters, FaultKind, FaultStatus,
    OutageRequest, ThrottleRequest,
};
pub use layer::{FaultLayer, FaultService};
pub use serve::{ConnectionKill, serve};

/// Path prefix where simulators mount [`Faults::router`].
pub const CONTROL_PATH: &str = "/_sim/faults";

/// Builds the response for an injected status fault, so each simulator can answer in its vendor's error shape.
pub type FaultBody = Arc<dyn Fn(StatusCode, FaultKind) -> Response + Send + Sync>;

/// Shared, cloneable handle on one simulator's fault settings and counters.
///
/// Clones share state: the layer, the control router and the test all hold the same `Faults`.
#[derive(Clone)]
pub struct Faults {
    /// One lock for settings, armed faults, RNG and counters, so a decision is atomic with respect to control calls
    /// and the RNG is consumed in request-arrival order (determinism).
    inner: Arc<Mutex<State>>,
    /// Renders status faults; fixed at construction.
    body: FaultBody,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("status", &self.status())
            .finish()
    }
}

struct State {
    config: FaultConfig,
    seed: u64,
    rng: StdRng,
    fail_next: Vec<(u32, u16)>,
    throttle_remaining: u32,
    retry_after_secs: Option<u64>,
    reset_remaining: u32,
    drop_reply_remaining: u32,
    /// One-shot faults for the next writes only (any method but GET, HEAD, OPTIONS), in arrival order.
    next_writes: Vec<WriteFault>,
    outage_until: Option<Instant>,
    /// Whether the open outage window closes connections instead of answering 503.
    outage_refuse: bool,
    counters: FaultCounters,
}

/// What the layer does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Handle normally.
    Pass,
    /// Answer with this status without running the handler; `retry_after` adds a `Retry-After` header.
    Respond {
        status: u16,
        kind: FaultKind,
        retry_after: Option<u64>,
    },
    /// Close the connection without running the handler.
    Reset,
    /// Run the handler, then close the connection instead of replying.
    DropReply,
}

/// A one-shot fault armed for the next write.
#[derive(Debug, Clone, Copy)]
enum WriteFault {
    /// Answer with this status without running the handler.
    Fail(u16),
    /// Run the handler, then close the connection instead of replying.
    DropReply,
}

impl Default for Faults {
    fn default() -> Self {
        Self::new(0)
    }
}

impl Faults {
    /// Creates fault state with no faults armed, a generator seeded with `seed`, and a plain JSON error body
    /// `{"error":{"code","message"}}`.
    pub fn new(seed: u64) -> Self {
        Self::with_body(seed, Arc::new(default_body))
    }

    /// Like [`Faults::new`] but status faults are rendered by `body`.
    pub fn with_body(seed: u64, body: FaultBody) -> Self {
        let state = State {
            config: FaultConfig::default(),
            seed,
            rng: StdRng::seed_from_u64(seed),
            fail_next: Vec::new(),
            throttle_remaining: 0,
            retry_after_secs: None,
            reset_remaining: 0,
            drop_reply_remaining: 0,
            next_writes: Vec::new(),
            outage_until: None,
            outage_refuse: false,
            counters: FaultCounters::default(),
        };
        Self {
            inner: Arc::new(Mutex::new(state)),
            body,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the plain-data state inconsistent in a way that matters to a
        // simulator, so recover instead of propagating the poison.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns a tower layer that applies these faults to the routes it wraps.
    pub fn layer(&self) -> FaultLayer {
        FaultLayer::new(self.clone())
    }

    /// Returns the control router (mount it at [`CONTROL_PATH`] with `Router::nest`).
    pub fn router(&self) -> axum::Router {
        control::router(self.clone())
    }

    /// Replaces the standing settings (latency, error/reset/drop rates).
    pub fn set_config(&self, config: FaultConfig) {
        self.lock().config = config;
    }

    /// Returns the standing settings.
    pub fn config(&self) -> FaultConfig {
        self.lock().config.clone()
    }

    /// Sets a fixed latency plus uniform jitter on every API request.
    pub fn set_latency(&self, fixed: Duration, jitter: Duration) {
        let mut s = self.lock();
        s.config.latency_ms = millis(fixed);
        s.config.jitter_ms = millis(jitter);
    }

    /// Answers a fraction `rate` of API requests with `status` (a 5xx; 500 otherwise).
    pub fn set_error_rate(&self, rate: f64, status: u16) {
        let mut s = self.lock();
        s.config.error_rate = rate;
        s.config.error_status = Some(status);
    }

    /// Closes the connection, without a response, on a fraction `rate` of API requests.
    pub fn set_reset_rate(&self, rate: f64) {
        self.lock().config.reset_rate = rate;
    }

    /// Runs the handler and then drops the reply on a fraction `rate` of API requests.
    pub fn set_drop_reply_rate(&self, rate: f64) {
        self.lock().config.drop_reply_rate = rate;
    }

    /// Fails the next `count` API requests with `status` (queued after any fail-next already armed).
    pub fn fail_next(&self, count: u32, status: u16) {
        if count > 0 {
            self.lock().fail_next.push((count, status));
        }
    }

    /// Answers the next `count` API requests with 429, carrying `Retry-After: <secs>` when given.
    pub fn throttle_next(&self, count: u32, retry_after: Option<Duration>) {
        let mut s = self.lock();
        s.throttle_remaining = count;
        s.retry_after_secs = retry_after.map(|d| d.as_secs());
    }

    /// Closes the connection without a response on the next `count` API requests.
    pub fn reset_next(&self, count: u32) {
        self.lock().reset_remaining = count;
    }

    /// Lets the next `count` API requests run (committing their effects) and then drops their replies.
    pub fn drop_reply_next(&self, count: u32) {
        self.lock().drop_reply_remaining = count;
    }

    /// Answers the next write (any method but GET, HEAD, OPTIONS) with `status` without running it; reads pass.
    /// Queued behind the write faults already armed.
    pub fn fail_next_write(&self, status: u16) {
        self.lock().next_writes.push(WriteFault::Fail(status));
    }

    /// Lets the next write run (committing its effects) and then drops its reply; reads pass. Queued behind the
    /// write faults already armed.
    pub fn drop_next_write_reply(&self) {
        self.lock().next_writes.push(WriteFault::DropReply);
    }

    /// Answers every API request with 503 for `duration` from now.
    pub fn outage_for(&self, duration: Duration) {
        let mut s = self.lock();
        s.outage_until = Some(Instant::now() + duration);
        s.outage_refuse = false;
    }

    /// Closes every API request's connection without a response for `duration` from now (a host that is down
    /// rather than one answering 503).
    pub fn refuse_for(&self, duration: Duration) {
        let mut s = self.lock();
        s.outage_until = Some(Instant::now() + duration);
        s.outage_refuse = true;
    }

    /// Ends any outage window now.
    pub fn end_outage(&self) {
        self.lock().outage_until = None;
    }

    /// Re-seeds the generator so the following random decisions repeat.
    pub fn reseed(&self, seed: u64) {
        let mut s = self.lock();
        s.seed = seed;
        s.rng = StdRng::seed_from_u64(seed);
    }

    /// Disarms every fault, zeroes the counters and re-seeds with the current seed.
    pub fn clear(&self) {
        let mut s = self.lock();
        let seed = s.seed;
        s.config = FaultConfig::default();
        s.rng = StdRng::seed_from_u64(seed);
        s.fail_next.clear();
        s.throttle_remaining = 0;
        s.retry_after_secs = None;
        s.reset_remaining = 0;
        s.drop_reply_remaining = 0;
        s.next_writes.clear();
        s.outage_until = None;
        s.counters = FaultCounters::default();
    }

    /// Returns the faults injected so far.
    pub fn counters(&self) -> FaultCounters {
        self.lock().counters
    }

    /// Returns settings, armed faults and counters.
    pub fn status(&self) -> FaultStatus {
        let s = self.lock();
        let outage_remaining_ms = s
            .outage_until
            .map(|until| millis(until.saturating_duration_since(Instant::now())))
            .unwrap_or(0);
        FaultStatus {
            config: s.config.clone(),
            seed: s.seed,
            fail_next: s.fail_next.clone(),
            throttle_remaining: s.throttle_remaining,
            reset_remaining: s.reset_remaining,
            drop_reply_remaining: s.drop_reply_remaining,
            outage_remaining_ms,
            counters: s.counters,
        }
    }

    /// Decides the delay and action for one API request (`write`: any method but GET, HEAD, OPTIONS), consuming
    /// one-shot faults and RNG draws.
    ///
    /// Precedence: outage, fail-next, a write's armed fault, 429 burst, reset, drop-reply (armed, then random),
    /// random 5xx.
    pub(crate) fn decide(&self, write: bool) -> (Duration, Action) {
        let mut s = self.lock();
        let s = &mut *s;
        s.counters.requests += 1;
        let jitter = if s.config.jitter_ms > 0 {
            s.rng.gen_range(0..=s.config.jitter_ms)
        } else {
            0
        };
        let delay = Duration::from_millis(s.config.latency_ms + jitter);
        if !delay.is_zero() {
            s.counters.delayed += 1;
        }
        // Draw every random number on every request, so the sequence of decisions depends only on the seed and
        // the request count, not on which one-shot faults happened to be armed.
        let (reset_roll, drop_roll, error_roll): (f64, f64, f64) =
            (s.rng.r#gen(), s.rng.r#gen(), s.rng.r#gen());
        if s.outage_until.is_some_and(|until| Instant::now() < until) {
            s.counters.outages += 1;
            if s.outage_refuse {
                return (delay, Action::Reset);
            }
            return (
                delay,
                Action::Respond {
                    status: 503,
                    kind: FaultKind::Outage,
                    retry_after: None,
                },
            );
        }
        if let Some((remaining, status)) = s.fail_next.first_mut() {
            let status = *status;
            *remaining -= 1;
            if *remaining == 0 {
                s.fail_next.remove(0);
            }
            s.counters.failed_next += 1;
            return (
                delay,
                Action::Respond {
                    status,
                    kind: FaultKind::FailNext,
                    retry_after: None,
                },
            );
        }
        if write && !s.next_writes.is_empty() {
            return match s.next_writes.remove(0) {
                WriteFault::Fail(status) => {
                    s.counters.failed_next += 1;
                    (
                        delay,
                        Action::Respond {
                            status,
                            kind: FaultKind::FailNext,
                            retry_after: None,
                        },
                    )
                }
                WriteFault::DropReply => {
                    s.counters.dropped_replies += 1;
                    (delay, Action::DropReply)
                }
            };
        }
        if s.throttle_remaining > 0 {
            s.throttle_remaining -= 1;
            s.counters.throttled += 1;
            let retry_after = s.retry_after_secs;
            return (
                delay,
                Action::Respond {
                    status: 429,
                    kind: FaultKind::Throttle,
                    retry_after,
                },
            );
        }
        if s.reset_remaining > 0 || reset_roll < s.config.reset_rate {
            s.reset_remaining = s.reset_remaining.saturating_sub(1);
            s.counters.resets += 1;
            return (delay, Action::Reset);
        }
        if s.drop_reply_remaining > 0 || drop_roll < s.config.drop_reply_rate {
            s.drop_reply_remaining = s.drop_reply_remaining.saturating_sub(1);
            s.counters.dropped_replies += 1;
            return (delay, Action::DropReply);
        }
        if error_roll < s.config.error_rate {
            s.counters.errors += 1;
            let status = s
                .config
                .error_status
                .filter(|c| (500..600).contains(c))
                .unwrap_or(500);
            return (
                delay,
                Action::Respond {
                    status,
                    kind: FaultKind::Error,
                    retry_after: None,
                },
            );
        }
        (delay, Action::Pass)
    }

    /// Renders a status fault with the configured body and optional `Retry-After`.
    pub(crate) fn respond(
        &self,
        status: u16,
        kind: FaultKind,
        retry_after: Option<u64>,
    ) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (self.body)(status, kind);
        *response.status_mut() = status;
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The default status-fault body, in the simulators' own control shape.
fn default_body(status: StatusCode, kind: FaultKind) -> Response {
    let body = serde_json::json!({
        "error": { "code": status.as_u16(), "message": format!("injected fault: {kind:?}").to_lowercase() }
    });
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(faults: &Faults, n: usize) -> Vec<Action> {
        (0..n).map(|_| faults.decide(false).1).collect()
    }

    #[test]
    fn write_faults_wait_for_a_write() {
        let f = Faults::new(1);
        f.fail_next_write(503);
        f.drop_next_write_reply();
        assert_eq!(f.decide(false).1, Action::Pass, "a read passes");
        assert!(matches!(
            f.decide(true).1,
            Action::Respond { status: 503, .. }
        ));
        assert_eq!(f.decide(false).1, Action::Pass);
        assert_eq!(f.decide(true).1, Action::DropReply);
        assert_eq!(f.decide(true).1, Action::Pass, "each fault fires once");
        let c = f.counters();
        assert_eq!((c.failed_next, c.dropped_replies), (1, 1));
    }

    #[test]
    fn same_seed_gives_same_decisions() {
        let a = Faults::new(7);
        let b = Faults::new(7);
        for f in [&a, &b] {
            f.set_error_rate(0.3, 503);
            f.set_reset_rate(0.1);
        }
        assert_eq!(run(&a, 200), run(&b, 200));
        assert!(a.counters().errors > 0);
    }

    #[test]
    fn fail_next_is_consumed_in_order() {
        let f = Faults::new(1);
        f.fail_next(2, 502);
        f.fail_next(1, 500);
        let statuses: Vec<_> = run(&f, 4)
            .into_iter()
            .map(|a| match a {
                Action::Respond { status, .. } => status,
                _ => 0,
            })
            .collect();
        assert_eq!(statuses, vec![502, 502, 500, 0]);
        assert_eq!(f.counters().failed_next, 3);
    }
}
