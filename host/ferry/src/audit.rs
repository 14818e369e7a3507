//! The books audit (issue 21), wired: proves that FreshBooks still agrees with Kentico, per tenant, on a schedule
//! and on demand. For every Kentico order changed in the window it builds what the sync would write today (extract →
//! validate → transform, the tenant's own mapping and plugins) and hands the orders to `ferry_load::audit`, which
//! reads FreshBooks in pages and classifies every difference. The report is stored with its window, counted in a
//! per-tenant metric and passed to the alert hook; a repair runs its repairable differences once, through the
//! normal idempotent pipeline.
//!
//! This is not `sandbox::audit`, which counts the demo's simulators to prove the demo; this audit reads only what
//! an operator's host can read: Kentico's REST service, FreshBooks' API and the store.
//!
//! Layout:
//! - `config`: [`AuditConfig`], the tenant's `[tenants.audit]` section (schedule and window).
//! - `repair`: what a repair does: lost ledger entries recorded, orders run again.
//! - `schedule`: the background task that audits each tenant whose schedule is due.

mod config;
mod repair;
mod schedule;

pub use config::AuditConfig;
pub use repair::Repaired;
pub use schedule::run as run_schedule;

use crate::services::ExchangeClient;
use crate::tenants::adapters::StoreLedger;
use crate::tenants::{TenantRuntime, Tenants};
use anyhow::Context as _;
use ferry_load::audit::{Expected, audit_books};
use ferry_model::{AuditReport, TenantId};
use ferry_store::{Ingestor, Store};
use std::collections::HashSet;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Dead letters read to know which orders wait for a person (they are not compared).
const DEAD_LETTERS_READ: u32 = 100_000;

/// Called with every stored report: the host's [`alert_hook`] logs a report with differences and tells the alert
/// channels; the default only logs it.
pub type AuditHook = Arc<dyn Fn(&AuditReport) + Send + Sync>;

/// Runs audits and repairs; cheap to clone (the admin API, the schedule and the demo each hold one).
#[derive(Clone)]
pub struct Auditor {
    store: Store,
    tenants: Tenants,
    exchange: Arc<ExchangeClient>,
    /// Enqueues the events a repair runs, like webhook intake and reconciliation.
    ingestor: Ingestor,
    hook: AuditHook,
}

impl Auditor {
    /// An auditor over the serving tenants.
    pub fn new(
        store: Store,
        tenants: Tenants,
        exchange: Arc<ExchangeClient>,
        ingestor: Ingestor,
    ) -> Self {
        Self {
            store,
            tenants,
            exchange,
            ingestor,
            hook: Arc::new(log_differences),
        }
    }

    /// Calls `hook` with every stored report instead of only logging it (the alerts of issue 17).
    #[must_use]
    pub fn with_hook(mut self, hook: AuditHook) -> Self {
        self.hook = hook;
        self
    }

    /// The store reports are kept in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Audits `tenant`'s orders changed in Kentico since `since`, stores the report and returns it (with its id).
    ///
    /// # Errors
    /// The tenant is not served; Kentico, FreshBooks or the store failed (no report is stored).
    pub async fn audit(
        &self,
        tenant: &TenantId,
        since: OffsetDateTime,
    ) -> anyhow::Result<AuditReport> {
        let t = self.tenant(tenant)?;
        let started_at = OffsetDateTime::now_utc();
        let window = self.window(&t, since).await?;
        let ledger = StoreLedger::new(self.store.clone(), t.id.clone());
        let findings = audit_books(
            &t.freshbooks,
            &ledger,
            &t.id,
            &window.orders,
            &window.known,
            window.updated_min,
            t.config.audit.manual_changes,
        )
        .await
        .with_context(|| format!("audit tenant {tenant}: read freshbooks"))?;
        let mut differences = findings.differences;
        if !findings.unknown.is_empty() {
            let guids: Vec<Uuid> = findings
                .unknown
                .iter()
                .filter_map(|d| Uuid::parse_str(&d.order_guid).ok())
                .collect();
            let known = ferry_extract::existing_orders(&t.kentico, &guids)
                .await
                .with_context(|| format!("audit tenant {tenant}: look up marked orders"))?;
            differences.extend(
                findings
                    .unknown
                    .into_iter()
                    .filter(|d| Uuid::parse_str(&d.order_guid).is_ok_and(|g| !known.contains(&g))),
            );
        }
        let mut report = AuditReport {
            id: 0,
            tenant: t.id.to_string(),
            since,
            started_at,
            finished_at: OffsetDateTime::now_utc(),
            orders_checked: window.orders.len(),
            orders_skipped: window.known.len(),
            freshbooks_calls: findings.freshbooks_calls,
            differences,
        };
        report.id = self.store.save_audit(&report).await?;
        record_metrics(&report);
        tracing::info!(
            tenant = %t.id,
            audit = report.id,
            orders = report.orders_checked,
            differences = report.differences.len(),
            freshbooks_calls = report.freshbooks_calls,
            "Books audited."
        );
        (self.hook)(&report);
        Ok(report)
    }

    fn tenant(&self, tenant: &TenantId) -> anyhow::Result<Arc<TenantRuntime>> {
        self.tenants
            .get(tenant)
            .with_context(|| format!("tenant {tenant} is not served here"))
    }

    /// The orders of the window with their expected drafts, the orders not compared, and the first day FreshBooks
    /// must be read from.
    async fn window(&self, t: &TenantRuntime, since: OffsetDateTime) -> anyhow::Result<Window> {
        let changed = ferry_extract::changed_orders_since(&t.kentico, since)
            .await
            .context("list kentico orders changed in the window")?;
        let held: HashSet<i64> = self
            .store
            .dead_letters(Some(&t.id), DEAD_LETTERS_READ)
            .await?
            .into_iter()
            .filter(|e| e.object_type == "ecommerce.order")
            .map(|e| e.object_id)
            .collect();
        let mut window = Window {
            orders: Vec::new(),
            known: HashSet::new(),
            updated_min: OffsetDateTime::now_utc().date(),
        };
        for c in changed {
            let order = ferry_extract::fetch_order(&t.kentico, c.id)
                .await
                .with_context(|| format!("fetch order {} from kentico", c.id))?;
            // Every object written for an order was updated after the order was created. A day earlier covers
            // FreshBooks' own time zone (its `updated` is US Eastern).
            let day = (order.created_at - Duration::days(1)).date();
            window.updated_min = window.updated_min.min(day);
            // Waiting for a person in the dead-letter queue, or refused by validation or a plugin: the sync writes
            // nothing for it, so neither does the audit expect anything.
            if held.contains(&order.id) || !t.plugins.validate(&order).await?.is_empty() {
                window.known.insert(order.guid);
                continue;
            }
            let conversion = crate::pipeline::conversion(&self.exchange, t, &order)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("exchange rate of order {}", order.number))?;
            match t.plugins.run(&order, conversion).await {
                Ok(drafts) => window.orders.push(Expected { order, drafts }),
                Err(_) => {
                    window.known.insert(order.guid);
                }
            }
        }
        Ok(window)
    }

    /// Runs the repairable differences of report `id` once: lost ledger entries recorded, invoices the tenant lets
    /// Ferry overwrite restored, then the orders that need it run again through the pipeline. A second call for the
    /// same report repairs nothing.
    ///
    /// # Errors
    /// The tenant is not served; no such report for the tenant; the store or FreshBooks failed.
    pub async fn repair(&self, tenant: &TenantId, id: i64) -> anyhow::Result<Repaired> {
        let report = self
            .store
            .audit(tenant, id)
            .await?
            .with_context(|| format!("tenant {tenant} has no audit {id}"))?;
        let t = self.tenant(tenant)?;
        repair::run(&self.store, &self.ingestor, &t, &report).await
    }
}

/// What one audit reads.
struct Window {
    orders: Vec<Expected>,
    /// Orders of the window not compared (their markers are no orphans).
    known: HashSet<Uuid>,
    updated_min: time::Date,
}

/// The hook the host installs: the default's warning, and the alert channels told — a report with differences
/// raises `audit.differences` for its tenant with the counts per class; a clean one clears it, which sends one
/// recovery message when it had been raised.
pub fn alert_hook(alerts: ferry_alert::Alerts) -> AuditHook {
    Arc::new(move |report: &AuditReport| {
        log_differences(report);
        let Ok(tenant) = TenantId::parse(&report.tenant) else {
            return;
        };
        let condition = ferry_alert::Condition::tenant(&tenant, "audit.differences");
        if report.is_clean() {
            alerts.clear(
                condition,
                format!("the books of {tenant} agree with the shop again"),
            );
        } else {
            alerts.raise(
                condition,
                format!(
                    "the books of {tenant} differ from the shop (audit {}, {} orders checked)",
                    report.id, report.orders_checked
                ),
                difference_counts(report),
                None,
            );
        }
    })
}

/// "2 missing", "1 amount_changed", … for the classes a report found.
pub(crate) fn difference_counts(report: &AuditReport) -> Vec<String> {
    report
        .counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("{n} {c}"))
        .collect()
}

/// The default hook: a warning naming the counts, for the log and the operator.
fn log_differences(report: &AuditReport) {
    if report.is_clean() {
        return;
    }
    let counts = difference_counts(report);
    tracing::warn!(
        tenant = %report.tenant,
        audit = report.id,
        differences = counts.join(", "),
        "The books differ from the shop."
    );
}

/// The latest audit's figures per tenant: differences per class, orders checked, and when it finished.
fn record_metrics(report: &AuditReport) {
    use crate::telemetry::metrics::{AUDIT_DIFFERENCES, AUDIT_FINISHED_SECONDS, AUDIT_ORDERS};
    let tenant = report.tenant.clone();
    for (class, n) in report.counts() {
        metrics::gauge!(AUDIT_DIFFERENCES, "tenant" => tenant.clone(), "class" => class.as_str())
            .set(n as f64);
    }
    metrics::gauge!(AUDIT_ORDERS, "tenant" => tenant.clone()).set(report.orders_checked as f64);
    metrics::gauge!(AUDIT_FINISHED_SECONDS, "tenant" => tenant)
        .set(report.finished_at.unix_timestamp() as f64);
}
