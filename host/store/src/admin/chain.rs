//! Each tenant's uploaded plugins in chain order, and the settings given to them through the admin API.
//!
//! A row is made when a name is first uploaded ([`Store::add_plugin_version`] appends it in the same transaction)
//! and is never removed: a new version of the name keeps its place, and so does a plugin with no active version,
//! so activating it again puts it back where it was. Which rows serve is decided by the versions' `active` flags;
//! this table only orders them and carries their settings.

use crate::backend::begin_write;
use crate::error::{Error, Result};
use crate::store::Store;
use ferry_model::TenantId;
use std::collections::BTreeMap;

/// One uploaded plugin's place in its tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainEntry {
    /// Plugin name.
    pub name: String,
    /// Its place: the chain runs by position, lowest first (ties, which concurrent first uploads on Postgres can
    /// make, by name).
    pub position: i64,
    /// The settings given through the admin API (`get-setting`); `None` while none were given.
    pub settings: Option<BTreeMap<String, String>>,
}

impl Store {
    /// A tenant's uploaded plugin names in chain order (with and without an active version).
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails, [`Error::Corrupt`] for settings that are not a JSON object of
    /// strings.
    pub async fn plugin_chain(&self, tenant: &TenantId) -> Result<Vec<ChainEntry>> {
        let rows: Vec<(String, i64, Option<String>)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT name, position, settings FROM plugin_chain WHERE tenant = $1 ORDER BY \
                 position, name",
            )
            .bind(tenant.as_str())
            .fetch_all(p)
            .await
            .map_err(Error::db("read plugin chain"))?
        });
        rows.into_iter()
            .map(|(name, position, settings)| {
                Ok(ChainEntry {
                    name,
                    position,
                    settings: settings.as_deref().map(parse_settings).transpose()?,
                })
            })
            .collect()
    }

    /// Puts `names` first in the tenant's chain, in this order; the tenant's other uploaded names follow in their
    /// previous order. Positions are renumbered 1, 2, 3… in one transaction.
    ///
    /// # Errors
    /// [`Error::NotFound`] when a name was never uploaded for the tenant (nothing changes), [`Error::Database`]
    /// when the write fails.
    pub async fn reorder_plugin_chain(&self, tenant: &TenantId, names: &[String]) -> Result<()> {
        on_write!(self, |p| {
            let mut tx = begin_write(p, "begin reorder plugin chain").await?;
            let current: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM plugin_chain WHERE tenant = $1 ORDER BY position, name",
            )
            .bind(tenant.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(Error::db("read plugin chain"))?;
            if let Some(missing) = names.iter().find(|n| !current.contains(n)) {
                return Err(Error::NotFound {
                    what: format!("uploaded plugin {missing} of tenant {tenant}"),
                });
            }
            let rest = current.iter().filter(|n| !names.contains(n));
            for (i, name) in names.iter().chain(rest).enumerate() {
                sqlx::query(
                    "UPDATE plugin_chain SET position = $1 WHERE tenant = $2 AND name = $3",
                )
                .bind(i64::try_from(i).unwrap_or(i64::MAX - 1) + 1)
                .bind(tenant.as_str())
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("reorder plugin chain"))?;
            }
            tx.commit()
                .await
                .map_err(Error::db("commit plugin chain order"))?;
        });
        Ok(())
    }

    /// Replaces the settings of the tenant's uploaded plugin `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the name was never uploaded for the tenant, [`Error::Database`] when the write
    /// fails.
    pub async fn set_plugin_settings(
        &self,
        tenant: &TenantId,
        name: &str,
        settings: &BTreeMap<String, String>,
    ) -> Result<()> {
        let json = serde_json::to_string(settings).map_err(|e| Error::Corrupt {
            what: "plugin settings",
            detail: e.to_string(),
        })?;
        let hit = on_write!(self, |p| {
            sqlx::query("UPDATE plugin_chain SET settings = $1 WHERE tenant = $2 AND name = $3")
                .bind(&json)
                .bind(tenant.as_str())
                .bind(name)
                .execute(p)
                .await
                .map_err(Error::db("store plugin settings"))?
                .rows_affected()
        });
        if hit == 0 {
            return Err(Error::NotFound {
                what: format!("uploaded plugin {name} of tenant {tenant}"),
            });
        }
        Ok(())
    }
}

/// Settings as stored: a JSON object of strings.
fn parse_settings(raw: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(raw).map_err(|e| Error::Corrupt {
        what: "plugin_chain.settings",
        detail: e.to_string(),
    })
}
