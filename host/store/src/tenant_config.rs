//! Tenants managed through the admin API (the SaaS mode): one row per tenant with its configuration as JSON
//! (secrets taken out) and its secrets as one sealed blob.
//!
//! The store never sees a secret in the clear: `host/ferry` seals them with its keyring before they get here and
//! opens them after they are read back.

use crate::backend::begin_write;
use crate::error::{Error, Result, stored_tenant_id};
use crate::store::{Store, from_ms, now_ms};
use ferry_model::TenantId;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// A tenant's stored configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTenant {
    /// The tenant id.
    pub id: TenantId,
    /// Its configuration as JSON, without secrets.
    pub config: String,
    /// Its secrets, sealed by the host keyring.
    pub sealed_secrets: Vec<u8>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was last replaced.
    pub updated_at: OffsetDateTime,
}

type Row = (String, String, Vec<u8>, i64, i64);

fn from_row((id, config, sealed_secrets, created_at, updated_at): Row) -> Result<StoredTenant> {
    Ok(StoredTenant {
        id: stored_tenant_id(&id, "tenant_configs.id")?,
        config,
        sealed_secrets,
        created_at: from_ms(created_at),
        updated_at: from_ms(updated_at),
    })
}

/// A new random generation for a written tenant row (63 bits, so a repeat is never a concern).
fn new_generation() -> i64 {
    i64::try_from(uuid::Uuid::new_v4().as_u64_pair().0 >> 1).unwrap_or_default()
}

impl Store {
    /// Stores a new tenant; returns false (and changes nothing) when one with this id is already stored.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn insert_tenant_config(
        &self,
        id: &TenantId,
        config: &str,
        sealed_secrets: &[u8],
    ) -> Result<bool> {
        let now = now_ms();
        let n = on_write!(self, |p| {
            sqlx::query(
                "INSERT INTO tenant_configs (id, config, sealed_secrets, created_at, updated_at, \
                 generation) VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id.as_str())
            .bind(config)
            .bind(sealed_secrets)
            .bind(now)
            .bind(new_generation())
            .execute(p)
            .await
            .map_err(Error::db("insert tenant config"))?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Replaces a stored tenant's configuration; returns false when no tenant with this id is stored.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn replace_tenant_config(
        &self,
        id: &TenantId,
        config: &str,
        sealed_secrets: &[u8],
    ) -> Result<bool> {
        let n = on_write!(self, |p| {
            sqlx::query(
                "UPDATE tenant_configs SET config = $2, sealed_secrets = $3, updated_at = $4, \
                 generation = $5 WHERE id = $1",
            )
            .bind(id.as_str())
            .bind(config)
            .bind(sealed_secrets)
            .bind(now_ms())
            .bind(new_generation())
            .execute(p)
            .await
            .map_err(Error::db("replace tenant config"))?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Deletes a stored tenant and, in the same transaction, revokes its admin tokens (so that a tenant created
    /// later under the same id does not inherit them). Returns how many tokens were revoked, or `None` when no
    /// such tenant is stored (then nothing changes).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn delete_tenant_config(&self, id: &TenantId) -> Result<Option<u64>> {
        let now = now_ms();
        Ok(on_write!(self, |p| {
            let mut tx = begin_write(p, "begin delete tenant config").await?;
            let deleted = sqlx::query("DELETE FROM tenant_configs WHERE id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(Error::db("delete tenant config"))?
                .rows_affected();
            if deleted == 1 {
                let revoked = sqlx::query(
                    "UPDATE admin_tokens SET revoked_at = $1 WHERE tenant = $2 AND revoked_at IS \
                     NULL",
                )
                .bind(now)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(Error::db("revoke the deleted tenant's admin tokens"))?
                .rows_affected();
                tx.commit()
                    .await
                    .map_err(Error::db("commit tenant deletion"))?;
                Some(revoked)
            } else {
                None
            }
        }))
    }

    /// Replaces a stored tenant's sealed secrets with `new` (the same secrets sealed anew), only if the row still
    /// holds exactly `old`. The generation stays: hosts serving the tenant have nothing to rebuild. Returns whether
    /// it did.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn reseal_tenant_secrets(
        &self,
        id: &TenantId,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool> {
        let n = on_write!(self, |p| {
            sqlx::query(
                "UPDATE tenant_configs SET sealed_secrets = $1 WHERE id = $2 AND sealed_secrets = $3",
            )
            .bind(new)
            .bind(id.as_str())
            .bind(old)
            .execute(p)
            .await
            .map_err(Error::db("reseal tenant secrets"))?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// One stored tenant, if any.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails, [`Error::Corrupt`] for a row this build cannot read.
    pub async fn tenant_config(&self, id: &TenantId) -> Result<Option<StoredTenant>> {
        let row: Option<Row> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, config, sealed_secrets, created_at, updated_at FROM tenant_configs \
                 WHERE id = $1",
            )
            .bind(id.as_str())
            .fetch_optional(p)
            .await
            .map_err(Error::db("read tenant config"))?
        });
        row.map(from_row).transpose()
    }

    /// Every stored tenant, by id.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails, [`Error::Corrupt`] for a row this build cannot read.
    pub async fn tenant_configs(&self) -> Result<Vec<StoredTenant>> {
        let rows: Vec<Row> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, config, sealed_secrets, created_at, updated_at FROM tenant_configs \
                 ORDER BY id",
            )
            .fetch_all(p)
            .await
            .map_err(Error::db("list tenant configs"))?
        });
        rows.into_iter().map(from_row).collect()
    }

    /// What a host needs to notice tenant changes made by another host on the same database: each stored tenant's
    /// generation, each tenant's active uploaded plugin versions and its chain's order and settings. Two equal
    /// snapshots mean nothing changed.
    ///
    /// # Errors
    /// [`Error::Database`] when a read fails, [`Error::Corrupt`] for a row this build cannot read.
    pub async fn config_snapshot(&self) -> Result<ConfigSnapshot> {
        let tenants: Vec<(String, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as("SELECT id, generation FROM tenant_configs")
                .fetch_all(p)
                .await
                .map_err(Error::db("list tenant generations"))?
        });
        let plugins: Vec<(String, String, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT tenant, name, version FROM plugin_versions WHERE active = $1 ORDER BY \
                 tenant, name",
            )
            .bind(true)
            .fetch_all(p)
            .await
            .map_err(Error::db("list active plugin versions"))?
        });
        let chain: Vec<(String, String, i64, Option<String>)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT c.tenant, c.name, c.position, c.settings FROM plugin_chain c WHERE EXISTS \
                 (SELECT 1 FROM plugin_versions v WHERE v.tenant = c.tenant AND v.name = c.name AND \
                 v.active = $1) ORDER BY c.tenant, c.position, c.name",
            )
            .bind(true)
            .fetch_all(p)
            .await
            .map_err(Error::db("list plugin chains"))?
        });
        let mut out = ConfigSnapshot::default();
        for (tenant, name, position, settings) in chain {
            out.plugin_chain
                .entry(stored_tenant_id(&tenant, "plugin_chain.tenant")?)
                .or_default()
                .push((name, position, settings));
        }
        for (tenant, generation) in tenants {
            out.stored
                .insert(stored_tenant_id(&tenant, "tenant_configs.id")?, generation);
        }
        for (tenant, name, version) in plugins {
            out.active_plugins
                .entry(stored_tenant_id(&tenant, "plugin_versions.tenant")?)
                .or_default()
                .push((name, version));
        }
        Ok(out)
    }
}

/// A snapshot of what the admin API can change in the store, per tenant (see [`Store::config_snapshot`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigSnapshot {
    /// Stored (API-managed) tenants and their generations, drawn at random at every insert and replace.
    pub stored: BTreeMap<TenantId, i64>,
    /// Active uploaded plugin (name, version) pairs by tenant, by name; tenants with none are absent.
    pub active_plugins: BTreeMap<TenantId, Vec<(String, i64)>>,
    /// Uploaded plugins with an active version as (name, chain position, settings as stored) by tenant, in chain
    /// order; tenants with none are absent. (Where an inactive plugin sits serves nothing until it is activated.)
    pub plugin_chain: BTreeMap<TenantId, Vec<(String, i64, Option<String>)>>,
}

impl ConfigSnapshot {
    /// Every tenant the snapshot mentions.
    pub fn tenants(&self) -> impl Iterator<Item = &TenantId> {
        self.stored
            .keys()
            .chain(self.active_plugins.keys())
            .chain(self.plugin_chain.keys())
    }

    /// Whether `tenant` is the same in both snapshots.
    pub fn same_for(&self, other: &ConfigSnapshot, tenant: &TenantId) -> bool {
        self.stored.get(tenant) == other.stored.get(tenant)
            && self.active_plugins.get(tenant) == other.active_plugins.get(tenant)
            && self.plugin_chain.get(tenant) == other.plugin_chain.get(tenant)
    }
}
