//! The idempotency ledger the host implements over its store: one row per intended FreshBooks write.
//!
//! `intent(key)` is recorded before a create is sent, `done(key, id)` after its reply. An entry left at
//! `Intent` means an earlier attempt's outcome is unknown: search FreshBooks for the marker first.

use std::{future::Future, pin::Pin};

/// A boxed, sendable future (the traits here are used as `&dyn`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The ledger's failure (its own database); retried by the worker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger: {0}")]
pub struct LedgerError(pub String);

/// What the ledger knows about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerEntry {
    /// A create was started and no result recorded: the outcome is unknown.
    Intent,
    /// The create succeeded (or an existing object was adopted) with this FreshBooks id.
    Done {
        /// The FreshBooks id, as text.
        external_id: String,
    },
}

/// Held while one find-or-create of a shared object runs; dropping it lets the next one in.
pub type LedgerLock = Box<dyn std::any::Any + Send>;

/// The host's idempotency ledger. Keys are built by `sync` (`{tenant}:{kind}:{marker}`) and are stable
/// across retries and hosts.
pub trait Ledger: Send + Sync {
    /// Looks a key up.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<LedgerEntry>, LedgerError>>;
    /// Looks several keys up at once (the host: in one query); the keys without an entry are left out. By default,
    /// one [`Ledger::get`] per key.
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<(String, LedgerEntry)>, LedgerError>> {
        Box::pin(async move {
            let mut found = Vec::new();
            for key in keys {
                if let Some(entry) = self.get(key).await? {
                    found.push((key.clone(), entry));
                }
            }
            Ok(found)
        })
    }
    /// The result of `key` when this ledger already knows it is done, without asking the store (see
    /// [`crate::sync`]'s prefetch); `None` says nothing, not that the key has no result. By default, `None`.
    fn known_done(&self, _key: &str) -> Option<String> {
        None
    }
    /// Records that a create is about to be sent (idempotent; never downgrades `Done`). True when this call wrote it
    /// (the key had no entry).
    fn intent<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, LedgerError>>;
    /// Takes back an intent this attempt wrote for a create that certainly created nothing (FreshBooks refused it,
    /// or it never left), so that the next attempt creates at once instead of first searching FreshBooks for it. Only
    /// an intent: a result stays. By default nothing is taken back, which is always safe (the next attempt searches).
    fn withdraw<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, Result<(), LedgerError>> {
        Box::pin(async { Ok(()) })
    }
    /// Records the FreshBooks id the key resolved to.
    fn done<'a>(
        &'a self,
        key: &'a str,
        external_id: &'a str,
    ) -> BoxFuture<'a, Result<(), LedgerError>>;
    /// Records the FreshBooks id of a key only this event writes (its invoice, its payments, their state) with the
    /// event's next ledger write — its next intent or its outcome — instead of on its own: one commit fewer per
    /// call. Until then [`Ledger::get`] on this ledger sees it; an attempt that dies first leaves the key at
    /// `Intent`, which the next attempt resolves by searching FreshBooks, as after a lost reply. Never for a
    /// shared object (a client, an item, a tax) that other events look up. By default, [`Ledger::done`].
    fn done_with_next_write<'a>(
        &'a self,
        key: &'a str,
        external_id: &'a str,
    ) -> BoxFuture<'a, Result<(), LedgerError>> {
        self.done(key, external_id)
    }
    /// Waits for exclusive use of `key` (across tasks and hosts) for a find-or-create: without it two
    /// orders of one customer, run side by side, could both miss the client and both create it.
    fn lock<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<LedgerLock, LedgerError>>;
}

/// An in-memory ledger for tests and the sandbox.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    /// Guarded map; a std mutex is enough because nothing awaits while holding it.
    entries: std::sync::Mutex<std::collections::HashMap<String, LedgerEntry>>,
    /// One async mutex per locked key.
    locks:
        std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, LedgerEntry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A snapshot of every entry, for assertions.
    pub fn entries(&self) -> Vec<(String, LedgerEntry)> {
        let mut v: Vec<_> = self
            .lock()
            .iter()
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

impl Ledger for MemoryLedger {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<LedgerEntry>, LedgerError>> {
        Box::pin(async move { Ok(self.lock().get(key).cloned()) })
    }

    fn intent<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, LedgerError>> {
        Box::pin(async move {
            let mut entries = self.lock();
            if entries.contains_key(key) {
                return Ok(false);
            }
            entries.insert(key.to_owned(), LedgerEntry::Intent);
            Ok(true)
        })
    }

    fn withdraw<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), LedgerError>> {
        Box::pin(async move {
            let mut entries = self.lock();
            if entries.get(key) == Some(&LedgerEntry::Intent) {
                entries.remove(key);
            }
            Ok(())
        })
    }

    fn done<'a>(
        &'a self,
        key: &'a str,
        external_id: &'a str,
    ) -> BoxFuture<'a, Result<(), LedgerError>> {
        Box::pin(async move {
            self.lock().insert(
                key.to_owned(),
                LedgerEntry::Done {
                    external_id: external_id.to_owned(),
                },
            );
            Ok(())
        })
    }

    fn lock<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<LedgerLock, LedgerError>> {
        Box::pin(async move {
            let mutex = self
                .locks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(key.to_owned())
                .or_default()
                .clone();
            let guard: LedgerLock = Box::new(mutex.lock_owned().await);
            Ok(guard)
        })
    }
}
