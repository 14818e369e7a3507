//! OAuth token rows with compare-and-swap rotation.
//!
//! FreshBooks refresh tokens are single-use: two hosts refreshing at once would lock one out. Rotation is
//! therefore a compare-and-swap in one transaction: the new pair is written only if the stored refresh token
//! is still the one the caller used, and the old one is marked used in the same commit (on Postgres a racing
//! rotation waits for the row lock, then finds the token changed and gets `Conflict`). To avoid spending a
//! refresh that will lose, refresh under [`Store::lock_refresh`](crate::Store::lock_refresh). The store keeps the
//! bytes it is given (the caller encrypts them) and never interprets them.

use crate::backend::{Conn, begin_write};
use crate::error::{Error, Result, stored_tenant_id};
use crate::store::{Store, from_ms, now_ms, to_ms};
use ferry_model::TenantId;
use time::OffsetDateTime;

/// A token pair as stored: opaque bytes, normally ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// Access token bytes.
    pub access_token: Vec<u8>,
    /// Refresh token bytes.
    pub refresh_token: Vec<u8>,
    /// When the access token expires.
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The new pair is stored; the old refresh token is marked used.
    Rotated,
    /// Someone rotated first (or there is no row): nothing changed; here is what is stored now, if anything.
    Conflict {
        /// The stored pair, to use instead of refreshing again.
        current: Option<TokenSet>,
    },
}

impl Store {
    /// Stores a token pair (first authorisation or re-authorisation), replacing any, and reconnects the tenant
    /// when it was disconnected.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn put_tokens(
        &self,
        tenant: &TenantId,
        account: &str,
        tokens: &TokenSet,
    ) -> Result<()> {
        self.store_tokens(
            tenant,
            account,
            tokens,
            "DO UPDATE SET access_token = excluded.access_token, refresh_token = excluded.refresh_token, \
             expires_at = excluded.expires_at, version = oauth_tokens.version + 1, updated_at = \
             excluded.updated_at",
        )
        .await
        .map(drop)
    }

    /// Stores `tokens` unless `tenant`'s `account` already has a pair: what a first start does with the configured
    /// refresh token. One statement, so hosts starting together on a new database cannot write the configured pair
    /// (single-use, perhaps spent already) over one another host has rotated since. True when it stored them (and
    /// the tenant, were it disconnected, is reconnected, as by [`Store::put_tokens`]).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn seed_tokens(
        &self,
        tenant: &TenantId,
        account: &str,
        tokens: &TokenSet,
    ) -> Result<bool> {
        self.store_tokens(tenant, account, tokens, "DO NOTHING")
            .await
    }

    /// Inserts the pair, doing `on_conflict` when the account has one; when a row was written, reconnects the tenant
    /// (new tokens are a reconnect: its waiting events run again). True when a row was written.
    async fn store_tokens(
        &self,
        tenant: &TenantId,
        account: &str,
        tokens: &TokenSet,
        on_conflict: &str,
    ) -> Result<bool> {
        let sql = format!(
            "INSERT INTO oauth_tokens (tenant, account, access_token, refresh_token, expires_at, version, \
             updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT (tenant, account) {on_conflict}"
        );
        let stored = on_write!(self, |p| {
            let mut tx = begin_write(p, "begin store oauth tokens").await?;
            let stored = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_str())
                .bind(account)
                .bind(&tokens.access_token)
                .bind(&tokens.refresh_token)
                .bind(to_ms(tokens.expires_at))
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(Error::db("store oauth tokens"))?
                .rows_affected()
                == 1;
            if stored {
                reconnect(Conn::from(&mut *tx), tenant).await?;
            }
            tx.commit()
                .await
                .map_err(Error::db("commit oauth tokens"))?;
            stored
        });
        if stored {
            self.wake();
        }
        Ok(stored)
    }

    /// The stored token pair, if any.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn tokens(&self, tenant: &TenantId, account: &str) -> Result<Option<TokenSet>> {
        let row: Option<TokenRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
            "SELECT access_token, refresh_token, expires_at FROM oauth_tokens WHERE tenant = $1 \
             AND account = $2",
        )
        .bind(tenant.as_str())
        .bind(account)
        .fetch_optional(p)
        .await
        .map_err(Error::db("read oauth tokens"))?
        });
        Ok(row.map(TokenRow::into_set))
    }

    /// Every stored token pair with its tenant and account, by tenant then account (for re-sealing under a new
    /// master key).
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails, [`Error::Corrupt`] for a tenant id this build cannot read.
    pub async fn all_tokens(&self) -> Result<Vec<(TenantId, String, TokenSet)>> {
        let rows: Vec<AccountTokenRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT tenant, account, access_token, refresh_token, expires_at FROM oauth_tokens \
                 ORDER BY tenant, account",
            )
            .fetch_all(p)
            .await
            .map_err(Error::db("list oauth tokens"))?
        });
        rows.into_iter()
            .map(
                |(tenant, account, access_token, refresh_token, expires_at)| {
                    let tenant = stored_tenant_id(&tenant, "oauth_tokens.tenant")?;
                    let set = TokenRow {
                        access_token,
                        refresh_token,
                        expires_at,
                    }
                    .into_set();
                    Ok((tenant, account, set))
                },
            )
            .collect()
    }

    /// Replaces the ciphertexts of a stored pair with `new` (the same tokens sealed anew), only if the row still
    /// holds exactly `old`; the expiry, version and used-token record are untouched. Returns whether it did.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn reseal_tokens(
        &self,
        tenant: &TenantId,
        account: &str,
        old: &TokenSet,
        new: &TokenSet,
    ) -> Result<bool> {
        let n = on_write!(self, |p| {
            sqlx::query(
                "UPDATE oauth_tokens SET access_token = $1, refresh_token = $2 WHERE tenant = $3 \
                 AND account = $4 AND access_token = $5 AND refresh_token = $6",
            )
            .bind(&new.access_token)
            .bind(&new.refresh_token)
            .bind(tenant.as_str())
            .bind(account)
            .bind(&old.access_token)
            .bind(&old.refresh_token)
            .execute(p)
            .await
            .map_err(Error::db("reseal oauth tokens"))?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Replaces the pair only if the stored refresh token still equals `old_refresh`, and records the old one
    /// as used, in one transaction.
    ///
    /// # Errors
    /// [`Error::Database`] when the transaction fails; then nothing changed.
    pub async fn rotate_tokens(
        &self,
        tenant: &TenantId,
        account: &str,
        old_refresh: &[u8],
        new: &TokenSet,
    ) -> Result<RotateOutcome> {
        let now = now_ms();
        on_write!(self, |p| {
            let mut tx = begin_write(p, "begin token rotation").await?;
            let done = sqlx::query(
                "UPDATE oauth_tokens SET access_token = $1, refresh_token = $2, expires_at = $3, \
                 version = version + 1, updated_at = $4 WHERE tenant = $5 AND account = $6 AND \
                 refresh_token = $7",
            )
            .bind(&new.access_token)
            .bind(&new.refresh_token)
            .bind(to_ms(new.expires_at))
            .bind(now)
            .bind(tenant.as_str())
            .bind(account)
            .bind(old_refresh)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("rotate oauth tokens"))?;
            if done.rows_affected() != 1 {
                let row: Option<TokenRow> = sqlx::query_as(
                    "SELECT access_token, refresh_token, expires_at FROM oauth_tokens WHERE tenant \
                     = $1 AND account = $2",
                )
                .bind(tenant.as_str())
                .bind(account)
                .fetch_optional(&mut *tx)
                .await
                .map_err(Error::db("read oauth tokens"))?;
                let current = row.map(TokenRow::into_set);
                return Ok(RotateOutcome::Conflict { current });
            }
            sqlx::query(
                "INSERT INTO oauth_used_refresh (tenant, account, refresh_token, used_at) VALUES \
                 ($1, $2, $3, $4)",
            )
            .bind(tenant.as_str())
            .bind(account)
            .bind(old_refresh)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(Error::db("mark refresh token used"))?;
            // FreshBooks accepted a refresh: whatever was refused before works now.
            reconnect(Conn::from(&mut *tx), tenant).await?;
            tx.commit()
                .await
                .map_err(Error::db("commit token rotation"))?;
        });
        Ok(RotateOutcome::Rotated)
    }

    /// Whether `refresh` was already rotated away for this account (a second use means a replay or a bug).
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn refresh_token_used(
        &self,
        tenant: &TenantId,
        account: &str,
        refresh: &[u8],
    ) -> Result<bool> {
        let found: bool = on_pool!(&self.pool, |p| {
            sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM oauth_used_refresh WHERE tenant = $1 AND account = $2 \
             AND refresh_token = $3)",
        )
        .bind(tenant.as_str())
        .bind(account)
        .bind(refresh)
        .fetch_one(p)
        .await
        .map_err(Error::db("check used refresh token"))?
        });
        Ok(found)
    }
}

/// Tenant, account, access token, refresh token, expiry (ms).
type AccountTokenRow = (String, String, Vec<u8>, Vec<u8>, i64);

/// An `oauth_tokens` row as read back.
#[derive(sqlx::FromRow)]
struct TokenRow {
    access_token: Vec<u8>,
    refresh_token: Vec<u8>,
    expires_at: i64,
}

impl TokenRow {
    fn into_set(self) -> TokenSet {
        TokenSet {
            access_token: self.access_token,
            refresh_token: self.refresh_token,
            expires_at: from_ms(self.expires_at),
        }
    }
}

/// Inside a write of new tokens: the tenant is no longer disconnected ([`Store::disconnection`]).
async fn reconnect(conn: Conn<'_>, tenant: &TenantId) -> Result<()> {
    execute!(
        conn,
        "DELETE FROM tenant_disconnections WHERE tenant = $1",
        "reconnect tenant",
        [tenant.as_str()]
    )
    .map(drop)
}
