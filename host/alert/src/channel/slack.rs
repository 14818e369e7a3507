//! A Slack-compatible incoming webhook: `{"text": …}`.

use crate::message::Alert;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// Posts the alert's text.
pub(super) async fn send(
    http: &reqwest::Client,
    url: &SecretString,
    alert: &Alert,
) -> Result<(), String> {
    let reply = http
        .post(url.expose_secret())
        .timeout(Duration::from_secs(10))
        .json(&serde_json::json!({ "text": alert.text() }))
        .send()
        .await
        // The URL is the credential: never in a message.
        .map_err(|e| format!("post slack alert: {}", e.without_url()))?;
    if reply.status().is_success() {
        Ok(())
    } else {
        Err(format!("slack webhook answered {}", reply.status()))
    }
}
