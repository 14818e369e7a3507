//! Run history search for the console: one tenant's events, newest first, narrowed by any mix of state, time
//! received, Kentico order number and FreshBooks invoice id, paged by job id.

use crate::error::{Error, Result};
use crate::event::{EventRecord, EventRow, EventState, JobId};
use crate::store::{Store, to_ms};
use ferry_model::TenantId;
use time::OffsetDateTime;

/// What a run history search narrows by; every field left `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only events in this state.
    pub state: Option<EventState>,
    /// Only events received at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Only events received before this time.
    pub until: Option<OffsetDateTime>,
    /// Only events of this Kentico order number.
    pub order_number: Option<String>,
    /// Only events that produced this FreshBooks invoice id.
    pub invoice_id: Option<String>,
}

impl Store {
    /// One page of a tenant's events matching `filter`, newest first, older than `before` when given.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn search_events(
        &self,
        tenant: &TenantId,
        filter: &EventFilter,
        before: Option<JobId>,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        let rows: Vec<EventRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT * FROM events WHERE tenant = $1 AND ($2 IS NULL OR state = $2) AND ($3 IS \
                 NULL OR received_at >= $3) AND ($4 IS NULL OR received_at < $4) AND ($5 IS NULL \
                 OR order_number = $5) AND ($6 IS NULL OR invoice_id = $6) AND ($7 IS NULL OR seq \
                 < $7) ORDER BY seq DESC LIMIT $8",
            )
            .bind(tenant.as_str())
            .bind(filter.state.map(EventState::as_str))
            .bind(filter.from.map(to_ms))
            .bind(filter.until.map(to_ms))
            .bind(filter.order_number.as_deref())
            .bind(filter.invoice_id.as_deref())
            .bind(before.map(|j| j.0))
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
            .map_err(Error::db("search events"))?
        });
        EventRecord::from_rows(rows)
    }
}
