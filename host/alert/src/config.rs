//! Where alerts go and when they fire: the host's `[alerts]` (thresholds and the operator's channels) and a
//! tenant's `[tenants.alerts]` (its own channels), with the checks that refuse a bad channel at start naming its
//! field.

use lettre::message::Mailbox;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The host's `[alerts]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// The operator's channels: every alert of every tenant, and the host's own, goes to them.
    pub channels: Vec<ChannelConfig>,
    /// New dead letters are counted for this many seconds after the first, then sent as one message per tenant.
    pub window_secs: u64,
    /// Most messages one destination (the operator, or one tenant) gets per hour; beyond it they are dropped and
    /// counted, and the next message that goes out says how many were.
    pub max_per_hour: u32,
    /// A tenant's oldest waiting event older than this many seconds raises a backlog alert (0: never).
    pub backlog_age_secs: u64,
    /// A tenant whose plugins fail at least this share of its runs (in percent) over a window raises an alert
    /// (0: never).
    pub plugin_failure_percent: u32,
    /// Runs a window needs before the plugin failure share counts (a single failure is not a rate).
    pub plugin_min_runs: u32,
    /// Where the console is reached from outside, for links in messages (the host's `[admin] public_url`; set by
    /// the host, not in this section).
    #[serde(skip)]
    pub public_url: Option<String>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            channels: Vec::new(),
            window_secs: 60,
            max_per_hour: 30,
            backlog_age_secs: 900,
            plugin_failure_percent: 20,
            plugin_min_runs: 10,
            public_url: None,
        }
    }
}

/// A tenant's `[tenants.alerts]` section: where its own alerts go (its operator's channels get them too).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantAlertsConfig {
    /// The tenant's channels.
    pub channels: Vec<ChannelConfig>,
}

/// One place a message goes: `[[alerts.channels]]` with a `type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelConfig {
    /// A JSON POST signed like Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    Webhook {
        /// Where to POST.
        url: String,
        /// The signing secret, `whsec_` + base64.
        secret: SecretString,
    },
    /// A Slack-compatible incoming webhook (`{"text": …}`; Mattermost and Rocket.Chat accept it too). The URL is
    /// the credential, so it is kept secret.
    Slack {
        /// The incoming webhook's URL.
        url: SecretString,
    },
    /// E-mail over SMTP.
    Email {
        /// The server: `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS) or `smtp://host:25`
        /// (plain, for a local relay); user and password in the URL when the server wants them.
        smtp_url: SecretString,
        /// The sender, e.g. `Ferry <ferry@example.com>`.
        from: String,
        /// The recipients.
        to: Vec<String>,
    },
}

impl ChannelConfig {
    /// The channel's type, for logs (never its URL, which may be a credential).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Webhook { .. } => "webhook",
            Self::Slack { .. } => "slack",
            Self::Email { .. } => "email",
        }
    }

    /// Checks what serde cannot: URLs, the secret, the addresses.
    ///
    /// # Errors
    /// [`InvalidAlertConfig`] naming the field relative to the channel (`url`, `secret`, `to[1]`).
    pub fn validate(&self) -> Result<(), InvalidAlertConfig> {
        match self {
            Self::Webhook { url, secret } => {
                http_url("url", url)?;
                crate::sign::decode_secret(secret.expose_secret())
                    .map_err(|m| InvalidAlertConfig::new("secret", m))?;
            }
            Self::Slack { url } => http_url("url", url.expose_secret())?,
            Self::Email { smtp_url, from, to } => {
                let raw = smtp_url.expose_secret();
                let scheme = raw.split_once("://").map(|(s, _)| s);
                if !matches!(scheme, Some("smtp" | "smtps")) || raw.len() <= "smtp://".len() {
                    return Err(InvalidAlertConfig::new(
                        "smtp_url",
                        "must be smtp://host[:port] or smtps://host[:port]",
                    ));
                }
                crate::channel::email::transport(raw)
                    .map_err(|e| InvalidAlertConfig::new("smtp_url", e))?;
                from.parse::<Mailbox>()
                    .map_err(|e| InvalidAlertConfig::new("from", format!("not an address: {e}")))?;
                if to.is_empty() {
                    return Err(InvalidAlertConfig::new("to", "needs at least one address"));
                }
                for (i, addr) in to.iter().enumerate() {
                    addr.parse::<Mailbox>().map_err(|e| {
                        InvalidAlertConfig::new(format!("to[{i}]"), format!("not an address: {e}"))
                    })?;
                }
            }
        }
        Ok(())
    }
}

fn http_url(field: &str, raw: &str) -> Result<(), InvalidAlertConfig> {
    match reqwest::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(_) => Err(InvalidAlertConfig::new(
            field,
            "must be an http(s) URL with a host",
        )),
        Err(e) => Err(InvalidAlertConfig::new(field, format!("not a URL: {e}"))),
    }
}

fn channels(list: &[ChannelConfig]) -> Result<(), InvalidAlertConfig> {
    for (i, c) in list.iter().enumerate() {
        c.validate()
            .map_err(|e| e.under(&format!("channels[{i}]")))?;
    }
    Ok(())
}

impl AlertsConfig {
    /// Checks the channels and thresholds.
    ///
    /// # Errors
    /// [`InvalidAlertConfig`] naming the field relative to the section (`channels[0].url`, `window_secs`).
    pub fn validate(&self) -> Result<(), InvalidAlertConfig> {
        channels(&self.channels)?;
        if self.window_secs == 0 {
            return Err(InvalidAlertConfig::new("window_secs", "must be at least 1"));
        }
        if self.max_per_hour == 0 {
            return Err(InvalidAlertConfig::new(
                "max_per_hour",
                "must be at least 1",
            ));
        }
        if self.plugin_failure_percent > 100 {
            return Err(InvalidAlertConfig::new(
                "plugin_failure_percent",
                "must be 0 (off) to 100",
            ));
        }
        Ok(())
    }
}

impl TenantAlertsConfig {
    /// Checks the channels.
    ///
    /// # Errors
    /// [`InvalidAlertConfig`] naming the field relative to the section (`channels[0].secret`).
    pub fn validate(&self) -> Result<(), InvalidAlertConfig> {
        channels(&self.channels)
    }
}

/// A channel or threshold that is not acceptable, with the field that holds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidAlertConfig {
    /// The field relative to the section, e.g. `channels[1].to[0]`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl InvalidAlertConfig {
    fn new(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self {
            field: field.into(),
            message: message.to_string(),
        }
    }

    fn under(self, parent: &str) -> Self {
        Self {
            field: format!("{parent}.{}", self.field),
            message: self.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_src: &str) -> AlertsConfig {
        let v: serde_json::Value = serde_json::from_str(toml_src).unwrap_or_default();
        serde_json::from_value(v).unwrap_or_default()
    }

    #[test]
    fn a_bad_channel_is_named_by_its_field() {
        let c = parse(
            r#"{"channels": [
                {"type": "slack", "url": "https://hooks.example.com/T/B/x"},
                {"type": "email", "smtp_url": "smtp://127.0.0.1:2525", "from": "Ferry <f@example.com>",
                 "to": ["ops@example.com", "not an address"]}
            ]}"#,
        );
        assert_eq!(c.channels.len(), 2);
        let e = c.validate().unwrap_err();
        assert_eq!(e.field, "channels[1].to[1]");

        let c = parse(
            r#"{"channels": [{"type": "webhook", "url": "https://x.example", "secret": "nope!"}]}"#,
        );
        assert_eq!(c.validate().unwrap_err().field, "channels[0].secret");
        let c = parse(
            r#"{"channels": [{"type": "webhook", "url": "ftp://x", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]}"#,
        );
        assert_eq!(c.validate().unwrap_err().field, "channels[0].url");
        let c = parse(
            r#"{"channels": [{"type": "email", "smtp_url": "http://x", "from": "a@b.c", "to": ["a@b.c"]}]}"#,
        );
        assert_eq!(c.validate().unwrap_err().field, "channels[0].smtp_url");
        let c = parse(r#"{"window_secs": 0}"#);
        assert_eq!(c.validate().unwrap_err().field, "window_secs");
    }
}
