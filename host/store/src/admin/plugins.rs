//! Uploaded plugin components, stored once per content hash, and each tenant's numbered versions of a named
//! plugin with at most one active per name, each with where its compile is ([`PluginState`]).

use crate::backend::begin_write;
use crate::error::{Error, Result, stored_tenant_id};
use crate::store::{Store, from_ms, now_ms};
use ferry_model::TenantId;
use time::OffsetDateTime;

/// Where the compile of an uploaded version is. Uploads answer before the component is compiled; only a `ready`
/// version can be activated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginState {
    /// Passed the upload's checks; being compiled in the background.
    Compiling,
    /// Compiled and linked: it can be activated.
    Ready,
    /// Does not compile or link; [`PluginVersion::reason`] says why. It is never activated.
    Failed,
}

impl PluginState {
    /// The word stored and shown: `compiling`, `ready`, `failed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PluginState::Compiling => "compiling",
            PluginState::Ready => "ready",
            PluginState::Failed => "failed",
        }
    }

    fn parse(stored: &str) -> Result<Self> {
        match stored {
            "compiling" => Ok(PluginState::Compiling),
            "ready" => Ok(PluginState::Ready),
            "failed" => Ok(PluginState::Failed),
            other => Err(Error::Corrupt {
                what: "plugin_versions.state",
                detail: format!("unknown state {other:?}"),
            }),
        }
    }
}

impl std::fmt::Display for PluginState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One version of a tenant's uploaded plugin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PluginVersion {
    /// The tenant.
    pub tenant: TenantId,
    /// Plugin name (unique per tenant).
    pub name: String,
    /// 1, 2, 3… per (tenant, name).
    pub version: u32,
    /// SHA-256 of the component bytes, hex.
    pub hash: String,
    /// Component size in bytes.
    pub size: u64,
    /// When it was uploaded.
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// Whether this version is the one serving.
    pub active: bool,
    /// When it was last activated.
    #[serde(with = "time::serde::rfc3339::option")]
    pub activated_at: Option<OffsetDateTime>,
    /// Where its compile is.
    pub state: PluginState,
    /// Why it failed to compile or link (only when `state` is `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The upload asked to activate it, and it will be when its compile ends `ready`.
    pub activate_when_ready: bool,
}

impl Store {
    /// Stores component bytes under their content hash (a no-op when already stored).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn put_plugin_blob(&self, hash: &str, bytes: &[u8]) -> Result<()> {
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        on_write!(self, |p| {
            sqlx::query(
                "INSERT INTO plugin_blobs (hash, bytes, size, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (hash) DO NOTHING",
            )
            .bind(hash)
            .bind(bytes)
            .bind(size)
            .bind(now_ms())
            .execute(p)
            .await
            .map_err(Error::db("store plugin component"))?
            .rows_affected()
        });
        Ok(())
    }

    /// The component bytes with this hash.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there are none, [`Error::Database`] when the read fails.
    pub async fn plugin_blob(&self, hash: &str) -> Result<Vec<u8>> {
        let bytes: Option<Vec<u8>> = on_pool!(&self.pool, |p| {
            sqlx::query_scalar("SELECT bytes FROM plugin_blobs WHERE hash = $1")
                .bind(hash)
                .fetch_optional(p)
                .await
                .map_err(Error::db("read plugin component"))?
        });
        bytes.ok_or_else(|| Error::NotFound {
            what: format!("plugin component {hash}"),
        })
    }

    /// Adds the next version of a tenant's plugin `name` (inactive, in `state`: `ready` when its hash is compiled
    /// already, else `compiling`), pointing at an already stored blob. A name new to the tenant is appended to its
    /// chain ([`Store::plugin_chain`]); a known one keeps its place.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails (also when the blob is not stored).
    pub async fn add_plugin_version(
        &self,
        tenant: &TenantId,
        name: &str,
        hash: &str,
        size: u64,
        state: PluginState,
    ) -> Result<PluginVersion> {
        let now = now_ms();
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        let version: i64 = on_write!(self, |p| {
            let mut tx = begin_write(p, "begin add plugin version").await?;
            let version: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM plugin_versions WHERE tenant = $1 AND \
                 name = $2",
            )
            .bind(tenant.as_str())
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(Error::db("number plugin version"))?;
            sqlx::query(
                "INSERT INTO plugin_versions (tenant, name, version, hash, size, uploaded_at, \
                 active, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(tenant.as_str())
            .bind(name)
            .bind(version)
            .bind(hash)
            .bind(size)
            .bind(now)
            .bind(false)
            .bind(state.as_str())
            .execute(&mut *tx)
            .await
            .map_err(Error::db("add plugin version"))?;
            // A new name joins the end of the tenant's chain; a known name keeps its place.
            sqlx::query(
                "INSERT INTO plugin_chain (tenant, name, position) SELECT $1, $2, \
                 COALESCE(MAX(position), 0) + 1 FROM plugin_chain WHERE tenant = $1 ON CONFLICT \
                 (tenant, name) DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("append plugin to chain"))?;
            tx.commit()
                .await
                .map_err(Error::db("commit plugin version"))?;
            version
        });
        self.plugin_version(tenant, name, u32::try_from(version).unwrap_or(u32::MAX))
            .await
    }

    /// One version of a tenant's plugin.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such version, [`Error::Database`] when the read fails.
    pub async fn plugin_version(
        &self,
        tenant: &TenantId,
        name: &str,
        version: u32,
    ) -> Result<PluginVersion> {
        let row: Option<VersionRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT tenant, name, version, hash, size, uploaded_at, active, activated_at, state, \
                 state_reason, activate_when_ready FROM \
                 plugin_versions WHERE tenant = $1 AND name = $2 AND version = $3",
            )
            .bind(tenant.as_str())
            .bind(name)
            .bind(i64::from(version))
            .fetch_optional(p)
            .await
            .map_err(Error::db("read plugin version"))?
        });
        match row {
            Some(r) => r.into_version(),
            None => Err(Error::NotFound {
                what: format!("plugin {name} version {version} of tenant {tenant}"),
            }),
        }
    }

    /// A tenant's plugin versions (of every name, or of one), by name then version.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn plugin_versions(
        &self,
        tenant: &TenantId,
        name: Option<&str>,
    ) -> Result<Vec<PluginVersion>> {
        let rows: Vec<VersionRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT tenant, name, version, hash, size, uploaded_at, active, activated_at, state, \
                 state_reason, activate_when_ready FROM \
                 plugin_versions WHERE tenant = $1 AND ($2 IS NULL OR name = $2) ORDER BY name, \
                 version",
            )
            .bind(tenant.as_str())
            .bind(name)
            .fetch_all(p)
            .await
            .map_err(Error::db("list plugin versions"))?
        });
        rows.into_iter().map(VersionRow::into_version).collect()
    }

    /// The active version of each of a tenant's plugins, by name.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn active_plugins(&self, tenant: &TenantId) -> Result<Vec<PluginVersion>> {
        Ok(self
            .plugin_versions(tenant, None)
            .await?
            .into_iter()
            .filter(|v| v.active)
            .collect())
    }

    /// Makes `version` the active one of (tenant, name), deactivating the other versions in the same transaction.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such version, [`Error::Database`] when the write fails.
    pub async fn activate_plugin_version(
        &self,
        tenant: &TenantId,
        name: &str,
        version: u32,
    ) -> Result<PluginVersion> {
        let now = now_ms();
        let found = on_write!(self, |p| {
            let mut tx = begin_write(p, "begin activate plugin").await?;
            let hit = sqlx::query(
                "UPDATE plugin_versions SET active = $1, activated_at = $2 WHERE tenant = $3 AND \
                 name = $4 AND version = $5",
            )
            .bind(true)
            .bind(now)
            .bind(tenant.as_str())
            .bind(name)
            .bind(i64::from(version))
            .execute(&mut *tx)
            .await
            .map_err(Error::db("activate plugin version"))?
            .rows_affected();
            if hit == 1 {
                sqlx::query(
                    "UPDATE plugin_versions SET active = $1 WHERE tenant = $2 AND name = $3 AND \
                     version <> $4",
                )
                .bind(false)
                .bind(tenant.as_str())
                .bind(name)
                .bind(i64::from(version))
                .execute(&mut *tx)
                .await
                .map_err(Error::db("deactivate plugin versions"))?;
                tx.commit()
                    .await
                    .map_err(Error::db("commit plugin activation"))?;
            }
            hit == 1
        });
        if !found {
            return Err(Error::NotFound {
                what: format!("plugin {name} version {version} of tenant {tenant}"),
            });
        }
        self.plugin_version(tenant, name, version).await
    }
}

impl Store {
    /// Records the end of the compile of the component with `hash`: every version of it (any tenant) still
    /// `compiling` becomes `ready`, or `failed` with the reason, and loses its `activate_when_ready`. Returns those
    /// versions as they now are, except that `activate_when_ready` says what the upload asked (the caller
    /// activates the `ready` ones that asked).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn finish_plugin_compile(
        &self,
        hash: &str,
        outcome: std::result::Result<(), &str>,
    ) -> Result<Vec<PluginVersion>> {
        let (state, reason) = match outcome {
            Ok(()) => (PluginState::Ready, None),
            Err(reason) => (PluginState::Failed, Some(reason)),
        };
        let rows: Vec<VersionRow> = on_write!(self, |p| {
            let mut tx = begin_write(p, "begin finish plugin compile").await?;
            let rows: Vec<VersionRow> = sqlx::query_as(
                "SELECT tenant, name, version, hash, size, uploaded_at, active, activated_at, state, \
                 state_reason, activate_when_ready FROM plugin_versions WHERE hash = $1 AND state = $2 \
                 ORDER BY tenant, name, version",
            )
            .bind(hash)
            .bind(PluginState::Compiling.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(Error::db("read compiling plugin versions"))?;
            sqlx::query(
                "UPDATE plugin_versions SET state = $1, state_reason = $2, activate_when_ready = $3 \
                 WHERE hash = $4 AND state = $5",
            )
            .bind(state.as_str())
            .bind(reason)
            .bind(false)
            .bind(hash)
            .bind(PluginState::Compiling.as_str())
            .execute(&mut *tx)
            .await
            .map_err(Error::db("record plugin compile"))?;
            tx.commit()
                .await
                .map_err(Error::db("commit plugin compile"))?;
            rows
        });
        rows.into_iter()
            .map(|r| {
                r.into_version().map(|mut v| {
                    v.state = state;
                    v.reason = reason.map(str::to_owned);
                    v
                })
            })
            .collect()
    }

    /// Every version (any tenant) whose compile has not ended: after a restart, the ones to compile again.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn compiling_plugin_versions(&self) -> Result<Vec<PluginVersion>> {
        let rows: Vec<VersionRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT tenant, name, version, hash, size, uploaded_at, active, activated_at, state, \
                 state_reason, activate_when_ready FROM plugin_versions WHERE state = $1 ORDER BY \
                 uploaded_at, tenant, name, version",
            )
            .bind(PluginState::Compiling.as_str())
            .fetch_all(p)
            .await
            .map_err(Error::db("list compiling plugin versions"))?
        });
        rows.into_iter().map(VersionRow::into_version).collect()
    }

    /// Asks for `version` of the tenant's plugin `name` to be activated once its compile ends `ready` (an upload
    /// with `activate=true`); a version no longer `compiling` is left as it is.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn activate_plugin_when_ready(
        &self,
        tenant: &TenantId,
        name: &str,
        version: u32,
    ) -> Result<()> {
        on_write!(self, |p| {
            sqlx::query(
                "UPDATE plugin_versions SET activate_when_ready = $1 WHERE tenant = $2 AND name = $3 \
                 AND version = $4 AND state = $5",
            )
            .bind(true)
            .bind(tenant.as_str())
            .bind(name)
            .bind(i64::from(version))
            .bind(PluginState::Compiling.as_str())
            .execute(p)
            .await
            .map_err(Error::db("ask plugin activation when ready"))?
            .rows_affected()
        });
        Ok(())
    }
}

impl Store {
    /// Takes the tenant's plugin `name` out of its chain: no version of it stays active. Its versions, settings
    /// and place are kept, so activating a version again puts it back where it was.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no version of it is active, [`Error::Database`] when the write fails.
    pub async fn deactivate_plugin(&self, tenant: &TenantId, name: &str) -> Result<()> {
        let hit = on_write!(self, |p| {
            sqlx::query(
                "UPDATE plugin_versions SET active = $1 WHERE tenant = $2 AND name = $3 AND active = $4",
            )
            .bind(false)
            .bind(tenant.as_str())
            .bind(name)
            .bind(true)
            .execute(p)
            .await
            .map_err(Error::db("deactivate plugin"))?
            .rows_affected()
        });
        if hit == 0 {
            return Err(Error::NotFound {
                what: format!("active plugin {name} of tenant {tenant}"),
            });
        }
        Ok(())
    }
}

/// A `plugin_versions` row as stored.
#[derive(sqlx::FromRow)]
struct VersionRow {
    tenant: String,
    name: String,
    version: i64,
    hash: String,
    size: i64,
    uploaded_at: i64,
    active: bool,
    activated_at: Option<i64>,
    state: String,
    state_reason: Option<String>,
    activate_when_ready: bool,
}

impl VersionRow {
    fn into_version(self) -> Result<PluginVersion> {
        Ok(PluginVersion {
            tenant: stored_tenant_id(&self.tenant, "plugin version tenant")?,
            name: self.name,
            version: u32::try_from(self.version).unwrap_or(0),
            hash: self.hash,
            size: u64::try_from(self.size).unwrap_or(0),
            uploaded_at: from_ms(self.uploaded_at),
            active: self.active,
            activated_at: self.activated_at.map(from_ms),
            state: PluginState::parse(&self.state)?,
            reason: self.state_reason,
            activate_when_ready: self.activate_when_ready,
        })
    }
}
