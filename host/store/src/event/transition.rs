//! The recorded state changes of an event (`event_history`): what a dead letter's history shows.

use super::record::JobId;
use super::state::EventState;
use crate::backend::Conn;
use crate::error::Result;
use time::OffsetDateTime;

/// One recorded state change of an event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Transition {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// State before.
    pub from: EventState,
    /// State after.
    pub to: EventState,
    /// Attempt number at the time.
    pub attempt: u32,
    /// The attempt's error, for retries and dead letters.
    pub error: Option<String>,
    /// Operator note (replay, discard reason).
    pub note: Option<String>,
}

/// Records a state change inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn add_history(
    conn: impl Into<Conn<'_>>,
    job: JobId,
    from: EventState,
    to: EventState,
    attempt: u32,
    error: Option<&str>,
    note: Option<&str>,
    now: i64,
) -> Result<()> {
    execute!(
        conn.into(),
        "INSERT INTO event_history (event_seq, at, from_state, to_state, attempt, error, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        "record event history",
        [
            job.0,
            now,
            from.as_str(),
            to.as_str(),
            i64::from(attempt),
            error,
            note
        ]
    )?;
    Ok(())
}
