//! The Postgres claim, for several hosts sharing one database.
//!
//! Each tenant's turn is its own short transaction:
//! 1. `pg_advisory_xact_lock(CLAIM, tenant)`: claims of one tenant (from any host) run one after the other,
//!    so the running count read next stays true until COMMIT and the per-tenant limit is exact across hosts.
//!    Only one such lock is held at a time, so turns taken in different orders on different hosts cannot
//!    deadlock.
//! 2. count the tenant's running events; its budget is the limit minus that.
//! 3. select up to that many ready events `FOR UPDATE OF e SKIP LOCKED`: rows being answered (or reclaimed)
//!    by another transaction are skipped, not waited for, and re-checked against their latest version.
//! 4. mark them running under a lease, record the transition, COMMIT.
//!
//! Per-object ordering needs nothing more here: an event is only ready when no earlier event of its object
//! is unfinished, and a queued or running event is unfinished whoever holds it, so one claim can never return
//! two events of one object, and no two hosts can run them at once. What makes `seq` order mean arrival
//! order per object across hosts is the insert lock (`backend::lock_insert_order`).

use super::{
    ClaimBatch, ClaimRequest, Claimed, ClaimedRow, claim_returning, in_turn, limit_for,
    no_earlier_unfinished, ready_at, ready_tenants,
};
use crate::backend::{lock_key, lock_ns};
use crate::error::{Error, Result};
use crate::event::{EventState, JobId, add_history};
use crate::store::{dur_ms, now_ms};
use ferry_model::TenantId;
use sqlx::PgPool;
use std::collections::HashMap;

/// [`ready_tenants!`].
const READY_TENANTS: &str = concat!(ready_tenants!(), "SELECT tenant FROM ready");

/// Up to `$3` events of tenant `$1` that may run at `$2`, locked; rows locked by others are skipped.
const NEXT_READY: &str = concat!(
    "SELECT e.seq, e.state FROM events e WHERE e.tenant = $1 AND ",
    ready_at!("e", 2),
    " AND ",
    no_earlier_unfinished!(),
    " ORDER BY e.seq LIMIT $3 FOR UPDATE OF e SKIP LOCKED"
);

/// Spreads `req.max` over the tenants with ready work, in turn, then hands what a tenant could not use to
/// the others in the next round. Returns the claimed events (grouped by tenant, in turn order) and the
/// tenant served last.
pub(super) async fn claim(
    pool: &PgPool,
    req: &ClaimRequest,
    last: Option<TenantId>,
) -> Result<(ClaimBatch, Option<String>)> {
    let tenants: Vec<String> = sqlx::query_scalar(READY_TENANTS)
        .bind(now_ms())
        .fetch_all(pool)
        .await
        .map_err(Error::db("list tenants with ready events"))?;
    let mut active = in_turn(tenants, last);
    let mut claimed = Vec::new();
    let mut last_served = None;
    let mut remaining = req.max;
    let mut held_back = false;
    while remaining > 0 && !active.is_empty() {
        let (base, extra) = (remaining / active.len(), remaining % active.len());
        let mut next_round = Vec::with_capacity(active.len());
        for (i, tenant) in active.into_iter().enumerate() {
            let want = base + usize::from(i < extra);
            if want == 0 {
                next_round.push(tenant);
                continue;
            }
            let (got, limited) = claim_tenant(pool, &tenant, want, req).await?;
            held_back |= limited;
            remaining -= got.len();
            if !got.is_empty() {
                last_served = Some(tenant.clone());
            }
            // A tenant whose turn came back short has nothing more for now: it is not asked again.
            if got.len() == want {
                next_round.push(tenant);
            }
            claimed.extend(got);
        }
        active = next_round;
    }
    Ok((
        ClaimBatch {
            events: claimed,
            held_back,
        },
        last_served,
    ))
}

/// One tenant's turn: up to `want` events, within its running limit, in one transaction; and whether the limit
/// held back an event that could have run.
async fn claim_tenant(
    pool: &PgPool,
    tenant: &str,
    want: usize,
    req: &ClaimRequest,
) -> Result<(Vec<Claimed>, bool)> {
    let mut tx = pool.begin().await.map_err(Error::db("begin claim"))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind(lock_ns::CLAIM)
        .bind(lock_key(tenant))
        .execute(&mut *tx)
        .await
        .map_err(Error::db("lock tenant claims"))?;
    // Read the clock after the lock: time spent waiting for it must not shorten the lease.
    let now = now_ms();
    let running: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE tenant = $1 AND state = 'running' AND lease_expires_at \
         > $2",
    )
    .bind(tenant)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(Error::db("count running events"))?;
    let budget = limit_for(req, tenant).saturating_sub(u32::try_from(running).unwrap_or(u32::MAX));
    let take = want.min(usize::try_from(budget).unwrap_or(usize::MAX));
    // When the limit allows fewer than asked, one event more is read: it is there only if the limit held it back
    // (an event waiting behind its object's running event is not read: that event's answer releases it).
    let limited = take < want;
    let mut ready: Vec<(i64, String)> = sqlx::query_as(NEXT_READY)
        .bind(tenant)
        .bind(now)
        .bind(i64::try_from(take + usize::from(limited)).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::db("find ready events"))?;
    let held_back = ready.len() > take;
    ready.truncate(take);
    if ready.is_empty() {
        tx.rollback().await.map_err(Error::db("end claim"))?;
        return Ok((Vec::new(), held_back));
    }
    let seqs: Vec<i64> = ready.iter().map(|(seq, _)| *seq).collect();
    let rows: Vec<ClaimedRow> = sqlx::query_as(concat!(
        "UPDATE events SET state = 'running', attempts = attempts + 1, lease_owner = $1, \
         lease_expires_at = $2, started_at = $3, updated_at = $3 WHERE seq = ANY($4) ",
        claim_returning!()
    ))
    .bind(&req.owner)
    .bind(now.saturating_add(dur_ms(req.lease)))
    .bind(now)
    .bind(&seqs)
    .fetch_all(&mut *tx)
    .await
    .map_err(Error::db("claim events"))?;
    let mut by_seq: HashMap<i64, Claimed> = HashMap::with_capacity(rows.len());
    for row in rows {
        let c = row.claimed(req)?;
        by_seq.insert(c.event.job.0, c);
    }
    let mut claimed = Vec::with_capacity(ready.len());
    for (seq, from) in ready {
        let Some(c) = by_seq.remove(&seq) else {
            continue;
        };
        let from = EventState::parse(&from)?;
        let note = (from == EventState::Running).then_some("lease expired; reclaimed");
        add_history(
            &mut *tx,
            JobId(seq),
            from,
            EventState::Running,
            c.event.attempts,
            None,
            note,
            now,
        )
        .await?;
        claimed.push(c);
    }
    tx.commit().await.map_err(Error::db("commit claim"))?;
    Ok((claimed, held_back))
}
