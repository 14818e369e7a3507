//! The SQLite claim: one `BEGIN IMMEDIATE` transaction on the direct write connection. SQLite has one writer, so
//! claims never overlap and what the transaction reads (ready events, running counts) stays true until it commits.

use super::{
    ClaimRequest, Claimed, ClaimedRow, claim_returning, in_turn, limit_for, no_earlier_unfinished,
    ready_at,
};
use crate::backend::Conn;
use crate::error::{Error, Result};
use crate::event::{EventState, JobId, add_history};
use crate::sqlite_direct::{fetch_all, fetch_optional};
use crate::sqlite_writer::WriteGuard;
use crate::store::{dur_ms, now_ms};
use ferry_model::TenantId;
use std::collections::HashMap;

/// Tenants with at least one ready event at `$1`, except disconnected ones (their events wait for a reconnect), each
/// with how many of its events run under a live lease.
const READY_TENANTS: &str = concat!(
    "SELECT t.tenant, (SELECT COUNT(*) FROM events r WHERE r.tenant = t.tenant AND r.state = 'running' AND \
     r.lease_expires_at > $1) FROM (SELECT DISTINCT tenant FROM events e WHERE ",
    ready_at!("e", 1),
    " AND NOT EXISTS (SELECT 1 FROM tenant_disconnections d WHERE d.tenant = e.tenant)) t"
);

/// The next event of tenant `$1` that may run at `$2`.
const NEXT_READY: &str = concat!(
    "SELECT e.seq, e.state FROM events e WHERE e.tenant = $1 AND ",
    ready_at!("e", 2),
    " AND ",
    no_earlier_unfinished!(),
    " ORDER BY e.seq LIMIT 1"
);

/// One event per tenant per round, in turn, until `req.max` or nothing is left; returns the claimed events
/// and the tenant served last. Runs on the direct write connection ([`crate::sqlite_direct`]).
pub(super) async fn claim(
    writer: &mut WriteGuard<'_>,
    req: &ClaimRequest,
    last: Option<TenantId>,
) -> Result<(Vec<Claimed>, Option<String>)> {
    let now = now_ms();
    let mut tx = writer.direct("begin claim")?;
    let conn = tx.conn();
    let ready: Vec<(String, i64)> = fetch_all(conn, READY_TENANTS, &[&now])
        .map_err(Error::db("list tenants with ready events"))?;
    let mut budget: HashMap<String, u32> = ready
        .into_iter()
        .map(|(t, running)| {
            let left =
                limit_for(req, &t).saturating_sub(u32::try_from(running).unwrap_or(u32::MAX));
            (t, left)
        })
        .collect();
    let tenants = in_turn(budget.keys().cloned().collect(), last);

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
            if let Some(c) = claim_one(conn, &t, req, now).await? {
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
    tx.commit("commit claim")?;
    Ok((claimed, last_served))
}

async fn claim_one(
    conn: &mut rusqlite::Connection,
    tenant: &str,
    req: &ClaimRequest,
    now: i64,
) -> Result<Option<Claimed>> {
    let Some((seq, from)) = fetch_optional::<(i64, String)>(conn, NEXT_READY, &[&tenant, &now])
        .map_err(Error::db("find ready event"))?
    else {
        return Ok(None);
    };
    let job = JobId(seq);
    let from = EventState::parse(&from)?;
    let updated: ClaimedRow = fetch_optional(
        conn,
        concat!(
            "UPDATE events SET state = 'running', attempts = attempts + 1, lease_owner = $1, \
             lease_expires_at = $2, started_at = $3, updated_at = $3 WHERE seq = $4 ",
            claim_returning!()
        ),
        &[
            &req.owner,
            &now.saturating_add(dur_ms(req.lease)),
            &now,
            &job.0,
        ],
    )
    .map_err(Error::db("claim event"))?
    .ok_or_else(|| Error::NotFound {
        what: format!("event {seq} to claim"),
    })?;
    let claimed = updated.claimed(req)?;
    let note = (from == EventState::Running).then_some("lease expired; reclaimed");
    add_history(
        Conn::Direct(conn),
        job,
        from,
        EventState::Running,
        claimed.event.attempts,
        None,
        note,
        now,
    )
    .await?;
    Ok(Some(claimed))
}
