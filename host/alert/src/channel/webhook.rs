//! A JSON POST signed like Standard Webhooks: the receiver checks `webhook-signature` with the shared secret.

use crate::message::Alert;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// Posts the alert's JSON, signed with `secret`.
pub(super) async fn send(
    http: &reqwest::Client,
    url: &str,
    secret: &SecretString,
    alert: &Alert,
) -> Result<(), String> {
    let key = crate::sign::decode_secret(secret.expose_secret())?;
    let body = serde_json::to_vec(&alert.json()).map_err(|e| e.to_string())?;
    // A fresh id per message: a receiver deduplicates retries of this delivery by it.
    let id = format!("msg_{}", uuid::Uuid::now_v7().simple());
    let mut req = http
        .post(url)
        .timeout(Duration::from_secs(10))
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (name, value) in crate::sign::webhook_headers(&key, &id, now, &body) {
        req = req.header(name, value);
    }
    let reply = req
        .body(body)
        .send()
        .await
        .map_err(|e| format!("post alert webhook: {}", e.without_url()))?;
    if reply.status().is_success() {
        Ok(())
    } else {
        Err(format!("alert webhook answered {}", reply.status()))
    }
}
