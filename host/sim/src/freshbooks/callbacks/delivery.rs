//! The sender: the verification handshake and signed event deliveries, each posted as a form, with the Kentico
//! sender's faults (drops, retries, duplicates) plus delays that reorder deliveries.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use super::registry::{Callbacks, SimCallback};
use super::signature::{HEADER_HMAC, sign};
use crate::freshbooks::state::Store;

/// The ids a delivery names.
pub(crate) struct AccountIds {
    pub(crate) account_id: String,
    pub(crate) business_id: u64,
    pub(crate) identity_id: u64,
}

impl AccountIds {
    /// The business and owner identity of `account_id` (0 for what the store does not know).
    pub(super) fn of(store: &Store, account_id: &str) -> Self {
        let business_id = store
            .accounts
            .get(account_id)
            .map(|a| a.business_id)
            .unwrap_or_default();
        let identity_id = store
            .identities
            .iter()
            .find(|(_, i)| i.accounts.iter().any(|a| a == account_id))
            .map(|(id, _)| *id)
            .unwrap_or_default();
        Self {
            account_id: account_id.to_owned(),
            business_id,
            identity_id,
        }
    }
}

impl Callbacks {
    pub(crate) async fn wait_idle(&self, timeout: Duration) -> bool {
        let mut rx = self.outstanding.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n == 0))
            .await
            .is_ok()
    }

    fn begin(&self) {
        self.outstanding.send_modify(|n| *n += 1);
    }

    fn end(&self) {
        self.outstanding.send_modify(|n| *n = n.saturating_sub(1));
    }

    /// Sends the handshake form to a callback's URI (unsigned: the receiver has no key yet).
    pub(super) fn send_verification(self: &Arc<Self>, cb: &SimCallback) {
        self.lock().stats.verifications += 1;
        // guess: the handshake's `name` is unconfirmed (`callback.verify` per a third-party AsyncAPI).
        let form = vec![
            ("name".to_owned(), "callback.verify".to_owned()),
            ("object_id".to_owned(), cb.callbackid.to_string()),
            ("verifier".to_owned(), cb.verifier.clone()),
        ];
        let this = self.clone();
        let uri = cb.uri.clone();
        self.begin();
        tokio::spawn(async move {
            this.post(&uri, &form, None).await;
            this.end();
        });
    }

    /// Emits `name` for `object_id` to every verified callback of the account that covers it.
    pub(crate) fn emit(self: &Arc<Self>, account: &AccountIds, name: &str, object_id: u64) {
        let targets: Vec<SimCallback> = self
            .lock()
            .callbacks
            .values()
            .filter(|c| c.account_id == account.account_id && c.verified && c.covers(name))
            .cloned()
            .collect();
        for cb in targets {
            let form = vec![
                ("name".to_owned(), name.to_owned()),
                ("object_id".to_owned(), object_id.to_string()),
                ("account_id".to_owned(), account.account_id.clone()),
                ("business_id".to_owned(), account.business_id.to_string()),
                ("identity_id".to_owned(), account.identity_id.to_string()),
                // guess: the legacy `user_id` is 1 for the owner, as in the docs' example.
                ("user_id".to_owned(), "1".to_owned()),
            ];
            let Some(delays) = self.schedule() else {
                continue;
            };
            let signature = sign(&cb.verifier, &form);
            for delay in delays {
                let this = self.clone();
                let form = form.clone();
                let uri = cb.uri.clone();
                let signature = signature.clone();
                self.begin();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let ok = this.post(&uri, &form, Some(&signature)).await;
                    {
                        let mut inner = this.lock();
                        if ok {
                            inner.stats.delivered += 1;
                        } else {
                            inner.stats.gave_up += 1;
                        }
                    }
                    this.end();
                });
            }
        }
    }

    /// What the faults make of one emitted delivery: `None` when it is dropped, else the delay of each copy sent
    /// (one, or two when duplicated).
    fn schedule(&self) -> Option<Vec<u64>> {
        let mut inner = self.lock();
        inner.stats.emitted += 1;
        let f = inner.faults;
        if inner.rng.gen_bool(f.drop.clamp(0.0, 1.0)) {
            inner.stats.dropped += 1;
            return None;
        }
        let copies = if inner.rng.gen_bool(f.duplicate.clamp(0.0, 1.0)) {
            inner.stats.duplicated += 1;
            2
        } else {
            1
        };
        Some(
            (0..copies)
                .map(|_| {
                    if f.max_delay_ms == 0 {
                        0
                    } else {
                        inner.rng.gen_range(0..=f.max_delay_ms)
                    }
                })
                .collect(),
        )
    }

    /// Posts a form, retrying per the fault schedule; true when the receiver answered 2xx.
    async fn post(&self, uri: &str, form: &[(String, String)], signature: Option<&str>) -> bool {
        let (attempts, retry_ms) = {
            let f = self.lock().faults;
            (f.attempts.max(1), f.retry_ms)
        };
        let body = serde_urlencoded::to_string(form).unwrap_or_default();
        for attempt in 1..=attempts {
            let mut req = self
                .http
                .post(uri)
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body.clone());
            if let Some(sig) = signature {
                req = req.header(HEADER_HMAC, sig);
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => return true,
                _ => self.lock().stats.failed_attempts += 1,
            }
            if attempt < attempts {
                let wait = retry_ms.saturating_mul(1 << (attempt - 1).min(6));
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
        }
        false
    }
}
