//! The two backends behind [`Store`](crate::Store): their pools, and the few statements that differ.
//!
//! Most methods run one portable statement through `on_pool!`. What cannot be portable lives here, as
//! functions taking a [`Conn`] that do the right thing per backend (often nothing on SQLite, whose single
//! writer already serialises what Postgres needs a lock for).

use crate::error::{Error, Result};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection};
use std::pin::Pin;

pub(crate) use crate::sqlite_readers::SqliteReaders;
pub(crate) use crate::sqlite_writer::SqliteWriter;

/// The `LISTEN/NOTIFY` channel that says "an event may have become ready".
pub(crate) const WORK_CHANNEL: &str = "ferry_work";

/// First key of every advisory lock Ferry takes (`pg_advisory_*lock(namespace, key)`), so Ferry's locks never
/// collide with another application's on the same database. One value per purpose.
pub(crate) mod lock_ns {
    /// Event inserts of one tenant bucket: keeps `seq` order equal to commit order per object.
    pub(crate) const INSERT: i32 = 0x4652_0001;
    /// Claims of one tenant: keeps the per-tenant running limit exact across hosts.
    pub(crate) const CLAIM: i32 = 0x4652_0002;
    /// OAuth refresh of one (tenant, account).
    pub(crate) const REFRESH: i32 = 0x4652_0003;
    /// Find-or-create of one shared FreshBooks object (idempotency key).
    pub(crate) const CREATE: i32 = 0x4652_0004;
    /// A tenant's scheduled books audit: one host runs it.
    pub(crate) const AUDIT: i32 = 0x4652_0005;
}

/// Tenants are spread over this many insert-lock buckets: bounds the advisory locks one batch takes.
const INSERT_BUCKETS: u32 = 64;

/// Which database a [`Store`](crate::Store) runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// One SQLite file: the embedded default, one host.
    Sqlite,
    /// A Postgres database shared by several hosts.
    Postgres,
}

/// The connection pool of the chosen backend.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    /// SQLite file: the connections the reads use, and the one connection every write uses.
    Sqlite(SqliteReaders, SqliteWriter),
    /// Postgres database.
    Postgres(PgPool),
}

impl Pool {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(..) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }
}

/// How each backend opens a transaction that will write.
pub(crate) trait Dialect: sqlx::Database {
    /// SQLite takes the write lock up front (`IMMEDIATE`), so a read-then-write transaction never fails
    /// half-way with `SQLITE_BUSY`; Postgres locks rows as it goes.
    const BEGIN_WRITE: &'static str;
}

impl Dialect for Sqlite {
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
}

impl Dialect for Postgres {
    const BEGIN_WRITE: &'static str = "BEGIN";
}

/// Begins a write transaction on what `on_write!` hands its body: the Postgres pool or SQLite's write connection.
pub(crate) fn begin_write<'c, W: WriteOn<'c>>(on: W, op: &'static str) -> Begun<'c, W::Db> {
    on.begin_write(op)
}

/// A write transaction being begun, the store's error (naming `op`) on failure.
pub(crate) type Begun<'c, DB> =
    Pin<Box<dyn Future<Output = Result<sqlx::Transaction<'c, DB>>> + Send + 'c>>;

/// What a write transaction begins on: a pool (Postgres) or a connection (SQLite's write connection).
pub(crate) trait WriteOn<'c> {
    /// The backend.
    type Db: Dialect;
    /// Begins the transaction with the backend's [`Dialect::BEGIN_WRITE`].
    fn begin_write(self, op: &'static str) -> Begun<'c, Self::Db>;
}

impl<'c, DB: Dialect> WriteOn<'c> for &'c sqlx::Pool<DB> {
    type Db = DB;
    fn begin_write(self, op: &'static str) -> Begun<'c, DB> {
        Box::pin(async move {
            let tx: sqlx::Transaction<'c, DB> = self
                .begin_with(DB::BEGIN_WRITE)
                .await
                .map_err(Error::db(op))?;
            Ok(tx)
        })
    }
}

impl<'c> WriteOn<'c> for &'c mut SqliteConnection {
    type Db = Sqlite;
    fn begin_write(self, op: &'static str) -> Begun<'c, Sqlite> {
        Box::pin(async move {
            sqlx::Connection::begin_with(self, Sqlite::BEGIN_WRITE)
                .await
                .map_err(Error::db(op))
        })
    }
}

/// A connection (usually inside a transaction) of either backend.
pub(crate) enum Conn<'c> {
    /// SQLite, through sqlx.
    Sqlite(&'c mut SqliteConnection),
    /// Postgres.
    Postgres(&'c mut PgConnection),
    /// SQLite's write connection used directly, inside a `write_tx!` ([`crate::sqlite_direct`]).
    Direct(&'c mut rusqlite::Connection),
}

impl Conn<'_> {
    /// The same connection for a shorter borrow, so a helper can take it and the caller keep using it.
    pub(crate) fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Self::Sqlite(c) => Conn::Sqlite(c),
            Self::Postgres(c) => Conn::Postgres(c),
            Self::Direct(c) => Conn::Direct(c),
        }
    }
}

impl<'c> From<&'c mut SqliteConnection> for Conn<'c> {
    fn from(c: &'c mut SqliteConnection) -> Self {
        Self::Sqlite(c)
    }
}

impl<'c> From<&'c mut PgConnection> for Conn<'c> {
    fn from(c: &'c mut PgConnection) -> Self {
        Self::Postgres(c)
    }
}

/// Inside a transaction: tells idle workers of every host, at COMMIT, that work may be ready. Postgres sends
/// one `NOTIFY` per transaction however often this is called; SQLite has no other hosts (the in-process signal
/// is raised by the caller after commit).
pub(crate) async fn notify_work(conn: Conn<'_>) -> Result<()> {
    if let Conn::Postgres(c) = conn {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(WORK_CHANNEL)
            .execute(c)
            .await
            .map_err(Error::db("notify workers"))?;
    }
    Ok(())
}

/// Inside an insert transaction, before inserting: serialises inserts of the same tenants across hosts until
/// COMMIT.
///
/// Why: per-object ordering compares `seq`, and a Postgres sequence hands out numbers at INSERT, not at COMMIT.
/// Without this lock, host A could take seq 10 for an object's first event, host B seq 11 for its second and
/// commit first; a claimer would run 11 (nothing earlier visible), then 10 once it commits: out of order and
/// concurrently. With it, two transactions holding events of one tenant commit one after the other, so seq
/// order is commit order for every object. Buckets are locked in ascending order, so two batches never
/// deadlock. SQLite's single writer gives the same guarantee for free.
pub(crate) async fn lock_insert_order<'a>(
    conn: Conn<'_>,
    tenants: impl Iterator<Item = &'a str>,
) -> Result<()> {
    let Conn::Postgres(c) = conn else {
        return Ok(());
    };
    let mut buckets: Vec<i32> = tenants
        .map(|t| i32::try_from(fnv1a(t) % INSERT_BUCKETS).unwrap_or(0))
        .collect();
    buckets.sort_unstable();
    buckets.dedup();
    // The ordered subquery makes the locks be taken in ascending order, in one round trip.
    sqlx::query(
        "SELECT COUNT(pg_advisory_xact_lock($1, b)) FROM (SELECT b FROM UNNEST($2::INT4[]) AS b \
         ORDER BY b) AS s",
    )
    .bind(lock_ns::INSERT)
    .bind(&buckets)
    .execute(c)
    .await
    .map_err(Error::db("lock insert order"))?;
    Ok(())
}

/// A stable 32-bit hash (FNV-1a) for advisory lock keys: the same on every host and every build.
pub(crate) fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// [`fnv1a`] as a signed advisory-lock key.
pub(crate) fn lock_key(s: &str) -> i32 {
    i32::from_ne_bytes(fnv1a(s).to_ne_bytes())
}
