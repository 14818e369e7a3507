//! The Kentico-side module's webhook sender (Ferry's contract, `docs/webhook-contract.md`): thin envelopes signed
//! with the Standard Webhooks scheme, delivered from an outbox with retries and backoff. Events of one object
//! go out one at a time, in order; different objects are delivered concurrently.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::seed::SimRng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{Semaphore, watch};

use super::clock;
use super::config::{RetrySchedule, WebhookTarget};
use super::store::Event;

/// Header carrying the event id.
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the Unix timestamp of the attempt.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying `v1,<base64 HMAC-SHA256>`.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// Delivery counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookStats {
    /// Events produced by mutations.
    pub emitted: u64,
    /// Events the receiver answered 2xx.
    pub delivered: u64,
    /// Events never sent: skipped on purpose ([`super::KenticoHandle::skip_webhooks`]) or emitted while no
    /// target was set.
    pub skipped: u64,
    /// Attempts that failed (non-2xx or no answer).
    pub failed_attempts: u64,
    /// Events abandoned: out of attempts, or refused with a non-retryable 4xx.
    pub gave_up: u64,
    /// Of `gave_up`, events refused with a non-retryable 4xx.
    pub rejected: u64,
}

/// What became of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// Event id (`webhook-id`).
    pub id: String,
    /// Event type, e.g. `order.created`.
    pub kind: String,
    /// `ecommerce.order` / `ecommerce.customer`.
    pub object_type: String,
    /// Object id.
    pub object_id: i64,
    /// `pending`, `delivered`, `skipped`, `gave_up` or `rejected`.
    pub outcome: String,
    /// Attempts made.
    pub attempts: u32,
    /// Status of the last answer, when there was one.
    pub last_status: Option<u16>,
}

/// The signature header value for one attempt: `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length, so this never fails.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The key bytes of a `whsec_<base64>` secret (prefix optional); a secret that is not base64 is used as bytes.
pub fn secret_key(secret: &str) -> Vec<u8> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD
        .decode(b64)
        .unwrap_or_else(|_| secret.as_bytes().to_vec())
}

/// One event waiting in the outbox.
#[derive(Debug, Clone)]
struct Pending {
    id: String,
    body: String,
    target: WebhookTarget,
    log_index: usize,
}

/// Mutable outbox state under one lock.
struct State {
    target: Option<WebhookTarget>,
    skip_fraction: f64,
    /// Seeded, so a test that skips a fraction sees the same events skipped on every run.
    skip_rng: SimRng,
    /// Per-object queues; an object's key is in `active` while a task drains its queue.
    queues: HashMap<String, VecDeque<Pending>>,
    active: HashSet<String>,
    log: Vec<DeliveryRecord>,
}

/// Static facts put in every envelope's `source`.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) site_name: String,
    pub(crate) instance: String,
}

/// The outbox and its delivery tasks.
pub(crate) struct Outbox {
    state: Mutex<State>,
    emitted: AtomicU64,
    delivered: AtomicU64,
    skipped: AtomicU64,
    failed_attempts: AtomicU64,
    gave_up: AtomicU64,
    rejected: AtomicU64,
    /// Events queued or in flight; `wait_idle` waits for zero.
    outstanding: watch::Sender<u64>,
    /// Caps how many objects are delivered at once.
    concurrency: Semaphore,
    retry: RetrySchedule,
    http: reqwest::Client,
    source: Mutex<Source>,
    shutdown: watch::Receiver<bool>,
}

impl Outbox {
    pub(crate) fn new(
        seed: u64,
        retry: RetrySchedule,
        timeout: Duration,
        concurrency: usize,
        source: Source,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent("Kentico-Ferry-Module/1.0 (ferry-sim)")
            .build()
            .unwrap_or_default();
        Self {
            state: Mutex::new(State {
                target: None,
                skip_fraction: 0.0,
                skip_rng: super::seed::rng(seed, super::seed::Stream::Skip, 0),
                queues: HashMap::new(),
                active: HashSet::new(),
                log: Vec::new(),
            }),
            emitted: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            failed_attempts: AtomicU64::new(0),
            gave_up: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            outstanding: watch::channel(0).0,
            concurrency: Semaphore::new(concurrency.max(1)),
            retry,
            http,
            source: Mutex::new(source),
            shutdown,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_target(&self, target: Option<WebhookTarget>) {
        self.lock().target = target;
    }

    pub(crate) fn target(&self) -> Option<WebhookTarget> {
        self.lock().target.clone()
    }

    pub(crate) fn set_skip_fraction(&self, fraction: f64) {
        self.lock().skip_fraction = fraction.clamp(0.0, 1.0);
    }

    pub(crate) fn stats(&self) -> WebhookStats {
        WebhookStats {
            emitted: self.emitted.load(Ordering::SeqCst),
            delivered: self.delivered.load(Ordering::SeqCst),
            skipped: self.skipped.load(Ordering::SeqCst),
            failed_attempts: self.failed_attempts.load(Ordering::SeqCst),
            gave_up: self.gave_up.load(Ordering::SeqCst),
            rejected: self.rejected.load(Ordering::SeqCst),
        }
    }

    pub(crate) fn log(&self) -> Vec<DeliveryRecord> {
        self.lock().log.clone()
    }

    /// Builds the envelope JSON of an event.
    fn envelope(&self, id: &str, event: &Event) -> String {
        let source = self
            .source
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let occurred = event.last_modified.to_offset(time::UtcOffset::UTC);
        let occurred = occurred
            .replace_nanosecond(occurred.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(occurred);
        let occurred_at = occurred
            .format(&Rfc3339)
            .unwrap_or_else(|_| clock::format(event.last_modified));
        serde_json::json!({
            "id": id,
            "type": event.kind,
            "occurred_at": occurred_at,
            "source": {
                "product": "kentico-xperience-13",
                "site_id": super::seed::SITE_ID,
                "site_name": source.site_name,
                "instance": source.instance,
            },
            "object": {
                "object_type": event.object_type,
                "id": event.id,
                "guid": event.guid,
                "last_modified": clock::format(event.last_modified),
            },
            "changes": event.changes,
            "snapshot": null,
        })
        .to_string()
    }

    /// Queues events for delivery (or records them skipped) and starts a drain task per newly busy object.
    pub(crate) fn emit(self: &Arc<Self>, events: Vec<Event>) {
        for event in events {
            // Random, not seeded: a restarted sandbox with the same seed must not reuse ids Ferry has deduped.
            let id = format!("evt_{}", uuid::Uuid::new_v4());
            let body = self.envelope(&id, &event);
            let key = format!("{}:{}", event.object_type, event.id);
            self.emitted.fetch_add(1, Ordering::SeqCst);
            let mut s = self.lock();
            let roll: f64 = s.skip_rng.r#gen();
            let skip = roll < s.skip_fraction;
            let log_index = s.log.len();
            let target = s.target.clone();
            let outcome = if skip || target.is_none() {
                "skipped"
            } else {
                "pending"
            };
            s.log.push(DeliveryRecord {
                id: id.clone(),
                kind: event.kind.to_owned(),
                object_type: event.object_type.to_owned(),
                object_id: event.id,
                outcome: outcome.to_owned(),
                attempts: 0,
                last_status: None,
            });
            // guess: with no endpoint configured the module drops the event (counted as skipped); polling finds it.
            let Some(target) = target.filter(|_| !skip) else {
                self.skipped.fetch_add(1, Ordering::SeqCst);
                continue;
            };
            self.outstanding.send_modify(|n| *n += 1);
            s.queues.entry(key.clone()).or_default().push_back(Pending {
                id,
                body,
                target,
                log_index,
            });
            if s.active.insert(key.clone()) {
                drop(s);
                let outbox = self.clone();
                tokio::spawn(async move { outbox.drain(key).await });
            }
        }
    }

    /// Delivers one object's events in order until its queue is empty.
    async fn drain(self: Arc<Self>, key: String) {
        loop {
            let next = {
                let mut s = self.lock();
                match s.queues.get_mut(&key).and_then(VecDeque::pop_front) {
                    Some(p) => Some(p),
                    None => {
                        s.queues.remove(&key);
                        s.active.remove(&key);
                        None
                    }
                }
            };
            let Some(pending) = next else { return };
            let Ok(_permit) = self.concurrency.acquire().await else {
                return;
            };
            if *self.shutdown.borrow() {
                return;
            }
            self.deliver(&pending).await;
            self.outstanding.send_modify(|n| *n = n.saturating_sub(1));
        }
    }

    async fn deliver(&self, p: &Pending) {
        let key = secret_key(&p.target.secret);
        let mut shutdown = self.shutdown.clone();
        for attempt in 1..=self.retry.attempts.max(1) {
            let timestamp = OffsetDateTime::now_utc().unix_timestamp();
            let signature = sign(&key, &p.id, timestamp, &p.body);
            let sent = self
                .http
                .post(&p.target.url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .header(HEADER_ID, &p.id)
                .header(HEADER_TIMESTAMP, timestamp.to_string())
                .header(HEADER_SIGNATURE, signature)
                .body(p.body.clone())
                .send()
                .await;
            let (status, retry_after) = match &sent {
                Ok(r) => (
                    Some(r.status().as_u16()),
                    r.headers()
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs),
                ),
                Err(_) => (None, None),
            };
            self.record(p.log_index, attempt, status, "pending");
            match status {
                Some(s) if (200..300).contains(&s) => {
                    self.delivered.fetch_add(1, Ordering::SeqCst);
                    self.record(p.log_index, attempt, status, "delivered");
                    return;
                }
                // guess (our contract): a 4xx other than 408/429 means these bytes will never be accepted, so the
                // sender gives up at once instead of retrying.
                Some(s) if (400..500).contains(&s) && s != 408 && s != 429 => {
                    self.failed_attempts.fetch_add(1, Ordering::SeqCst);
                    self.gave_up.fetch_add(1, Ordering::SeqCst);
                    self.rejected.fetch_add(1, Ordering::SeqCst);
                    self.record(p.log_index, attempt, status, "rejected");
                    tracing::warn!(status = s, event_id = %p.id, "Webhook rejected.");
                    return;
                }
                _ => {
                    self.failed_attempts.fetch_add(1, Ordering::SeqCst);
                }
            }
            if attempt < self.retry.attempts {
                let wait = self
                    .retry
                    .delay_after(attempt)
                    .max(retry_after.unwrap_or_default().min(self.retry.max));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        }
        self.gave_up.fetch_add(1, Ordering::SeqCst);
        let mut s = self.lock();
        if let Some(r) = s.log.get_mut(p.log_index) {
            r.outcome = "gave_up".into();
        }
        tracing::warn!(event_id = %p.id, "Webhook given up after the last attempt.");
    }

    fn record(&self, index: usize, attempts: u32, status: Option<u16>, outcome: &str) {
        let mut s = self.lock();
        if let Some(r) = s.log.get_mut(index) {
            r.attempts = attempts;
            r.last_status = status;
            r.outcome = outcome.to_owned();
        }
    }

    /// Waits until nothing is queued or in flight; false on timeout.
    pub(crate) async fn wait_idle(&self, timeout: Duration) -> bool {
        let mut rx = self.outstanding.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n == 0))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// Builds a random `whsec_` secret from a seeded generator (for tests and tools).
pub fn random_secret(seed: u64) -> String {
    let mut r = StdRng::seed_from_u64(seed);
    let key: [u8; 24] = r.r#gen();
    format!("whsec_{}", STANDARD.encode(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example from the Standard Webhooks specification.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
