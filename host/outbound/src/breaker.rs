//! Circuit breakers keyed by (tenant, downstream): one tenant's broken FreshBooks account must not
//! slow down the others, and a dead downstream should be probed, not hammered.
//!
//! Closed → (failure rate ≥ threshold over the window, with at least `minimum_calls`) → Open →
//! (cooldown elapsed) → HalfOpen, which lets `half_open_probes` calls through → Closed on a probe
//! success, Open again on a probe failure.

use crate::BreakerConfig;
use serde::Serialize;
use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::time::Instant;

/// Which breaker: the tenant and the downstream's name (`kentico`, `freshbooks`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct BreakerKey {
    /// Tenant id.
    pub tenant: String,
    /// Downstream name.
    pub downstream: String,
}

impl BreakerKey {
    /// Builds a key.
    pub fn new(tenant: impl Into<String>, downstream: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            downstream: downstream.into(),
        }
    }
}

/// A breaker's state as shown to metrics and the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// Calls fail fast until the cooldown ends.
    Open,
    /// A few probe calls are let through.
    HalfOpen,
}

/// One breaker's observable state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakerSnapshot {
    /// Which breaker.
    pub key: BreakerKey,
    /// Current state.
    pub state: BreakerState,
    /// Calls recorded in the current window.
    pub calls: u32,
    /// Failures among them.
    pub failures: u32,
    /// Milliseconds until probes are allowed, when open.
    pub open_remaining_ms: Option<u64>,
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { since: Instant, started: u32 },
}

#[derive(Debug)]
struct Breaker {
    phase: Phase,
    /// Outcomes (time, failed) inside the window; pruned on every call.
    outcomes: VecDeque<(Instant, bool)>,
    /// How many of `outcomes` failed, kept as they come and go: a window holds every call of the last minute (a
    /// busy tenant's tens of thousands), and counting them on every call cost each call in proportion.
    failures: u64,
}

impl Breaker {
    fn new() -> Self {
        Self {
            phase: Phase::Closed,
            outcomes: VecDeque::new(),
            failures: 0,
        }
    }

    fn push(&mut self, now: Instant, failed: bool) {
        self.outcomes.push_back((now, failed));
        self.failures += u64::from(failed);
    }

    fn prune(&mut self, now: Instant, window: Duration) {
        while let Some(&(t, failed)) = self.outcomes.front() {
            if now.saturating_duration_since(t) > window {
                self.outcomes.pop_front();
                self.failures -= u64::from(failed);
            } else {
                break;
            }
        }
    }

    fn forget(&mut self) {
        self.outcomes.clear();
        self.failures = 0;
    }
}

/// Whether a permitted call is a half-open probe (its outcome decides the state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permit {
    Normal,
    Probe,
}

/// All breakers of a process; clones share state.
#[derive(Debug, Clone)]
pub struct BreakerRegistry {
    config: BreakerConfig,
    /// One std mutex for all keys: critical sections are a few comparisons, never held across await.
    breakers: Arc<Mutex<HashMap<BreakerKey, Breaker>>>,
}

impl BreakerRegistry {
    /// An empty registry using `config` for every key.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            breakers: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BreakerKey, Breaker>> {
        // A poisoned map still holds valid counters; keep going rather than fail every call.
        self.breakers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `key`'s breaker in `map`, made on first use (the key is copied only then, not on every call).
    fn breaker<'m>(map: &'m mut HashMap<BreakerKey, Breaker>, key: &BreakerKey) -> &'m mut Breaker {
        if !map.contains_key(key) {
            map.insert(key.clone(), Breaker::new());
        }
        map.get_mut(key)
            .unwrap_or_else(|| unreachable!("inserted above"))
    }

    /// Asks to make a call. `Err(remaining)` means the breaker is open (or half-open with all probes out).
    pub(crate) fn acquire(&self, key: &BreakerKey) -> Result<Permit, Duration> {
        if !self.config.enabled {
            return Ok(Permit::Normal);
        }
        let now = Instant::now();
        let cooldown = self.config.cooldown();
        let mut map = self.lock();
        let b = Self::breaker(&mut map, key);
        match b.phase {
            Phase::Closed => Ok(Permit::Normal),
            Phase::Open { until } if now < until => Err(until - now),
            Phase::Open { .. } => {
                b.phase = Phase::HalfOpen {
                    since: now,
                    started: 1,
                };
                Ok(Permit::Probe)
            }
            Phase::HalfOpen { since, started } => {
                if started < self.config.half_open_probes.max(1) {
                    b.phase = Phase::HalfOpen {
                        since,
                        started: started + 1,
                    };
                    Ok(Permit::Probe)
                } else if now.saturating_duration_since(since) >= cooldown {
                    // Probes that never reported (dropped futures) must not wedge the breaker.
                    b.phase = Phase::HalfOpen {
                        since: now,
                        started: 1,
                    };
                    Ok(Permit::Probe)
                } else {
                    Err(cooldown - now.saturating_duration_since(since))
                }
            }
        }
    }

    /// Records a call's outcome: `failed` is true for downstream failures (timeouts, 5xx, 429), not for 4xx.
    pub(crate) fn record(&self, key: &BreakerKey, permit: Permit, failed: bool) {
        if !self.config.enabled {
            return;
        }
        let now = Instant::now();
        let cfg = &self.config;
        let mut map = self.lock();
        let b = Self::breaker(&mut map, key);
        match (&b.phase, permit) {
            (Phase::HalfOpen { .. }, Permit::Probe) => {
                b.forget();
                b.phase = if failed {
                    Phase::Open {
                        until: now + cfg.cooldown(),
                    }
                } else {
                    Phase::Closed
                };
                if failed {
                    tracing::warn!(tenant = %key.tenant, downstream = %key.downstream, "Breaker reopened after failed probe.");
                } else {
                    tracing::info!(tenant = %key.tenant, downstream = %key.downstream, "Breaker closed.");
                }
            }
            (Phase::Closed, _) => {
                b.push(now, failed);
                b.prune(now, cfg.window());
                let calls = b.outcomes.len() as u64;
                let failures = b.failures;
                if calls >= u64::from(cfg.minimum_calls.max(1))
                    && failures * 100 >= calls * u64::from(cfg.failure_rate_percent)
                {
                    b.phase = Phase::Open {
                        until: now + cfg.cooldown(),
                    };
                    b.forget();
                    metrics::counter!(crate::metrics::BREAKER_OPENED_TOTAL,
                        "tenant" => key.tenant.clone(), "downstream" => key.downstream.clone())
                    .increment(1);
                    tracing::warn!(tenant = %key.tenant, downstream = %key.downstream, calls, failures, "Breaker opened.");
                }
            }
            // Late results of calls started before the breaker changed state carry no news.
            _ => {}
        }
    }

    /// The state of one breaker (closed when never used).
    pub fn state(&self, key: &BreakerKey) -> BreakerState {
        self.snapshot_of(key)
            .map(|s| s.state)
            .unwrap_or(BreakerState::Closed)
    }

    fn snapshot_of(&self, key: &BreakerKey) -> Option<BreakerSnapshot> {
        let map = self.lock();
        map.get(key).map(|b| snapshot(key, b, Instant::now()))
    }

    /// Every breaker's state, sorted by key, for metrics and the admin API.
    pub fn snapshot(&self) -> Vec<BreakerSnapshot> {
        let now = Instant::now();
        let map = self.lock();
        let mut all: Vec<_> = map.iter().map(|(k, b)| snapshot(k, b, now)).collect();
        all.sort_by(|a, b| a.key.cmp(&b.key));
        all
    }
}

fn snapshot(key: &BreakerKey, b: &Breaker, now: Instant) -> BreakerSnapshot {
    let (state, open_remaining_ms) = match b.phase {
        Phase::Closed => (BreakerState::Closed, None),
        Phase::Open { until } if now < until => {
            (BreakerState::Open, Some((until - now).as_millis() as u64))
        }
        // Cooldown over: the next call will be a probe.
        Phase::Open { .. } | Phase::HalfOpen { .. } => (BreakerState::HalfOpen, None),
    };
    BreakerSnapshot {
        key: key.clone(),
        state,
        calls: b.outcomes.len() as u32,
        failures: u32::try_from(b.failures).unwrap_or(u32::MAX),
        open_remaining_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BreakerConfig {
        BreakerConfig {
            enabled: true,
            failure_rate_percent: 50,
            minimum_calls: 4,
            window_ms: 10_000,
            cooldown_ms: 5_000,
            half_open_probes: 1,
        }
    }

    fn call(r: &BreakerRegistry, k: &BreakerKey, failed: bool) -> Result<(), Duration> {
        let p = r.acquire(k)?;
        r.record(k, p, failed);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn breaker_opens_half_opens_and_closes() {
        let r = BreakerRegistry::new(config());
        let k = BreakerKey::new("acme", "freshbooks");
        // Below the minimum number of calls the breaker never opens.
        for _ in 0..3 {
            call(&r, &k, true).unwrap();
        }
        assert_eq!(r.state(&k), BreakerState::Closed);
        call(&r, &k, true).unwrap();
        assert_eq!(r.state(&k), BreakerState::Open);
        let remaining = call(&r, &k, false).unwrap_err();
        assert_eq!(remaining, Duration::from_secs(5));

        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(r.state(&k), BreakerState::HalfOpen);
        let probe = r.acquire(&k).unwrap();
        assert_eq!(probe, Permit::Probe);
        // Only one probe at a time.
        assert!(r.acquire(&k).is_err());
        r.record(&k, probe, false);
        assert_eq!(r.state(&k), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn failed_probe_reopens_for_a_full_cooldown() {
        let r = BreakerRegistry::new(config());
        let k = BreakerKey::new("acme", "kentico");
        for _ in 0..4 {
            call(&r, &k, true).unwrap();
        }
        tokio::time::advance(Duration::from_secs(6)).await;
        call(&r, &k, true).unwrap();
        assert_eq!(r.state(&k), BreakerState::Open);
        assert_eq!(call(&r, &k, false).unwrap_err(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn failures_outside_the_window_are_forgotten_and_tenants_are_isolated() {
        let r = BreakerRegistry::new(config());
        let a = BreakerKey::new("a", "freshbooks");
        let b = BreakerKey::new("b", "freshbooks");
        call(&r, &a, true).unwrap();
        call(&r, &a, true).unwrap();
        tokio::time::advance(Duration::from_secs(11)).await;
        call(&r, &a, true).unwrap();
        call(&r, &a, false).unwrap();
        call(&r, &a, false).unwrap();
        call(&r, &a, false).unwrap();
        assert_eq!(r.state(&a), BreakerState::Closed);
        for _ in 0..4 {
            call(&r, &b, true).unwrap();
        }
        assert_eq!(r.state(&b), BreakerState::Open);
        assert_eq!(r.state(&a), BreakerState::Closed);
        let snap = r.snapshot();
        assert_eq!(snap.len(), 2);
        assert_eq!(snap[1].state, BreakerState::Open);
    }
}
