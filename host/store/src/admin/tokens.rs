//! Admin API bearer tokens, stored by their SHA-256 only, each scoped to the operator or one tenant.

use crate::error::{Error, Result, stored_tenant_id};
use crate::store::{Store, from_ms, now_ms};
use ferry_model::TenantId;
use time::OffsetDateTime;

/// Who a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "scope", content = "tenant", rename_all = "snake_case")]
pub enum TokenScope {
    /// Every tenant, and the host-wide views.
    Operator,
    /// One tenant only.
    Tenant(TenantId),
}

/// A stored admin token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AdminToken {
    /// Public id (safe to show, log and revoke by).
    pub id: String,
    /// What it may see.
    #[serde(flatten)]
    pub scope: TokenScope,
    /// Free text saying whom it was made for.
    pub label: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was revoked, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl Store {
    /// Stores a new token under its hash.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails (also when the id or hash already exists).
    pub async fn insert_admin_token(
        &self,
        id: &str,
        token_hash: &str,
        scope: &TokenScope,
        label: &str,
    ) -> Result<AdminToken> {
        let now = now_ms();
        let (scope_name, tenant) = match scope {
            TokenScope::Operator => ("operator", None),
            TokenScope::Tenant(t) => ("tenant", Some(t.as_str())),
        };
        on_write!(self, |p| {
            sqlx::query(
                "INSERT INTO admin_tokens (id, token_hash, scope, tenant, label, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(token_hash)
            .bind(scope_name)
            .bind(tenant)
            .bind(label)
            .bind(now)
            .execute(p)
            .await
            .map_err(Error::db("insert admin token"))?
            .rows_affected()
        });
        Ok(AdminToken {
            id: id.to_owned(),
            scope: scope.clone(),
            label: label.to_owned(),
            created_at: from_ms(now),
            revoked_at: None,
        })
    }

    /// The live (not revoked) token with this hash, if any.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails, [`Error::Corrupt`] for a row this build cannot read.
    pub async fn admin_token_by_hash(&self, token_hash: &str) -> Result<Option<AdminToken>> {
        let row: Option<TokenRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, scope, tenant, label, created_at, revoked_at FROM admin_tokens WHERE \
                 token_hash = $1 AND revoked_at IS NULL",
            )
            .bind(token_hash)
            .fetch_optional(p)
            .await
            .map_err(Error::db("look up admin token"))?
        });
        row.map(TokenRow::into_token).transpose()
    }

    /// Every token (revoked ones too), oldest first.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails, [`Error::Corrupt`] for a row this build cannot read.
    pub async fn admin_tokens(&self) -> Result<Vec<AdminToken>> {
        let rows: Vec<TokenRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT id, scope, tenant, label, created_at, revoked_at FROM admin_tokens ORDER BY \
                 created_at, id",
            )
            .fetch_all(p)
            .await
            .map_err(Error::db("list admin tokens"))?
        });
        rows.into_iter().map(TokenRow::into_token).collect()
    }

    /// Revokes a token; returns whether a live token with that id existed.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn revoke_admin_token(&self, id: &str) -> Result<bool> {
        let n = on_write!(self, |p| {
            sqlx::query(
                "UPDATE admin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now_ms())
            .bind(id)
            .execute(p)
            .await
            .map_err(Error::db("revoke admin token"))?
            .rows_affected()
        });
        Ok(n == 1)
    }
}

/// An `admin_tokens` row as stored (without the hash).
#[derive(sqlx::FromRow)]
pub(super) struct TokenRow {
    id: String,
    scope: String,
    tenant: Option<String>,
    label: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl TokenRow {
    pub(super) fn into_token(self) -> Result<AdminToken> {
        let scope = match (self.scope.as_str(), self.tenant) {
            ("operator", _) => TokenScope::Operator,
            ("tenant", Some(t)) => TokenScope::Tenant(stored_tenant_id(&t, "admin token tenant")?),
            (other, _) => {
                return Err(Error::Corrupt {
                    what: "admin token scope",
                    detail: other.to_owned(),
                });
            }
        };
        Ok(AdminToken {
            id: self.id,
            scope,
            label: self.label,
            created_at: from_ms(self.created_at),
            revoked_at: self.revoked_at.map(from_ms),
        })
    }
}
