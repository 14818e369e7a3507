//! The work queue: claim with a lease, one event per object at a time, fair turns between tenants;
//! and the worker's three answers (complete, retry, dead-letter).

use crate::error::{Error, Result};
use crate::event::{EventRecord, EventState, JobId, add_history};
use crate::store::{Store, dur_ms, now_ms};
use ferry_model::TenantId;
use sqlx::{Row, SqliteConnection};
use std::collections::HashMap;
use std::time::Duration;

/// What a worker asks for when it claims.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    /// Who claims (host + worker id); stored as the lease owner.
    pub owner: String,
    /// How long the lease lasts; a worker that has not answered by then is presumed dead.
    pub lease: Duration,
    /// Most events to hand out.
    pub max: usize,
    /// Most events one tenant may have running at once (across all workers).
    pub per_tenant_limit: u32,
    /// Per-tenant overrides of `per_tenant_limit`.
    pub tenant_limits: HashMap<TenantId, u32>,
}

impl ClaimRequest {
    /// A request for up to `max` events with a per-tenant limit of `max`.
    pub fn new(owner: impl Into<String>, lease: Duration, max: usize) -> Self {
        let limit = u32::try_from(max).unwrap_or(u32::MAX);
        Self {
            owner: owner.into(),
            lease,
            max,
            per_tenant_limit: limit,
            tenant_limits: HashMap::new(),
        }
    }

    /// Sets the default per-tenant concurrency limit.
    pub fn with_per_tenant_limit(mut self, limit: u32) -> Self {
        self.per_tenant_limit = limit;
        self
    }

    /// Sets one tenant's concurrency limit.
    pub fn with_tenant_limit(mut self, tenant: TenantId, limit: u32) -> Self {
        self.tenant_limits.insert(tenant, limit);
        self
    }
}

/// Proof that a worker holds an event; needed to answer for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The event.
    pub job: JobId,
    /// The lease owner named in the claim.
    pub owner: String,
    /// The attempt this lease is for (1-based).
    pub attempt: u32,
}

/// An event handed to a worker.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The lease to answer with.
    pub lease: Lease,
    /// The event as it is now (state `running`).
    pub event: EventRecord,
}

/// What a successful run produced, kept in the run history.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// FreshBooks ids created or found (client, invoice, payment...).
    pub freshbooks: serde_json::Value,
    /// Kentico order number, for search.
    pub order_number: Option<String>,
    /// FreshBooks invoice id, for search.
    pub invoice_id: Option<String>,
}

/// The next event of a tenant that may run now: ready, and no earlier unfinished event of the same object.
const NEXT_READY: &str = "SELECT e.seq, e.state FROM events e WHERE e.tenant = $1 \
     AND ((e.state IN ('queued', 'retrying') AND e.next_attempt_at <= $2) \
       OR (e.state = 'running' AND e.lease_expires_at <= $2)) \
     AND NOT EXISTS (SELECT 1 FROM events p WHERE p.tenant = e.tenant AND p.ordering_key = e.ordering_key \
       AND p.seq < e.seq AND p.state NOT IN ('done', 'dead', 'discarded')) \
     ORDER BY e.seq LIMIT 1";

impl Store {
    /// Hands out up to `req.max` events, taking tenants in turn (one event per tenant per round, starting after
    /// the tenant served last) and respecting each tenant's running limit. An event is only handed out when every
    /// earlier event of the same object is done, dead or discarded; a running event whose lease expired is handed
    /// out again (its attempt counts).
    ///
    /// # Errors
    /// [`Error::Database`] when the claim transaction fails; then nothing was claimed.
    pub async fn claim(&self, req: &ClaimRequest) -> Result<Vec<Claimed>> {
        let now = now_ms();
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Error::db("begin claim"))?;
        let mut tenants: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT tenant FROM events WHERE (state IN ('queued', 'retrying') AND next_attempt_at <= $1) \
             OR (state = 'running' AND lease_expires_at <= $1) ORDER BY tenant",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::db("list tenants with ready events"))?;
        let start = {
            let last = self.last_turn.lock().map(|g| g.clone()).unwrap_or(None);
            last.map_or(0, |t| {
                tenants
                    .iter()
                    .position(|x| x.as_str() > t.as_str())
                    .unwrap_or(0)
            })
        };
        tenants.rotate_left(start);

        let mut budget: HashMap<String, u32> = HashMap::new();
        for t in &tenants {
            let running: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM events WHERE tenant = $1 AND state = 'running' AND lease_expires_at > $2",
            )
            .bind(t)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(Error::db("count running events"))?;
            let limit = TenantId::parse(t)
                .ok()
                .and_then(|id| req.tenant_limits.get(&id).copied())
                .unwrap_or(req.per_tenant_limit);
            budget.insert(
                t.clone(),
                limit.saturating_sub(u32::try_from(running).unwrap_or(u32::MAX)),
            );
        }

        let mut claimed = Vec::new();
        let mut last_served = None;
        let mut active: Vec<String> = tenants;
        while claimed.len() < req.max && !active.is_empty() {
            let mut next_round = Vec::with_capacity(active.len());
            for t in active {
                if claimed.len() >= req.max {
                    break;
                }
                if budget.get(&t).copied().unwrap_or(0) == 0 {
                    continue;
                }
                if let Some(c) = claim_one(&mut tx, &t, req, now).await? {
                    if let Some(b) = budget.get_mut(&t) {
                        *b -= 1;
                    }
                    claimed.push(c);
                    last_served = Some(t.clone());
                    next_round.push(t);
                }
            }
            active = next_round;
        }
        tx.commit().await.map_err(Error::db("commit claim"))?;
        if let Some(t) = last_served.and_then(|t| TenantId::parse(&t).ok())
            && let Ok(mut g) = self.last_turn.lock()
        {
            *g = Some(t);
        }
        Ok(claimed)
    }

    /// Marks a running event done with what it produced.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this worker's, [`Error::Database`] on write failure.
    pub async fn complete(&self, lease: &Lease, outcome: &Outcome) -> Result<()> {
        let now = now_ms();
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(Error::db("begin complete"))?;
        let done = sqlx::query(
            "UPDATE events SET state = 'done', outcome = $1, order_number = COALESCE($2, order_number), \
             invoice_id = COALESCE($3, invoice_id), lease_owner = NULL, lease_expires_at = NULL, \
             finished_at = $4, updated_at = $4 WHERE seq = $5 AND state = 'running' AND lease_owner = $6 AND attempts = $7",
        )
        .bind(outcome.freshbooks.to_string())
        .bind(outcome.order_number.as_deref())
        .bind(outcome.invoice_id.as_deref())
        .bind(now)
        .bind(lease.job.0)
        .bind(&lease.owner)
        .bind(i64::from(lease.attempt))
        .execute(&mut *tx)
        .await
        .map_err(Error::db("complete event"))?;
        finish(tx, done.rows_affected(), lease, EventState::Done, None, now).await
    }

    /// Schedules another attempt no sooner than `after` from now, keeping `error` in the history.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this worker's, [`Error::Database`] on write failure.
    pub async fn retry(&self, lease: &Lease, after: Duration, error: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.pool.begin().await.map_err(Error::db("begin retry"))?;
        let done = sqlx::query(
            "UPDATE events SET state = 'retrying', next_attempt_at = $1, last_error = $2, lease_owner = NULL, \
             lease_expires_at = NULL, updated_at = $3 WHERE seq = $4 AND state = 'running' AND lease_owner = $5 AND attempts = $6",
        )
        .bind(now.saturating_add(dur_ms(after)))
        .bind(error)
        .bind(now)
        .bind(lease.job.0)
        .bind(&lease.owner)
        .bind(i64::from(lease.attempt))
        .execute(&mut *tx)
        .await
        .map_err(Error::db("schedule retry"))?;
        finish(
            tx,
            done.rows_affected(),
            lease,
            EventState::Retrying,
            Some(error),
            now,
        )
        .await
    }

    /// Puts a running event back to wait `after` without spending its attempt (a downstream's breaker is open,
    /// so the attempt never reached it). The history keeps `why`.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this worker's, [`Error::Database`] on write failure.
    pub async fn defer(&self, lease: &Lease, after: Duration, why: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.pool.begin().await.map_err(Error::db("begin defer"))?;
        let done = sqlx::query(
            "UPDATE events SET state = 'retrying', next_attempt_at = $1, last_error = $2, lease_owner = NULL, \
             lease_expires_at = NULL, attempts = MAX(attempts - 1, 0), updated_at = $3 \
             WHERE seq = $4 AND state = 'running' AND lease_owner = $5 AND attempts = $6",
        )
        .bind(now.saturating_add(dur_ms(after)))
        .bind(why)
        .bind(now)
        .bind(lease.job.0)
        .bind(&lease.owner)
        .bind(i64::from(lease.attempt))
        .execute(&mut *tx)
        .await
        .map_err(Error::db("defer event"))?;
        finish(
            tx,
            done.rows_affected(),
            lease,
            EventState::Retrying,
            Some(why),
            now,
        )
        .await
    }

    /// Parks a running event in the dead-letter queue with `reason`.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this worker's, [`Error::Database`] on write failure.
    pub async fn dead_letter(&self, lease: &Lease, reason: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(Error::db("begin dead-letter"))?;
        let done = sqlx::query(
            "UPDATE events SET state = 'dead', last_error = $1, lease_owner = NULL, lease_expires_at = NULL, \
             finished_at = $2, updated_at = $2 WHERE seq = $3 AND state = 'running' AND lease_owner = $4 AND attempts = $5",
        )
        .bind(reason)
        .bind(now)
        .bind(lease.job.0)
        .bind(&lease.owner)
        .bind(i64::from(lease.attempt))
        .execute(&mut *tx)
        .await
        .map_err(Error::db("dead-letter event"))?;
        finish(
            tx,
            done.rows_affected(),
            lease,
            EventState::Dead,
            Some(reason),
            now,
        )
        .await
    }

    /// Extends a running lease by `lease` from now (for long runs).
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this worker's, [`Error::Database`] on write failure.
    pub async fn extend_lease(&self, lease: &Lease, by: Duration) -> Result<()> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE events SET lease_expires_at = $1, updated_at = $2 \
             WHERE seq = $3 AND state = 'running' AND lease_owner = $4 AND attempts = $5",
        )
        .bind(now.saturating_add(dur_ms(by)))
        .bind(now)
        .bind(lease.job.0)
        .bind(&lease.owner)
        .bind(i64::from(lease.attempt))
        .execute(&self.pool)
        .await
        .map_err(Error::db("extend lease"))?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(lost(lease))
        }
    }
}

fn lost(lease: &Lease) -> Error {
    Error::LeaseLost {
        job: lease.job.0,
        owner: lease.owner.clone(),
    }
}

async fn finish(
    mut tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    rows: u64,
    lease: &Lease,
    to: EventState,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    if rows != 1 {
        return Err(lost(lease));
    }
    add_history(
        &mut tx,
        lease.job,
        EventState::Running,
        to,
        lease.attempt,
        error,
        None,
        now,
    )
    .await?;
    tx.commit().await.map_err(Error::db("commit event answer"))
}

async fn claim_one(
    conn: &mut SqliteConnection,
    tenant: &str,
    req: &ClaimRequest,
    now: i64,
) -> Result<Option<Claimed>> {
    let Some(row) = sqlx::query(NEXT_READY)
        .bind(tenant)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::db("find ready event"))?
    else {
        return Ok(None);
    };
    let job = JobId(row.try_get("seq").map_err(Error::db("read ready event"))?);
    let from: String = row
        .try_get("state")
        .map_err(Error::db("read ready event"))?;
    let from = EventState::parse(&from)?;
    let updated = sqlx::query(
        "UPDATE events SET state = 'running', attempts = attempts + 1, lease_owner = $1, lease_expires_at = $2, \
         started_at = $3, updated_at = $3 WHERE seq = $4 RETURNING *",
    )
    .bind(&req.owner)
    .bind(now.saturating_add(dur_ms(req.lease)))
    .bind(now)
    .bind(job.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::db("claim event"))?;
    let event = EventRecord::from_row(&updated)?;
    let note = (from == EventState::Running).then_some("lease expired; reclaimed");
    add_history(
        conn,
        job,
        from,
        EventState::Running,
        event.attempts,
        None,
        note,
        now,
    )
    .await?;
    Ok(Some(Claimed {
        lease: Lease {
            job,
            owner: req.owner.clone(),
            attempt: event.attempts,
        },
        event,
    }))
}
