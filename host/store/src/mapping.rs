//! Id mappings: (tenant, kind, Kentico key) → FreshBooks id, so `load` finds what it created before.

use crate::error::{Error, Result};
use crate::store::{Store, now_ms};
use ferry_model::TenantId;

/// What a mapping maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingKind {
    /// Kentico customer → FreshBooks client.
    Client,
    /// Kentico SKU → FreshBooks item.
    Item,
    /// Tax name/rate → FreshBooks tax.
    Tax,
    /// Kentico order → FreshBooks invoice.
    Invoice,
    /// Kentico payment → FreshBooks payment.
    Payment,
}

impl MappingKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Item => "item",
            Self::Tax => "tax",
            Self::Invoice => "invoice",
            Self::Payment => "payment",
        }
    }
}

impl Store {
    /// Sets (or replaces) a mapping.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn put_mapping(
        &self,
        tenant: &TenantId,
        kind: MappingKind,
        kentico_key: &str,
        freshbooks_id: &str,
    ) -> Result<()> {
        on_write!(self, |p| {
            sqlx::query(
                "INSERT INTO id_mappings (tenant, kind, kentico_key, freshbooks_id, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, kind, kentico_key) DO UPDATE SET \
                 freshbooks_id = excluded.freshbooks_id, updated_at = excluded.updated_at",
            )
            .bind(tenant.as_str())
            .bind(kind.as_str())
            .bind(kentico_key)
            .bind(freshbooks_id)
            .bind(now_ms())
            .execute(p)
            .await
            .map_err(Error::db("store id mapping"))?
            .rows_affected()
        });
        Ok(())
    }

    /// The FreshBooks id mapped to a Kentico key, if any.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn mapping(
        &self,
        tenant: &TenantId,
        kind: MappingKind,
        kentico_key: &str,
    ) -> Result<Option<String>> {
        on_pool!(&self.pool, |p| {
            sqlx::query_scalar(
                "SELECT freshbooks_id FROM id_mappings WHERE tenant = $1 AND kind = $2 AND \
                 kentico_key = $3",
            )
            .bind(tenant.as_str())
            .bind(kind.as_str())
            .bind(kentico_key)
            .fetch_optional(p)
            .await
            .map_err(Error::db("read id mapping"))
        })
    }
}
