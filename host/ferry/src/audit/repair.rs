//! A report's repair: what Ferry may fix itself, through the paths every sync takes. Lost ledger entries are
//! recorded first (so no sync creates the object again), then each order that needs it runs again as an event of
//! its own — the pipeline's ledger and markers make that safe however often it runs. Differences a person made in
//! FreshBooks carry no repair and are left alone, unless the tenant's policy let the audit offer an overwrite: the
//! invoice is then restored if deleted and its recorded state forgotten before the order runs again, so the sync
//! brings it back to the order.

use crate::tenants::TenantRuntime;
use crate::tenants::adapters::StoreLedger;
use ferry_model::{AuditReport, EventEnvelope, EventKind, EventObject, Repair, TenantId};
use ferry_store::{Ingestor, InsertOutcome, NewEvent, Store};
use serde::Serialize;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// What a repair did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Repaired {
    /// The report repaired.
    pub audit: i64,
    /// The report had been repaired before: nothing was done this time.
    pub already_repaired: bool,
    /// Ledger entries recorded for objects FreshBooks has.
    pub ledger_entries: usize,
    /// Orders enqueued to run through the pipeline again.
    pub orders_resynced: usize,
    /// Invoices a person changed that the tenant's policy lets Ferry overwrite: readied to be brought back to their
    /// order (restored when deleted) by the order's run.
    pub invoices_overwritten: usize,
    /// Differences left to a person (no repair is safe for them).
    pub left_to_a_person: usize,
}

/// Repairs `report` once (the store marks it; a second call, from any host, finds it marked and does nothing).
///
/// # Errors
/// The store failed; what ran before the failure stays done, and running the repairs again is harmless.
pub(super) async fn run(
    store: &Store,
    ingestor: &Ingestor,
    t: &TenantRuntime,
    report: &AuditReport,
) -> anyhow::Result<Repaired> {
    let tenant = &t.id;
    let mut repaired = Repaired {
        audit: report.id,
        ..Repaired::default()
    };
    if !store.mark_audit_repaired(tenant, report.id).await? {
        repaired.already_repaired = true;
        return Ok(repaired);
    }
    let ledger = StoreLedger::new(store.clone(), tenant.clone());
    let mut resync = BTreeMap::new();
    for d in &report.differences {
        match &d.repair {
            None => repaired.left_to_a_person += 1,
            Some(r @ Repair::RecordLedger { .. }) => {
                if ferry_load::audit::record_ledger(&ledger, r).await? {
                    repaired.ledger_entries += 1;
                }
            }
            Some(r @ Repair::Overwrite { .. }) => {
                if let Some(guid) = order_of(d)
                    && ferry_load::audit::prepare_overwrite(&t.freshbooks, &ledger, tenant, guid, r)
                        .await?
                {
                    repaired.invoices_overwritten += 1;
                    resync.insert(d.order_id, guid);
                }
            }
            Some(Repair::Resync) => {
                if let Some(guid) = order_of(d) {
                    resync.insert(d.order_id, guid);
                }
            }
        }
    }
    for (order_id, guid) in resync {
        let event = resync_event(tenant, report.id, order_id, guid);
        if ingestor.submit(event).await? == InsertOutcome::Inserted {
            repaired.orders_resynced += 1;
        }
    }
    tracing::info!(
        tenant = %tenant,
        audit = report.id,
        ledger_entries = repaired.ledger_entries,
        orders_resynced = repaired.orders_resynced,
        invoices_overwritten = repaired.invoices_overwritten,
        left_to_a_person = repaired.left_to_a_person,
        "Audit repaired."
    );
    Ok(repaired)
}

/// The order a difference concerns, when it names one (an orphan names none).
fn order_of(d: &ferry_model::Difference) -> Option<Uuid> {
    Uuid::parse_str(&d.order_guid)
        .ok()
        .filter(|_| d.order_id != 0)
}

/// The event that runs an order again for a repair, as a webhook's would; its id names the report, so one report's
/// repair enqueues each order once.
fn resync_event(tenant: &TenantId, audit: i64, order_id: i64, guid: Uuid) -> NewEvent {
    let now = OffsetDateTime::now_utc();
    let envelope = EventEnvelope {
        id: format!("audit:{audit}:ecommerce.order:{order_id}"),
        kind: EventKind::OrderUpdated,
        occurred_at: now,
        object: EventObject {
            object_type: "ecommerce.order".to_owned(),
            id: order_id,
            guid,
            last_modified: now,
        },
    };
    NewEvent::from_envelope(tenant.clone(), envelope)
}
