//! The classified outbound error: every failure answers "retry, refresh auth, or dead-letter?".

use ferry_model::{Disposition, ErrorClass};
use std::time::Duration;

/// Result of an outbound call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an outbound call failed, in terms a caller acts on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request or connection timed out; for a write the downstream may have committed it.
    #[error("{what}: timed out")]
    Timeout {
        /// What was being attempted.
        what: String,
        /// Whether the request could have changed state downstream.
        write: bool,
    },
    /// No connection could be made; the request never left.
    #[error("{what}: could not connect")]
    Connect {
        /// What was being attempted.
        what: String,
    },
    /// The connection broke after the request was sent (reset, closed, malformed reply).
    #[error("{what}: connection failed: {reason}")]
    Transport {
        /// What was being attempted.
        what: String,
        /// Whether the request could have changed state downstream.
        write: bool,
        /// The transport's own description (never carries headers).
        reason: String,
    },
    /// 401: the credentials were refused; the caller should refresh its token once and retry.
    #[error("{what}: unauthorized (401): {body}")]
    Unauthorized {
        /// What was being attempted.
        what: String,
        /// Short body summary.
        body: String,
    },
    /// 429: the downstream throttled us.
    #[error("{what}: throttled (429)")]
    Throttled {
        /// What was being attempted.
        what: String,
        /// `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// 5xx: the downstream failed; for a write it may have committed the change first.
    #[error("{what}: server error {status}: {body}")]
    Server {
        /// What was being attempted.
        what: String,
        /// HTTP status.
        status: u16,
        /// Whether the request could have changed state downstream.
        write: bool,
        /// Short body summary.
        body: String,
        /// `Retry-After`, when sent (503 often carries it).
        retry_after: Option<Duration>,
    },
    /// 409/423: the object is being modified by another request; the request was refused, try again.
    #[error("{what}: conflict {status}: {body}")]
    Conflict {
        /// What was being attempted.
        what: String,
        /// HTTP status.
        status: u16,
        /// Short body summary.
        body: String,
    },
    /// Any other 4xx: the request is wrong and retrying it will not help.
    #[error("{what}: rejected {status}: {body}")]
    Rejected {
        /// What was being attempted.
        what: String,
        /// HTTP status.
        status: u16,
        /// Short body summary.
        body: String,
    },
    /// The breaker for this downstream is open: the call was not attempted.
    #[error("{what}: circuit breaker open for {downstream}, retry in {remaining:?}")]
    BreakerOpen {
        /// What was being attempted.
        what: String,
        /// The downstream whose breaker is open.
        downstream: String,
        /// Cooldown left before probes are let through.
        remaining: Duration,
    },
    /// The request could not be built (bad URL, body not serialisable).
    #[error("{what}: invalid request: {reason}")]
    Request {
        /// What was being attempted.
        what: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// What the worker should do with this failure.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Timeout { .. } | Self::Connect { .. } | Self::Transport { .. } => {
                Disposition::Retry { after: None }
            }
            // A refresh is attempted by the client first; reaching the worker means it must come back later.
            Self::Unauthorized { .. } => Disposition::Retry { after: None },
            Self::Conflict { .. } => Disposition::Retry { after: None },
            Self::Throttled { retry_after, .. } => Disposition::Retry {
                after: *retry_after,
            },
            Self::Server { retry_after, .. } => Disposition::Retry {
                after: *retry_after,
            },
            Self::BreakerOpen { remaining, .. } => Disposition::Retry {
                after: Some(*remaining),
            },
            Self::Rejected { .. } | Self::Request { .. } => Disposition::DeadLetter {
                reason: self.to_string(),
            },
        }
    }

    /// The class a dead letter of this error is filed under (after the retries ran out, for a transient one).
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Timeout { .. }
            | Self::Connect { .. }
            | Self::Transport { .. }
            | Self::Server { .. }
            | Self::BreakerOpen { .. } => ErrorClass::Upstream,
            Self::Unauthorized { .. } => ErrorClass::Authorization,
            Self::Throttled { .. } => ErrorClass::RateLimit,
            Self::Conflict { .. } => ErrorClass::Conflict,
            Self::Rejected { status, .. } => ErrorClass::of_status(*status),
            // Ferry could not build the request (a bad URL from configuration, a body it cannot serialise).
            Self::Request { .. } => ErrorClass::Internal,
        }
    }

    /// True when a write may have been committed downstream although no reply said so:
    /// the retry must look for the object by its marker before creating it again.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Timeout { write, .. }
            | Self::Transport { write, .. }
            | Self::Server { write, .. } => *write,
            _ => false,
        }
    }

    /// True when the request certainly changed nothing downstream: it never left (no connection, breaker open, not
    /// buildable) or the downstream answered that it refused it (401, 409/423, 429, any other 4xx).
    pub fn refused_for_certain(&self) -> bool {
        matches!(
            self,
            Self::Connect { .. }
                | Self::Unauthorized { .. }
                | Self::Throttled { .. }
                | Self::Conflict { .. }
                | Self::Rejected { .. }
                | Self::BreakerOpen { .. }
                | Self::Request { .. }
        )
    }

    /// True for a 401: refresh credentials and try once more.
    pub fn needs_auth_refresh(&self) -> bool {
        matches!(self, Self::Unauthorized { .. })
    }

    /// False when the call was refused locally (breaker open) or throttled (429): the worker waits without
    /// counting an attempt, because the downstream's budget, not the event, is what ran out (a backfill larger
    /// than the budget must not dead-letter).
    pub fn burns_attempt(&self) -> bool {
        !matches!(self, Self::BreakerOpen { .. } | Self::Throttled { .. })
    }

    /// The HTTP status, when the downstream answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::Throttled { .. } => Some(429),
            Self::Server { status, .. }
            | Self::Rejected { status, .. }
            | Self::Conflict { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout { .. } => "timeout",
            Self::Connect { .. } => "connect",
            Self::Transport { .. } => "transport",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Throttled { .. } => "throttled",
            Self::Conflict { .. } => "conflict",
            Self::Server { .. } => "server_error",
            Self::Rejected { .. } => "rejected",
            Self::BreakerOpen { .. } => "breaker_open",
            Self::Request { .. } => "invalid",
        }
    }

    /// True when this failure says the downstream is unhealthy (counts against the breaker): a 5xx, a reset, a
    /// timeout, a refused connection. A 429 does not: the downstream is healthy and said when to come back, and a
    /// throttle burst must not open the breaker.
    pub fn is_downstream_failure(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. }
                | Self::Connect { .. }
                | Self::Transport { .. }
                | Self::Server { .. }
        )
    }

    /// True when the same request may well succeed if sent again shortly (unhealthy downstream or throttling).
    pub(crate) fn is_transient(&self) -> bool {
        self.is_downstream_failure() || matches!(self, Self::Throttled { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_timeouts_and_5xx_have_unknown_outcome_reads_do_not() {
        let t = Error::Timeout {
            what: "create invoice".into(),
            write: true,
        };
        assert!(t.outcome_unknown());
        assert_eq!(t.disposition(), Disposition::Retry { after: None });
        let r = Error::Timeout {
            what: "get invoice".into(),
            write: false,
        };
        assert!(!r.outcome_unknown());
        let s = Error::Server {
            what: "x".into(),
            status: 502,
            write: true,
            body: String::new(),
            retry_after: None,
        };
        assert!(s.outcome_unknown());
        assert!(!Error::Connect { what: "x".into() }.outcome_unknown());
    }

    #[test]
    fn other_4xx_dead_letters_with_body_summary() {
        let e = Error::Rejected {
            what: "create client".into(),
            status: 422,
            body: "email invalid".into(),
        };
        match e.disposition() {
            Disposition::DeadLetter { reason } => assert!(reason.contains("email invalid")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn breaker_open_retries_after_cooldown_without_burning_an_attempt() {
        let e = Error::BreakerOpen {
            what: "x".into(),
            downstream: "freshbooks".into(),
            remaining: Duration::from_secs(7),
        };
        assert_eq!(
            e.disposition(),
            Disposition::Retry {
                after: Some(Duration::from_secs(7))
            }
        );
        assert!(!e.burns_attempt());
        assert!(Error::Connect { what: "x".into() }.burns_attempt());
        let throttled = Error::Throttled {
            what: "x".into(),
            retry_after: None,
        };
        assert!(!throttled.burns_attempt());
    }

    #[test]
    fn throttle_retries_after_retry_after_and_401_asks_for_refresh() {
        let e = Error::Throttled {
            what: "x".into(),
            retry_after: Some(Duration::from_secs(4)),
        };
        assert_eq!(
            e.disposition(),
            Disposition::Retry {
                after: Some(Duration::from_secs(4))
            }
        );
        assert!(
            Error::Unauthorized {
                what: "x".into(),
                body: String::new()
            }
            .needs_auth_refresh()
        );
    }
}
