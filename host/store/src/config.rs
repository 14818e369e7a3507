//! Store settings, handed down by `host/ferry` as one typed section.

use secrecy::SecretString;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// How hard SQLite syncs to disk at each commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Synchronous {
    /// A write returns only once its commit is flushed to disk, so an acknowledged event, and a ledger intent
    /// before its FreshBooks call, survive a power cut. The default, because Ferry acknowledges webhooks only after
    /// commit. The flushes are grouped: one `fdatasync` of the WAL covers every commit made since the last, made
    /// after the write connection is handed on (see the store's `wal_sync`).
    #[default]
    Full,
    /// fsync at checkpoints only (WAL): survives a process crash, may lose the last commits on power loss.
    Normal,
}

/// The `store` section of Ferry's config.
///
/// Without `database_url`, the store is the SQLite file at `path` (one host). With
/// `database_url = "postgres://user@host:5432/db"`, it is that Postgres database, which several `ferry serve`
/// hosts can share: any host takes any tenant's webhooks, work is spread by leases, per-object ordering,
/// dedupe, the OAuth refresh and the rate limits hold across hosts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Path of the SQLite database file; created if missing. Ignored when `database_url` is set.
    pub path: PathBuf,
    /// Database URL. `postgres://…` (or `postgresql://…`) selects Postgres; `sqlite:<path>` is the same as
    /// setting `path`. Unset (the default): the SQLite file at `path`. Secret, because it may carry a password.
    pub database_url: Option<SecretString>,
    /// Pool size. SQLite has one writer at a time, so more connections help readers only; on Postgres it
    /// bounds this host's connections (one more is kept for `LISTEN`).
    pub max_connections: u32,
    /// SQLite: how long a statement waits for the write lock before failing with a retryable error.
    /// Postgres: how long an operation waits for a free pooled connection (at least one second).
    #[serde(with = "millis")]
    pub busy_timeout: Duration,
    /// SQLite disk sync level at commit. On Postgres, durability is the server's `synchronous_commit`.
    pub synchronous: Synchronous,
    /// Batching of webhook inserts.
    pub batch: BatchConfig,
    /// Days a finished event is kept: done events and discarded dead letters, with their step history, are purged
    /// this many days after they finished (hourly, and once at start). Dead letters nobody resolved are kept
    /// whatever their age, and so is the idempotency ledger. At least 1; default 30.
    pub keep_done_days: i64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("ferry.db"),
            database_url: None,
            max_connections: 8,
            busy_timeout: Duration::from_secs(5),
            synchronous: Synchronous::Full,
            batch: BatchConfig::default(),
            keep_done_days: 30,
        }
    }
}

impl StoreConfig {
    /// A config for the database file at `path`, other fields at their defaults.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }

    /// Where the store is, for logs: the SQLite file, or the database URL with any password replaced by `***`.
    pub fn describe(&self) -> String {
        use secrecy::ExposeSecret as _;
        match &self.database_url {
            Some(url) => redact_url(url.expose_secret()),
            None => format!("sqlite:{}", self.path.display()),
        }
    }

    /// A config for the database at `url` (`postgres://…` or `sqlite:<path>`), other fields at their defaults.
    pub fn from_url(url: impl Into<String>) -> Self {
        Self {
            database_url: Some(SecretString::from(url.into())),
            ..Self::default()
        }
    }
}

/// How the [`Ingestor`](crate::Ingestor) groups inserts into transactions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    /// Most events committed in one transaction. Under load, inserts that arrive during a commit wait for
    /// the next one, so batches grow with load and add no delay when idle.
    pub max_batch: usize,
    /// Inserts waiting for the writer before callers are slowed down (back-pressure).
    pub queue_capacity: usize,
    /// The longest the writer lingers for more events under load (it stops once as many are queued as the last
    /// batch held) before committing a partial batch.
    #[serde(with = "millis")]
    pub window: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_batch: 512,
            queue_capacity: 8192,
            window: Duration::from_millis(2),
        }
    }
}

/// `url` with the password of its user info (`user:password@`) and any `password=` query value replaced by `***`.
fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest = scheme_end + 3;
        let authority_end = out[rest..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest + i);
        if let Some(at) = out[rest..authority_end].rfind('@') {
            let at = rest + at;
            if let Some(colon) = out[rest..at].find(':') {
                out.replace_range(rest + colon + 1..at, "***");
            }
        }
    }
    if let Some(query) = out.find('?') {
        let (base, params) = out.split_at(query + 1);
        let params: Vec<String> = params
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out = format!("{base}{}", params.join("&"));
    }
    out
}

mod millis {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_database_without_its_password() {
        assert_eq!(
            StoreConfig::at("/var/lib/ferry/ferry.db").describe(),
            "sqlite:/var/lib/ferry/ferry.db"
        );
        let url = "postgres://ferry:s3cr%40t@db.internal:5432/ferry?sslmode=require&password=other";
        let shown = StoreConfig::from_url(url).describe();
        assert_eq!(
            shown,
            "postgres://ferry:***@db.internal:5432/ferry?sslmode=require&password=***"
        );
        assert_eq!(
            StoreConfig::from_url("postgres://ferry@db/ferry").describe(),
            "postgres://ferry@db/ferry"
        );
    }
}
