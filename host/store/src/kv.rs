//! A namespaced blob table for everything else: tenant config JSON, encrypted secret blobs.
//!
//! Values are opaque bytes; callers that store secrets encrypt them first.

use crate::error::{Error, Result};
use crate::store::{Store, now_ms};

impl Store {
    /// Stores `value` under (namespace, key), replacing any.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn kv_put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<()> {
        on_write!(self, |p| {
            sqlx::query(
                "INSERT INTO kv (namespace, key, value, updated_at) VALUES ($1, $2, $3, $4) ON \
                 CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = \
                 excluded.updated_at",
            )
            .bind(namespace)
            .bind(key)
            .bind(value)
            .bind(now_ms())
            .execute(p)
            .await
            .map_err(Error::db("store kv value"))?
            .rows_affected()
        });
        Ok(())
    }

    /// The value under (namespace, key), if any.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>> {
        on_pool!(&self.pool, |p| sqlx::query_scalar(
            "SELECT value FROM kv WHERE namespace = $1 AND key = $2"
        )
        .bind(namespace)
        .bind(key)
        .fetch_optional(p)
        .await
        .map_err(Error::db("read kv value")))
    }

    /// Removes (namespace, key); returns whether it existed.
    ///
    /// # Errors
    /// [`Error::Database`] when the delete fails.
    pub async fn kv_delete(&self, namespace: &str, key: &str) -> Result<bool> {
        let done = on_write!(self, |p| sqlx::query(
            "DELETE FROM kv WHERE namespace = $1 AND key = $2"
        )
        .bind(namespace)
        .bind(key)
        .execute(p)
        .await
        .map_err(Error::db("delete kv value"))?
        .rows_affected());
        Ok(done == 1)
    }

    /// Keys of a namespace, sorted.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn kv_keys(&self, namespace: &str) -> Result<Vec<String>> {
        on_pool!(&self.pool, |p| sqlx::query_scalar(
            "SELECT key FROM kv WHERE namespace = $1 ORDER BY key"
        )
        .bind(namespace)
        .fetch_all(p)
        .await
        .map_err(Error::db("list kv keys")))
    }
}
