//! The callbacks every account registered, and the one lock they share with the sender's faults, seeded random
//! source and counters: what `POST`, `GET`, `PUT` and `DELETE …/callbacks` read and change.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How deliveries misbehave; all off by default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CallbackFaults {
    /// Fraction of deliveries never sent (a callback FreshBooks lost).
    pub drop: f64,
    /// Fraction of deliveries sent twice.
    pub duplicate: f64,
    /// Each delivery waits a random time up to this before its first try, so deliveries overtake each other.
    pub max_delay_ms: u64,
    /// Tries per delivery, the first included; a non-2xx answer or no answer is tried again.
    // guess: FreshBooks documents no retry policy; the simulator retries like the Kentico sender.
    pub attempts: u32,
    /// Wait before the second try, doubling after.
    pub retry_ms: u64,
}

impl Default for CallbackFaults {
    fn default() -> Self {
        Self {
            drop: 0.0,
            duplicate: 0.0,
            max_delay_ms: 0,
            attempts: 5,
            retry_ms: 200,
        }
    }
}

/// Delivery counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackStats {
    /// Events emitted by accounting writes that some verified callback wanted.
    pub emitted: u64,
    /// Deliveries dropped on purpose.
    pub dropped: u64,
    /// Extra copies sent on purpose.
    pub duplicated: u64,
    /// Deliveries the receiver answered 2xx.
    pub delivered: u64,
    /// Tries that failed (non-2xx or no answer).
    pub failed_attempts: u64,
    /// Deliveries abandoned after the last try.
    pub gave_up: u64,
    /// Verification POSTs sent (create and resend).
    pub verifications: u64,
}

/// The event names a callback may register (noun.verb, and the parent nouns), lifecycle.md §5.
pub(super) const EVENTS: &[&str] = &[
    "invoice",
    "invoice.create",
    "invoice.update",
    "invoice.delete",
    "invoice.sendByEmail",
    "payment",
    "payment.create",
    "payment.update",
    "payment.delete",
    "credit_note",
    "credit_note.create",
    "credit_note.update",
    "credit_note.delete",
    "client",
    "client.create",
    "client.update",
    "client.delete",
    "item",
    "item.create",
    "item.update",
    "item.delete",
    "tax",
    "tax.create",
    "tax.update",
    "tax.delete",
    "estimate",
    "estimate.create",
    "estimate.update",
    "estimate.delete",
    "estimate.sendByEmail",
];

/// One registered callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimCallback {
    /// `callbackid`.
    pub callbackid: u64,
    /// The account it belongs to.
    pub account_id: String,
    /// Event name or parent (`payment.create`, `payment`).
    pub event: String,
    /// Where deliveries go.
    pub uri: String,
    /// Whether the receiver confirmed the verifier.
    pub verified: bool,
    /// The code sent in the handshake; the signing key.
    pub verifier: String,
    /// `updated_at`, UTC ISO-8601.
    pub updated_at: String,
}

impl SimCallback {
    /// The callback as the API shows it (the verifier is never shown).
    pub(super) fn public(&self) -> Value {
        json!({
            "callbackid": self.callbackid,
            "verified": self.verified,
            "uri": self.uri,
            "event": self.event,
            "updated_at": self.updated_at,
        })
    }

    /// Whether a delivery of event `name` goes to this callback: its own event or the event's parent noun.
    pub(super) fn covers(&self, name: &str) -> bool {
        self.event == name || name.split('.').next() == Some(self.event.as_str())
    }
}

/// What the lock guards.
pub(super) struct Inner {
    pub(super) callbacks: BTreeMap<u64, SimCallback>,
    pub(super) faults: CallbackFaults,
    /// Seeded, so a test that drops a fraction drops the same deliveries on every run.
    pub(super) rng: StdRng,
    pub(super) stats: CallbackStats,
}

/// The callbacks of every account and their sender.
pub(crate) struct Callbacks {
    inner: Mutex<Inner>,
    next_id: AtomicU64,
    /// Deliveries queued or in flight; `wait_idle` waits for zero.
    pub(super) outstanding: tokio::sync::watch::Sender<u64>,
    pub(super) http: reqwest::Client,
}

impl Callbacks {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            inner: Mutex::new(Inner {
                callbacks: BTreeMap::new(),
                faults: CallbackFaults::default(),
                rng: StdRng::seed_from_u64(seed ^ 0xCA11_BAC5),
                stats: CallbackStats::default(),
            }),
            next_id: AtomicU64::new(1000),
            outstanding: tokio::sync::watch::channel(0).0,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_faults(&self, faults: CallbackFaults) {
        self.lock().faults = faults;
    }

    pub(crate) fn stats(&self) -> CallbackStats {
        self.lock().stats
    }

    pub(crate) fn list(&self, account_id: &str) -> Vec<SimCallback> {
        self.lock()
            .callbacks
            .values()
            .filter(|c| c.account_id == account_id)
            .cloned()
            .collect()
    }

    /// Registers an unverified callback with a fresh 32-character verifier.
    pub(super) fn register(&self, account_id: String, event: &str, uri: &str) -> SimCallback {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let verifier: String = {
            let mut inner = self.lock();
            (0..32)
                .map(|_| {
                    let n = inner.rng.gen_range(0..36u8);
                    char::from(if n < 10 { b'0' + n } else { b'a' + n - 10 })
                })
                .collect()
        };
        let cb = SimCallback {
            callbackid: id,
            account_id,
            event: event.to_owned(),
            uri: uri.to_owned(),
            verified: false,
            verifier,
            updated_at: now_iso(),
        };
        self.lock().callbacks.insert(id, cb.clone());
        cb
    }

    /// Callback `id` of the account.
    pub(super) fn get(&self, account_id: &str, id: u64) -> Option<SimCallback> {
        self.lock()
            .callbacks
            .get(&id)
            .filter(|c| c.account_id == account_id)
            .cloned()
    }

    /// Marks callback `id` verified; the callback as it is now.
    pub(super) fn mark_verified(&self, id: u64) -> Option<SimCallback> {
        let mut inner = self.lock();
        let stored = inner.callbacks.get_mut(&id)?;
        stored.verified = true;
        stored.updated_at = now_iso();
        Some(stored.clone())
    }

    /// Forgets callback `id`.
    pub(super) fn remove(&self, id: u64) {
        self.lock().callbacks.remove(&id);
    }
}

/// Now as the API's `updated_at`: UTC, whole seconds, RFC 3339.
fn now_iso() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
