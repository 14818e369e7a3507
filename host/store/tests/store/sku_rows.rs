//! Catalogue events by SKU (migration 0022) on both backends: a `sku.*` event tagged with its SKU code once the
//! code is known is found by it, newest first, whether it finished or failed; untagged events and other tenants'
//! are not.

use crate::suite::{req, tenant};
use anyhow::{Result, ensure};
use ferry_model::{ErrorClass, EventEnvelope, EventKind, EventObject};
use ferry_store::{EventTag, NewEvent, Outcome, Store};
use time::macros::datetime;

/// A `sku.*` event of tenant `t` for SKU `sku_id`.
fn sku_event(t: &str, id: &str, kind: EventKind, sku_id: i64) -> NewEvent {
    let at = datetime!(2026-12-05 10:00 UTC);
    NewEvent::from_envelope(
        tenant(t),
        EventEnvelope {
            id: id.to_owned(),
            kind,
            occurred_at: at,
            object: EventObject {
                object_type: "ecommerce.sku".to_owned(),
                id: sku_id,
                guid: uuid::Uuid::new_v4(),
                last_modified: at,
            },
        },
    )
}

pub(crate) async fn sku_events_are_found_by_their_tagged_code(s: &Store) -> Result<()> {
    s.insert_event(&sku_event("shop", "s-1", EventKind::SkuCreated, 7))
        .await?;
    s.insert_event(&sku_event("shop", "s-2", EventKind::SkuUpdated, 7))
        .await?;
    s.insert_event(&sku_event("shop", "s-3", EventKind::SkuUpdated, 8))
        .await?;
    s.insert_event(&sku_event("other", "s-1", EventKind::SkuCreated, 7))
        .await?;
    // Each event of tenant shop is tagged as it runs: SKU 7's two finish (the second one fails), SKU 8's has no
    // code to tag. The other tenant's event runs too, tagged with the same code.
    for _ in 0..4 {
        let c = s.claim(&req("w1", 1)).await?.remove(0);
        let (id, tenant_id) = (c.event.event_id.as_str().to_owned(), c.event.tenant.clone());
        if c.event.object_id == 7 {
            s.tag_event(&c.lease, EventTag::Sku("DG-GRINDER")).await?;
        }
        if id == "s-2" && tenant_id.as_str() == "shop" {
            s.dead_letter(&c.lease, "refused", ErrorClass::Validation)
                .await?;
        } else {
            s.complete(&c.lease, &Outcome::default()).await?;
        }
    }
    let found = s.find_by_sku(&tenant("shop"), "DG-GRINDER").await?;
    let ids: Vec<&str> = found.iter().map(|e| e.event_id.as_str()).collect();
    ensure!(
        ids == ["s-2", "s-1"],
        "newest first, the failed one too: {ids:?}"
    );
    ensure!(found.iter().all(|e| e.tenant.as_str() == "shop"));
    ensure!(s.find_by_sku(&tenant("shop"), "DG-OTHER").await?.is_empty());
    ensure!(s.find_by_sku(&tenant("other"), "DG-GRINDER").await?.len() == 1);
    Ok(())
}

rows_on_both_backends!(sku_rows: sku_events_are_found_by_their_tagged_code);
