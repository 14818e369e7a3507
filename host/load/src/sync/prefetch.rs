//! An order's ledger entries read in one query before its sync starts, instead of one query per key as the sync
//! comes to it (issue 20: each query is a round trip to the store's thread, and on Postgres a create lock is a
//! transaction of its own).
//!
//! What the prefetch read answers the sync's later reads of a key until the key is written or locked. A key found
//! done stays known: a result is final, so the sync uses it without taking the key's create lock at all
//! ([`Ledger::known_done`]). A key found without a result is read again once locked, as before: another order may
//! have created the shared object since.

use crate::ledger::{BoxFuture, Ledger, LedgerEntry, LedgerError, LedgerLock};
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// `inner` with the entries of some keys read ahead.
pub(super) struct Prefetched<'a> {
    inner: &'a dyn Ledger,
    /// Per key, what the prefetch read (`None`: no entry), dropped when the key is locked without a result or
    /// written (a written result replaces it).
    read: Mutex<HashMap<String, Option<LedgerEntry>>>,
}

impl<'a> Prefetched<'a> {
    /// Reads `keys` from `inner` in one go.
    ///
    /// # Errors
    /// [`Error::Store`] when the ledger cannot be read.
    pub(super) async fn read(inner: &'a dyn Ledger, keys: Vec<String>) -> Result<Self> {
        let found = inner
            .get_many(&keys)
            .await
            .map_err(|e| Error::store("read the order's ledger entries", e))?;
        let mut read: HashMap<String, Option<LedgerEntry>> =
            keys.into_iter().map(|k| (k, None)).collect();
        for (key, entry) in found {
            read.insert(key, Some(entry));
        }
        Ok(Self {
            inner,
            read: Mutex::new(read),
        })
    }

    fn read_ahead(&self) -> MutexGuard<'_, HashMap<String, Option<LedgerEntry>>> {
        self.read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps the result just written for `key`.
    fn remember_done(&self, key: &str, external_id: &str) {
        self.read_ahead().insert(
            key.to_owned(),
            Some(LedgerEntry::Done {
                external_id: external_id.to_owned(),
            }),
        );
    }
}

impl Ledger for Prefetched<'_> {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<LedgerEntry>, LedgerError>> {
        let known = self.read_ahead().get(key).cloned();
        match known {
            Some(entry) => Box::pin(async move { Ok(entry) }),
            None => self.inner.get(key),
        }
    }

    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<(String, LedgerEntry)>, LedgerError>> {
        self.inner.get_many(keys)
    }

    fn known_done(&self, key: &str) -> Option<String> {
        match self.read_ahead().get(key) {
            Some(Some(LedgerEntry::Done { external_id })) => Some(external_id.clone()),
            _ => self.inner.known_done(key),
        }
    }

    fn intent<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, LedgerError>> {
        self.read_ahead().remove(key);
        self.inner.intent(key)
    }

    fn withdraw<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), LedgerError>> {
        self.read_ahead().remove(key);
        self.inner.withdraw(key)
    }

    fn done<'a>(
        &'a self,
        key: &'a str,
        external_id: &'a str,
    ) -> BoxFuture<'a, Result<(), LedgerError>> {
        Box::pin(async move {
            self.inner.done(key, external_id).await?;
            self.remember_done(key, external_id);
            Ok(())
        })
    }

    fn done_with_next_write<'a>(
        &'a self,
        key: &'a str,
        external_id: &'a str,
    ) -> BoxFuture<'a, Result<(), LedgerError>> {
        Box::pin(async move {
            self.inner.done_with_next_write(key, external_id).await?;
            self.remember_done(key, external_id);
            Ok(())
        })
    }

    fn lock<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<LedgerLock, LedgerError>> {
        {
            let mut read = self.read_ahead();
            if !matches!(read.get(key), Some(Some(LedgerEntry::Done { .. }))) {
                // Under the lock the entry is read again: another order may have created the object since.
                read.remove(key);
            }
        }
        self.inner.lock(key)
    }
}
