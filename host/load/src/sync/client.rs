//! The customer's FreshBooks client: the recorded one, else one found by marker or e-mail, else a new one.

use super::{
    Keys, Synced, create_under_intent, customer_marker, done, done_id, get, known_done_id, lock,
    with_marker,
};
use crate::freshbooks::FreshBooksClient;
use crate::ledger::{Ledger, LedgerEntry};
use crate::{Error, Result};
use ferry_model::ClientDraft;
use uuid::Uuid;

/// The customer's client: the recorded one (checked in FreshBooks only when `verify`: a new invoice is about to
/// name it, and a person may have deleted it), else one found by e-mail (or first by marker, when an earlier
/// attempt's outcome is unknown or the recorded client is gone), else a new one stamped with the marker. Without a
/// ledger entry no attempt was ever made, so the marker search is skipped: the ledger is trusted.
pub(super) async fn ensure_client(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    keys: &Keys,
    customer_guid: Uuid,
    draft: &ClientDraft,
    verify: bool,
    synced: &mut Synced,
) -> Result<i64> {
    let key = keys.key("client", &customer_guid.to_string());
    // A recorded client is used without the create lock: nothing is created for it.
    let mut gone = None;
    if let Some(id) = known_done_id(ledger, &key) {
        if !verify || is_live(fb, id).await? {
            return Ok(id);
        }
        gone = Some(id);
    }
    let _held = lock(ledger, &key).await?;
    let entry = get(ledger, &key).await?;
    if let Some(id) = done_id(&entry)
        && gone != Some(id)
        && (!verify || is_live(fb, id).await?)
    {
        return Ok(id);
    }
    let found = match entry {
        Some(_) => find_client(fb, customer_guid, &draft.email).await?,
        None => find_client_by_email(fb, &draft.email).await?,
    };
    if let Some(id) = found {
        if matches!(entry, Some(LedgerEntry::Intent)) {
            synced.adopted.push(key.clone());
        }
        // Not created under this ledger entry: the client's invoices may predate the ledger too.
        synced.client_found = true;
        done(ledger, &key, id).await?;
        return Ok(id);
    }
    let mut stamped = draft.clone();
    stamped.note = with_marker(&draft.note, &customer_marker(customer_guid));
    let created = create_under_intent(ledger, &key, fb.create_client(&stamped)).await?;
    done(ledger, &key, created.id).await?;
    Ok(created.id)
}

/// Whether client `id` still exists and is not deleted (a person may have deleted it in FreshBooks).
async fn is_live(fb: &FreshBooksClient, id: i64) -> Result<bool> {
    match fb.get_client(id).await {
        Ok(c) => Ok(c.vis_state != 1),
        Err(Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
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
    find_client_by_email(fb, email).await
}

/// The oldest active client with the e-mail (none for an empty one).
async fn find_client_by_email(fb: &FreshBooksClient, email: &str) -> Result<Option<i64>> {
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

/// The customer's client, created now if it has none (for tenants that want a client for every customer, not only
/// for those who ordered: `[tenants.customers] create_before_order`), else brought up to date like
/// [`super::sync_customer`].
///
/// # Errors
/// [`Error`] with `disposition()`; after an unknown outcome the next call adopts the client by marker.
#[tracing::instrument(skip_all, fields(tenant = %tenant, customer_id = customer.id, stage = "load"))]
pub async fn sync_customer_client(
    fb: &FreshBooksClient,
    ledger: &dyn Ledger,
    tenant: &ferry_model::TenantId,
    customer: &ferry_model::Customer,
    draft: &ClientDraft,
) -> Result<i64> {
    let keys = Keys {
        prefix: tenant.to_string(),
    };
    let key = keys.key("client", &customer.guid.to_string());
    let recorded = done_id(&get(ledger, &key).await?).is_some();
    let mut synced = Synced::default();
    let id = ensure_client(fb, ledger, &keys, customer.guid, draft, true, &mut synced).await?;
    if !recorded && !synced.client_found {
        // Just created from this very draft: nothing to update.
        return Ok(id);
    }
    Ok(super::sync_customer(fb, ledger, tenant, customer, draft)
        .await?
        .unwrap_or(id))
}
