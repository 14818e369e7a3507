//! The per-store state behind the keyed locks ([`Store::lock_refresh`](crate::Store::lock_refresh),
//! [`Store::lock_create`](crate::Store::lock_create)): SQLite's in-process mutex per key, and the share of
//! Postgres' pool that held create locks may pin. The store handle owns one of each; this module needs nothing
//! of the store, so the handle can hold them without depending back on the lock code.

use ferry_model::TenantId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Postgres: a held lock pins a pooled connection (its transaction) while its holder goes on to write through
/// the same pool. With more workers than connections, every connection could end up pinned by a create-lock
/// holder waiting for a connection to write with: the host stalls until the pool's acquire timeout, over and
/// over (seen: the orders bench, 32 workers on an 8-connection pool, stopped making progress). So create locks
/// may pin at most half the pool; waiting for a slot counts against the caller's `wait`. Refresh locks are not
/// counted: there is at most one per FreshBooks account, held for one token request, and capping them would
/// make one account's refresh wait for another's.
#[derive(Debug)]
pub(crate) struct LockSlots {
    create: Arc<Semaphore>,
}

impl LockSlots {
    /// Slots for a pool of `connections` (not counting the LISTEN connection).
    pub(crate) fn for_pool(connections: u32) -> Self {
        let half = usize::try_from(connections / 2).unwrap_or(1).max(1);
        Self {
            create: Arc::new(Semaphore::new(half)),
        }
    }

    /// A create-lock slot, waiting at most `wait` (`ZERO`: no waiting); `None` on time-out.
    pub(crate) async fn take_create(&self, wait: Duration) -> Option<OwnedSemaphorePermit> {
        let sem = self.create.clone();
        if wait.is_zero() {
            sem.try_acquire_owned().ok()
        } else {
            tokio::time::timeout(wait, sem.acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
        }
    }
}

/// One key's in-process mutex.
type KeyMutex = Arc<tokio::sync::Mutex<()>>;

/// Local map size above which unheld mutexes are pruned.
const PRUNE_ABOVE: usize = 1_024;

/// SQLite's keyed locks: one async mutex per (namespace, tenant, key), created on first use and pruned when
/// nobody holds or waits for it.
#[derive(Debug, Default)]
pub(crate) struct LocalRefreshLocks {
    by_key: Mutex<HashMap<(i32, String, String), KeyMutex>>,
}

impl LocalRefreshLocks {
    pub(crate) fn get(&self, ns: i32, tenant: &TenantId, key: &str) -> KeyMutex {
        let mut map = self
            .by_key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, m| Arc::strong_count(m) > 1);
        }
        map.entry((ns, tenant.as_str().to_owned(), key.to_owned()))
            .or_default()
            .clone()
    }
}
