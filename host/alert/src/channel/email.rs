//! E-mail over SMTP through lettre: STARTTLS, TLS or plain as the `smtp_url` says.

use crate::message::Alert;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// The transport an `smtp_url` describes.
///
/// # Errors
/// lettre's message when the URL is not one it reads.
pub(crate) fn transport(smtp_url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
        .map_err(|e| e.to_string())?
        .timeout(Some(Duration::from_secs(10)))
        .build())
}

/// Sends the alert as a plain-text e-mail from `from` to every address of `to`.
pub(super) async fn send(
    smtp_url: &SecretString,
    from: &str,
    to: &[String],
    alert: &Alert,
) -> Result<(), String> {
    let mut message = Message::builder()
        .from(from.parse::<Mailbox>().map_err(|e| e.to_string())?)
        .subject(alert.subject())
        .header(ContentType::TEXT_PLAIN);
    for addr in to {
        message = message.to(addr.parse::<Mailbox>().map_err(|e| e.to_string())?);
    }
    let message = message.body(alert.text()).map_err(|e| e.to_string())?;
    transport(smtp_url.expose_secret())?
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("send alert e-mail: {e}"))
}
