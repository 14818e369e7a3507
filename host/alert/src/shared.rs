//! Where the dispatcher records what it decided to send: in the store, which every host sharing the database sees,
//! or in memory for a dispatcher without one.
//!
//! Several hosts run the alert watcher over one database, and a FreshBooks outage opens every host's breaker. The
//! store's compare-and-set answers "send it" to one host only: the first to raise a condition sends the message, the
//! first to clear it the recovery; dead letters are counted into one window per tenant, taken (and sent) by one host.
//! When the store cannot be reached the host sends on its own view, as a single host would: a duplicate message is
//! better than a silent outage.

use crate::message::Condition;
use ferry_model::{ErrorClass, TenantId};
use ferry_store::{DeadLetterWindow, Store};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// A raise older than this may be raised again by another host (the host that raised it may have died before it
/// could clear it; see [`Store::raise_alert`]).
const RAISE_EXPIRES: Duration = Duration::from_secs(3600);

/// What the dispatcher has sent, as every host sees it.
pub(crate) enum Shared {
    /// One host, in memory (no store given, or a test).
    Local(Mutex<Local>),
    /// The store shared by every host on the database.
    Store(Store),
}

/// The in-memory state of a dispatcher alone.
#[derive(Default)]
pub(crate) struct Local {
    /// Raised conditions, and whether their message went out.
    raised: HashMap<Condition, bool>,
    /// Open dead-letter windows per tenant: when due, and the counts so far.
    windows: HashMap<TenantId, (Instant, BTreeMap<ErrorClass, u64>)>,
}

impl Shared {
    /// True when this call raised `condition` (the caller sends the message).
    pub(crate) async fn raise(&self, condition: &Condition) -> ferry_store::Result<bool> {
        match self {
            Self::Local(local) => {
                let mut local = lock(local);
                if local.raised.contains_key(condition) {
                    return Ok(false);
                }
                local.raised.insert(condition.clone(), false);
                Ok(true)
            }
            Self::Store(store) => {
                store
                    .raise_alert(condition.tenant.as_ref(), &condition.name, RAISE_EXPIRES)
                    .await
            }
        }
    }

    /// Records that the raise of `condition` went out, so its recovery goes out too.
    pub(crate) async fn mark_notified(&self, condition: &Condition) -> ferry_store::Result<()> {
        match self {
            Self::Local(local) => {
                if let Some(notified) = lock(local).raised.get_mut(condition) {
                    *notified = true;
                }
                Ok(())
            }
            Self::Store(store) => {
                store
                    .mark_alert_notified(condition.tenant.as_ref(), &condition.name)
                    .await
            }
        }
    }

    /// `Some(notified)` when this call cleared `condition` (the caller sends the recovery when the raise went out).
    pub(crate) async fn clear(&self, condition: &Condition) -> ferry_store::Result<Option<bool>> {
        match self {
            Self::Local(local) => Ok(lock(local).raised.remove(condition)),
            Self::Store(store) => {
                store
                    .clear_alert(condition.tenant.as_ref(), &condition.name)
                    .await
            }
        }
    }

    /// Counts a dead letter into `tenant`'s window (opening one due after `window`); how long until it is due.
    pub(crate) async fn count_dead_letter(
        &self,
        tenant: &TenantId,
        class: ErrorClass,
        window: Duration,
    ) -> ferry_store::Result<Duration> {
        match self {
            Self::Local(local) => {
                let now = Instant::now();
                let mut local = lock(local);
                let (due, counts) = local
                    .windows
                    .entry(tenant.clone())
                    .or_insert_with(|| (now + window, BTreeMap::new()));
                *counts.entry(class).or_default() += 1;
                Ok(due.saturating_duration_since(now))
            }
            Self::Store(store) => store.count_dead_letter_alert(tenant, class, window).await,
        }
    }

    /// Takes `tenant`'s window when due (any open window when `force`), with its counts.
    pub(crate) async fn take_dead_letters(
        &self,
        tenant: &TenantId,
        force: bool,
    ) -> ferry_store::Result<DeadLetterWindow> {
        match self {
            Self::Local(local) => {
                let now = Instant::now();
                let mut local = lock(local);
                Ok(match local.windows.get(tenant) {
                    None => DeadLetterWindow::Gone,
                    Some((due, _)) if !force && *due > now => {
                        DeadLetterWindow::Later(due.saturating_duration_since(now))
                    }
                    Some(_) => local
                        .windows
                        .remove(tenant)
                        .map_or(DeadLetterWindow::Gone, |(_, counts)| {
                            DeadLetterWindow::Taken(counts)
                        }),
                })
            }
            Self::Store(store) => store.take_dead_letter_alert(tenant, force).await,
        }
    }
}

/// The in-memory state; a panic elsewhere while holding it leaves plain maps, still usable.
fn lock(local: &Mutex<Local>) -> std::sync::MutexGuard<'_, Local> {
    local
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
