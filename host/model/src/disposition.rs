//! The worker's one question about any error: try again later, or give up with a reason.

use std::time::Duration;

/// What the worker does with a failed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// A transient failure (timeout, 5xx, 429, breaker open): retry, no sooner than `after` when given.
    Retry {
        /// The earliest retry the downstream asked for (`Retry-After`), if any.
        after: Option<Duration>,
    },
    /// A permanent failure (invalid data, 4xx, plugin rejection): park in the dead-letter queue.
    DeadLetter {
        /// Why, in words an operator can act on.
        reason: String,
    },
    /// The downstream refused the tenant's credentials for good (a refresh token or client secret rejected):
    /// every event of the tenant would fail the same way. The tenant is marked disconnected and its events wait,
    /// without spending attempts, until an operator reconnects it; nothing is dead-lettered.
    Disconnected {
        /// What the downstream said, for the operator.
        reason: String,
    },
}
