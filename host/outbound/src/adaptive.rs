//! Adaptive concurrency per tenant (AIMD, as TCP's congestion window): a tenant's window of events in flight
//! grows by about one for each window's worth of budgeted calls that succeed and halves when the downstream
//! throttles (429), never above the operator's limit nor below one. A 429 also pauses the tenant's budgeted
//! calls until its `Retry-After`: the calls that would follow are refused here instead of each spending a
//! request to learn the same answer, and the worker claims none of the tenant's events until the pause ends, so
//! an event waiting for the budget holds no run slot (issue 20: throughput bounded by the budget, not by Ferry).
//!
//! Budgeted calls are those with a rate key ([`crate::CallCtx::with_rate_key`]: the FreshBooks account).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The window of a tenant seen for the first time: the operator's limit caps it (see [`AdaptiveLimits::limit`]).
const UNBOUNDED: f64 = 1024.0;

/// How long a 429 without `Retry-After` pauses the tenant. guess: FreshBooks documents no limit and no header
/// (docs/freshbooks.md §9), so a second, as a polite minimum.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// One tenant's window and pause.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Events the tenant may run at once, fractional so that growth is gradual (+1/size per success).
    size: f64,
    /// Budgeted calls are refused locally until then (the downstream's `Retry-After`).
    paused_until: Option<Instant>,
}

impl Window {
    fn new() -> Self {
        Self {
            size: UNBOUNDED,
            paused_until: None,
        }
    }

    fn paused(&self, now: Instant) -> Option<Duration> {
        self.paused_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }
}

/// The windows of every tenant; clones share them (one per host, in the shared [`crate::HttpClient`]).
#[derive(Debug, Clone, Default)]
pub struct AdaptiveLimits {
    /// Shared by every clone so that all of a tenant's workers feed and read one window.
    windows: Arc<Mutex<HashMap<String, Window>>>,
}

impl AdaptiveLimits {
    /// No windows yet: every tenant starts at its operator limit.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, tenant: &str, f: impl FnOnce(&mut Window) -> T) -> T {
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        f(map.entry(tenant.to_owned()).or_insert_with(Window::new))
    }

    /// How many events `tenant` may run at once now: 0 while it is paused by a 429, otherwise its window,
    /// at least 1 and at most `max` (the operator's `limits.concurrency`, which also caps the window's growth).
    pub fn limit(&self, tenant: &str, max: u32) -> u32 {
        let now = Instant::now();
        self.with(tenant, |w| {
            if w.paused(now).is_some() {
                return 0;
            }
            w.size = w.size.min(f64::from(max.max(1)));
            // Truncation is intended: a window of 3.7 runs 3 events until it reaches 4.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = w.size.max(1.0) as u32;
            n
        })
    }

    /// How long `tenant`'s budgeted calls stay paused, if they are.
    pub fn paused(&self, tenant: &str) -> Option<Duration> {
        let now = Instant::now();
        self.with(tenant, |w| w.paused(now))
    }

    /// A budgeted call succeeded: the window grows by 1/size (about one per window of successes).
    pub(crate) fn on_success(&self, tenant: &str) {
        self.with(tenant, |w| {
            w.size = (w.size + 1.0 / w.size.max(1.0)).min(UNBOUNDED);
        });
    }

    /// A budgeted call was throttled: the window halves, once per pause (the other calls already in flight
    /// when the budget ran out bring their own 429s, which say nothing new), and the tenant pauses for
    /// `retry_after`.
    pub(crate) fn on_throttle(&self, tenant: &str, retry_after: Option<Duration>) {
        let now = Instant::now();
        let until = now + retry_after.unwrap_or(DEFAULT_PAUSE);
        self.with(tenant, |w| {
            if w.paused(now).is_none() {
                w.size = (w.size / 2.0).max(1.0);
            }
            w.paused_until = Some(w.paused_until.map_or(until, |u| u.max(until)));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_tenant_runs_at_its_operator_limit() {
        let l = AdaptiveLimits::new();
        assert_eq!(l.limit("a", 8), 8);
        assert_eq!(l.limit("b", 1), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_halves_the_window_once_and_pauses_until_retry_after() {
        let l = AdaptiveLimits::new();
        assert_eq!(l.limit("a", 16), 16);
        l.on_throttle("a", Some(Duration::from_secs(2)));
        // Other calls of the same burst come back 429 too: no second cut.
        l.on_throttle("a", Some(Duration::from_secs(2)));
        assert_eq!(l.limit("a", 16), 0, "paused");
        assert!(l.paused("a").is_some());
        assert_eq!(l.limit("b", 16), 16, "another tenant is not paused");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(l.limit("a", 16), 8);
        assert!(l.paused("a").is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn successes_grow_the_window_back_up_to_the_operator_limit() {
        let l = AdaptiveLimits::new();
        assert_eq!(l.limit("a", 8), 8);
        l.on_throttle("a", None);
        tokio::time::advance(DEFAULT_PAUSE).await;
        assert_eq!(l.limit("a", 8), 4);
        for _ in 0..4 {
            l.on_success("a");
        }
        assert_eq!(l.limit("a", 8), 4, "one more per window of successes: 4.9");
        for _ in 0..6 {
            l.on_success("a");
        }
        assert_eq!(l.limit("a", 8), 6);
        for _ in 0..100 {
            l.on_success("a");
        }
        assert_eq!(l.limit("a", 8), 8, "never above the operator's limit");
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_never_drops_below_one() {
        let l = AdaptiveLimits::new();
        assert_eq!(l.limit("a", 2), 2);
        for _ in 0..5 {
            l.on_throttle("a", None);
            tokio::time::advance(DEFAULT_PAUSE).await;
        }
        assert_eq!(l.limit("a", 2), 1);
    }
}
