//! Books audit reports (issue 21): each audit of a tenant with its window, counts and every difference, kept for the
//! CLI and admin API to show and for a repair to run once.

use crate::error::{Error, Result};
use crate::store::{Store, now_ms, to_ms};
use ferry_model::{AuditReport, TenantId};

/// A stored report as its JSON column holds it.
fn decode(text: &str, id: i64) -> Result<AuditReport> {
    let mut report: AuditReport = serde_json::from_str(text).map_err(|e| Error::Corrupt {
        what: "audit_reports.report",
        detail: format!("report {id}: {e}"),
    })?;
    report.id = id;
    Ok(report)
}

impl Store {
    /// Stores a finished audit and returns its id.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn save_audit(&self, report: &AuditReport) -> Result<i64> {
        let text = serde_json::to_string(report).map_err(|e| Error::Corrupt {
            what: "audit_reports.report",
            detail: format!("encode: {e}"),
        })?;
        let id: i64 = on_write!(self, |p| {
            sqlx::query_scalar(
                "INSERT INTO audit_reports (tenant, since, started_at, finished_at, orders_checked, \
                 differences, freshbooks_calls, report) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(&report.tenant)
            .bind(to_ms(report.since))
            .bind(to_ms(report.started_at))
            .bind(to_ms(report.finished_at))
            .bind(i64::try_from(report.orders_checked).unwrap_or(i64::MAX))
            .bind(i64::try_from(report.differences.len()).unwrap_or(i64::MAX))
            .bind(i64::try_from(report.freshbooks_calls).unwrap_or(i64::MAX))
            .bind(&text)
            .fetch_one(p)
            .await
            .map_err(Error::db("save audit report"))?
        });
        Ok(id)
    }

    /// The tenant's latest `limit` audits, newest first.
    ///
    /// # Errors
    /// [`Error::Database`]; [`Error::Corrupt`] when a stored report does not decode.
    pub async fn audits(&self, tenant: &TenantId, limit: u32) -> Result<Vec<AuditReport>> {
        let rows: Vec<(i64, String)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, report FROM audit_reports WHERE tenant = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(tenant.as_str())
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
            .map_err(Error::db("list audit reports"))?
        });
        rows.iter().map(|(id, text)| decode(text, *id)).collect()
    }

    /// One audit of the tenant (`None` when the id is another tenant's or unknown).
    ///
    /// # Errors
    /// [`Error::Database`]; [`Error::Corrupt`] when the stored report does not decode.
    pub async fn audit(&self, tenant: &TenantId, id: i64) -> Result<Option<AuditReport>> {
        let row: Option<String> = on_pool!(&self.pool, |p| {
            sqlx::query_scalar("SELECT report FROM audit_reports WHERE tenant = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(p)
                .await
                .map_err(Error::db("read audit report"))?
        });
        row.map(|text| decode(&text, id)).transpose()
    }

    /// Marks the audit's repair as run; true for the one caller that marked it (a repair runs once per report,
    /// whichever host is asked).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn mark_audit_repaired(&self, tenant: &TenantId, id: i64) -> Result<bool> {
        let n = on_write!(self, |p| {
            sqlx::query(
                "UPDATE audit_reports SET repaired_at = $3 WHERE tenant = $1 AND id = $2 AND \
                 repaired_at IS NULL",
            )
            .bind(tenant.as_str())
            .bind(id)
            .bind(now_ms())
            .execute(p)
            .await
            .map_err(Error::db("mark audit repaired"))?
            .rows_affected()
        });
        Ok(n == 1)
    }
}
