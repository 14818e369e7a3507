//! [`Alerts`], the handle the host reports to, and the task behind it that decides what is sent: a condition sends
//! one message when raised and one when cleared however often it is reported; dead letters are counted per class
//! over a window and sent as one message per tenant; a tenant's plugin failure share over a window raises or
//! clears a condition; each destination (the operator, each tenant) gets at most `max_per_hour` messages.
//!
//! Hosts sharing a database share what was sent ([`crate::shared`]): a condition raised on three hosts sends one
//! message, from the host whose raise the store took first, and one recovery, from the first that clears it; dead
//! letters of every host go into one window per tenant, sent by the one host that takes it.

use crate::channel::deliver;
use crate::config::{AlertsConfig, ChannelConfig};
use crate::message::{Alert, AlertKind, Condition};
use crate::shared::{Local, Shared};
use ferry_model::{ErrorClass, TenantId};
use ferry_store::{DeadLetterWindow, Store};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::warn;

/// A tenant's channels as the host serves it now (looked up per message: tenants come and go while it runs).
pub type TenantChannels = Arc<dyn Fn(&TenantId) -> Vec<ChannelConfig> + Send + Sync>;

/// Where the host reports what happens; cheap to clone. Reports never block and never fail: with the task gone
/// (the host stopping) they are dropped.
#[derive(Clone, Debug)]
pub struct Alerts {
    tx: mpsc::UnboundedSender<Command>,
}

/// The running dispatcher; [`AlertsHandle::stop`] sends what is pending and waits for the deliveries.
#[derive(Debug)]
pub struct AlertsHandle {
    task: tokio::task::JoinHandle<()>,
    tx: mpsc::UnboundedSender<Command>,
}

#[derive(Debug)]
enum Command {
    Raise {
        condition: Condition,
        summary: String,
        details: Vec<String>,
        link: Option<String>,
    },
    Clear {
        condition: Condition,
        summary: String,
    },
    DeadLettered {
        tenant: TenantId,
        class: ErrorClass,
    },
    PluginRun {
        tenant: TenantId,
        failed: bool,
    },
    Stop,
}

impl Alerts {
    /// Starts the dispatcher on the current runtime, alone: what it sent is kept in memory.
    pub fn start(config: AlertsConfig, tenant_channels: TenantChannels) -> (Self, AlertsHandle) {
        Self::start_with(
            config,
            tenant_channels,
            Shared::Local(std::sync::Mutex::new(Local::default())),
        )
    }

    /// Starts the dispatcher on the current runtime with what it sends recorded in `store`, so that hosts sharing
    /// the database send each message once between them (one raise, one recovery, one dead-letter batch per window).
    pub fn start_shared(
        config: AlertsConfig,
        tenant_channels: TenantChannels,
        store: Store,
    ) -> (Self, AlertsHandle) {
        Self::start_with(config, tenant_channels, Shared::Store(store))
    }

    fn start_with(
        config: AlertsConfig,
        tenant_channels: TenantChannels,
        shared: Shared,
    ) -> (Self, AlertsHandle) {
        let (tx, rx) = mpsc::unbounded_channel();
        let dispatcher = Dispatcher {
            config,
            tenant_channels,
            shared,
            http: reqwest::Client::new(),
            active: HashMap::new(),
            batches: HashMap::new(),
            plugin_windows: HashMap::new(),
            sent: HashMap::new(),
            deliveries: JoinSet::new(),
        };
        let task = tokio::spawn(dispatcher.run(rx));
        (Self { tx: tx.clone() }, AlertsHandle { task, tx })
    }

    /// A handle that sends nothing (no alerts configured, or a test that does not look at them).
    pub fn disabled() -> Self {
        let (tx, _) = mpsc::unbounded_channel();
        Self { tx }
    }

    /// Reports that `condition` holds. The first report sends a message; more reports send nothing until it is
    /// cleared. `summary` is one line (`FreshBooks circuit breaker opened`), `details` more lines, `link` where to
    /// look (an absolute URL, or a path under the console that is joined to `public_url`).
    pub fn raise(
        &self,
        condition: Condition,
        summary: impl Into<String>,
        details: Vec<String>,
        link: Option<String>,
    ) {
        let _ = self.tx.send(Command::Raise {
            condition,
            summary: summary.into(),
            details,
            link,
        });
    }

    /// Reports that `condition` no longer holds: a recovery message when it had been raised, nothing otherwise.
    pub fn clear(&self, condition: Condition, summary: impl Into<String>) {
        let _ = self.tx.send(Command::Clear {
            condition,
            summary: summary.into(),
        });
    }

    /// Reports a new dead letter of `tenant`, counted into the tenant's current window.
    pub fn dead_lettered(&self, tenant: &TenantId, class: ErrorClass) {
        let _ = self.tx.send(Command::DeadLettered {
            tenant: tenant.clone(),
            class,
        });
    }

    /// Reports one run of `tenant`'s events and whether a plugin failed it (for the failure share).
    pub fn plugin_run(&self, tenant: &TenantId, failed: bool) {
        let _ = self.tx.send(Command::PluginRun {
            tenant: tenant.clone(),
            failed,
        });
    }
}

impl AlertsHandle {
    /// Sends the open windows now and waits for every delivery to finish.
    pub async fn stop(self) {
        let _ = self.tx.send(Command::Stop);
        let _ = self.task.await;
    }
}

/// A tenant's runs and plugin failures since its window opened.
struct PluginWindow {
    due: Instant,
    runs: u64,
    failed: u64,
}

/// Messages one destination got in the last hour, and how many were dropped since the last that went out.
#[derive(Default)]
struct Budget {
    sent: VecDeque<Instant>,
    suppressed: u64,
}

struct Dispatcher {
    config: AlertsConfig,
    tenant_channels: TenantChannels,
    http: reqwest::Client,
    /// Whether each message was already sent, by this host or another (see [`crate::shared`]).
    shared: Shared,
    /// Conditions this host reported raised, and whether it sent their message. Repeated reports stop here, so the
    /// shared state is asked once per change, and its answer is used to send the recovery only when it cannot be
    /// asked.
    active: HashMap<Condition, bool>,
    /// When the dead-letter window of each tenant this host counted into is due (the window itself is shared).
    batches: HashMap<TenantId, Instant>,
    plugin_windows: HashMap<TenantId, PluginWindow>,
    /// Per destination: `None` is the operator, `Some(t)` tenant t's own channels.
    sent: HashMap<Option<TenantId>, Budget>,
    deliveries: JoinSet<()>,
}

impl Dispatcher {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        loop {
            let due = self
                .batches
                .values()
                .copied()
                .chain(self.plugin_windows.values().map(|w| w.due))
                .min();
            let cmd = tokio::select! {
                cmd = rx.recv() => cmd,
                () = sleep_until(due) => {
                    self.flush(Some(Instant::now())).await;
                    continue;
                }
                // Reap finished deliveries so the set stays small.
                Some(_) = self.deliveries.join_next(), if !self.deliveries.is_empty() => continue,
            };
            match cmd {
                Some(Command::Stop) | None => break,
                Some(cmd) => self.handle(cmd).await,
            }
        }
        self.flush(None).await;
        while self.deliveries.join_next().await.is_some() {}
    }

    fn window(&self) -> Duration {
        Duration::from_secs(self.config.window_secs.max(1))
    }

    async fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Raise {
                condition,
                summary,
                details,
                link,
            } => {
                if self.active.contains_key(&condition) {
                    return;
                }
                let first = match self.shared.raise(&condition).await {
                    Ok(first) => first,
                    Err(error) => {
                        warn!(%error, condition = %condition.name, "Could not record the alert in the store; sending it from this host.");
                        true
                    }
                };
                if !first {
                    // Raised already (by another host): its message went out from there.
                    self.active.insert(condition, false);
                    return;
                }
                let mut alert = Alert::new(
                    AlertKind::Raised,
                    condition.tenant.clone(),
                    condition.name.clone(),
                    summary,
                );
                alert.details = details;
                alert.link = link.and_then(|l| self.absolute(&l));
                let sent = self.send(alert, false);
                if sent && let Err(error) = self.shared.mark_notified(&condition).await {
                    warn!(%error, condition = %condition.name, "Could not record in the store that the alert went out.");
                }
                self.active.insert(condition, sent);
            }
            Command::Clear { condition, summary } => {
                let Some(sent_here) = self.active.remove(&condition) else {
                    return;
                };
                // Only the host that clears it sends the recovery, and only when the raise went out (from any host).
                let notified = match self.shared.clear(&condition).await {
                    Ok(cleared) => cleared == Some(true),
                    Err(error) => {
                        warn!(%error, condition = %condition.name, "Could not record the recovery in the store; sending it from this host.");
                        sent_here
                    }
                };
                if notified {
                    let alert = Alert::new(
                        AlertKind::Cleared,
                        condition.tenant.clone(),
                        condition.name.clone(),
                        summary,
                    );
                    // The recovery of a message that went out always goes out: a reader must not be left with
                    // an open outage.
                    self.send(alert, true);
                }
            }
            Command::DeadLettered { tenant, class } => {
                match self
                    .shared
                    .count_dead_letter(&tenant, class, self.window())
                    .await
                {
                    Ok(due_in) => {
                        let due = Instant::now() + due_in;
                        let local = self.batches.entry(tenant).or_insert(due);
                        *local = (*local).min(due);
                    }
                    Err(error) => {
                        warn!(%error, tenant = %tenant, "Could not count the dead letter for its alert.");
                    }
                }
            }
            Command::PluginRun { tenant, failed } => {
                if self.config.plugin_failure_percent == 0 {
                    return;
                }
                let due = Instant::now() + self.window();
                let w = self.plugin_windows.entry(tenant).or_insert(PluginWindow {
                    due,
                    runs: 0,
                    failed: 0,
                });
                w.runs += 1;
                w.failed += u64::from(failed);
            }
            Command::Stop => {}
        }
    }

    /// Sends every window due by `now` (every window when `None`: the host is stopping).
    async fn flush(&mut self, now: Option<Instant>) {
        let is_due = |due: Instant| now.is_none_or(|n| due <= n);
        let due: Vec<TenantId> = self
            .batches
            .iter()
            .filter(|(_, d)| is_due(**d))
            .map(|(t, _)| t.clone())
            .collect();
        for tenant in due {
            self.batches.remove(&tenant);
            let counts = match self.shared.take_dead_letters(&tenant, now.is_none()).await {
                Ok(DeadLetterWindow::Taken(counts)) => counts,
                // Another host took it, and sends it.
                Ok(DeadLetterWindow::Gone) => continue,
                Ok(DeadLetterWindow::Later(wait)) => {
                    self.batches.insert(tenant, Instant::now() + wait);
                    continue;
                }
                Err(error) => {
                    warn!(%error, tenant = %tenant, "Could not take the dead-letter window; trying again shortly.");
                    if now.is_some() {
                        self.batches
                            .insert(tenant, Instant::now() + Duration::from_secs(5));
                    }
                    continue;
                }
            };
            let total: u64 = counts.values().sum();
            if total == 0 {
                continue;
            }
            let mut alert = Alert::new(
                AlertKind::DeadLetters,
                Some(tenant.clone()),
                "dead_letters",
                format!("{total} new dead letter(s)"),
            );
            alert.counts = counts;
            alert.details = vec![format!(
                "in the last {} s; replay or discard them once the cause is fixed",
                self.config.window_secs
            )];
            alert.link = self.absolute(&format!("/console/tenants/{tenant}/dlq"));
            self.send(alert, false);
        }
        let due: Vec<TenantId> = self
            .plugin_windows
            .iter()
            .filter(|(_, w)| is_due(w.due))
            .map(|(t, _)| t.clone())
            .collect();
        for tenant in due {
            let Some(w) = self.plugin_windows.remove(&tenant) else {
                continue;
            };
            if w.runs < u64::from(self.config.plugin_min_runs.max(1)) {
                continue;
            }
            let condition = Condition::tenant(&tenant, "plugin.failing");
            let percent = w.failed * 100 / w.runs;
            if percent >= u64::from(self.config.plugin_failure_percent) {
                self.handle(Command::Raise {
                    condition,
                    summary: format!(
                        "plugins failed {} of {} runs ({percent}%)",
                        w.failed, w.runs
                    ),
                    details: vec![format!(
                        "over {} s; the threshold is {}%",
                        self.config.window_secs, self.config.plugin_failure_percent
                    )],
                    link: Some(format!("/console/tenants/{tenant}/dlq?class=plugin")),
                })
                .await;
            } else {
                self.handle(Command::Clear {
                    condition,
                    summary: format!(
                        "plugins failed {} of {} runs ({percent}%)",
                        w.failed, w.runs
                    ),
                })
                .await;
            }
        }
    }

    /// `link` as an absolute URL: kept when it is one, joined to `public_url` when it is a path, dropped when
    /// there is no public URL to join it to.
    fn absolute(&self, link: &str) -> Option<String> {
        if link.starts_with("http://") || link.starts_with("https://") {
            return Some(link.to_owned());
        }
        let base = self.config.public_url.as_deref()?;
        Some(format!("{}{link}", base.trim_end_matches('/')))
    }

    /// Sends `alert` to the operator's channels and its tenant's, each within its hourly budget (`always`: past
    /// it). Returns whether it went to any destination.
    fn send(&mut self, alert: Alert, always: bool) -> bool {
        let mut destinations = vec![(None, self.config.channels.clone())];
        if let Some(t) = &alert.tenant {
            destinations.push((Some(t.clone()), (self.tenant_channels)(t)));
        }
        let mut any = false;
        let now = Instant::now();
        let hour = Duration::from_secs(3600);
        for (dest, channels) in destinations {
            if channels.is_empty() {
                continue;
            }
            let budget = self.sent.entry(dest).or_default();
            while budget
                .sent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= hour)
            {
                budget.sent.pop_front();
            }
            if !always && budget.sent.len() >= self.config.max_per_hour as usize {
                budget.suppressed += 1;
                warn!(condition = %alert.condition, "Alert not sent: the destination's hourly limit is reached.");
                continue;
            }
            budget.sent.push_back(now);
            let mut alert = alert.clone();
            alert.suppressed = std::mem::take(&mut budget.suppressed);
            let alert = Arc::new(alert);
            for channel in channels {
                let http = self.http.clone();
                let alert = alert.clone();
                self.deliveries
                    .spawn(async move { deliver(&http, &channel, &alert).await });
            }
            any = true;
        }
        any
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
