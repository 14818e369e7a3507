//! The polling fallback: FreshBooks payments changed since the tenant's watermark that no callback event covers
//! become `payment.update` events of their own, so a callback FreshBooks never delivered still reaches Kentico one
//! poll later. Payments Ferry itself posted (found in the ledger) are not enqueued.

use crate::reconcile::PollReport;
use crate::tenants::TenantRuntime;
use ferry_model::{EventEnvelope, EventKind, EventObject, FRESHBOOKS_PAYMENT};
use ferry_store::{Ingestor, InsertOutcome, NewEvent, Store, Watermark};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// Pages of 100 payments read per poll.
const MAX_PAGES: i64 = 20;

/// FreshBooks' `updated` (`YYYY-MM-DD HH:MM:SS`, US/Eastern without a zone) as a time that orders like it. It is
/// taken as UTC: only the order matters, and Eastern is behind UTC, so a callback event (stamped when received, in
/// UTC) always counts as later than the change it reports.
fn updated_at(updated: &str) -> Option<OffsetDateTime> {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(updated.trim(), fmt)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Polls one tenant's FreshBooks payments once.
///
/// # Errors
/// FreshBooks or store failures; the watermark stays, so the next poll repeats the work.
pub async fn poll_payments(
    store: &Store,
    ingestor: &Ingestor,
    tenant: &TenantRuntime,
) -> anyhow::Result<PollReport> {
    let mut report = PollReport::default();
    let mark = store.watermark(&tenant.id, FRESHBOOKS_PAYMENT).await?;
    let since = mark.map_or_else(
        || OffsetDateTime::now_utc() - Duration::days(1),
        |w| w.last_modified,
    );
    // `updated_min` filters by day; a day earlier covers the zone difference.
    let day = (since - Duration::days(1)).date().to_string();
    let payments = tenant
        .freshbooks
        .payments_updated_since(&day, MAX_PAGES)
        .await?;
    let mut newest = mark;
    for p in payments {
        let Some(at) = p.updated.as_deref().and_then(updated_at) else {
            continue;
        };
        let after = match mark {
            Some(w) => at > w.last_modified || (at == w.last_modified && p.id > w.last_id),
            None => at >= since,
        };
        if !after || p.invoiceid == 0 {
            continue;
        }
        report.seen += 1;
        if newest.is_none_or(|w| (at, p.id) > (w.last_modified, w.last_id)) {
            newest = Some(Watermark {
                last_modified: at,
                last_id: p.id,
            });
        }
        let keys = store.ledger_keys_for(&tenant.id, &p.id.to_string()).await?;
        if p.vis_state != 1 && ferry_load::writeback::is_ferrys_payment(tenant.id.as_str(), &keys) {
            continue;
        }
        if store
            .event_covers(&tenant.id, FRESHBOOKS_PAYMENT, p.id, at)
            .await?
        {
            continue;
        }
        let envelope = EventEnvelope {
            id: format!(
                "reconcile:{FRESHBOOKS_PAYMENT}:{}:{}",
                p.id,
                at.unix_timestamp()
            ),
            kind: EventKind::PaymentUpdated,
            occurred_at: at,
            object: EventObject {
                object_type: FRESHBOOKS_PAYMENT.to_owned(),
                id: p.id,
                guid: uuid::Uuid::nil(),
                last_modified: at,
            },
        };
        if ingestor
            .submit(NewEvent::from_envelope(tenant.id.clone(), envelope))
            .await?
            == InsertOutcome::Inserted
        {
            report.enqueued += 1;
        }
    }
    if let Some(w) = newest
        && Some(w) != mark
    {
        store
            .advance_watermark(&tenant.id, FRESHBOOKS_PAYMENT, w)
            .await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshbooks_timestamps_order_like_their_text() {
        let a = updated_at("2026-12-05 09:15:02").unwrap();
        let b = updated_at("2026-12-05 10:00:00").unwrap();
        assert!(a < b);
        assert_eq!(updated_at("yesterday"), None);
    }
}
