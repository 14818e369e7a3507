//! Web console sessions: a signed-in browser speaks for one live admin token until the session expires, the user
//! signs out, or the token is revoked.

use super::tokens::TokenRow;
use crate::backend::begin_write;
use crate::error::{Error, Result};
use crate::store::{Store, now_ms, to_ms};
use time::OffsetDateTime;

/// A live console session: the token it speaks for and the form token its POSTs must carry.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// The admin token the session was signed in with (live: a revoked token has no sessions).
    pub token: super::AdminToken,
    /// The CSRF token of this session's forms.
    pub csrf: String,
}

impl Store {
    /// Stores a new session under the hash of its cookie value, for `token_id`, until `expires_at`; deletes
    /// expired sessions on the way (signing in is rare, so this keeps the table small without a timer).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails (also for an unknown token id).
    pub async fn create_console_session(
        &self,
        id_hash: &str,
        token_id: &str,
        csrf: &str,
        expires_at: OffsetDateTime,
    ) -> Result<()> {
        let now = now_ms();
        on_write!(self, |p| {
            let mut tx = begin_write(p, "begin create console session").await?;
            sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(Error::db("delete expired console sessions"))?;
            sqlx::query(
                "INSERT INTO console_sessions (id_hash, token_id, csrf, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id_hash)
            .bind(token_id)
            .bind(csrf)
            .bind(now)
            .bind(to_ms(expires_at))
            .execute(&mut *tx)
            .await
            .map_err(Error::db("create console session"))?;
            tx.commit()
                .await
                .map_err(Error::db("commit console session"))
        })?;
        Ok(())
    }

    /// The unexpired session with this cookie hash whose token is still live, if any.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails, [`Error::Corrupt`] for a token row this build cannot read.
    pub async fn console_session(&self, id_hash: &str) -> Result<Option<ConsoleSession>> {
        let row: Option<SessionRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT t.id, t.scope, t.tenant, t.label, t.created_at, t.revoked_at, s.csrf FROM \
                 console_sessions s JOIN admin_tokens t ON t.id = s.token_id WHERE s.id_hash = $1 \
                 AND s.expires_at > $2 AND t.revoked_at IS NULL",
            )
            .bind(id_hash)
            .bind(now_ms())
            .fetch_optional(p)
            .await
            .map_err(Error::db("read console session"))?
        });
        row.map(|r| {
            Ok(ConsoleSession {
                token: r.token.into_token()?,
                csrf: r.csrf,
            })
        })
        .transpose()
    }

    /// Ends a session (sign out); a missing one is not an error.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn delete_console_session(&self, id_hash: &str) -> Result<()> {
        on_write!(self, |p| {
            sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(p)
                .await
                .map_err(Error::db("delete console session"))?
                .rows_affected()
        });
        Ok(())
    }
}

/// A session joined with its token's row.
#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    token: TokenRow,
    csrf: String,
}
