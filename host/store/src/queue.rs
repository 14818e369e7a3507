//! The work queue: claim with a lease, one event per object at a time, fair turns between tenants;
//! and the worker's answers (complete, retry, defer, dead-letter) and heartbeat (extend the lease).
//!
//! Layout: the claim differs per backend (`sqlite`: one `BEGIN IMMEDIATE` transaction, the single writer
//! serialises claims; `postgres`: `FOR UPDATE SKIP LOCKED` under a per-tenant advisory lock, for several
//! hosts); the answers are the same statements on both.
//!
//! Leases across hosts: lease times are written and compared in each host's clock (Unix milliseconds), so
//! hosts sharing a Postgres database need synchronised clocks (NTP) and leases much longer than any skew.
//! A worker heartbeats with [`Store::extend_lease`] during long runs; when a host dies its leases run out and
//! any other host's next claim takes the events over (their attempt counts). A late answer from the old
//! owner is refused with [`Error::LeaseLost`], because every answer matches owner and attempt.

mod postgres;
mod sqlite;

use crate::attempt::{EventTag, Lease, Step};
use crate::backend::{Conn, Pool, notify_work};
use crate::error::{Error, Result};
use crate::event::{EventRecord, EventState, JobId, add_history};
use crate::store::{Store, dur_ms, now_ms};
use crate::waiter::WorkWaiter;
use ferry_model::{ErrorClass, TenantId};
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
    /// Most events one tenant may have running at once (across all workers, and on Postgres all hosts).
    pub per_tenant_limit: u32,
    /// Per-tenant overrides of `per_tenant_limit`.
    pub tenant_limits: HashMap<TenantId, u32>,
}

/// What one claim handed out.
#[derive(Debug, Default)]
pub struct ClaimBatch {
    /// The events now running under the claimer's lease.
    pub events: Vec<Claimed>,
    /// Whether a tenant's running limit left an event of it unclaimed that could have run (due, and first of its
    /// object).
    /// When it did not, a claim made again before anything new is ready (an insert, a retry or lease come due, a
    /// finished predecessor: the store's work signal and its time) finds nothing; freeing a run slot alone
    /// changes nothing then.
    pub held_back: bool,
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

/// An event handed to a worker.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The lease to answer with.
    pub lease: Lease,
    /// The event as it is now (state `running`).
    pub event: EventRecord,
    /// The completed run of the event's object that read it as it stood at or after the event's change
    /// ([`Store::covers_with_answer`]), with the order number it found: that run has answered the event.
    pub covered_by: Option<(JobId, Option<String>)>,
}

/// The completed run of the claimed row's object whose read covers the row's change ([`Claimed::covered_by`]):
/// its `$col`, as a scalar subquery of the claim's `RETURNING`.
macro_rules! covering_run {
    ($col:literal) => {
        concat!(
            "(SELECT c.",
            $col,
            " FROM events c WHERE c.tenant = events.tenant AND c.ordering_key = events.ordering_key AND \
             c.state = 'done' AND c.read_as_of >= events.object_last_modified ORDER BY c.seq DESC LIMIT 1)"
        )
    };
}

/// The claim's `UPDATE … RETURNING`: the claimed row, and the run that covers it ([`Claimed::covered_by`]), read in
/// the claim's own statement.
macro_rules! claim_returning {
    () => {
        concat!(
            "RETURNING *, ",
            $crate::queue::covering_run!("seq"),
            " AS covered_by, ",
            $crate::queue::covering_run!("order_number"),
            " AS covered_number"
        )
    };
}
pub(crate) use claim_returning;
pub(crate) use covering_run;

/// A row [`claim_returning!`] returns.
#[derive(sqlx::FromRow)]
pub(crate) struct ClaimedRow {
    #[sqlx(flatten)]
    row: crate::event::EventRow,
    covered_by: Option<i64>,
    covered_number: Option<String>,
}

impl crate::sqlite_direct::FromDirectRow for ClaimedRow {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            row: <crate::event::EventRow as crate::sqlite_direct::FromDirectRow>::from_row(row)?,
            covered_by: row.get("covered_by")?,
            covered_number: row.get("covered_number")?,
        })
    }
}

impl ClaimedRow {
    /// The claimed event under `req`'s lease.
    pub(crate) fn claimed(self, req: &ClaimRequest) -> Result<Claimed> {
        let event = EventRecord::from_row(self.row)?;
        Ok(Claimed {
            lease: lease_for(req, &event),
            covered_by: self.covered_by.map(|seq| (JobId(seq), self.covered_number)),
            event,
        })
    }
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

/// Whether an event is ready to be claimed at `$n` (the `now` parameter's number): waiting and due, or
/// running under an expired lease (its worker is presumed dead). The leading `state IN (…)` says nothing the
/// rest does not; it is the predicate of the partial index `events_ready`, written out so SQLite (which only
/// uses a partial index whose predicate appears as a term of the query) walks that index in seq order.
macro_rules! ready_at {
    ($e:literal, $n:literal) => {
        concat!(
            "(",
            $e,
            ".state IN ('queued', 'retrying', 'running') AND ((",
            $e,
            ".state IN ('queued', 'retrying') AND ",
            $e,
            ".next_attempt_at <= $",
            $n,
            ") OR (",
            $e,
            ".state = 'running' AND ",
            $e,
            ".lease_expires_at <= $",
            $n,
            ")))"
        )
    };
}
pub(crate) use ready_at;

/// The distinct tenants with an event in `$state`, as the recursive CTE `$cte(tenant)` (its last row is NULL): a
/// walk of `events_by_state` (state, tenant, next_attempt_at) that seeks once per tenant, the next tenant after the
/// last one found, instead of reading every event in the state.
macro_rules! tenants_in {
    ($cte:literal, $state:literal) => {
        concat!(
            $cte,
            "(tenant) AS (SELECT (SELECT tenant FROM events WHERE state = '",
            $state,
            "' ORDER BY tenant LIMIT 1) UNION ALL SELECT (SELECT tenant FROM events WHERE state = '",
            $state,
            "' AND tenant > ",
            $cte,
            ".tenant ORDER BY tenant LIMIT 1) FROM ",
            $cte,
            " WHERE ",
            $cte,
            ".tenant IS NOT NULL)"
        )
    };
}

/// The tenants of [`tenants_in!`]'s `$cte` with an event in `$state` whose next attempt is due at `$1`: one seek
/// each, the tenant's earliest in the same index.
macro_rules! due_in {
    ($cte:literal, $state:literal) => {
        concat!(
            "SELECT tenant FROM ",
            $cte,
            " WHERE tenant IS NOT NULL AND EXISTS (SELECT 1 FROM events e WHERE e.state = '",
            $state,
            "' AND e.tenant = ",
            $cte,
            ".tenant AND e.next_attempt_at <= $1)"
        )
    };
}

/// The tenants with at least one ready event at `$1` (a queued or retrying event due, or a running one whose lease
/// expired: [`ready_at!`]), except disconnected ones (their events wait for a reconnect), as the CTE `ready(tenant)`
/// of a `WITH RECURSIVE` the caller's `SELECT … FROM ready` completes. Every claim asks it, so it reads in proportion to the tenants with waiting events and to the running
/// events, never to the length of a queue: `SELECT DISTINCT tenant … WHERE` [`ready_at!`] read every waiting event
/// (on SQLite 554 VM steps behind 24 waiting events, 73,554 behind 4,524; on Postgres 3.2 ms behind 3,000), so a
/// backlog slowed every claim of it.
macro_rules! ready_tenants {
    () => {
        concat!(
            "WITH RECURSIVE ",
            $crate::queue::tenants_in!("queued_tenants", "queued"),
            ", ",
            $crate::queue::tenants_in!("retrying_tenants", "retrying"),
            ", ready(tenant) AS (SELECT tenant FROM (",
            $crate::queue::due_in!("queued_tenants", "queued"),
            " UNION ",
            $crate::queue::due_in!("retrying_tenants", "retrying"),
            " UNION SELECT tenant FROM events e WHERE e.state = 'running' AND e.lease_expires_at <= $1) u \
             WHERE NOT EXISTS (SELECT 1 FROM tenant_disconnections d WHERE d.tenant = u.tenant)) "
        )
    };
}
pub(crate) use due_in;
pub(crate) use ready_tenants;
pub(crate) use tenants_in;

/// No earlier event of the same object is unfinished (the per-object ordering rule), for the event aliased `e`.
macro_rules! no_earlier_unfinished {
    () => {
        "NOT EXISTS (SELECT 1 FROM events p WHERE p.tenant = e.tenant AND p.ordering_key = \
         e.ordering_key AND p.seq < e.seq AND p.state NOT IN ('done', 'dead', 'discarded'))"
    };
}
pub(crate) use no_earlier_unfinished;

/// Whom to wake after an answer commits.
#[derive(Clone, Copy)]
enum Wake {
    /// Nobody: the event is not ready now and released nothing.
    Never,
    /// Everyone: the event itself is ready again now.
    Now,
    /// Everyone, if a later event of the same object waits for this one.
    IfSuccessor,
}

impl Store {
    /// Hands out up to `req.max` events, taking tenants in turn (starting after the tenant served last) and
    /// respecting each tenant's running limit. An event is only handed out when every earlier event of the
    /// same object is done, dead or discarded; a running event whose lease expired is handed out again (its
    /// attempt counts). On Postgres this holds across every host sharing the database.
    ///
    /// # Errors
    /// [`Error::Database`] when the claim transaction fails; then nothing was claimed (on Postgres, events
    /// claimed in earlier per-tenant transactions of the same call stay claimed and are returned).
    pub async fn claim(&self, req: &ClaimRequest) -> Result<Vec<Claimed>> {
        Ok(self.claim_batch(req, None).await?.events)
    }

    /// [`Store::claim`], also telling whether a tenant's running limit held ready events back
    /// ([`ClaimBatch::held_back`]). `covering`: the claiming loop's waiter, whose signals raised before the claim
    /// reads are taken as answered by it ([`WorkWaiter::covered`]); on SQLite that is once the claim holds the
    /// writer, so the commits it waited for (a webhook batch, an answer) and their signals count as read.
    ///
    /// # Errors
    /// As [`Store::claim`].
    pub async fn claim_batch(
        &self,
        req: &ClaimRequest,
        covering: Option<&mut WorkWaiter>,
    ) -> Result<ClaimBatch> {
        let (batch, last_served) = match &self.pool {
            Pool::Sqlite(_, writer) => {
                let mut writer = writer.lock().await;
                // Every commit made before this one (the writes are one after another) raised its signal on
                // its way out: the claim below reads them all.
                if let Some(w) = covering {
                    w.covered();
                }
                // The claim does not wait for the disk (as `write_tx!(…, flushed_later, …)`): a claim lost to a
                // power cut leaves its events queued, to be claimed again.
                sqlite::claim(&mut writer, req, self.last_turn()).await?
            }
            Pool::Postgres(p) => {
                if let Some(w) = covering {
                    w.covered();
                }
                postgres::claim(p, req, self.last_turn()).await?
            }
        };
        if let Some(t) = last_served.and_then(|t| TenantId::parse(&t).ok())
            && let Ok(mut g) = self.last_turn.lock()
        {
            *g = Some(t);
        }
        Ok(batch)
    }

    fn last_turn(&self) -> Option<TenantId> {
        self.last_turn.lock().map(|g| g.clone()).unwrap_or(None)
    }

    /// Marks a running event done with what it produced.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this worker's, [`Error::Database`] on write failure.
    pub async fn complete(&self, lease: &Lease, outcome: &Outcome) -> Result<()> {
        let now = now_ms();
        // The attempt's tags go with this update; the outcome's order number, when it has one, stands.
        let (sku, tagged_number, read_as_of) = lease.recorded.completion_tags();
        let wake = write_tx!(self, flushed_later, "event answer", |conn| {
            let mut conn = conn;
            let done = execute!(
                conn.reborrow(),
                "UPDATE events SET state = 'done', outcome = $1, order_number = COALESCE($2, \
                 order_number, $8), invoice_id = COALESCE($3, invoice_id), sku = COALESCE($9, sku), \
                 read_as_of = COALESCE($10, read_as_of), lease_owner = NULL, lease_expires_at = NULL, \
                 finished_at = $4, updated_at = $4 WHERE seq = $5 AND state = 'running' AND lease_owner = $6 \
                 AND attempts = $7",
                "complete event",
                [
                    outcome.freshbooks.to_string(),
                    outcome.order_number.as_deref(),
                    outcome.invoice_id.as_deref(),
                    now,
                    lease.job.0,
                    &lease.owner,
                    i64::from(lease.attempt),
                    tagged_number.as_deref(),
                    sku.as_deref(),
                    read_as_of
                ]
            )?;
            finish(
                conn,
                done,
                lease,
                EventState::Done,
                None,
                Wake::IfSuccessor,
                now,
            )
            .await
        })?;
        self.wake_if(wake);
        Ok(())
    }

    /// Schedules another attempt no sooner than `after` from now, keeping `error` in the history.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this worker's, [`Error::Database`] on write failure.
    pub async fn retry(&self, lease: &Lease, after: Duration, error: &str) -> Result<()> {
        self.reschedule(lease, after, error, true).await
    }

    /// Puts a running event back to wait `after` without spending its attempt (a downstream's breaker is open,
    /// so the attempt never reached it). The history keeps `why`.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this worker's, [`Error::Database`] on write failure.
    pub async fn defer(&self, lease: &Lease, after: Duration, why: &str) -> Result<()> {
        self.reschedule(lease, after, why, false).await
    }

    async fn reschedule(
        &self,
        lease: &Lease,
        after: Duration,
        error: &str,
        spend_attempt: bool,
    ) -> Result<()> {
        let now = now_ms();
        let sql = if spend_attempt {
            "UPDATE events SET state = 'retrying', next_attempt_at = $1, last_error = $2, \
             lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 WHERE seq = $4 AND state \
             = 'running' AND lease_owner = $5 AND attempts = $6"
        } else {
            "UPDATE events SET state = 'retrying', next_attempt_at = $1, last_error = $2, \
             lease_owner = NULL, lease_expires_at = NULL, attempts = CASE WHEN attempts > 0 THEN \
             attempts - 1 ELSE 0 END, updated_at = $3 WHERE seq = $4 AND state = 'running' AND \
             lease_owner = $5 AND attempts = $6"
        };
        let op = if spend_attempt {
            "schedule retry"
        } else {
            "defer event"
        };
        let when = if after.is_zero() {
            Wake::Now
        } else {
            Wake::Never
        };
        let wake = write_tx!(self, "event answer", |conn| {
            let mut conn = conn;
            let done = execute!(
                conn.reborrow(),
                sql,
                op,
                [
                    now.saturating_add(dur_ms(after)),
                    error,
                    now,
                    lease.job.0,
                    &lease.owner,
                    i64::from(lease.attempt)
                ]
            )?;
            finish(
                conn,
                done,
                lease,
                EventState::Retrying,
                Some(error),
                when,
                now,
            )
            .await
        })?;
        self.wake_if(wake);
        Ok(())
    }

    /// Parks a running event in the dead-letter queue with `reason`, filed under `class`.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this worker's, [`Error::Database`] on write failure.
    pub async fn dead_letter(&self, lease: &Lease, reason: &str, class: ErrorClass) -> Result<()> {
        let now = now_ms();
        let wake = write_tx!(self, "event answer", |conn| {
            let mut conn = conn;
            let done = execute!(
                conn.reborrow(),
                "UPDATE events SET state = 'dead', last_error = $1, lease_owner = NULL, \
                 lease_expires_at = NULL, finished_at = $2, updated_at = $2, error_class = $6 WHERE \
                 seq = $3 AND state = 'running' AND lease_owner = $4 AND attempts = $5",
                "dead-letter event",
                [
                    reason,
                    now,
                    lease.job.0,
                    &lease.owner,
                    i64::from(lease.attempt),
                    class.as_str()
                ]
            )?;
            finish(
                conn,
                done,
                lease,
                EventState::Dead,
                Some(reason),
                Wake::IfSuccessor,
                now,
            )
            .await
        })?;
        self.wake_if(wake);
        Ok(())
    }

    /// Records one step of the attempt `lease` is for; it is written with the lease's answer ([`AttemptRecord`]).
    ///
    /// # Errors
    /// None today; kept fallible for a store that writes at once.
    pub async fn record_step(&self, lease: &Lease, step: &Step) -> Result<()> {
        lease.recorded.push_step(step);
        Ok(())
    }

    /// Tags the leased event with a business key as soon as a step knows it, so that search finds the event even
    /// when a later step fails (a dead-lettered order by its number). Written with the lease's answer, like the
    /// steps ([`AttemptRecord`]).
    ///
    /// # Errors
    /// None today; kept fallible for a store that writes at once.
    pub async fn tag_event(&self, lease: &Lease, tag: EventTag<'_>) -> Result<()> {
        lease.recorded.tag(tag);
        Ok(())
    }

    /// Extends a running lease to `by` from now: the worker's heartbeat during a long run. Call it well before
    /// the lease runs out (e.g. every third of the lease); a host that stops calling it (crashed, hung, cut off)
    /// loses the event to another worker once the lease expires.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this worker's, [`Error::Database`] on write failure.
    pub async fn extend_lease(&self, lease: &Lease, by: Duration) -> Result<()> {
        let now = now_ms();
        let done = on_write!(self, |p| {
            sqlx::query(
            "UPDATE events SET lease_expires_at = $1, updated_at = $2 WHERE seq = $3 AND state = \
             'running' AND lease_owner = $4 AND attempts = $5",
        )
        .bind(now.saturating_add(dur_ms(by)))
        .bind(now)
        .bind(lease.job.0)
        .bind(&lease.owner)
        .bind(i64::from(lease.attempt))
        .execute(p)
        .await
        .map_err(Error::db("extend lease"))?
        .rows_affected()
        });
        if done == 1 { Ok(()) } else { Err(lost(lease)) }
    }

    fn wake_if(&self, wake: bool) {
        if wake {
            self.wake();
        }
    }
}

fn lost(lease: &Lease) -> Error {
    Error::LeaseLost {
        job: lease.job.0,
        owner: lease.owner.clone(),
    }
}

/// The end of every answer, inside its transaction: refuses a stale lease, records the transition, and
/// (when `wake` says so) notifies other hosts' workers at commit. Returns whether to wake this host's.
async fn finish(
    mut conn: Conn<'_>,
    rows: u64,
    lease: &Lease,
    to: EventState,
    error: Option<&str>,
    wake: Wake,
    now: i64,
) -> Result<bool> {
    if rows != 1 {
        return Err(lost(lease));
    }
    let waiting = lease
        .recorded
        .write(
            conn.reborrow(),
            lease.job,
            lease.attempt,
            to == EventState::Done,
        )
        .await?;
    add_history(
        conn.reborrow(),
        lease.job,
        EventState::Running,
        to,
        lease.attempt,
        error,
        None,
        now,
    )
    .await?;
    let wake = match wake {
        Wake::Never => false,
        Wake::Now => true,
        // The answer's coverage already looked at the object's waiting events.
        Wake::IfSuccessor if waiting.is_some() => waiting.unwrap_or_default(),
        Wake::IfSuccessor => fetch_optional!(
            conn.reborrow(),
            "SELECT EXISTS (SELECT 1 FROM events n JOIN events e ON n.tenant = e.tenant AND \
             n.ordering_key = e.ordering_key WHERE e.seq = $1 AND n.seq > e.seq AND n.state IN \
             ('queued', 'retrying'))",
            "look for a waiting event",
            [lease.job.0] -> (bool,)
        )?
        .is_some_and(|(waits,)| waits),
    };
    if wake {
        notify_work(conn).await?;
    }
    Ok(wake)
}

/// The lease handed out with a freshly claimed event.
fn lease_for(req: &ClaimRequest, event: &EventRecord) -> Lease {
    Lease {
        job: event.job,
        owner: req.owner.clone(),
        attempt: event.attempts,
        recorded: crate::attempt::AttemptRecord::default(),
    }
}

/// The per-tenant running limit of `req` for `tenant`.
fn limit_for(req: &ClaimRequest, tenant: &str) -> u32 {
    TenantId::parse(tenant)
        .ok()
        .and_then(|id| req.tenant_limits.get(&id).copied())
        .unwrap_or(req.per_tenant_limit)
}

/// Tenants sorted, then rotated so the one after `last` (the tenant served last) comes first.
fn in_turn(mut tenants: Vec<String>, last: Option<TenantId>) -> Vec<String> {
    tenants.sort();
    let start = last.map_or(0, |t| {
        tenants
            .iter()
            .position(|x| x.as_str() > t.as_str())
            .unwrap_or(0)
    });
    tenants.rotate_left(start);
    tenants
}
