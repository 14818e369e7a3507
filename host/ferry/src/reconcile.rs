//! Polling reconciliation: webhooks can be lost, so each tenant's Kentico is read periodically for orders and
//! customers (and, with the catalogue sync on, SKUs) changed since a stored watermark, and any change no stored event covers is enqueued as an event of
//! its own. A lost webhook therefore still ends in an invoice, one poll later. [`backfill`] does the same from a
//! given date on request, for the history before a tenant was added.

use crate::tenants::{TenantRuntime, Tenants};
use ferry_extract::Changed;
use ferry_model::{EventEnvelope, EventKind, EventObject, TenantId};
use ferry_store::{Ingestor, InsertOutcome, NewEvent, Store, Watermark};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;
use tracing::{info, warn};

/// How far back a tenant's first poll looks.
const FIRST_LOOKBACK: Duration = Duration::from_secs(24 * 3600);

/// What one poll found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PollReport {
    /// Changed objects seen.
    pub seen: usize,
    /// Of those, enqueued because no event covered them.
    pub enqueued: usize,
}

/// The object types polled, with the event kind a change becomes.
const OBJECTS: [(&str, EventKind); 2] = [
    ("ecommerce.order", EventKind::OrderUpdated),
    ("ecommerce.customer", EventKind::CustomerUpdated),
];

/// SKUs, polled for tenants with the catalogue sync on: a stock change whose webhook was lost still reaches
/// FreshBooks one poll later.
const SKUS: (&str, EventKind) = ("ecommerce.sku", EventKind::SkuUpdated);

/// What is polled for `tenant`.
fn polled(tenant: &TenantRuntime) -> Vec<(&'static str, EventKind)> {
    let mut objects = OBJECTS.to_vec();
    if tenant.config.catalogue.enabled {
        objects.push(SKUS);
    }
    objects
}

/// Polls one tenant once: orders, then customers.
///
/// # Errors
/// Kentico or store failures; the watermark stays where it was, so the next poll repeats the work.
pub async fn poll_tenant(
    store: &Store,
    ingestor: &Ingestor,
    tenant: &TenantRuntime,
) -> anyhow::Result<PollReport> {
    let mut report = PollReport::default();
    for (object_type, kind) in polled(tenant) {
        let since = store.watermark(&tenant.id, object_type).await?.map_or_else(
            || OffsetDateTime::now_utc() - FIRST_LOOKBACK,
            |w| w.last_modified,
        );
        let changed = enqueue_changed(
            store,
            ingestor,
            tenant,
            object_type,
            kind,
            since,
            &mut report,
        )
        .await?;
        if let Some(last) = changed.iter().max_by_key(|c| (c.last_modified, c.id)) {
            let mark = Watermark {
                last_modified: last.last_modified,
                last_id: last.id,
            };
            store
                .advance_watermark(&tenant.id, object_type, mark)
                .await?;
        }
    }
    Ok(report)
}

/// Enqueues every order and customer of the tenant changed since `since` that no stored event covers, e.g. the
/// history before a tenant was added (the first poll looks back only a day). The watermark is left alone, and
/// the usual idempotency applies: what was already synced is not written again.
///
/// # Errors
/// Kentico or store failures; what was enqueued before the failure stays enqueued, and running it again
/// enqueues only the rest.
pub async fn backfill(
    store: &Store,
    ingestor: &Ingestor,
    tenant: &TenantRuntime,
    since: OffsetDateTime,
) -> anyhow::Result<PollReport> {
    let mut report = PollReport::default();
    for (object_type, kind) in OBJECTS {
        enqueue_changed(
            store,
            ingestor,
            tenant,
            object_type,
            kind,
            since,
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

/// Enqueues every SKU of the tenant's catalogue that no stored event covers at its `SKULastModified`: the full
/// catalogue for a new tenant. Idempotent: a second run finds every SKU covered and enqueues nothing, and what a
/// run enqueues goes through the tenant's queue like any event, at its concurrency and FreshBooks rate limits.
///
/// # Errors
/// Kentico or store failures; what was enqueued before the failure stays enqueued.
pub async fn backfill_catalogue(
    store: &Store,
    ingestor: &Ingestor,
    tenant: &TenantRuntime,
) -> anyhow::Result<PollReport> {
    let mut report = PollReport::default();
    let (object_type, kind) = SKUS;
    enqueue_changed(
        store,
        ingestor,
        tenant,
        object_type,
        kind,
        OffsetDateTime::UNIX_EPOCH,
        &mut report,
    )
    .await?;
    Ok(report)
}

/// Reads the objects of `object_type` changed since `since`, enqueues those no event covers, and returns them.
async fn enqueue_changed(
    store: &Store,
    ingestor: &Ingestor,
    tenant: &TenantRuntime,
    object_type: &str,
    kind: EventKind,
    since: OffsetDateTime,
    report: &mut PollReport,
) -> anyhow::Result<Vec<Changed>> {
    let changed = match object_type {
        "ecommerce.order" => ferry_extract::changed_orders_since(&tenant.kentico, since).await?,
        "ecommerce.sku" => ferry_extract::changed_skus_since(&tenant.kentico, since).await?,
        _ => ferry_extract::changed_customers_since(&tenant.kentico, since).await?,
    };
    for c in &changed {
        report.seen += 1;
        if store
            .event_covers(&tenant.id, object_type, c.id, c.last_modified)
            .await?
        {
            continue;
        }
        let event = synthetic_event(&tenant.id, kind, object_type, c);
        if ingestor.submit(event).await? == InsertOutcome::Inserted {
            report.enqueued += 1;
            metrics::counter!(crate::telemetry::metrics::RECONCILED_TOTAL, "tenant" => tenant.id.to_string())
                .increment(1);
        }
    }
    Ok(changed)
}

/// An event standing in for a webhook that never came; its id is deterministic, so two polls (or two hosts)
/// enqueue it once.
fn synthetic_event(tenant: &TenantId, kind: EventKind, object_type: &str, c: &Changed) -> NewEvent {
    let id = format!(
        "reconcile:{object_type}:{}:{}",
        c.id,
        c.last_modified.unix_timestamp_nanos() / 1_000_000
    );
    let envelope = EventEnvelope {
        id,
        kind,
        occurred_at: c.last_modified,
        object: EventObject {
            object_type: object_type.to_owned(),
            id: c.id,
            guid: c.guid,
            last_modified: c.last_modified,
        },
    };
    NewEvent::from_envelope(tenant.clone(), envelope)
}

/// Polls every tenant every `every` until shutdown.
pub async fn run(
    store: Store,
    ingestor: Ingestor,
    tenants: Tenants,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        for tenant in tenants.all() {
            match poll_tenant(&store, &ingestor, &tenant).await {
                Ok(r) if r.enqueued > 0 => {
                    info!(tenant_id = %tenant.id, seen = r.seen, enqueued = r.enqueued, "Reconciled missed changes.")
                }
                Ok(_) => {}
                Err(error) => {
                    warn!(tenant_id = %tenant.id, error = %error, "Reconciliation poll failed.")
                }
            }
        }
    }
}
