//! FreshBooks callbacks of each write-back tenant: registered once per event (found again by event and URI, so a
//! restart registers nothing twice), verified with the code FreshBooks sent, and the verifiers ingest checks each
//! delivery's signature with. Verifiers are the signing keys: sealed by the host keyring before they are stored,
//! and never logged.

use crate::tenants::{TenantRuntime, Tenants};
use anyhow::Context;
use ferry_ingest::{BoxFuture, CallbackKeys};
use ferry_model::TenantId;
use ferry_secrets::Keyring;
use ferry_store::Store;
use secrecy::ExposeSecret;
use std::sync::Arc;
use tracing::{info, warn};

/// The FreshBooks events Ferry registers: a payment recorded, changed (a refund) or deleted, and an invoice changed.
pub const CALLBACK_EVENTS: [&str; 4] = [
    "payment.create",
    "payment.update",
    "payment.delete",
    "invoice.update",
];

/// Ingest's view of the tenants' callbacks, over the serving tenants, the store and the keyring.
#[derive(Clone)]
pub struct TenantCallbacks {
    tenants: Tenants,
    store: Store,
    keyring: Arc<Keyring>,
}

impl TenantCallbacks {
    /// Over the serving tenants.
    pub fn new(tenants: Tenants, store: Store, keyring: Arc<Keyring>) -> Self {
        Self {
            tenants,
            store,
            keyring,
        }
    }
}

impl CallbackKeys for TenantCallbacks {
    fn account(&self, tenant: &TenantId) -> Option<String> {
        self.tenants
            .get(tenant)
            .filter(|t| t.config.payments.enabled)
            .map(|t| t.config.freshbooks.account_id.clone())
    }

    fn verifiers<'a>(&'a self, tenant: &'a TenantId) -> BoxFuture<'a, Result<Vec<String>, String>> {
        Box::pin(async move {
            let stored = self
                .store
                .callbacks(tenant)
                .await
                .map_err(|e| e.to_string())?;
            Ok(stored
                .iter()
                .filter_map(|c| c.verifier.as_deref())
                .filter_map(|sealed| self.keyring.open(sealed).ok())
                .map(|v| v.expose_secret().to_owned())
                .collect())
        })
    }

    fn handshake<'a>(
        &'a self,
        tenant: &'a TenantId,
        callback_id: i64,
        verifier: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let sealed = self.keyring.seal(verifier.as_bytes());
            self.store
                .put_callback_verifier(tenant, callback_id, &sealed)
                .await
                .map_err(|e| e.to_string())?;
            // Confirmed after the answer: FreshBooks may wait for the handshake's reply before it takes the PUT. A
            // failure here is repaired by the next registration pass, which confirms from the stored verifier.
            if let Some(t) = self.tenants.get(tenant) {
                let store = self.store.clone();
                let tenant = tenant.clone();
                let verifier = verifier.to_owned();
                tokio::spawn(async move {
                    // A few quick tries: FreshBooks may answer 5xx; the registration pass repairs what is left.
                    let mut result = t.freshbooks.verify_callback(callback_id, &verifier).await;
                    for wait in [500, 2_000] {
                        if result.is_ok() {
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                        result = t.freshbooks.verify_callback(callback_id, &verifier).await;
                    }
                    match result {
                        Ok(_) => {
                            if let Err(error) =
                                store.mark_callback_verified(&tenant, callback_id).await
                            {
                                warn!(%error, %tenant, callback_id, "Callback verified but not recorded.");
                            } else {
                                info!(%tenant, callback_id, "FreshBooks callback verified.");
                            }
                        }
                        Err(error) => {
                            warn!(%error, %tenant, callback_id, "FreshBooks callback not verified; will retry.")
                        }
                    }
                });
            }
            Ok(())
        })
    }
}

/// Makes the tenant's callbacks exist and verified: each of [`CALLBACK_EVENTS`] for `payments.callback_url` is
/// found (by event and URI) or registered, and one FreshBooks still shows unverified is confirmed with the stored
/// verifier, or its handshake asked for again. Running it again changes nothing. Returns whether every callback was
/// verified before this pass (false: one was registered or confirmed just now, or still waits for its handshake).
///
/// # Errors
/// FreshBooks or store failures, named.
pub async fn register(
    store: &Store,
    keyring: &Keyring,
    tenant: &TenantRuntime,
) -> anyhow::Result<bool> {
    let Some(url) = tenant.config.payments.callback_url.as_deref() else {
        return Ok(true);
    };
    let mut all_verified = true;
    let fb = &tenant.freshbooks;
    let account = fb.account_id().to_owned();
    let existing = fb
        .list_callbacks()
        .await
        .context("list the account's callbacks")?;
    let stored = store.callbacks(&tenant.id).await?;
    for event in CALLBACK_EVENTS {
        let found = existing.iter().find(|c| c.event == event && c.uri == url);
        let cb = match found {
            Some(cb) => cb.clone(),
            None => {
                let cb = fb
                    .create_callback(event, url)
                    .await
                    .with_context(|| format!("register the {event} callback"))?;
                info!(tenant_id = %tenant.id, callback_id = cb.callbackid, event, "FreshBooks callback registered.");
                cb
            }
        };
        store
            .put_callback(&tenant.id, cb.callbackid, &account, event, url)
            .await?;
        if cb.verified {
            if !stored
                .iter()
                .any(|s| s.callback_id == cb.callbackid && s.verified)
            {
                store
                    .mark_callback_verified(&tenant.id, cb.callbackid)
                    .await?;
            }
            continue;
        }
        all_verified = false;
        if found.is_none() {
            // Just registered: its handshake is on its way.
            continue;
        }
        let verifier = stored
            .iter()
            .find(|s| s.callback_id == cb.callbackid)
            .and_then(|s| s.verifier.as_deref())
            .and_then(|sealed| keyring.open(sealed).ok());
        match verifier {
            Some(v) => {
                fb.verify_callback(cb.callbackid, v.expose_secret())
                    .await
                    .with_context(|| format!("verify the {event} callback"))?;
                store
                    .mark_callback_verified(&tenant.id, cb.callbackid)
                    .await?;
            }
            None => fb
                .resend_callback_verification(cb.callbackid)
                .await
                .with_context(|| format!("ask again for the {event} callback's handshake"))?,
        }
    }
    Ok(all_verified)
}
