//! SQLite's write connection used directly, for the write transactions every event makes (its claim, its insert,
//! its ledger intents, its answer): no hand-off to another thread at all, where sqlx makes two thread switches for every statement.
//!
//! sqlx runs each SQLite connection on a thread of its own and sends it every statement, BEGIN and COMMIT, waiting
//! for the answer, and the write connection is held through all of those round trips: an event's answer alone was
//! about nine of them. These transactions run instead through `rusqlite` on a second connection to the same file,
//! opened by [`WriteConnection::open`], on the caller's thread. Both connections are behind the store's one write
//! mutex ([`crate::sqlite_writer::SqliteWriter`]), so they never meet at SQLite's write lock, and both commit to the
//! same WAL, which the group sync flushes ([`crate::wal_sync`]). SQLite drops a connection's page cache when the
//! other one has written; the writes left on sqlx's connection are the rare ones (admin changes, alert state, the
//! usage flush, tokens).
//!
//! Statements are the store's portable SQL: parameters are written `$1`, `$2`… (bound by name here: SQLite sees
//! `$1` as a name, numbered in the order names first appear), and the `execute!` / `fetch_all!` / `fetch_optional!`
//! macros run one on a [`crate::backend::Conn`] of any kind, so a helper written once runs inside a sqlx
//! transaction of either backend and inside a [`DirectTx`].

use crate::error::{Error, Result};
use rusqlite::types::FromSql;
use rusqlite::{Connection, Row, ToSql};
use sqlx::SqliteConnection;
use std::path::Path;
use std::time::Duration;

/// How many prepared statements the direct connection keeps (the hot transactions use about twenty).
const STATEMENTS_KEPT: usize = 64;

/// SQLite's two write connections: sqlx's, for every write but the hot ones, and the direct one.
#[derive(Debug)]
pub(crate) struct WriteConnection {
    /// The connection through sqlx.
    pub(crate) sqlx: SqliteConnection,
    direct: Connection,
}

/// A write transaction on the direct connection (`BEGIN IMMEDIATE` done): [`DirectTx::conn`] runs its statements,
/// [`DirectTx::commit`] ends it; dropped without a commit (failed, or its future dropped), it rolls back.
pub(crate) struct DirectTx<'a> {
    conn: &'a mut Connection,
}

impl WriteConnection {
    /// Opens the direct connection to the database at `path` (already created, migrated and in WAL mode) next to
    /// sqlx's `sqlx`, with the same settings: SQLite's `synchronous = normal` (the group sync makes commits durable,
    /// or, configured `normal`, checkpoints do), foreign keys, a 64 MiB page cache, a checkpoint every ~40 MiB.
    ///
    /// # Errors
    /// [`Error::Database`] when the file cannot be opened or a setting is refused.
    pub(crate) fn open(
        path: &Path,
        sqlx: SqliteConnection,
        busy_timeout: Duration,
    ) -> Result<Self> {
        let direct = connect(
            path,
            busy_timeout,
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 10000;",
            "open the direct write connection",
        )?;
        Ok(Self { sqlx, direct })
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE`) on the direct connection.
    ///
    /// # Errors
    /// [`Error::Database`] naming `op` when BEGIN fails.
    pub(crate) fn begin(&mut self, op: &'static str) -> Result<DirectTx<'_>> {
        execute(&self.direct, "BEGIN IMMEDIATE", &[]).map_err(Error::db(op))?;
        Ok(DirectTx {
            conn: &mut self.direct,
        })
    }
}

/// Opens a direct read connection to the database at `path` (see [`crate::sqlite_readers`]): `query_only`, with
/// the settings every direct connection has ([`connect`]).
///
/// # Errors
/// [`Error::Database`] when the file cannot be opened or a setting is refused.
pub(crate) fn open_reader(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    connect(
        path,
        busy_timeout,
        "PRAGMA query_only = ON;",
        "open database for reads",
    )
}

/// A direct connection to the database at `path` with `pragmas` run, a 64 MiB page cache, `busy_timeout` for the
/// moments another connection holds a lock (a checkpoint), and room for [`STATEMENTS_KEPT`] prepared statements;
/// a failure names `op`.
fn connect(
    path: &Path,
    busy_timeout: Duration,
    pragmas: &str,
    op: &'static str,
) -> Result<Connection> {
    let conn = Connection::open(path).map_err(Error::db(op))?;
    conn.execute_batch(pragmas).map_err(Error::db(op))?;
    conn.execute_batch("PRAGMA cache_size = -65536;")
        .map_err(Error::db(op))?;
    conn.busy_timeout(busy_timeout).map_err(Error::db(op))?;
    conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
    Ok(conn)
}

impl<'a> DirectTx<'a> {
    /// Begins a read transaction (`BEGIN`, deferred: it takes no lock until it reads) on a read connection, so that
    /// its reads see one snapshot.
    ///
    /// # Errors
    /// [`Error::Database`] naming `op` when BEGIN fails.
    pub(crate) fn read(conn: &'a mut Connection, op: &'static str) -> Result<Self> {
        execute(conn, "BEGIN", &[]).map_err(Error::db(op))?;
        Ok(Self { conn })
    }

    /// The transaction's connection, for [`crate::backend::Conn::Direct`].
    pub(crate) fn conn(&mut self) -> &mut Connection {
        self.conn
    }

    /// Commits.
    ///
    /// # Errors
    /// [`Error::Database`] naming `op`; the transaction is rolled back then.
    pub(crate) fn commit(self, op: &'static str) -> Result<()> {
        execute(self.conn, "COMMIT", &[])
            .map(drop)
            .map_err(Error::db(op))
    }
}

impl Drop for DirectTx<'_> {
    fn drop(&mut self) {
        if !self.conn.is_autocommit() {
            // Failed or abandoned: nothing of it stays. A failing ROLLBACK means SQLite already rolled back.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Runs `sql` with `params` bound to `$1`, `$2`…; the number of rows it changed.
pub(crate) fn execute(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> rusqlite::Result<u64> {
    prepared(conn, sql, params)?
        .raw_execute()
        .map(|n| u64::try_from(n).unwrap_or(u64::MAX))
}

/// Runs `sql` with `params` bound to `$1`, `$2`…; every row it returned, as `R`.
pub(crate) fn fetch_all<R: FromDirectRow>(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> rusqlite::Result<Vec<R>> {
    let mut stmt = prepared(conn, sql, params)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(R::from_row(row)?);
    }
    Ok(out)
}

/// Runs `sql` with `params` bound to `$1`, `$2`…; its first row, if any, as `R`.
pub(crate) fn fetch_optional<R: FromDirectRow>(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> rusqlite::Result<Option<R>> {
    let mut stmt = prepared(conn, sql, params)?;
    let mut rows = stmt.raw_query();
    rows.next()?.map(R::from_row).transpose()
}

/// `sql` prepared (or taken from the connection's cache) with `params` bound to `$1`, `$2`… by name or, for SQL
/// written with `?`, in order.
fn prepared<'c>(
    conn: &'c Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql)?;
    for (n, param) in params.iter().enumerate() {
        let index = match PARAMETER_NAMES.get(n) {
            Some(name) => stmt.parameter_index(name)?,
            None => stmt.parameter_index(&format!("${}", n + 1))?,
        }
        .unwrap_or(n + 1);
        stmt.raw_bind_parameter(index, param)?;
    }
    Ok(stmt)
}

/// The names of the first parameters, so binding them formats nothing.
const PARAMETER_NAMES: [&str; 16] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15",
    "$16",
];

/// A row read into a tuple, column by column (what sqlx's `query_as` does for tuples).
pub(crate) trait FromDirectRow: Sized {
    /// Reads `row`.
    ///
    /// # Errors
    /// When a column does not convert to its type.
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self>;
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: FromSql),+> FromDirectRow for ($($t,)+) {
            fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $t>($i)?,)+))
            }
        }
    };
}

tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);
