//! The error of one pipeline run, with the worker's one question answered: retry, or dead-letter.

use ferry_model::{Disposition, ErrorClass};

/// Why a run did not finish.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The event names a tenant this host does not (or no longer) serve.
    #[error("tenant {0} is not configured")]
    UnknownTenant(String),
    /// The stored envelope could not be read back.
    #[error("stored event is unreadable: {0}")]
    BadEvent(String),
    /// Reading from Kentico failed.
    #[error(transparent)]
    Extract(#[from] ferry_extract::Error),
    /// The order broke validation rules (built-in or the tenant's plugin); every reason is listed.
    #[error("order {order} is invalid: {}", reasons.join("; "))]
    Invalid {
        /// The Kentico order number.
        order: String,
        /// Every rule it broke.
        reasons: Vec<String>,
    },
    /// The tenant's anomaly checks held the order for review (`[tenants.anomaly]`); a replay sends it on.
    #[error("order {order} {}; held for review", reasons.join("; "))]
    Held {
        /// The Kentico order number.
        order: String,
        /// What is unusual about it.
        reasons: Vec<String>,
    },
    /// No exchange rate for the conversion.
    #[error(transparent)]
    Exchange(#[from] crate::services::ExchangeError),
    /// A tenant plugin failed or refused the record.
    #[error(transparent)]
    Transform(#[from] ferry_transform::TransformError),
    /// Writing to FreshBooks failed.
    #[error(transparent)]
    Load(#[from] ferry_load::Error),
    /// The store could not record a step.
    #[error(transparent)]
    Store(#[from] ferry_store::Error),
}

impl StepError {
    /// What the worker does with it.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::UnknownTenant(_)
            | Self::BadEvent(_)
            | Self::Invalid { .. }
            | Self::Held { .. } => Disposition::DeadLetter {
                reason: self.to_string(),
            },
            Self::Extract(e) => e.disposition(),
            Self::Exchange(e) => e.disposition(),
            Self::Transform(e) => e.disposition(),
            Self::Load(e) => e.disposition(),
            Self::Store(e) => e.disposition(),
        }
    }

    /// The class its dead letter is filed under, decided by the stage whose error it is.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::UnknownTenant(_) | Self::BadEvent(_) | Self::Store(_) => ErrorClass::Internal,
            Self::Invalid { .. } => ErrorClass::Validation,
            Self::Held { .. } => ErrorClass::Review,
            Self::Extract(e) => e.class(),
            Self::Exchange(e) => e.class(),
            Self::Transform(e) => e.class(),
            Self::Load(e) => e.class(),
        }
    }

    /// False when a downstream's breaker refused the call locally: the event waits without spending an attempt.
    pub fn burns_attempt(&self) -> bool {
        match self {
            Self::Extract(e) => e.burns_attempt(),
            Self::Load(e) => e.burns_attempt(),
            Self::Exchange(e) => e.burns_attempt(),
            _ => true,
        }
    }
}
