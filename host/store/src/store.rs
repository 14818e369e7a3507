//! Opening the database: one SQLite file in WAL mode, migrations applied on open.

use crate::config::{StoreConfig, Synchronous};
use crate::error::{Error, Result};
use ferry_model::TenantId;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// Handle to Ferry's durable state; cheap to clone, shared by every task.
///
/// All methods are backend-neutral; this build stores into SQLite.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: SqlitePool,
    /// The tenant served last by [`Store::claim`], so the next claim starts with the one after it
    /// (round-robin turns between tenants that have ready work).
    pub(crate) last_turn: Arc<Mutex<Option<TenantId>>>,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    ///
    /// # Errors
    /// [`Error::Database`] when the file cannot be opened, [`Error::Migrate`] when migrations fail.
    pub async fn open(config: &StoreConfig) -> Result<Self> {
        let sync = match config.synchronous {
            Synchronous::Full => SqliteSynchronous::Full,
            Synchronous::Normal => SqliteSynchronous::Normal,
        };
        let options = SqliteConnectOptions::new()
            .filename(&config.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(sync)
            .busy_timeout(config.busy_timeout)
            .foreign_keys(true)
            // 64 MiB page cache per connection: the events table carries several indexes, and a cold cache
            // turned each batch commit into page reads.
            .pragma("cache_size", "-65536")
            // Checkpoint every ~40 MiB of WAL instead of 4 MiB: index pages hit by random keys are then copied
            // back once per checkpoint instead of many times.
            .pragma("wal_autocheckpoint", "10000");
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections.max(2))
            .connect_with(options)
            .await
            .map_err(Error::db("open database"))?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self {
            pool,
            last_turn: Arc::new(Mutex::new(None)),
        })
    }

    /// Closes every connection; pending operations finish first.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now, in the store's time unit (Unix milliseconds).
pub(crate) fn now_ms() -> i64 {
    to_ms(OffsetDateTime::now_utc())
}

/// A timestamp in the store's time unit.
pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A stored time back as a UTC timestamp.
pub(crate) fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A duration in the store's time unit.
pub(crate) fn dur_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
