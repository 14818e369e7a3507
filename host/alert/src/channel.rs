//! Delivery of one message to one channel, retried a few times on failure; nothing here decides whether to send.
//!
//! Layout: `webhook` (signed JSON POST), `slack` (incoming webhook), `email` (SMTP through lettre).

pub(crate) mod email;
mod slack;
mod webhook;

use crate::config::ChannelConfig;
use crate::message::Alert;
use std::time::Duration;
use tracing::warn;

/// Attempts per message and channel before it is given up (logged).
const ATTEMPTS: u32 = 3;

/// Sends `alert` to `channel`, retrying transient failures; logs (without the channel's URL, which may be a
/// credential) when it gives up.
pub(crate) async fn deliver(http: &reqwest::Client, channel: &ChannelConfig, alert: &Alert) {
    for attempt in 1..=ATTEMPTS {
        let sent = match channel {
            ChannelConfig::Webhook { url, secret } => webhook::send(http, url, secret, alert).await,
            ChannelConfig::Slack { url } => slack::send(http, url, alert).await,
            ChannelConfig::Email { smtp_url, from, to } => {
                email::send(smtp_url, from, to, alert).await
            }
        };
        match sent {
            Ok(()) => return,
            Err(error) if attempt < ATTEMPTS => {
                warn!(%error, channel = channel.kind(), attempt, "Alert not delivered; trying again.");
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
            Err(error) => {
                warn!(%error, channel = channel.kind(), condition = %alert.condition, "Alert not delivered; gave up.");
            }
        }
    }
}
