//! Rate limiting per key (one FreshBooks account shared by all of a tenant's workers), via governor.

use crate::RateLimitConfig;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::{num::NonZeroU32, sync::Arc};

/// A keyed token bucket; clones share the buckets.
#[derive(Clone)]
pub struct KeyedLimiter {
    /// `None` when disabled; shared so every client of one process draws from the same bucket per key.
    inner: Option<Arc<DefaultKeyedRateLimiter<String>>>,
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
        Self { inner }
    }

    /// Waits until `key` may send one more request.
    pub async fn until_ready(&self, key: &str) {
        if let Some(l) = &self.inner {
            l.until_key_ready(&key.to_owned()).await;
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
