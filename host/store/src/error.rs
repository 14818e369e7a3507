//! The store's one error type, classified for the worker.

use ferry_model::Disposition;

/// Result with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened or a statement failed (locked, I/O, constraint).
    #[error("{op} in the store")]
    Database {
        /// What was being attempted, e.g. `insert event`.
        op: &'static str,
        /// The driver's error (sqlx's, or rusqlite's for a statement run directly on SQLite's write connection).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The schema could not be brought up to date.
    #[error("run store migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The row asked for does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked up, e.g. `event 42`.
        what: String,
    },
    /// The event is not in a state that allows this move (states never go backwards).
    #[error("event {job} is {state}, cannot {action}")]
    InvalidTransition {
        /// The event's job id.
        job: i64,
        /// Its current state.
        state: String,
        /// What was asked, e.g. `replay`.
        action: &'static str,
    },
    /// The caller's lease has expired and another worker may own the event now.
    #[error("lease on event {job} held by {owner} is no longer valid")]
    LeaseLost {
        /// The event's job id.
        job: i64,
        /// The owner named in the stale lease.
        owner: String,
    },
    /// A stored value could not be read back (bad JSON, unknown state name).
    #[error("read stored {what}: {detail}")]
    Corrupt {
        /// Which column or record.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The ingestor's writer task has stopped (the host is shutting down).
    #[error("ingestor is not running")]
    IngestorClosed,
}

impl Error {
    /// What the worker should do when this error reaches it.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Database { .. } | Self::IngestorClosed | Self::LeaseLost { .. } => {
                Disposition::Retry { after: None }
            }
            Self::Migrate(_)
            | Self::NotFound { .. }
            | Self::InvalidTransition { .. }
            | Self::Corrupt { .. } => Disposition::DeadLetter {
                reason: self.to_string(),
            },
        }
    }

    pub(crate) fn db<E: std::error::Error + Send + Sync + 'static>(
        op: &'static str,
    ) -> impl FnOnce(E) -> Self {
        move |source| Self::Database {
            op,
            source: Box::new(source),
        }
    }
}

/// A tenant id read back from column `what`; [`Error::Corrupt`] when it is not one this build accepts.
pub(crate) fn stored_tenant_id(raw: &str, what: &'static str) -> Result<ferry_model::TenantId> {
    ferry_model::TenantId::parse(raw).map_err(|e| Error::Corrupt {
        what,
        detail: e.to_string(),
    })
}
