//! The customer's FreshBooks client: the recorded one, else one found by marker or e-mail, else a new one.

use super::{Keys, Synced, customer_marker, done, done_id, get, intent, lock, with_marker};
use crate::freshbooks::FreshBooksClient;
use crate::ledger::{Ledger, LedgerEntry};
use crate::{Error, Result};
use ferry_model::ClientDraft;
use uuid::Uuid;

/// Finds the client by stored id, marker or e-mail; creates it (with the marker) otherwise.
pub(super) async fn ensure_client(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    customer_guid: Uuid,
    draft: &ClientDraft,
    synced: &mut Synced,
) -> Result<i64> {
    let key = keys.key("client", &customer_guid.to_string());
    let _held = lock(ledger, &key).await?;
    let entry = get(ledger, &key).await?;
    if let Some(id) = done_id(&entry) {
        match fb.get_client(id).await {
            Ok(c) if c.vis_state != 1 => return Ok(c.id),
            // Deleted by a person: find or create a live one below.
            Ok(_) | Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    if let Some(id) = find_client(fb, customer_guid, &draft.email).await? {
        if matches!(entry, Some(LedgerEntry::Intent)) {
            synced.adopted.push(key.clone());
        }
        done(ledger, &key, id).await?;
        return Ok(id);
    }
    let mut stamped = draft.clone();
    stamped.note = with_marker(&draft.note, &customer_marker(customer_guid));
    intent(ledger, &key).await?;
    let created = fb.create_client(&stamped).await?;
    done(ledger, &key, created.id).await?;
    Ok(created.id)
}

/// The oldest active client with our marker, else with the e-mail.
pub(super) async fn find_client(
    fb: &FreshBooksClient,
    customer_guid: Uuid,
    email: &str,
) -> Result<Option<i64>> {
    let by_marker = fb
        .find_clients_by_marker(&customer_marker(customer_guid))
        .await?;
    if let Some(id) = by_marker.iter().map(|c| c.id).min() {
        return Ok(Some(id));
    }
    if email.trim().is_empty() {
        return Ok(None);
    }
    Ok(fb
        .find_clients_by_email(email.trim())
        .await?
        .iter()
        .map(|c| c.id)
        .min())
}

/// The customer's client when FreshBooks has one (recorded, or found by marker), without creating it.
pub(super) async fn known_client(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    customer_guid: Uuid,
) -> Result<Option<i64>> {
    let key = keys.key("client", &customer_guid.to_string());
    if let Some(id) = done_id(&get(ledger, &key).await?) {
        return Ok(Some(id));
    }
    find_client(fb, customer_guid, "").await
}
