//! The states an event moves through, as stored.

use crate::error::{Error, Result};
use std::fmt;

/// Where an event is in its life. States only move forward, except replay (dead → queued).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    /// Verified and stored; about to be queued (inserts go straight to `Queued` in the same commit).
    Received,
    /// Waiting for a worker.
    Queued,
    /// Claimed by a worker holding a lease.
    Running,
    /// Failed transiently; waits for `next_attempt_at`.
    Retrying,
    /// Synced to FreshBooks.
    Done,
    /// Failed permanently or out of attempts; waits for an operator.
    Dead,
    /// Dropped by an operator from the dead-letter queue, with a reason.
    Discarded,
}

impl EventState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Retrying => "retrying",
            Self::Done => "done",
            Self::Dead => "dead",
            Self::Discarded => "discarded",
        }
    }

    /// Parses a stored name.
    ///
    /// # Errors
    /// [`Error::Corrupt`] for a name this build does not know.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "received" => Self::Received,
            "queued" => Self::Queued,
            "running" => Self::Running,
            "retrying" => Self::Retrying,
            "done" => Self::Done,
            "dead" => Self::Dead,
            "discarded" => Self::Discarded,
            other => {
                return Err(Error::Corrupt {
                    what: "event state",
                    detail: other.to_owned(),
                });
            }
        })
    }

    /// Whether later events of the same object may run (the event no longer holds its object's turn).
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Dead | Self::Discarded)
    }
}

impl fmt::Display for EventState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
