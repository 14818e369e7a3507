//! The payment write-back's host side (FreshBooks → Kentico): FreshBooks callbacks registered per tenant account and
//! verified, the verifiers ingest checks deliveries with, and the polling fallback for deliveries that never came.
//! What one payment event does is `pipeline::payment`.
//!
//! Layout:
//! - `callbacks`: [`TenantCallbacks`] (ingest's [`ferry_ingest::CallbackKeys`]: account, sealed verifiers, the
//!   handshake) and [`register`], which makes each tenant's callbacks exist and verified, idempotently.
//! - `poll`: [`poll_payments`], FreshBooks payments changed since a watermark that no callback covered.

mod callbacks;
mod poll;

pub use callbacks::{CALLBACK_EVENTS, TenantCallbacks, register};
pub use poll::poll_payments;

use crate::tenants::Tenants;
use ferry_store::{Ingestor, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{info, warn};

/// How soon a failed registration is tried again.
const RETRY_REGISTER: Duration = Duration::from_secs(5);

/// Registers every write-back tenant's callbacks at start and then every `every`, and polls their payments every
/// `poll_every` (0: never), until shutdown.
pub async fn run(
    store: Store,
    ingestor: Ingestor,
    tenants: Tenants,
    keyring: Arc<ferry_secrets::Keyring>,
    every: Duration,
    poll_every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut next_register = tokio::time::Instant::now();
    let mut next_poll = tokio::time::Instant::now() + poll_every;
    loop {
        let now = tokio::time::Instant::now();
        let writeback: Vec<_> = tenants
            .all()
            .into_iter()
            .filter(|t| t.config.payments.enabled)
            .collect();
        if now >= next_register {
            next_register = now + every;
            for t in &writeback {
                match register(&store, &keyring, t).await {
                    Ok(true) => {}
                    // Soon again, to see the new ones verified (or confirm them from their stored verifier).
                    Ok(false) => next_register = now + RETRY_REGISTER,
                    Err(error) => {
                        warn!(tenant_id = %t.id, error = %format!("{error:#}"), "FreshBooks callbacks not registered.");
                        // Soon again: until they are registered, only the poll finds payments.
                        next_register = now + RETRY_REGISTER;
                    }
                }
            }
        }
        if !poll_every.is_zero() && now >= next_poll {
            for t in &writeback {
                match poll_payments(&store, &ingestor, t).await {
                    Ok(r) if r.enqueued > 0 => {
                        info!(tenant_id = %t.id, seen = r.seen, enqueued = r.enqueued, "Reconciled missed FreshBooks payments.")
                    }
                    Ok(_) => {}
                    Err(error) => {
                        warn!(tenant_id = %t.id, error = %format!("{error:#}"), "FreshBooks payment poll failed.")
                    }
                }
            }
            next_poll = now + poll_every;
        }
        let wake = if poll_every.is_zero() {
            next_register
        } else {
            next_register.min(next_poll)
        };
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {}
            _ = shutdown.changed() => return,
        }
    }
}
