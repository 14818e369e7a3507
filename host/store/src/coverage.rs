//! Waiting events a completed run already answered: a run that read its object as it stood at time `T` (an order's
//! `OrderLastModified`) has seen every change announced up to `T`, so the same object's waiting events whose
//! `object_last_modified` is at most `T` are done with it, without a run of their own. A checkout's `order.paid`
//! webhook, still waiting when the `order.created` run read the paid order, costs no Kentico read, no ledger
//! lookup and no claim. The run's read time is kept on its event (`read_as_of`), so an event of the object arriving
//! after the run finished is answered the same way: its claim names the run ([`crate::Claimed::covered_by`]).

use crate::backend::Conn;
use crate::error::Result;
use crate::event::{EventState, JobId, add_history};
use crate::store::to_ms;
use time::OffsetDateTime;

/// Completes the waiting events of `job`'s object up to `as_of` (see [`crate::Store::covers_with_answer`]), inside the
/// answer's transaction, once `job`'s `read_as_of` is written. Returns whether later ones still wait.
pub(crate) async fn complete_covered(
    mut conn: Conn<'_>,
    job: JobId,
    as_of: OffsetDateTime,
    now: i64,
) -> Result<bool> {
    let waiting = fetch_all!(
        conn.reborrow(),
        "SELECT n.seq, n.state, n.attempts, n.object_last_modified FROM events n JOIN events e ON n.tenant = \
         e.tenant AND n.ordering_key = e.ordering_key WHERE e.seq = $1 AND n.seq > e.seq AND n.state IN \
         ('queued', 'retrying') ORDER BY n.seq",
        "find covered events",
        [job.0] -> (i64, String, i64, i64)
    )?;
    let as_of = to_ms(as_of);
    let (covered, later): (Vec<_>, Vec<_>) = waiting.into_iter().partition(|w| w.3 <= as_of);
    let outcome = serde_json::json!({ "covered_by": job.0 }).to_string();
    let note = format!(
        "covered by event {}: its run read the object as it stood after this change",
        job.0
    );
    for (seq, state, attempts, _) in &covered {
        execute!(
            conn.reborrow(),
            // The order number the covering run found, so that a search by order finds these events too (not its
            // invoice: these events did not make it).
            "UPDATE events SET state = 'done', outcome = $1, finished_at = $2, updated_at = $2, order_number = \
             COALESCE(order_number, (SELECT order_number FROM events WHERE seq = $4)) WHERE seq = $3 AND state IN \
             ('queued', 'retrying')",
            "complete covered event",
            [&outcome, now, seq, job.0]
        )?;
        let from = EventState::parse(state).unwrap_or(EventState::Queued);
        add_history(
            conn.reborrow(),
            JobId(*seq),
            from,
            EventState::Done,
            u32::try_from(*attempts).unwrap_or(0),
            None,
            Some(&note),
            now,
        )
        .await?;
    }
    Ok(!later.is_empty())
}
