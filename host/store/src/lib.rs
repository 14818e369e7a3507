//! ferry-store: the durable state behind every stage.
//!
//! Where it sits: webhook → **store** → extract → transform → load. `ingest` commits each verified event
//! here (through the batching [`Ingestor`]) before it answers the sender; the worker in `host/ferry` claims
//! events with a lease, runs extract → transform → load, and reports back with [`Store::complete`],
//! [`Store::retry`] or [`Store::dead_letter`]. `load` keeps its idempotency ledger, id mappings and OAuth
//! tokens here; the reconciliation poller keeps its watermarks here.
//!
//! One [`Store`] type with backend-neutral methods on two backends, picked by [`StoreConfig`]: SQLite (one
//! file, WAL, busy timeout; the embedded default) or Postgres (`database_url = "postgres://…"`; several hosts
//! share one database). The SQL is kept portable (`$n` parameters, `ON CONFLICT`, integer millisecond times),
//! so most methods run the same statement on either pool; the claim, the insert ordering lock, wake-ups and
//! the refresh lock have a Postgres-specific path (`FOR UPDATE SKIP LOCKED`, advisory locks, `LISTEN/NOTIFY`).
//!
//! Layout:
//! - `config`: [`StoreConfig`] and [`BatchConfig`].
//! - `error`: the crate's [`Error`] with its worker [`Disposition`](ferry_model::Disposition).
//! - `backend`: the two pools, the `on_pool!` dispatch and the few statements that differ per backend.
//! - `store`: opening the database, running migrations, time helpers.
//! - `sqlite_readers`, `sqlite_writer`: SQLite's read connections and its write connections, which every write
//!   takes in turn.
//! - `sqlite_direct`: the write transactions every event makes, run on a second, direct write connection on the
//!   caller's thread instead of a round trip to sqlx's connection thread per statement; the `execute!` / `fetch_*!`
//!   macros that run one statement on a connection of any kind.
//! - `wal_sync`: SQLite's commits made durable in groups, one WAL flush for every commit made since the last.
//! - `signal`: the in-process wake-up signal, fed from other hosts by `LISTEN/NOTIFY` on Postgres.
//! - `waiter`: waking idle workers ([`Store::wait_for_work`], [`WorkWaiter`]).
//! - `event`: event rows (`record`), states (`state`), recorded transitions (`transition`), insert with dedupe
//!   (`insert`).
//! - `ingestor`: groups concurrent inserts into one transaction; each caller is answered after COMMIT.
//! - `queue`: claim with leases, per-object ordering, fair turns and per-tenant limits; complete / retry / dead-letter.
//! - `dead_letter`: list, show, replay, discard.
//! - `attempt`: what a running attempt records (its steps, its search tags), written with its lease's answer.
//! - `history`: per-step run history, business-key search, retention purge.
//! - `catalogue`: catalogue events tagged with their SKU code, and found by it.
//! - `ledger`: idempotency intents and results around external calls.
//! - `callbacks`: FreshBooks callbacks registered per tenant with their sealed verifiers; ledger keys by FreshBooks id.
//! - `mapping`: Kentico key → FreshBooks id.
//! - `order_history`: the synced orders the anomaly checks compare with, and the events they held for review.
//! - `watermark`: reconciliation poller positions and event coverage.
//! - `token`: OAuth token rows with compare-and-swap rotation.
//! - `connection`: tenants disconnected after FreshBooks refused their authorization; the claim skips them.
//! - `oauth_state`: each "Connect FreshBooks" `state` redeemed once ([`Store::redeem_oauth_state`]).
//! - `kv`: a namespaced blob table for tenant config and encrypted secrets.
//! - `refresh_lock`: one OAuth refresh per account at a time, across hosts ([`RefreshLock`]).
//! - `keyed_locks`: the per-store state behind those locks (SQLite's mutex per key, Postgres' slot budget).
//! - `rate`: fixed-window rate slots shared by every host ([`Store::take_rate_slot`]).
//! - `admin`: admin API tokens (hashed, `tokens`), uploaded plugin components and versions (`plugins`), paged
//!   event listing (`events`); the web console's sessions (`sessions`), tenants overview (`overview`) and run
//!   history search (`search`).
//! - `plugin_log`: what each tenant's plugins wrote while running its events, the newest lines kept per tenant.
//! - `alert_state`: what the alerts told people, shared by every host: raised conditions (compare-and-set) and
//!   dead-letter windows with their counts, so an outage or a burst sends one message, not one per host.
//! - `audit`: books audit reports with their window and differences; a repair runs once per report.
//! - `tenant_config`: tenants managed through the admin API (configuration JSON and sealed secrets).
//! - `usage`: per tenant and UTC day, orders synced and calls to FreshBooks and Kentico (what an operator bills on).

/// `on_pool!(pool, |p| body)` runs `body` with `p` bound to the store's pool, whichever backend it is. The body is compiled once per
/// backend, so it must only use what both drivers support (portable SQL, `i64`/`String`/`bool`/bytes binds).
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::backend::Pool::Sqlite(readers, _) => {
                let mut reader = readers.get().await?;
                let $p: &mut sqlx::SqliteConnection = &mut *reader;
                $body
            }
            $crate::backend::Pool::Postgres($p) => $body,
        }
    };
}

/// `on_read!(pool, |c| body)` runs a read with `c` bound to a [`backend::Conn`]: on SQLite a direct read connection
/// (`sqlite_readers`: its statements run on the caller's thread, no hand-off to sqlx's), on Postgres a connection
/// of the pool. For the reads every event makes; its statements are written with `fetch_*!` or helpers taking a
/// `Conn`.
macro_rules! on_read {
    ($pool:expr, |$c:ident| $body:expr) => {
        match $pool {
            $crate::backend::Pool::Sqlite(readers, _) => {
                let mut reader = readers.direct().await?;
                let $c = $crate::backend::Conn::Direct(&mut *reader);
                $body
            }
            $crate::backend::Pool::Postgres(pool) => {
                let mut pooled = pool
                    .acquire()
                    .await
                    .map_err($crate::error::Error::db("take a connection for a read"))?;
                let $c = $crate::backend::Conn::Postgres(&mut *pooled);
                $body
            }
        }
    };
}

/// `read_tx!(pool, "op", |c| body)` is `on_read!` for several reads that must see one snapshot: `body` (an
/// expression of type `Result<T>`, which may `.await`) runs inside a read transaction, ended after it.
macro_rules! read_tx {
    ($pool:expr, $op:literal, |$c:ident| $body:expr) => {
        match $pool {
            $crate::backend::Pool::Sqlite(readers, _) => {
                let mut reader = readers.direct().await?;
                direct_tx!(
                    $crate::sqlite_direct::DirectTx::read(&mut *reader, concat!("begin ", $op))?,
                    $op,
                    |$c| $body
                )
            }
            $crate::backend::Pool::Postgres(pool) => postgres_tx!(pool, $op, |$c| $body),
        }
    };
}

/// `on_write!(store, |p| body)` is `on_pool!` for a body that writes: on SQLite it first takes the store's write
/// connection, so the host's writers queue in process, in order, instead of meeting at SQLite's write lock, where a
/// writer that finds it taken sleeps in the busy handler (1, 2, 5, 10 … up to 100 ms) however soon the lock frees;
/// after the body it hands the connection on and returns once the body's commit is on disk (`wal_sync`). A body
/// that leaves early (`?`, `return`) skips that wait, so it must do so only before its commit (an error, a rollback).
/// Postgres locks rows, not the database: the body runs at once. Inside the body, call no other writing method of
/// the store (the connection is not reentrant).
macro_rules! on_write {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::backend::Pool::Sqlite(_, writer) => {
                let mut writer = writer.lock().await;
                let $p: &mut sqlx::SqliteConnection = &mut *writer;
                let out = $body;
                writer.durable().await?;
                out
            }
            $crate::backend::Pool::Postgres($p) => $body,
        }
    };
}

/// `write_tx!(store, "op", |conn| body)` runs `body` (an expression of type `Result<T>`, which may `.await`) inside a
/// write transaction, `conn` being its [`backend::Conn`], commits when it is `Ok` and rolls back when it is not. On
/// SQLite the transaction runs on the direct write connection (`sqlite_direct`: no round trip to sqlx's thread per
/// statement), so its statements are written with `execute!` / `fetch_*!` or helpers taking a `Conn`; like
/// `on_write!`, it takes the store's write mutex first and returns once the commit is on disk.
///
/// `write_tx!(store, flushed_later, "op", |conn| body)` does not wait for the disk: only for a write whose loss to a
/// power cut Ferry recovers from as from a `kill -9` just before it, and whose success nothing outside is told of
/// before a later waited write (whose flush covers it: the WAL is written in order). The worker's claim and its
/// answers are such writes: lost, the event runs again, and the ledger's intents, each flushed before its call, make
/// the run search FreshBooks instead of calling twice.
///
/// `write_tx!(store, flush_pending, "op", |conn| body)` returns the body's value with its
/// [`PendingFlush`](crate::sqlite_writer::PendingFlush), for a caller that answers others once the flush is done while
/// it goes on (the ingestor); that form returns a (value, flush) pair and leaves on an error with `?`, the others
/// return the body's `Result`.
macro_rules! write_tx {
    ($store:expr, flushed_later, $op:literal, |$c:ident| $body:expr) => {
        match &$store.pool {
            $crate::backend::Pool::Sqlite(_, writer) => {
                let mut writer = writer.lock().await;
                direct_tx!(writer.direct(concat!("begin ", $op))?, $op, |$c| $body)
            }
            $crate::backend::Pool::Postgres(pool) => postgres_tx!(pool, $op, |$c| $body),
        }
    };
    ($store:expr, flush_pending, $op:literal, |$c:ident| $body:expr) => {
        match &$store.pool {
            $crate::backend::Pool::Sqlite(_, writer) => {
                let mut writer = writer.lock().await;
                let out = direct_tx!(writer.direct(concat!("begin ", $op))?, $op, |$c| $body)?;
                (out, writer.hand_on())
            }
            $crate::backend::Pool::Postgres(pool) => (
                postgres_tx!(pool, $op, |$c| $body)?,
                $crate::sqlite_writer::PendingFlush::none(),
            ),
        }
    };
    ($store:expr, $op:literal, |$c:ident| $body:expr) => {
        match &$store.pool {
            $crate::backend::Pool::Sqlite(_, writer) => {
                let mut writer = writer.lock().await;
                let out = direct_tx!(writer.direct(concat!("begin ", $op))?, $op, |$c| $body)?;
                writer.durable().await?;
                Ok(out)
            }
            $crate::backend::Pool::Postgres(pool) => postgres_tx!(pool, $op, |$c| $body),
        }
    };
}

/// `write_tx!`'s and `read_tx!`'s SQLite transaction: `begun` (a `sqlite_direct::DirectTx`) committed when
/// `body` is `Ok`, rolled back when it is not.
macro_rules! direct_tx {
    ($begun:expr, $op:literal, |$c:ident| $body:expr) => {{
        let mut tx = $begun;
        let out: $crate::error::Result<_> = {
            let $c = $crate::backend::Conn::Direct(tx.conn());
            async { $body }.await
        };
        match out {
            Ok(v) => tx.commit(concat!("commit ", $op)).map(|()| v),
            Err(e) => Err(e),
        }
    }};
}

/// `write_tx!`'s Postgres transaction on `pool`.
macro_rules! postgres_tx {
    ($pool:ident, $op:literal, |$c:ident| $body:expr) => {{
        let mut tx = $crate::backend::begin_write($pool, concat!("begin ", $op)).await?;
        let out: $crate::error::Result<_> = {
            let $c = $crate::backend::Conn::Postgres(&mut *tx);
            async { $body }.await
        };
        match out {
            Ok(v) => tx
                .commit()
                .await
                .map_err($crate::error::Error::db(concat!("commit ", $op)))
                .map(|()| v),
            Err(e) => Err(e),
        }
    }};
}

/// `on_conn!(conn, |c| body, |d| direct)` runs `body` with `c` bound to the sqlx connection inside a
/// [`backend::Conn`], whichever backend it is (the body is compiled once per backend, like `on_pool!`), or `direct`
/// with `d` bound to SQLite's direct write connection (`sqlite_direct`).
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr, |$d:ident| $direct:expr) => {
        match $conn {
            $crate::backend::Conn::Sqlite($c) => $body,
            $crate::backend::Conn::Postgres($c) => $body,
            $crate::backend::Conn::Direct($d) => $direct,
        }
    };
}

/// `execute!(conn, "SQL", "what", [args…])` runs one statement with `args` bound to `$1`, `$2`… on a
/// [`backend::Conn`] of any kind; the rows it changed, or [`Error::Database`] naming `what`.
macro_rules! execute {
    ($conn:expr, $sql:expr, $what:expr, [$($arg:expr),* $(,)?]) => {
        on_conn!($conn, |c| sqlx::query($sql)$(.bind($arg))*
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            .map_err($crate::error::Error::db($what)),
        |d| $crate::sqlite_direct::execute(d, $sql, &[$(&$arg as &dyn rusqlite::ToSql),*])
            .map_err($crate::error::Error::db($what)))
    };
}

/// `fetch_all!(conn, "SQL", "what", [args…] -> (T, …))`: like `execute!`, every row it returns as a tuple.
macro_rules! fetch_all {
    ($conn:expr, $sql:expr, $what:expr, [$($arg:expr),* $(,)?] -> $row:ty) => {
        on_conn!($conn, |c| sqlx::query_as::<_, $row>($sql)$(.bind($arg))*
            .fetch_all(c)
            .await
            .map_err($crate::error::Error::db($what)),
        |d| $crate::sqlite_direct::fetch_all::<$row>(d, $sql, &[$(&$arg as &dyn rusqlite::ToSql),*])
            .map_err($crate::error::Error::db($what)))
    };
}

/// `fetch_optional!(conn, "SQL", "what", [args…] -> (T, …))`: like `execute!`, its first row as a tuple, if any.
macro_rules! fetch_optional {
    ($conn:expr, $sql:expr, $what:expr, [$($arg:expr),* $(,)?] -> $row:ty) => {
        on_conn!($conn, |c| sqlx::query_as::<_, $row>($sql)$(.bind($arg))*
            .fetch_optional(c)
            .await
            .map_err($crate::error::Error::db($what)),
        |d| $crate::sqlite_direct::fetch_optional::<$row>(d, $sql, &[$(&$arg as &dyn rusqlite::ToSql),*])
            .map_err($crate::error::Error::db($what)))
    };
}

mod admin;
mod alert_state;
mod attempt;
mod audit;
mod backend;
mod callbacks;
mod catalogue;
mod config;
mod connection;
mod coverage;
mod dead_letter;
mod error;
mod event;
mod history;
mod ingestor;
mod keyed_locks;
mod kv;
mod ledger;
mod mapping;
mod oauth_state;
mod order_history;
mod plugin_log;
mod queue;
mod rate;
mod refresh_lock;
mod signal;
mod sqlite_direct;
mod sqlite_readers;
mod sqlite_writer;
mod store;
mod tenant_config;
mod token;
mod usage;
mod waiter;
mod wal_sync;
mod watermark;
mod with_answer;

pub use admin::{
    AdminToken, ChainEntry, ConsoleSession, EventFilter, PluginState, PluginVersion,
    TenantActivity, TokenScope,
};
pub use alert_state::DeadLetterWindow;
pub use attempt::{EventTag, Lease, Step};
pub use backend::Backend;
pub use callbacks::StoredCallback;
pub use config::{BatchConfig, StoreConfig, Synchronous};
pub use connection::Disconnection;
pub use dead_letter::{DeadLetter, DeadLetterFilter};
pub use error::{Error, Result};
pub use event::{EventRecord, EventState, InsertOutcome, JobId, NewEvent, Transition};
pub use history::{PURGE_BATCH, PurgeReport, RunHistory, StepRecord};
pub use ingestor::Ingestor;
pub use ledger::{LedgerEntry, LedgerState};
pub use mapping::MappingKind;
pub use order_history::{OrderHistory, SyncedOrder};
pub use plugin_log::{NewPluginLogLine, PluginLogLine};
pub use queue::{ClaimBatch, ClaimRequest, Claimed, Outcome};
pub use refresh_lock::RefreshLock;
pub use store::Store;
pub use tenant_config::{ConfigSnapshot, StoredTenant};
pub use token::{RotateOutcome, TokenSet};
pub use usage::{UsageCounts, UsageDay};
pub use waiter::WorkWaiter;
pub use watermark::Watermark;
