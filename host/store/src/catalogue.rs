//! Catalogue events by SKU: a `sku.*` event is tagged with the SKU code it concerns once that is known
//! ([`Store::tag_event`]), and the run history finds a product's events by it (as it finds an order's by number).

use crate::error::{Error, Result};
use crate::event::{EventRecord, EventRow};
use crate::store::Store;
use ferry_model::TenantId;

impl Store {
    /// Events of a tenant about the SKU with code `sku`, newest first.
    ///
    /// # Errors
    /// [`Error::Database`] when the read fails.
    pub async fn find_by_sku(&self, tenant: &TenantId, sku: &str) -> Result<Vec<EventRecord>> {
        let rows: Vec<EventRow> = on_pool!(&self.pool, |p| sqlx::query_as(
            "SELECT * FROM events WHERE tenant = $1 AND sku = $2 ORDER BY seq DESC"
        )
        .bind(tenant.as_str())
        .bind(sku)
        .fetch_all(p)
        .await
        .map_err(Error::db("search events by sku"))?);
        EventRecord::from_rows(rows)
    }
}
