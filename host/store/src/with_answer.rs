//! What an attempt holds back for its answer ([`crate::Store::complete`] and the others), through its lease: ledger
//! results of keys only its event writes, the synced order, and the time its read of the object stood at. Each is
//! written with the attempt's next write, in that write's transaction: one commit fewer per call.

use crate::attempt::Lease;
use crate::error::Result;
use crate::ledger::{LedgerEntry, LedgerState};
use crate::order_history::SyncedOrder;
use crate::store::Store;
use ferry_model::TenantId;
use time::OffsetDateTime;

impl Store {
    /// Records the result of the call `lease`'s attempt made, with that attempt's next ledger write: its next
    /// [`Store::record_attempt_intent`] or its answer ([`Store::complete`] and the others), in the same transaction.
    /// One commit (on SQLite one fsync) fewer per call. Until then [`Store::attempt_ledger_lookup`] sees it. An
    /// attempt that never writes again (its host died, its lease was lost) leaves the key at `intent`: an unknown
    /// outcome, which the next attempt resolves by searching FreshBooks, as after a lost reply.
    pub fn record_result_with_answer(
        &self,
        lease: &Lease,
        tenant: &TenantId,
        key: &str,
        external_id: &str,
    ) {
        lease.recorded.defer_result(tenant, key, external_id);
    }

    /// [`Store::record_intent`] for `lease`'s attempt: the results it deferred
    /// ([`Store::record_result_with_answer`]) are written first, in the same transaction. True when it wrote the
    /// intent (the key had no row).
    ///
    /// # Errors
    /// [`crate::Error::Database`] when the write fails; the deferred results stay deferred.
    pub async fn record_attempt_intent(
        &self,
        lease: &Lease,
        tenant: &TenantId,
        key: &str,
        payload_hash: &str,
    ) -> Result<bool> {
        let pending = lease.recorded.deferred_results();
        let written = self
            .record_intent_after(&pending, tenant, key, payload_hash)
            .await?;
        lease.recorded.forget_results(pending.len());
        Ok(written)
    }

    /// [`Store::ledger_lookup`] as `lease`'s attempt sees it: a result it deferred counts as done.
    ///
    /// # Errors
    /// [`crate::Error::Database`] when the read fails.
    pub async fn attempt_ledger_lookup(
        &self,
        lease: &Lease,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<LedgerEntry>> {
        let row = self.ledger_lookup(tenant, key).await?;
        Ok(with_deferred(lease, tenant, key, row))
    }

    /// [`Store::ledger_lookup_many`] as `lease`'s attempt sees it: a result it deferred counts as done.
    ///
    /// # Errors
    /// [`crate::Error::Database`] when the read fails.
    pub async fn attempt_ledger_lookup_many(
        &self,
        lease: &Lease,
        tenant: &TenantId,
        keys: &[String],
    ) -> Result<Vec<LedgerEntry>> {
        let mut rows: std::collections::HashMap<String, LedgerEntry> = self
            .ledger_lookup_many(tenant, keys)
            .await?
            .into_iter()
            .map(|e| (e.key.clone(), e))
            .collect();
        Ok(keys
            .iter()
            .filter_map(|key| with_deferred(lease, tenant, key, rows.remove(key)))
            .collect())
    }

    /// Says that the run holding `lease` read its object as it stood at `as_of`; when the run completes
    /// ([`Store::complete`]), in the same transaction, the object's waiting events (queued or retrying) that
    /// announce changes up to `as_of` are done too, their outcome naming this event. Nothing happens when the run
    /// answers otherwise.
    pub fn covers_with_answer(&self, lease: &Lease, as_of: OffsetDateTime) {
        lease.recorded.covers(as_of);
    }

    /// [`Store::record_synced_order`] with the answer of the attempt holding `lease` ([`Store::complete`]), in its
    /// transaction: one commit fewer per order. [`Lease::counted_new_order`] says afterwards whether the order was
    /// synced (and counted in the usage) for the first time. Not written if the attempt answers otherwise.
    pub fn record_synced_order_with_answer(
        &self,
        lease: &Lease,
        tenant: &TenantId,
        order: &SyncedOrder,
    ) {
        lease.recorded.synced_order(tenant, order);
    }
}

/// `row` as the attempt holding `lease` sees it: done with the result it deferred for `key`, if any.
fn with_deferred(
    lease: &Lease,
    tenant: &TenantId,
    key: &str,
    row: Option<LedgerEntry>,
) -> Option<LedgerEntry> {
    let Some(external_id) = lease.recorded.deferred_result(tenant, key) else {
        return row;
    };
    let now = OffsetDateTime::now_utc();
    Some(match row {
        Some(r) => LedgerEntry {
            state: LedgerState::Done,
            external_id: Some(external_id),
            updated_at: now,
            ..r
        },
        None => LedgerEntry {
            key: key.to_owned(),
            state: LedgerState::Done,
            external_id: Some(external_id),
            payload_hash: String::new(),
            created_at: now,
            updated_at: now,
        },
    })
}
