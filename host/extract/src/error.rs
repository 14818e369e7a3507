//! The extract stage's error, classified for the worker.

use ferry_model::{Disposition, ErrorClass};

/// Result of an extract operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why reading from Kentico failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object does not exist (404): nothing to sync, dead-letter.
    #[error("{what}: not found in kentico")]
    NotFound {
        /// What was being read, e.g. `fetch order 27`.
        what: String,
    },
    /// The HTTP call failed (timeout, 5xx, 401/403, breaker open …).
    // The outbound error's message already starts with `what`.
    #[error("{source}")]
    Http {
        /// What was being read.
        what: String,
        /// The classified outbound error.
        #[source]
        source: ferry_outbound::Error,
    },
    /// Kentico answered something we cannot read (envelope, column type, XML blob).
    #[error("{what}: unexpected kentico data: {reason}")]
    Malformed {
        /// What was being read.
        what: String,
        /// What was wrong.
        reason: String,
    },
}

impl Error {
    /// What the worker should do.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::NotFound { .. } | Self::Malformed { .. } => Disposition::DeadLetter {
                reason: self.to_string(),
            },
            // Kentico's Basic auth does not refresh: a 401/403 means misconfiguration; the outbound
            // classification dead-letters 403 and retries 401 (credentials may be rotated by an operator).
            Self::Http { source, .. } => source.disposition(),
        }
    }

    /// The class a dead letter of this error is filed under: Kentico data Ferry cannot read is a validation
    /// failure of the order (the shop must fix it), not an outage.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound { .. } => ErrorClass::NotFound,
            Self::Malformed { .. } => ErrorClass::Validation,
            Self::Http { source, .. } => source.class(),
        }
    }

    /// False when the call was refused locally (breaker open) and should not count as an attempt.
    pub fn burns_attempt(&self) -> bool {
        match self {
            Self::Http { source, .. } => source.burns_attempt(),
            _ => true,
        }
    }

    pub(crate) fn malformed(what: &str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            what: what.to_owned(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_order_dead_letters_and_server_errors_retry() {
        assert!(matches!(
            Error::NotFound {
                what: "fetch order 9".into()
            }
            .disposition(),
            Disposition::DeadLetter { .. }
        ));
        let e = Error::Http {
            what: "fetch order 9".into(),
            source: ferry_outbound::Error::Server {
                what: "get".into(),
                status: 503,
                write: false,
                body: String::new(),
                retry_after: None,
            },
        };
        assert_eq!(e.disposition(), Disposition::Retry { after: None });
    }
}
