//! Event rows: what ingest stores, the explicit states, and insert with dedupe by (tenant, event id).
//!
//! Layout: `state` holds the [`EventState`]s an event moves through; `record` a stored event ([`EventRecord`],
//! keyed by its [`JobId`]) and the reads that return one; `transition` the recorded state changes
//! ([`Transition`]) that every state change writes in its transaction; `insert` storing new events
//! ([`NewEvent`]) one or a batch at a time.

mod insert;
mod record;
mod state;
mod transition;

pub use insert::{InsertOutcome, NewEvent};
pub(crate) use record::EventRow;
pub use record::{EventRecord, JobId};
pub use state::EventState;
pub use transition::Transition;
pub(crate) use transition::add_history;
