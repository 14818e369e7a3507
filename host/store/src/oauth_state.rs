//! Single use of OAuth `state` values. The host seals everything a "Connect FreshBooks" flow needs into the state
//! itself (tenant, expiry, PKCE verifier), so starting a flow writes nothing; redeeming one records its nonce here,
//! and a second redemption of the same nonce — a replayed redirect — finds the row and is refused. The row is kept
//! until the state would have expired anyway.

use crate::backend::begin_write;
use crate::error::{Error, Result};
use crate::store::{Store, now_ms, to_ms};
use ferry_model::TenantId;
use time::OffsetDateTime;

impl Store {
    /// Records that the state `nonce` (of `tenant`, valid until `expires_at`) is being redeemed. Returns true the
    /// first time, false when it was redeemed before. Rows of states that have expired are purged on the way.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn redeem_oauth_state(
        &self,
        nonce: &str,
        tenant: &TenantId,
        expires_at: OffsetDateTime,
    ) -> Result<bool> {
        let now = now_ms();
        let n = on_write!(self, |p| {
            let mut tx = begin_write(p, "begin redeem oauth state").await?;
            sqlx::query("DELETE FROM oauth_states_used WHERE expires_at < $1")
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("purge expired oauth states"))?;
            let n = sqlx::query(
                "INSERT INTO oauth_states_used (nonce, tenant, expires_at, used_at) VALUES ($1, $2, \
                 $3, $4) ON CONFLICT (nonce) DO NOTHING",
            )
            .bind(nonce)
            .bind(tenant.as_str())
            .bind(to_ms(expires_at))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("redeem oauth state"))?
            .rows_affected();
            tx.commit()
                .await
                .map_err(Error::db("commit redeem oauth state"))?;
            n
        });
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreConfig};
    use ferry_model::TenantId;
    use time::{Duration, OffsetDateTime};

    #[tokio::test]
    async fn a_state_is_redeemed_once_and_expired_rows_go() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::at(dir.path().join("s.db")))
            .await
            .unwrap();
        let shop = TenantId::parse("shop").unwrap();
        let later = OffsetDateTime::now_utc() + Duration::minutes(10);
        assert!(store.redeem_oauth_state("n1", &shop, later).await.unwrap());
        assert!(!store.redeem_oauth_state("n1", &shop, later).await.unwrap());
        assert!(store.redeem_oauth_state("n2", &shop, later).await.unwrap());
        // An expired state's row is purged by the next redemption: the state itself is refused as expired first.
        let past = OffsetDateTime::now_utc() - Duration::minutes(1);
        assert!(store.redeem_oauth_state("old", &shop, past).await.unwrap());
        assert!(store.redeem_oauth_state("n3", &shop, later).await.unwrap());
        assert!(store.redeem_oauth_state("old", &shop, past).await.unwrap());
    }
}
