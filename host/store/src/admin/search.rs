//! Run history search for the console: one tenant's events, newest first, narrowed by any mix of state, time
//! received, Kentico order number, FreshBooks invoice id and error class, paged by job id; and a tenant's dead
//! letters counted per error class.

use crate::error::{Error, Result};
use crate::event::{EventRecord, EventRow, EventState, JobId};
use crate::store::{Store, to_ms};
use ferry_model::{ErrorClass, TenantId};
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
    /// Only events filed under this error class (dead letters, and discarded ones, carry one).
    pub class: Option<ErrorClass>,
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
                 < $7) AND ($9 IS NULL OR error_class = $9) ORDER BY seq DESC LIMIT $8",
            )
            .bind(tenant.as_str())
            .bind(filter.state.map(EventState::as_str))
            .bind(filter.from.map(to_ms))
            .bind(filter.until.map(to_ms))
            .bind(filter.order_number.as_deref())
            .bind(filter.invoice_id.as_deref())
            .bind(before.map(|j| j.0))
            .bind(i64::from(limit))
            .bind(filter.class.map(ErrorClass::as_str))
            .fetch_all(p)
            .await
            .map_err(Error::db("search events"))?
        });
        EventRecord::from_rows(rows)
    }

    /// How many dead letters a tenant has in each error class, in [`ErrorClass::ALL`]'s order (`None`: dead letters
    /// from before classes were stored that no rule classed).
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails, [`Error::Corrupt`] for a class this build does not know.
    pub async fn dead_letter_classes(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<(Option<ErrorClass>, u64)>> {
        let rows: Vec<(Option<String>, i64)> = on_pool!(&self.pool, |p| {
            sqlx::query_as(
                "SELECT error_class, COUNT(*) FROM events WHERE tenant = $1 AND state = 'dead' GROUP \
                 BY error_class",
            )
            .bind(tenant.as_str())
            .fetch_all(p)
            .await
            .map_err(Error::db("count dead letters by class"))?
        });
        let mut out = rows
            .into_iter()
            .map(|(class, n)| {
                let class = class
                    .map(|c| {
                        c.parse::<ErrorClass>().map_err(|_| Error::Corrupt {
                            what: "error class",
                            detail: c.clone(),
                        })
                    })
                    .transpose()?;
                Ok((class, u64::try_from(n).unwrap_or(0)))
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|(c, _)| {
            c.map_or(usize::MAX, |c| {
                ErrorClass::ALL.iter().position(|x| *x == c).unwrap_or(0)
            })
        });
        Ok(out)
    }
}
