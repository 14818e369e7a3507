//! Rate limiting per key (one FreshBooks account shared by all of a tenant's workers), via governor; when
//! several hosts share the work, also through a budget they all draw from (the shared database), so the
//! account's limit is not multiplied by the number of hosts.

use crate::RateLimitConfig;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use std::{num::NonZeroU32, sync::Arc};

/// A per-key budget of calls per second shared by every process (implemented by the host over its store).
pub trait SharedRateBudget: Send + Sync {
    /// Takes one of `limit` slots of `key`'s current one-second window: `Ok(None)` to go ahead,
    /// `Ok(Some(wait))` when the window is spent. `Err` (the budget cannot be reached) lets the call through
    /// under the local limit alone.
    fn take<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Duration>, String>> + Send + 'a>>;
}

/// A keyed token bucket; clones share the buckets.
#[derive(Clone)]
pub struct KeyedLimiter {
    /// `None` when disabled; shared so every client of one process draws from the same bucket per key.
    inner: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    /// Calls per second per key (0: disabled).
    per_second: u32,
    /// The cross-host budget, when hosts share a database.
    shared: Option<Arc<dyn SharedRateBudget>>,
}

impl std::fmt::Debug for KeyedLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedLimiter")
            .field("enabled", &self.inner.is_some())
            .finish()
    }
}

impl KeyedLimiter {
    /// Builds the limiter; `per_second` 0 disables it.
    pub fn new(config: &RateLimitConfig) -> Self {
        let inner = NonZeroU32::new(config.per_second).map(|rate| {
            let burst = NonZeroU32::new(config.burst).unwrap_or(rate);
            Arc::new(RateLimiter::keyed(
                Quota::per_second(rate).allow_burst(burst),
            ))
        });
        Self {
            inner,
            per_second: config.per_second,
            shared: None,
        }
    }

    /// Also draws every call from `budget`, shared with the other hosts.
    pub fn with_shared_budget(mut self, budget: Arc<dyn SharedRateBudget>) -> Self {
        self.shared = Some(budget);
        self
    }

    /// Waits until `key` may send one more request.
    pub async fn until_ready(&self, key: &str) {
        let Some(l) = &self.inner else {
            return;
        };
        l.until_key_ready(&key.to_owned()).await;
        let Some(shared) = &self.shared else {
            return;
        };
        loop {
            match shared.take(key, self.per_second).await {
                Ok(None) => return,
                Ok(Some(wait)) => tokio::time::sleep(wait).await,
                Err(error) => {
                    tracing::warn!(%error, key, "Shared rate budget unreachable; local limit only.");
                    return;
                }
            }
        }
    }

    /// Takes a permit for `key` now if one is free, without waiting.
    pub fn try_acquire(&self, key: &str) -> bool {
        match &self.inner {
            Some(l) => l.check_key(&key.to_owned()).is_ok(),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A budget of `limit` calls per window for all clones, counted in memory, standing in for the store.
    struct CountingBudget(std::sync::Mutex<u32>);

    impl SharedRateBudget for CountingBudget {
        fn take<'a>(
            &'a self,
            _key: &'a str,
            limit: u32,
        ) -> Pin<Box<dyn Future<Output = Result<Option<Duration>, String>> + Send + 'a>> {
            Box::pin(async move {
                let mut used = self.0.lock().unwrap();
                if *used < limit {
                    *used += 1;
                    Ok(None)
                } else {
                    *used = 0;
                    Ok(Some(Duration::from_millis(20)))
                }
            })
        }
    }

    #[tokio::test]
    async fn two_hosts_draw_from_one_shared_budget() {
        let budget: Arc<dyn SharedRateBudget> = Arc::new(CountingBudget(std::sync::Mutex::new(0)));
        let config = RateLimitConfig {
            per_second: 3,
            burst: 100,
        };
        let host_a = KeyedLimiter::new(&config).with_shared_budget(budget.clone());
        let host_b = KeyedLimiter::new(&config).with_shared_budget(budget);
        let started = std::time::Instant::now();
        for _ in 0..3 {
            host_a.until_ready("acct").await;
        }
        assert!(
            started.elapsed() < Duration::from_millis(20),
            "within budget: no wait"
        );
        // Host b has its own local bucket (burst 100) but the shared window is spent.
        host_b.until_ready("acct").await;
        assert!(
            started.elapsed() >= Duration::from_millis(20),
            "the shared budget made b wait"
        );
    }

    #[test]
    fn each_key_has_its_own_bucket() {
        let l = KeyedLimiter::new(&RateLimitConfig {
            per_second: 1,
            burst: 2,
        });
        assert!(l.try_acquire("acct-a"));
        assert!(l.try_acquire("acct-a"));
        assert!(!l.try_acquire("acct-a"));
        assert!(l.try_acquire("acct-b"));
    }

    #[test]
    fn zero_rate_disables_the_limiter() {
        let l = KeyedLimiter::new(&RateLimitConfig {
            per_second: 0,
            burst: 0,
        });
        assert!((0..100).all(|_| l.try_acquire("k")));
    }
}
