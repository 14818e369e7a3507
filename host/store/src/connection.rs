//! Tenants disconnected from FreshBooks: after a definite refusal of their authorization the host records one row,
//! and the claim skips the tenant's events (they wait, queued, instead of each spending a token request and
//! landing in the dead-letter queue). The row goes when the tenant is reconnected: new tokens stored
//! ([`Store::put_tokens`]), a successful rotation, or the tenant built from other app credentials
//! ([`Store::reconnect_if_changed`]).

use crate::error::{Error, Result};
use crate::store::{Store, from_ms, now_ms};
use ferry_model::TenantId;
use time::OffsetDateTime;

/// Why and since when a tenant is disconnected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnection {
    /// The FreshBooks account whose authorization was refused.
    pub account: String,
    /// What FreshBooks answered.
    pub reason: String,
    /// When the refusal was recorded.
    pub since: OffsetDateTime,
}

impl Store {
    /// Records that `tenant`'s authorization was refused for good under the app credentials digested as
    /// `credentials`. Returns true when this call disconnected it (false: it already was), so the caller logs once.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn mark_disconnected(
        &self,
        tenant: &TenantId,
        account: &str,
        credentials: &str,
        reason: &str,
    ) -> Result<bool> {
        let n = on_write!(self, |p| {
            sqlx::query(
                "INSERT INTO tenant_disconnections (tenant, account, credentials, reason, since) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant) DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(account)
            .bind(credentials)
            .bind(reason)
            .bind(now_ms())
            .execute(p)
            .await
            .map_err(Error::db("mark tenant disconnected"))?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Whether `tenant` is disconnected, and why.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn disconnection(&self, tenant: &TenantId) -> Result<Option<Disconnection>> {
        let row: Option<(String, String, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT account, reason, since FROM tenant_disconnections WHERE tenant = $1",
            )
            .bind(tenant.as_str())
            .fetch_optional(p)
            .await
            .map_err(Error::db("read tenant disconnection"))?
        });
        Ok(row.map(|(account, reason, since)| Disconnection {
            account,
            reason,
            since: from_ms(since),
        }))
    }

    /// Reconnects `tenant` when it was disconnected under other app credentials than `credentials` (the operator
    /// fixed the client secret). Returns whether it did; its waiting events are then claimed again.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn reconnect_if_changed(&self, tenant: &TenantId, credentials: &str) -> Result<bool> {
        let n = on_write!(self, |p| {
            sqlx::query("DELETE FROM tenant_disconnections WHERE tenant = $1 AND credentials <> $2")
                .bind(tenant.as_str())
                .bind(credentials)
                .execute(p)
                .await
                .map_err(Error::db("reconnect tenant"))?
                .rows_affected()
        });
        if n > 0 {
            self.wake();
        }
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreConfig};
    use ferry_model::TenantId;

    #[tokio::test]
    async fn a_disconnection_is_recorded_once_and_cleared_by_new_credentials_or_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::at(dir.path().join("s.db")))
            .await
            .unwrap();
        let shop = TenantId::parse("shop").unwrap();
        assert!(store.disconnection(&shop).await.unwrap().is_none());
        assert!(
            store
                .mark_disconnected(&shop, "A1", "digest-1", "invalid_client")
                .await
                .unwrap()
        );
        assert!(
            !store
                .mark_disconnected(&shop, "A1", "digest-1", "again")
                .await
                .unwrap()
        );
        let d = store.disconnection(&shop).await.unwrap().unwrap();
        assert_eq!(
            (d.account.as_str(), d.reason.as_str()),
            ("A1", "invalid_client")
        );

        assert!(!store.reconnect_if_changed(&shop, "digest-1").await.unwrap());
        assert!(store.reconnect_if_changed(&shop, "digest-2").await.unwrap());
        assert!(store.disconnection(&shop).await.unwrap().is_none());

        store
            .mark_disconnected(&shop, "A1", "digest-2", "invalid_grant")
            .await
            .unwrap();
        let tokens = crate::TokenSet {
            access_token: b"a".to_vec(),
            refresh_token: b"r".to_vec(),
            expires_at: time::OffsetDateTime::now_utc(),
        };
        store.put_tokens(&shop, "A1", &tokens).await.unwrap();
        assert!(store.disconnection(&shop).await.unwrap().is_none());
        store.close().await;
    }
}
