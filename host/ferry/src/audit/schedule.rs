//! Scheduled audits: every tenant with `[tenants.audit] every_hours` set is audited when its latest stored audit is
//! older than that (read from the store, so a restart does not audit again early, and a host sharing the database
//! sees another's audit). The first look is at start-up, then once a minute. Audits run one tenant at a time on
//! this one task, beside live traffic rather than in the workers' place.
//!
//! Hosts sharing a database audit a tenant once: a host decides a tenant is due and audits it while holding the
//! tenant's audit lock ([`ferry_store::Store::try_lock_audit`]); another host finds the lock taken and skips the
//! tenant, and after the audit finds the new report and sees the tenant is not due.

use super::Auditor;
use crate::tenants::TenantRuntime;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

/// How often the schedule looks for a tenant that is due.
const CHECK_EVERY: Duration = Duration::from_secs(60);

/// Audits each tenant whose schedule is due, until shutdown.
pub async fn run(auditor: Auditor, mut shutdown: watch::Receiver<bool>) {
    loop {
        for tenant in auditor.tenants.all() {
            if *shutdown.borrow() {
                return;
            }
            if tenant.config.audit.scheduled()
                && let Err(error) = audit_if_due(&auditor, &tenant).await
            {
                tracing::warn!(tenant = %tenant.id, error = format!("{error:#}"), "Scheduled audit failed.");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Audits `tenant` when its latest audit is older than its schedule and no other host is auditing it.
async fn audit_if_due(auditor: &Auditor, tenant: &TenantRuntime) -> anyhow::Result<()> {
    let Some(lock) = auditor.store.try_lock_audit(&tenant.id).await? else {
        return Ok(());
    };
    let config = &tenant.config.audit;
    let now = OffsetDateTime::now_utc();
    let latest = auditor.store.audits(&tenant.id, 1).await?;
    if latest
        .first()
        .is_none_or(|r| now - r.finished_at >= config.every())
    {
        auditor.audit(&tenant.id, now - config.window()).await?;
    }
    lock.release().await?;
    Ok(())
}
