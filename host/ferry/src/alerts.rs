//! Wires `ferry-alert` into the host: the tenants' channels as they are served now, and the watcher that turns the
//! host's state into alerts — a breaker opening and closing, a tenant FreshBooks disconnected and reconnected, a
//! backlog growing old. The pipeline reports dead letters and plugin failures itself ([`crate::pipeline`]).

use crate::tenants::Tenants;
use ferry_alert::{Alerts, AlertsConfig, AlertsHandle, Condition};
use ferry_model::TenantId;
use ferry_outbound::{BreakerKey, BreakerRegistry, BreakerState};
use ferry_store::Store;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::warn;

/// How often the watcher looks at the breakers (an outage shorter than this may go unreported).
pub const WATCH_EVERY: Duration = Duration::from_millis(500);
/// The store is read every this many breaker looks (disconnections, backlog).
const STORE_EVERY_TICKS: u32 = 10;

/// Starts the alert dispatcher with the operator's channels from `[alerts]`, links under `[admin] public_url`,
/// and each tenant's `[tenants.alerts]` channels read from the serving tenants. What it sends is recorded in
/// `store`, so hosts sharing the database send each message once between them.
pub fn start(
    config: &crate::config::Config,
    tenants: Tenants,
    store: Store,
) -> (Alerts, AlertsHandle) {
    let alerts = AlertsConfig {
        public_url: config.admin.public_url.clone(),
        ..config.alerts.clone()
    };
    Alerts::start_shared(
        alerts,
        Arc::new(move |id: &TenantId| {
            tenants
                .get(id)
                .map(|t| t.config.alerts.channels.clone())
                .unwrap_or_default()
        }),
        store,
    )
}

/// What the watcher reads.
pub(crate) struct Watched {
    pub(crate) alerts: Alerts,
    pub(crate) breakers: BreakerRegistry,
    pub(crate) store: Store,
    pub(crate) tenants: Tenants,
    /// `[alerts] backlog_age_secs` (0: off).
    pub(crate) backlog_age: Duration,
}

/// Looks at the breakers every [`WATCH_EVERY`] and at the store every few looks, raising and clearing
/// conditions, until `stop` turns true.
pub(crate) async fn watch(w: Watched, mut stop: watch::Receiver<bool>) {
    let mut open: HashSet<BreakerKey> = HashSet::new();
    let mut tick = tokio::time::interval(WATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u32 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        breakers(&w, &mut open);
        if n.is_multiple_of(STORE_EVERY_TICKS)
            && let Err(error) = store(&w).await
        {
            warn!(%error, "Could not read the store for alerts; trying again shortly.");
        }
        n = n.wrapping_add(1);
    }
}

/// A breaker that left `closed` raises `breaker.<downstream>`; back to `closed`, it clears.
fn breakers(w: &Watched, open: &mut HashSet<BreakerKey>) {
    for b in w.breakers.snapshot() {
        let tenant = TenantId::parse(&b.key.tenant).ok();
        let condition = Condition {
            tenant,
            name: format!("breaker.{}", b.key.downstream),
        };
        let down = b.key.downstream.as_str();
        match b.state {
            BreakerState::Closed => {
                if open.remove(&b.key) {
                    w.alerts.clear(
                        condition,
                        format!("{down} circuit breaker closed: calls flow again"),
                    );
                }
            }
            BreakerState::Open | BreakerState::HalfOpen => {
                if open.insert(b.key.clone()) {
                    w.alerts.raise(
                        condition,
                        format!("{down} circuit breaker opened: {down} is failing"),
                        // The breaker clears its counts when it opens, so they say nothing here.
                        vec!["events wait without spending attempts until it recovers".to_owned()],
                        Some("/console/tenants".to_owned()),
                    );
                }
            }
        }
    }
}

/// Disconnected tenants raise `freshbooks.disconnected`; backlogs older than the threshold raise `backlog.old`.
async fn store(w: &Watched) -> Result<(), ferry_store::Error> {
    let now = time::OffsetDateTime::now_utc();
    for t in w.tenants.all() {
        let condition = Condition::tenant(&t.id, "freshbooks.disconnected");
        match w.store.disconnection(&t.id).await? {
            Some(d) => w.alerts.raise(
                condition,
                "FreshBooks refused the tenant's authorization: its events wait until it is reconnected",
                vec![
                    format!("account {}: {}", d.account, d.reason),
                    "reconnect it (Connect FreshBooks in the console, or `ferry connect freshbooks`)".to_owned(),
                ],
                Some("/console/tenants".to_owned()),
            ),
            None => w.alerts.clear(condition, "FreshBooks reconnected: events flow again"),
        }
        if w.backlog_age.is_zero() {
            continue;
        }
        let condition = Condition::tenant(&t.id, "backlog.old");
        match w.store.oldest_waiting(&t.id).await? {
            Some(since) if (now - since).unsigned_abs() >= w.backlog_age => w.alerts.raise(
                condition,
                format!("events have waited more than {} s", w.backlog_age.as_secs()),
                vec![format!("the oldest waiting event was received at {since}")],
                Some(format!("/console/tenants/{}/events", t.id)),
            ),
            _ => w.alerts.clear(condition, "the backlog is moving again"),
        }
    }
    Ok(())
}
