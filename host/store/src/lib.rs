//! ferry-store: the durable state behind every stage.
//!
//! Where it sits: webhook → **store** → extract → transform → load. `ingest` commits each verified event
//! here (through the batching [`Ingestor`]) before it answers the sender; the worker in `host/ferry` claims
//! events with a lease, runs extract → transform → load, and reports back with [`Store::complete`],
//! [`Store::retry`] or [`Store::dead_letter`]. `load` keeps its idempotency ledger, id mappings and OAuth
//! tokens here; the reconciliation poller keeps its watermarks here.
//!
//! One [`Store`] type with backend-neutral methods; today it runs on SQLite (one file, WAL, busy timeout),
//! and the SQL is kept portable (`$n` parameters, `ON CONFLICT`, integer millisecond times) so a Postgres
//! backend can be added behind the same methods.
//!
//! Layout:
//! - `config`: [`StoreConfig`] and [`BatchConfig`].
//! - `error`: the crate's [`Error`] with its worker [`Disposition`](ferry_model::Disposition).
//! - `store`: opening the database, running migrations, time helpers.
//! - `event`: event rows, states, insert with dedupe.
//! - `ingestor`: groups concurrent inserts into one transaction; each caller is answered after COMMIT.
//! - `queue`: claim with leases, per-object ordering, fair turns and per-tenant limits; complete / retry / dead-letter.
//! - `dead_letter`: list, show, replay, discard.
//! - `history`: per-step run history, business-key search, retention purge.
//! - `ledger`: idempotency intents and results around external calls.
//! - `mapping`: Kentico key → FreshBooks id.
//! - `watermark`: reconciliation poller positions and event coverage.
//! - `token`: OAuth token rows with compare-and-swap rotation.
//! - `kv`: a namespaced blob table for tenant config and encrypted secrets.

mod config;
mod dead_letter;
mod error;
mod event;
mod history;
mod ingestor;
mod kv;
mod ledger;
mod mapping;
mod queue;
mod store;
mod token;
mod watermark;

pub use config::{BatchConfig, StoreConfig, Synchronous};
pub use dead_letter::DeadLetter;
pub use error::{Error, Result};
pub use event::{EventRecord, EventState, InsertOutcome, JobId, NewEvent, Transition};
pub use history::{RunHistory, Step, StepRecord};
pub use ingestor::Ingestor;
pub use ledger::{LedgerEntry, LedgerState};
pub use mapping::MappingKind;
pub use queue::{ClaimRequest, Claimed, Lease, Outcome};
pub use store::Store;
pub use token::{RotateOutcome, TokenSet};
pub use watermark::Watermark;
