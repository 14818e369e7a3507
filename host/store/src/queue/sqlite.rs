//! The SQLite claim: one `BEGIN IMMEDIATE` transaction on the direct write connection. SQLite has one writer, so
//! claims never overlap and what the transaction reads (ready events, running counts) stays true until it commits.

use super::{
    ClaimBatch, ClaimRequest, Claimed, ClaimedRow, claim_returning, in_turn, limit_for,
    no_earlier_unfinished, ready_at, ready_tenants,
};
use crate::backend::Conn;
use crate::error::{Error, Result};
use crate::event::{EventState, JobId, add_history};
use crate::sqlite_direct::{fetch_all, fetch_optional};
use crate::sqlite_writer::WriteGuard;
use crate::store::{dur_ms, now_ms};
use ferry_model::TenantId;
use std::collections::HashMap;

/// [`ready_tenants!`] with how many of each tenant's events run under a live lease.
const READY_TENANTS: &str = concat!(
    ready_tenants!(),
    "SELECT t.tenant, (SELECT COUNT(*) FROM events r WHERE r.tenant = t.tenant AND r.state = 'running' AND \
     r.lease_expires_at > $1) FROM ready t"
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
) -> Result<(ClaimBatch, Option<String>)> {
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
    // A tenant left with no budget was held back only if an event of it could run now (due, and first of its
    // object): one waiting behind its object's running event is released by that event's answer, which wakes the
    // workers anyway. One seek per tenant at its limit, inside the claim's transaction.
    let mut held_back = false;
    for (tenant, left) in &budget {
        if *left == 0
            && fetch_optional::<(i64, String)>(conn, NEXT_READY, &[tenant, &now])
                .map_err(Error::db("find ready event"))?
                .is_some()
        {
            held_back = true;
            break;
        }
    }
    tx.commit("commit claim")?;
    Ok((
        ClaimBatch {
            events: claimed,
            held_back,
        },
        last_served,
    ))
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

#[cfg(test)]
mod tests {
    //! What the claim's ready-tenants query finds, and that it reads as much behind a long queue as behind a short
    //! one: counted in SQLite's virtual-machine steps (`sqlite3_stmt_status`), not timed.
    use super::READY_TENANTS;
    use crate::{Store, StoreConfig};
    use rusqlite::{Connection, StatementStatus};

    const NOW: i64 = 1_000_000;

    /// Writes events of `tenant` numbered from `from`, `n` of them, in `state` (attempt or lease due at `at`).
    fn add(conn: &Connection, tenant: &str, state: &str, at: i64, from: i64, n: i64) {
        let mut stmt = conn
            .prepare(
                "INSERT INTO events (tenant, event_id, kind, ordering_key, object_type, object_id, object_guid, \
                 object_last_modified, payload, state, next_attempt_at, lease_owner, lease_expires_at, \
                 received_at, queued_at, updated_at) VALUES (?1, ?2, 'order.created', ?3, 'ecommerce.order', ?4, \
                 'g', 0, '{}', ?5, ?6, CASE WHEN ?5 = 'running' THEN 'w' END, CASE WHEN ?5 = 'running' THEN ?6 \
                 END, 0, 0, 0)",
            )
            .unwrap();
        for id in from..from + n {
            stmt.execute(rusqlite::params![
                tenant,
                format!("evt_{id}"),
                format!("ecommerce.order:{id}"),
                id,
                state,
                at
            ])
            .unwrap();
        }
    }

    /// The ready tenants at [`NOW`] with their running counts, and the VM steps the query took.
    fn ready(conn: &Connection) -> (Vec<(String, i64)>, i32) {
        let mut stmt = conn.prepare(READY_TENANTS).unwrap();
        stmt.raw_bind_parameter(1, NOW).unwrap();
        let mut found = Vec::new();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().unwrap() {
            found.push((row.get(0).unwrap(), row.get(1).unwrap()));
        }
        drop(rows);
        found.sort();
        (found, stmt.get_status(StatementStatus::VmStep))
    }

    #[tokio::test]
    async fn the_ready_tenants_cost_as_much_behind_a_long_queue_as_behind_a_short_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = Store::open(&StoreConfig::at(path.clone())).await.unwrap();
        let conn = Connection::open(&path).unwrap();
        // a: queued and due, two running. b: only a retry not yet due. c: a running event whose lease ran out.
        // d: queued and due, but disconnected. e: a retry due.
        add(&conn, "a", "queued", NOW - 1, 0, 10);
        add(&conn, "a", "running", NOW + 60_000, 100, 2);
        add(&conn, "b", "retrying", NOW + 5_000, 200, 3);
        add(&conn, "c", "running", NOW - 1, 300, 1);
        add(&conn, "d", "queued", NOW - 1, 400, 10);
        add(&conn, "e", "retrying", NOW - 1, 500, 1);
        conn.execute(
            "INSERT INTO tenant_disconnections (tenant, account, credentials, reason, since) VALUES ('d', 'acct', \
             'digest', 'invalid_grant', 0)",
            [],
        )
        .unwrap();
        let (short, short_steps) = ready(&conn);
        let expected = vec![
            ("a".to_owned(), 2),
            ("c".to_owned(), 0),
            ("e".to_owned(), 0),
        ];
        assert_eq!(short, expected);

        add(&conn, "a", "queued", NOW - 1, 1_000, 2_000);
        add(&conn, "d", "queued", NOW - 1, 4_000, 2_000);
        add(&conn, "b", "retrying", NOW + 5_000, 7_000, 500);
        let (long, long_steps) = ready(&conn);
        assert_eq!(long, expected);
        assert_eq!(
            long_steps, short_steps,
            "steps behind 4,500 more waiting events against behind 24"
        );
        drop(conn);
        store.close().await;
    }
}
