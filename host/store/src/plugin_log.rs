//! The tenants' plugin log: the lines a tenant's plugins wrote while running its stored events, with plugin,
//! version, level and event, kept newest-first and bounded per tenant.
//!
//! The host batches lines off the hot path (`host/ferry`'s `plugin_log`) and writes each batch with
//! [`Store::append_plugin_log`], which also trims the tenants it wrote for to their newest lines, so the table
//! stays small without a timer.

use crate::backend::begin_write;
use crate::error::{Error, Result, stored_tenant_id};
use crate::event::JobId;
use crate::store::{Store, from_ms, to_ms};
use ferry_model::TenantId;
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// A line as a plugin wrote it, to append.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewPluginLogLine {
    /// The tenant whose plugin wrote it.
    pub tenant: TenantId,
    /// The plugin's name.
    pub plugin: String,
    /// The uploaded version that ran; `None` (`null`) for a plugin of the tenant's configuration.
    pub version: Option<u32>,
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// What the plugin wrote (the host caps its length).
    pub message: String,
    /// The event the plugin ran for.
    pub job: JobId,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A stored line, as the admin API (flat: `id` beside the line's fields) and the console show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PluginLogLine {
    /// Increasing with every line written (newer lines have larger ids).
    pub id: i64,
    /// The line.
    #[serde(flatten)]
    pub line: NewPluginLogLine,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    tenant: String,
    plugin: String,
    version: Option<i64>,
    level: String,
    message: String,
    job: i64,
    at: i64,
}

impl Row {
    fn into_line(self) -> Result<PluginLogLine> {
        Ok(PluginLogLine {
            id: self.id,
            line: NewPluginLogLine {
                tenant: stored_tenant_id(&self.tenant, "plugin_log.tenant")?,
                plugin: self.plugin,
                version: self.version.and_then(|v| u32::try_from(v).ok()),
                level: self.level,
                message: self.message,
                job: JobId(self.job),
                at: from_ms(self.at),
            },
        })
    }
}

impl Store {
    /// Appends `lines` in one transaction, then deletes all but the newest `keep` lines of each tenant written for.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails (nothing of the batch is kept).
    pub async fn append_plugin_log(&self, lines: &[NewPluginLogLine], keep: u32) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let tenants: BTreeSet<&str> = lines.iter().map(|l| l.tenant.as_str()).collect();
        on_write!(self, |p| {
            let mut tx = begin_write(p, "begin append plugin log").await?;
            for l in lines {
                sqlx::query(
                    "INSERT INTO plugin_log (tenant, plugin, version, level, message, job, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(l.tenant.as_str())
                .bind(&l.plugin)
                .bind(l.version.map(i64::from))
                .bind(&l.level)
                .bind(&l.message)
                .bind(l.job.0)
                .bind(to_ms(l.at))
                .execute(&mut *tx)
                .await
                .map_err(Error::db("append plugin log"))?;
            }
            // The newest `keep` stay: everything older than the keep-th newest goes (nothing when there are fewer).
            for tenant in &tenants {
                sqlx::query(
                    "DELETE FROM plugin_log WHERE tenant = $1 AND id < (SELECT id FROM plugin_log \
                     WHERE tenant = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
                )
                .bind(*tenant)
                .bind(i64::from(keep.max(1) - 1))
                .execute(&mut *tx)
                .await
                .map_err(Error::db("trim plugin log"))?;
            }
            tx.commit().await.map_err(Error::db("commit plugin log"))?;
        });
        Ok(())
    }

    /// The tenant's newest `limit` lines (of `plugin` only, when given), newest first.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails, [`Error::Corrupt`] for a row this build cannot read.
    pub async fn plugin_log(
        &self,
        tenant: &TenantId,
        plugin: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PluginLogLine>> {
        let rows: Vec<Row> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, tenant, plugin, version, level, message, job, at FROM plugin_log \
                 WHERE tenant = $1 AND ($2 IS NULL OR plugin = $2) ORDER BY id DESC LIMIT $3",
            )
            .bind(tenant.as_str())
            .bind(plugin)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
            .map_err(Error::db("read plugin log"))?
        });
        rows.into_iter().map(Row::into_line).collect()
    }

    /// The names of the tenant's plugins that have lines in the log, by name (for a filter).
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn plugin_log_plugins(&self, tenant: &TenantId) -> Result<Vec<String>> {
        Ok(on_pool!(&self.pool, |p| {
            sqlx::query_scalar(
                "SELECT DISTINCT plugin FROM plugin_log WHERE tenant = $1 ORDER BY plugin",
            )
            .bind(tenant.as_str())
            .fetch_all(p)
            .await
            .map_err(Error::db("read plugin log names"))?
        }))
    }
}
