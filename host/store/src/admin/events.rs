//! The admin API's paged event listing: a tenant's events, newest first.

use crate::error::{Error, Result};
use crate::event::{EventRecord, EventRow, EventState, JobId};
use crate::store::Store;
use ferry_model::TenantId;

impl Store {
    /// Events of one tenant, newest first, optionally in one state and only older than `before` (paging).
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn events_page(
        &self,
        tenant: &TenantId,
        state: Option<EventState>,
        before: Option<JobId>,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        let rows: Vec<EventRow> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT * FROM events WHERE tenant = $1 AND ($2 IS NULL OR state = $2) AND ($3 IS \
                 NULL OR seq < $3) ORDER BY seq DESC LIMIT $4",
            )
            .bind(tenant.as_str())
            .bind(state.map(EventState::as_str))
            .bind(before.map(|j| j.0))
            .bind(i64::from(limit))
            .fetch_all(p)
            .await
            .map_err(Error::db("list events"))?
        });
        EventRecord::from_rows(rows)
    }
}
