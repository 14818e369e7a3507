//! Scheduled audits: every tenant with `[tenants.audit] every_hours` set is audited when its latest stored audit is
//! older than that (read from the store, so a restart does not audit again early, and a host sharing the database
//! sees another's audit). Audits run one tenant at a time on this one task, beside live traffic rather than in the
//! workers' place.

use super::Auditor;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

/// How often the schedule looks for a tenant that is due.
const CHECK_EVERY: Duration = Duration::from_secs(60);

/// Audits each tenant whose schedule is due, until shutdown.
pub async fn run(auditor: Auditor, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            _ = shutdown.changed() => return,
        }
        for tenant in auditor.tenants.all() {
            let config = &tenant.config.audit;
            if !config.scheduled() {
                continue;
            }
            let now = OffsetDateTime::now_utc();
            let due = match auditor.store.audits(&tenant.id, 1).await {
                Ok(latest) => latest
                    .first()
                    .is_none_or(|r| now - r.finished_at >= config.every()),
                Err(error) => {
                    tracing::warn!(tenant = %tenant.id, %error, "Could not read the latest audit.");
                    false
                }
            };
            if !due {
                continue;
            }
            if let Err(error) = auditor.audit(&tenant.id, now - config.window()).await {
                tracing::warn!(tenant = %tenant.id, error = format!("{error:#}"), "Scheduled audit failed.");
            }
        }
    }
}
