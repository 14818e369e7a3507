//! One OAuth refresh per account at a time, across every host.
//!
//! FreshBooks refresh tokens are single-use. [`Store::rotate_tokens`] (compare-and-swap) already keeps a
//! losing refresh from overwriting the winner, but the loser has then spent a request, and a provider that
//! revokes the whole grant on refresh-token reuse would lock the account out. So a refresh is done under
//! [`Store::lock_refresh`]:
//!
//! 1. take the lock for (tenant, account);
//! 2. read the tokens again: if another host refreshed while we waited, use its pair and stop;
//! 3. otherwise refresh with FreshBooks and store the new pair with `rotate_tokens`;
//! 4. release the lock (or drop it).
//!
//! On Postgres the lock is a transaction-scoped advisory lock (`pg_advisory_xact_lock`) held by an open
//! transaction on one pooled connection: released at [`RefreshLock::release`], when the guard is dropped
//! (the transaction rolls back), or by the server when a host dies and its connection goes. On SQLite (one
//! host) it is a process-local mutex per account.
//!
//! The same mechanism serves [`Store::try_lock_audit`] (one scheduled audit per tenant across hosts) and
//! [`Store::lock_create`]: one find-or-create of a shared FreshBooks object (a
//! client, an item, a tax) at a time per idempotency key, so two orders of one customer processed side by
//! side (or on two hosts) cannot both miss the client and both create it.

use crate::backend::{Pool, lock_key, lock_ns};
use crate::error::{Error, Result};
use crate::store::{Store, dur_ms};
use ferry_model::TenantId;
use std::time::Duration;
use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit};

/// Postgres' SQLSTATE for `lock_timeout` expiring.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// Proof that this task may refresh one account's tokens; other hosts and tasks wait until it is released
/// or dropped.
#[must_use = "the lock is released when this guard is dropped"]
#[derive(Debug)]
pub struct RefreshLock {
    /// What holds the lock; dropping it releases the lock.
    held: Held,
}

#[derive(Debug)]
enum Held {
    /// SQLite: the account's in-process mutex.
    Local(#[allow(dead_code)] OwnedMutexGuard<()>),
    /// Postgres: the transaction holding the advisory lock, and for a create lock the slot that lets it pin a
    /// connection.
    Postgres(
        sqlx::Transaction<'static, sqlx::Postgres>,
        #[allow(dead_code)] Option<OwnedSemaphorePermit>,
    ),
}

impl RefreshLock {
    /// Releases the lock now (dropping the guard does the same, a moment later on Postgres).
    ///
    /// # Errors
    /// [`Error::Database`] when the lock's transaction cannot be ended; the server still releases the lock
    /// when the connection is dropped.
    pub async fn release(self) -> Result<()> {
        match self.held {
            Held::Local(guard) => {
                drop(guard);
                Ok(())
            }
            Held::Postgres(tx, _slot) => {
                tx.commit().await.map_err(Error::db("release refresh lock"))
            }
        }
    }
}

impl Store {
    /// Takes the refresh lock of (tenant, account), waiting at most `wait` for another holder to release it;
    /// `None` when it is still held after `wait` (`Duration::ZERO`: try once, do not wait). See the module
    /// docs for the refresh sequence to run while holding it.
    ///
    /// # Errors
    /// [`Error::Database`] when the lock cannot be asked for (Postgres unreachable).
    pub async fn lock_refresh(
        &self,
        tenant: &TenantId,
        account: &str,
        wait: Duration,
    ) -> Result<Option<RefreshLock>> {
        self.lock_keyed(lock_ns::REFRESH, tenant, account, wait)
            .await
    }

    /// Takes the create lock of an idempotency key (e.g. a tenant's client for one customer), waiting at most
    /// `wait`; `None` when another task or host still holds it. Hold it from reading the ledger until the
    /// result is recorded.
    ///
    /// # Errors
    /// [`Error::Database`] when the lock cannot be asked for (Postgres unreachable).
    pub async fn lock_create(
        &self,
        tenant: &TenantId,
        key: &str,
        wait: Duration,
    ) -> Result<Option<RefreshLock>> {
        self.lock_keyed(lock_ns::CREATE, tenant, key, wait).await
    }

    /// Takes a tenant's audit lock without waiting; `None` when another task or host holds it. The schedule holds
    /// it while it decides an audit is due and runs it, so hosts sharing the database audit a tenant once.
    ///
    /// # Errors
    /// [`Error::Database`] when the lock cannot be asked for (Postgres unreachable).
    pub async fn try_lock_audit(&self, tenant: &TenantId) -> Result<Option<RefreshLock>> {
        self.lock_keyed(lock_ns::AUDIT, tenant, "audit", Duration::ZERO)
            .await
    }

    async fn lock_keyed(
        &self,
        ns: i32,
        tenant: &TenantId,
        account: &str,
        wait: Duration,
    ) -> Result<Option<RefreshLock>> {
        match &self.pool {
            Pool::Sqlite(..) => {
                let mutex = self.refresh_locks.get(ns, tenant, account);
                let guard = if wait.is_zero() {
                    mutex.try_lock_owned().ok()
                } else {
                    tokio::time::timeout(wait, mutex.lock_owned()).await.ok()
                };
                Ok(guard.map(|g| RefreshLock {
                    held: Held::Local(g),
                }))
            }
            Pool::Postgres(pg) => {
                let started = std::time::Instant::now();
                let slot = if ns == lock_ns::CREATE {
                    let Some(slot) = self.lock_slots.take_create(wait).await else {
                        return Ok(None);
                    };
                    Some(slot)
                } else {
                    None
                };
                let wait = wait.saturating_sub(started.elapsed());
                let key = lock_key(&format!("{}\u{0}{account}", tenant.as_str()));
                let mut tx = pg.begin().await.map_err(Error::db("begin refresh lock"))?;
                let got = if wait.is_zero() {
                    sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_xact_lock($1, $2)")
                        .bind(ns)
                        .bind(key)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(Error::db("try refresh lock"))?
                } else {
                    sqlx::query("SELECT set_config('lock_timeout', $1, true)")
                        .bind(format!("{}ms", dur_ms(wait).max(1)))
                        .execute(&mut *tx)
                        .await
                        .map_err(Error::db("set refresh lock timeout"))?;
                    match sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                        .bind(ns)
                        .bind(key)
                        .execute(&mut *tx)
                        .await
                    {
                        Ok(_) => true,
                        Err(sqlx::Error::Database(e))
                            if e.code().as_deref() == Some(LOCK_NOT_AVAILABLE) =>
                        {
                            false
                        }
                        Err(e) => {
                            return Err(Error::Database {
                                op: "take refresh lock",
                                source: Box::new(e),
                            });
                        }
                    }
                };
                if !got {
                    return Ok(None);
                }
                Ok(Some(RefreshLock {
                    held: Held::Postgres(tx, slot),
                }))
            }
        }
    }
}
