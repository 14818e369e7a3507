//! How to start the Kentico simulator, and where its webhooks go.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How to start the simulator. Built in code by tests and the sandbox.
#[derive(Debug, Clone)]
pub struct KenticoSimConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the store, the webhook skip decisions and the fault generator.
    pub seed: u64,
    /// Registered customers in the seeded store.
    pub customers: usize,
    /// Orders in the seeded history (placed before start; no webhooks are sent for them).
    pub orders: usize,
    /// REST user name (HTTP Basic).
    pub username: String,
    /// REST password.
    pub password: String,
    /// Code name of the one site (`OrderSiteID` 1).
    pub site_name: String,
    /// Whether the REST user is a global administrator (`/rest/<type>/all` needs it, else 403).
    pub global_admin: bool,
    /// The server's UTC offset in whole hours: `datetime2` values are local times and JSON shows this offset.
    pub utc_offset_hours: i8,
    /// Webhook delivery attempts and backoff.
    pub webhook_retry: RetrySchedule,
    /// How long one webhook request may take before it counts as a failed attempt.
    pub webhook_timeout: Duration,
    /// Objects whose events are delivered at the same time (events of one object are always sequential).
    pub webhook_concurrency: usize,
    /// The site setting `CMSRESTObjectsReadOnly`: every write through `/rest` is refused with 403.
    pub objects_read_only: bool,
    /// Object types the REST user has the modify permission for (`PUT`); others answer 403. Creating and
    /// deleting are never permitted. Default: orders only, what Ferry's payment write-back needs.
    pub modify_types: Vec<String>,
}

impl Default for KenticoSimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            seed: 1,
            customers: 25,
            orders: 0,
            username: "ferry".to_owned(),
            password: "sandbox".to_owned(),
            site_name: "DancingGoatCore".to_owned(),
            global_admin: true,
            // guess: a Central European server (the reference fixtures show +01:00); no daylight saving.
            utc_offset_hours: 1,
            webhook_retry: RetrySchedule::default(),
            webhook_timeout: Duration::from_secs(10),
            webhook_concurrency: 8,
            objects_read_only: false,
            modify_types: vec!["ecommerce.order".to_owned()],
        }
    }
}

/// When a webhook is retried: `attempts` tries in all, waiting `initial`, then doubling up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrySchedule {
    /// Tries per event, the first included.
    pub attempts: u32,
    /// Wait before the second try.
    pub initial: Duration,
    /// Longest wait between tries.
    pub max: Duration,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self {
            attempts: 5,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(8),
        }
    }
}

impl RetrySchedule {
    /// A schedule for tests: `attempts` tries a few milliseconds apart.
    pub fn fast(attempts: u32) -> Self {
        Self {
            attempts,
            initial: Duration::from_millis(5),
            max: Duration::from_millis(40),
        }
    }

    /// The wait after failed attempt number `attempt` (1-based).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// Where webhooks are sent and the key they are signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookTarget {
    /// The receiver URL, e.g. `http://127.0.0.1:8080/hooks/kentico/acme`.
    pub url: String,
    /// Standard Webhooks secret, `whsec_<base64 key>`.
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = RetrySchedule::default();
        let waits: Vec<u64> = (1..=6)
            .map(|a| r.delay_after(a).as_millis() as u64)
            .collect();
        assert_eq!(waits, vec![500, 1000, 2000, 4000, 8000, 8000]);
    }
}
