//! The load stage's error, classified for the worker.

use ferry_model::{Disposition, ErrorClass};

/// Result of a load operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why writing to FreshBooks failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HTTP call failed; see the source's classification (retry, outcome unknown, dead-letter).
    // The outbound error's message already starts with `what`.
    #[error("{source}")]
    Http {
        /// What was being attempted, e.g. `create invoice for order 27`.
        what: String,
        /// The classified outbound error.
        #[source]
        source: ferry_outbound::Error,
    },
    /// FreshBooks says the object does not exist (404, errno 1012).
    #[error("{what}: not found in freshbooks")]
    NotFound {
        /// What was being attempted.
        what: String,
    },
    /// FreshBooks answered 200 with an `errors` list (validation), or a body we cannot read.
    #[error("{what}: freshbooks refused or sent unreadable data: {reason}")]
    Refused {
        /// What was being attempted.
        what: String,
        /// FreshBooks' messages or the parse failure.
        reason: String,
    },
    /// No tokens stored for this account: an operator must run `ferry connect`.
    #[error("freshbooks account {account_id} is not connected (run `ferry connect`)")]
    NotConnected {
        /// The FreshBooks account.
        account_id: String,
    },
    /// FreshBooks refused the authorization for good: the token endpoint rejected the refresh token or the client
    /// credentials (`invalid_grant`, `invalid_client`), or the API answered 401 right after a refresh. Reconnect.
    #[error("freshbooks authorization for account {account_id} was revoked: {reason}")]
    AuthRevoked {
        /// The FreshBooks account.
        account_id: String,
        /// The token endpoint's answer.
        reason: String,
    },
    /// The host's token store or ledger failed (transient by assumption: it is our own database).
    #[error("{what}: {reason}")]
    Store {
        /// What was being attempted.
        what: String,
        /// The store's message.
        reason: String,
    },
    /// The drafts cannot be synced as given (e.g. no email and no stored client).
    #[error("{what}: {reason}")]
    Invalid {
        /// What was being attempted.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A change Ferry may not make on its own (a paid invoice's edit or cancellation under `"review"`, or an edit
    /// no credit note can carry): a person decides, then replays or discards.
    #[error("{what}: {reason}")]
    Review {
        /// What was being attempted.
        what: String,
        /// What the person should look at.
        reason: String,
    },
}

impl Error {
    /// What the worker should do.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Http { source, .. } => source.disposition(),
            Self::Store { .. } => Disposition::Retry { after: None },
            // Every event of the tenant would be refused the same way: the tenant waits for a reconnect.
            Self::AuthRevoked { .. } => Disposition::Disconnected {
                reason: self.to_string(),
            },
            Self::NotFound { .. }
            | Self::Refused { .. }
            | Self::NotConnected { .. }
            | Self::Invalid { .. }
            | Self::Review { .. } => Disposition::DeadLetter {
                reason: self.to_string(),
            },
        }
    }

    /// The class a dead letter of this error is filed under.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Http { source, .. } => source.class(),
            Self::NotFound { .. } => ErrorClass::NotFound,
            Self::Refused { .. } | Self::Invalid { .. } => ErrorClass::Validation,
            Self::NotConnected { .. } | Self::AuthRevoked { .. } => ErrorClass::Authorization,
            Self::Store { .. } => ErrorClass::Internal,
            Self::Review { .. } => ErrorClass::Review,
        }
    }

    /// True when a write may have been committed although no reply said so.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Self::Http { source, .. } if source.outcome_unknown())
    }

    /// True when the call certainly created nothing in FreshBooks (see [`ferry_outbound::Error::refused_for_certain`]).
    pub fn refused_for_certain(&self) -> bool {
        matches!(self, Self::Http { source, .. } if source.refused_for_certain())
    }

    /// True when FreshBooks failed in passing (a 5xx, a reset, a timeout, a refused connection) without asking for a
    /// pause longer than `longest`: the load may run again at once, within the event. The ledger makes that safe:
    /// what is done is not redone, and a write whose outcome is unknown is searched for by its marker first.
    pub fn failed_in_passing(&self, longest: std::time::Duration) -> bool {
        match self {
            Self::Http { source, .. } if source.is_downstream_failure() => {
                match source.disposition() {
                    Disposition::Retry { after } => after.is_none_or(|a| a <= longest),
                    Disposition::DeadLetter { .. } | Disposition::Disconnected { .. } => false,
                }
            }
            _ => false,
        }
    }

    /// False when the call was refused locally (breaker open) and should not count as an attempt.
    pub fn burns_attempt(&self) -> bool {
        !matches!(self, Self::Http { source, .. } if !source.burns_attempt())
    }

    pub(crate) fn http(what: &str, source: ferry_outbound::Error) -> Self {
        if source.status() == Some(404) {
            Self::NotFound {
                what: what.to_owned(),
            }
        } else {
            Self::Http {
                what: what.to_owned(),
                source,
            }
        }
    }

    pub(crate) fn refused(what: &str, reason: impl Into<String>) -> Self {
        Self::Refused {
            what: what.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn store(what: &str, reason: impl std::fmt::Display) -> Self {
        Self::Store {
            what: what.to_owned(),
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_auth_disconnects_and_store_failures_retry() {
        let e = Error::AuthRevoked {
            account_id: "ZyQ04o".into(),
            reason: "invalid_grant".into(),
        };
        assert!(matches!(e.disposition(), Disposition::Disconnected { .. }));
        assert_eq!(
            Error::store("x", "db busy").disposition(),
            Disposition::Retry { after: None }
        );
    }

    #[test]
    fn only_a_passing_downstream_failure_runs_the_load_again_in_the_event() {
        let http = |source| Error::Http {
            what: "create invoice".into(),
            source,
        };
        let server = |retry_after| ferry_outbound::Error::Server {
            what: "create invoice".into(),
            status: 503,
            write: true,
            body: String::new(),
            retry_after,
        };
        let longest = std::time::Duration::from_millis(400);
        assert!(http(server(None)).failed_in_passing(longest));
        assert!(
            http(ferry_outbound::Error::Transport {
                what: "x".into(),
                write: true,
                reason: "reset".into(),
            })
            .failed_in_passing(longest)
        );
        // FreshBooks asked for a longer pause: the worker waits it out, without holding the event's slot.
        assert!(!http(server(Some(std::time::Duration::from_secs(30)))).failed_in_passing(longest));
        // A 429 is the budget, not a failure; a refusal and our own database are not FreshBooks failing.
        assert!(
            !http(ferry_outbound::Error::Throttled {
                what: "x".into(),
                retry_after: None,
            })
            .failed_in_passing(longest)
        );
        assert!(!Error::store("x", "db busy").failed_in_passing(longest));
        assert!(!Error::refused("x", "email invalid").failed_in_passing(longest));
    }

    #[test]
    fn unknown_outcome_is_forwarded_from_the_transport() {
        let e = Error::http(
            "create invoice",
            ferry_outbound::Error::Timeout {
                what: "post".into(),
                write: true,
            },
        );
        assert!(e.outcome_unknown());
        let nf = Error::http(
            "get client",
            ferry_outbound::Error::Rejected {
                what: "get".into(),
                status: 404,
                body: String::new(),
            },
        );
        assert!(matches!(nf, Error::NotFound { .. }));
    }
}
