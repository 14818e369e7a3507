//! Exponential backoff with full jitter (AWS "full jitter"), never sooner than the downstream's `Retry-After`.

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A retry delay policy: attempt `n` (0-based) waits a uniformly random time in `[0, min(cap, base·2ⁿ)]`,
/// and at least `Retry-After` when the downstream sent one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    /// Milliseconds of the first ceiling.
    pub base_ms: u64,
    /// Milliseconds no delay exceeds (unless `Retry-After` asks for more).
    pub cap_ms: u64,
}

impl Default for Backoff {
    /// 1 s doubling up to 10 min: roughly the Svix/Zapier schedules over ten attempts.
    fn default() -> Self {
        Self {
            base_ms: 1_000,
            cap_ms: 600_000,
        }
    }
}

impl Backoff {
    /// The largest delay attempt `attempt` may draw.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u64.checked_shl(attempt.min(63)).unwrap_or(u64::MAX);
        Duration::from_millis(self.base_ms.saturating_mul(factor).min(self.cap_ms))
    }

    /// The delay before retry number `attempt` (0-based), honouring `retry_after`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        let jittered = Duration::from_millis(rand::thread_rng().gen_range(0..=ceiling));
        self.combine(jittered, retry_after)
    }

    /// The delay for an error's disposition: `Retry { after }` feeds `retry_after`.
    pub fn delay_for(
        &self,
        attempt: u32,
        disposition: &ferry_model::Disposition,
    ) -> Option<Duration> {
        match disposition {
            ferry_model::Disposition::Retry { after } => Some(self.delay(attempt, *after)),
            ferry_model::Disposition::DeadLetter { .. }
            | ferry_model::Disposition::Disconnected { .. } => None,
        }
    }

    fn combine(&self, jittered: Duration, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(ra) => jittered.max(ra),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_then_caps() {
        let b = Backoff {
            base_ms: 100,
            cap_ms: 1_000,
        };
        assert_eq!(b.ceiling(0), Duration::from_millis(100));
        assert_eq!(b.ceiling(3), Duration::from_millis(800));
        assert_eq!(b.ceiling(4), Duration::from_millis(1_000));
        assert_eq!(b.ceiling(200), Duration::from_millis(1_000));
    }

    #[test]
    fn full_jitter_stays_within_ceiling() {
        let b = Backoff {
            base_ms: 100,
            cap_ms: 10_000,
        };
        for attempt in 0..8 {
            for _ in 0..50 {
                assert!(b.delay(attempt, None) <= b.ceiling(attempt));
            }
        }
    }

    #[test]
    fn retry_after_is_a_floor() {
        let b = Backoff {
            base_ms: 10,
            cap_ms: 50,
        };
        for _ in 0..50 {
            assert!(b.delay(0, Some(Duration::from_secs(4))) >= Duration::from_secs(4));
        }
        let d = b.delay_for(
            1,
            &ferry_model::Disposition::Retry {
                after: Some(Duration::from_secs(2)),
            },
        );
        assert!(d >= Some(Duration::from_secs(2)));
        assert_eq!(
            b.delay_for(
                1,
                &ferry_model::Disposition::DeadLetter {
                    reason: String::new()
                }
            ),
            None
        );
    }
}
