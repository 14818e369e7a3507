//! FreshBooks callbacks (webhooks) a tenant's account has registered for Ferry, with the sealed verifier each
//! delivery is signed with; and the two reads the payment write-back needs: which ledger keys name a FreshBooks
//! id, and how many callback events of one object already started (the callback dedupe window).

use crate::error::{Error, Result};
use crate::event::{EventRecord, EventRow};
use crate::store::{Store, now_ms};
use ferry_model::TenantId;

/// One callback as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCallback {
    /// FreshBooks' `callbackid`.
    pub callback_id: i64,
    /// The FreshBooks account.
    pub account: String,
    /// The event it was registered for (`payment.create`); empty when the handshake came first.
    pub event: String,
    /// Where FreshBooks sends deliveries.
    pub uri: String,
    /// The sealed verifier (the signing key), once the handshake arrived.
    pub verifier: Option<Vec<u8>>,
    /// Whether FreshBooks accepted the verifier.
    pub verified: bool,
}

impl std::fmt::Debug for StoredCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCallback")
            .field("callback_id", &self.callback_id)
            .field("account", &self.account)
            .field("event", &self.event)
            .field("uri", &self.uri)
            .field("verifier", &self.verifier.as_ref().map(|_| "[sealed]"))
            .field("verified", &self.verified)
            .finish()
    }
}

type Row = (i64, String, String, String, Option<Vec<u8>>, Option<i64>);

impl Store {
    /// Records a callback Ferry registered (or found registered); keeps any verifier already stored.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn put_callback(
        &self,
        tenant: &TenantId,
        callback_id: i64,
        account: &str,
        event: &str,
        uri: &str,
    ) -> Result<()> {
        let now = now_ms();
        on_write!(self, |p| {
            sqlx::query(
            "INSERT INTO freshbooks_callbacks (tenant, callback_id, account, event, uri, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (tenant, callback_id) DO UPDATE SET \
             account = excluded.account, event = excluded.event, uri = excluded.uri, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(callback_id)
        .bind(account)
        .bind(event)
        .bind(uri)
        .bind(now)
        .execute(p)
        .await
        .map_err(Error::db("record callback"))?;
        });
        Ok(())
    }

    /// Stores the sealed verifier of a handshake (before Ferry answers it), creating the row when the handshake
    /// overtook the registration's reply.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn put_callback_verifier(
        &self,
        tenant: &TenantId,
        callback_id: i64,
        sealed: &[u8],
    ) -> Result<()> {
        let now = now_ms();
        on_write!(self, |p| {
            sqlx::query(
            "INSERT INTO freshbooks_callbacks (tenant, callback_id, account, event, uri, verifier, created_at, \
             updated_at) VALUES ($1, $2, '', '', '', $3, $4, $4) ON CONFLICT (tenant, callback_id) DO UPDATE SET \
             verifier = excluded.verifier, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(callback_id)
        .bind(sealed)
        .bind(now)
        .execute(p)
        .await
        .map_err(Error::db("record callback verifier"))?;
        });
        Ok(())
    }

    /// Marks a callback verified (FreshBooks accepted its verifier).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn mark_callback_verified(&self, tenant: &TenantId, callback_id: i64) -> Result<()> {
        let now = now_ms();
        on_write!(self, |p| {
            sqlx::query(
            "UPDATE freshbooks_callbacks SET verified_at = $3, updated_at = $3 WHERE tenant = $1 AND callback_id = $2",
        )
        .bind(tenant.as_str())
        .bind(callback_id)
        .bind(now)
        .execute(p)
        .await
        .map_err(Error::db("mark callback verified"))?;
        });
        Ok(())
    }

    /// Forgets a callback (FreshBooks no longer has it).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn delete_callback(&self, tenant: &TenantId, callback_id: i64) -> Result<()> {
        on_write!(self, |p| {
            sqlx::query("DELETE FROM freshbooks_callbacks WHERE tenant = $1 AND callback_id = $2")
                .bind(tenant.as_str())
                .bind(callback_id)
                .execute(p)
                .await
                .map_err(Error::db("delete callback"))?;
        });
        Ok(())
    }

    /// The tenant's callbacks, by id.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn callbacks(&self, tenant: &TenantId) -> Result<Vec<StoredCallback>> {
        let rows: Vec<Row> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
            "SELECT callback_id, account, event, uri, verifier, verified_at FROM freshbooks_callbacks \
             WHERE tenant = $1 ORDER BY callback_id",
        )
        .bind(tenant.as_str())
        .fetch_all(p)
        .await
        .map_err(Error::db("read callbacks"))?
        });
        Ok(rows
            .into_iter()
            .map(
                |(callback_id, account, event, uri, verifier, verified_at)| StoredCallback {
                    callback_id,
                    account,
                    event,
                    uri,
                    verifier,
                    verified: verified_at.is_some(),
                },
            )
            .collect())
    }

    /// The ledger keys whose recorded FreshBooks id is `external_id` (ids of different object types can be equal,
    /// so the caller picks by the key's kind).
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn ledger_keys_for(
        &self,
        tenant: &TenantId,
        external_id: &str,
    ) -> Result<Vec<String>> {
        let keys: Vec<String> = on_pool!(&self.pool, |p| {
            sqlx::query_scalar(
            "SELECT key FROM idempotency WHERE tenant = $1 AND external_id = $2 AND state = 'done' ORDER BY key",
        )
        .bind(tenant.as_str())
        .bind(external_id)
        .fetch_all(p)
        .await
        .map_err(Error::db("find ledger keys by id"))?
        });
        Ok(keys)
    }

    /// Events of a tenant about one object (`freshbooks.payment` and a payment id, `ecommerce.sku` and a SKU id…),
    /// newest first.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn find_by_object(
        &self,
        tenant: &TenantId,
        object_type: &str,
        object_id: i64,
    ) -> Result<Vec<EventRecord>> {
        let rows: Vec<EventRow> = on_pool!(&self.pool, |p| sqlx::query_as(
            "SELECT * FROM events WHERE tenant = $1 AND ordering_key = $2 ORDER BY seq DESC",
        )
        .bind(tenant.as_str())
        .bind(format!("{object_type}:{object_id}"))
        .fetch_all(p)
        .await
        .map_err(Error::db("search events by object"))?);
        EventRecord::from_rows(rows)
    }

    /// How many events of `kind` for `ordering_key` have started running (or finished): a delivery equal to one
    /// still waiting untouched is the same work, one after a started event is new.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn started_events(
        &self,
        tenant: &TenantId,
        ordering_key: &str,
        kind: &str,
    ) -> Result<i64> {
        let n: i64 = on_pool!(&self.pool, |p| {
            sqlx::query_scalar(
            "SELECT COUNT(*) FROM events WHERE tenant = $1 AND ordering_key = $2 AND kind = $3 AND \
             (state <> 'queued' OR attempts > 0)",
        )
        .bind(tenant.as_str())
        .bind(ordering_key)
        .bind(kind)
        .fetch_one(p)
        .await
        .map_err(Error::db("count started events"))?
        });
        Ok(n)
    }
}
