//! Alerts reach real receivers started by the test — an SMTP server, an HTTP receiver that verifies the Standard
//! Webhooks signature, and a Slack-compatible webhook — and an outage or a burst of dead letters sends one message
//! per channel, not one per failure.

use ferry::config::Config;
use ferry_alert::ChannelConfig;
use ferry_sim::kentico::OrderMix;
use ferry_store::EventState;
use ferry_tests::receivers::{SmtpSink, WebhookSink};
use ferry_tests::{SETTLE_TIMEOUT, TestApp, fast_workers, valid_mix, wait_until};
use secrecy::SecretString;
use serde_json::Value;
use std::time::Duration;

/// The operator's alert webhook secret.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The three receivers, one per kind of channel.
pub(crate) struct Receivers {
    pub(crate) webhook: WebhookSink,
    pub(crate) slack: WebhookSink,
    pub(crate) smtp: SmtpSink,
}

impl Receivers {
    pub(crate) async fn start() -> Self {
        Self {
            webhook: WebhookSink::start(Some(SECRET)).await,
            slack: WebhookSink::start(None).await,
            smtp: SmtpSink::start().await,
        }
    }

    /// `[alerts]` with the three as the operator's channels and the console's public address.
    pub(crate) fn configure(&self, config: &mut Config, window_secs: u64) {
        config.alerts.window_secs = window_secs;
        config.alerts.channels = vec![
            ChannelConfig::Webhook {
                url: self.webhook.url(),
                secret: SecretString::from(SECRET),
            },
            ChannelConfig::Slack {
                url: SecretString::from(self.slack.url()),
            },
            ChannelConfig::Email {
                smtp_url: SecretString::from(self.smtp.url()),
                from: "Ferry <ferry@example.com>".to_owned(),
                to: vec!["ops@example.com".to_owned()],
            },
        ];
        config.admin.public_url = Some("https://ferry.example.com".to_owned());
    }

    /// Messages per channel whose text (e-mail, Slack) or JSON (webhook) says `text` / has `condition` and `type`.
    pub(crate) fn counts(&self, kind: &str, condition: &str, text: &str) -> [usize; 3] {
        let webhook = self
            .webhook
            .bodies()
            .iter()
            .filter(|b| b["type"] == kind && b["data"]["condition"] == condition)
            .count();
        let slack = self
            .slack
            .bodies()
            .iter()
            .filter(|b| b["text"].as_str().is_some_and(|t| t.contains(text)))
            .count();
        let mail = self
            .smtp
            .messages()
            .iter()
            .filter(|m| m.contains(text))
            .count();
        [webhook, slack, mail]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freshbooks_outage_sends_one_breaker_open_and_one_recovery_per_channel()
-> anyhow::Result<()> {
    let receivers = Receivers::start().await;
    let app = TestApp::builder()
        .with_seed(31)
        .with_workers(fast_workers())
        .with_config(|c| {
            receivers.configure(c, 60);
            // A breaker that opens after a few failed calls and probes again after a second.
            c.outbound.breaker.minimum_calls = 3;
            c.outbound.breaker.window_ms = 10_000;
            c.outbound.breaker.cooldown_ms = 1_000;
        })
        .spawn()
        .await?;
    let faults = app.sandbox.freshbooks.faults().clone();
    faults.outage_for(Duration::from_secs(60));
    let placed = app.place(0..6, &valid_mix()).await;
    let opened = |r: &Receivers| {
        r.counts(
            "alert.raised",
            "breaker.freshbooks",
            "circuit breaker opened",
        )
    };
    wait_until(
        Duration::from_secs(60),
        "a breaker-open alert on every channel",
        || async { opened(&receivers).iter().all(|n| *n >= 1) },
    )
    .await?;
    // Seconds of outage more: probes fail, the breaker opens again and again, events keep failing.
    tokio::time::sleep(Duration::from_secs(4)).await;
    faults.end_outage();
    let audit = app.settle(&placed).await?;
    ferry_tests::assert_exactly_once(&audit);
    let closed = |r: &Receivers| {
        r.counts(
            "alert.cleared",
            "breaker.freshbooks",
            "circuit breaker closed",
        )
    };
    wait_until(
        Duration::from_secs(30),
        "a recovery alert on every channel",
        || async { closed(&receivers).iter().all(|n| *n >= 1) },
    )
    .await?;
    app.stop().await;

    assert!(faults.counters().outages > 3, "the outage was hit");
    assert_eq!(opened(&receivers), [1, 1, 1], "webhook, slack, e-mail");
    assert_eq!(closed(&receivers), [1, 1, 1], "webhook, slack, e-mail");
    assert_eq!(receivers.webhook.refused(), 0, "every webhook was signed");
    let mail = receivers.smtp.messages();
    assert!(
        mail.iter()
            .any(|m| m.contains("Subject: [Ferry] ") && m.contains("To: ops@example.com")),
        "{mail:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_dead_letters_in_a_window_send_one_message_with_counts_per_class()
-> anyhow::Result<()> {
    let receivers = Receivers::start().await;
    let app = TestApp::builder()
        .with_seed(32)
        .with_workers(fast_workers())
        // A window longer than the test: the host sends it when it stops.
        .with_config(|c| receivers.configure(c, 600))
        .spawn()
        .await?;
    let invalid = OrderMix {
        invalid: 1.0,
        foreign_currency: 0.0,
        paid: 0.0,
    };
    let placed = app.place(0..50, &invalid).await;
    let audit = app.settle(&placed).await?;
    assert_eq!(audit.dead_lettered.len(), 50, "{audit:#?}");
    let store = app.store.clone();
    let tenant = app.tenant.clone();
    wait_until(SETTLE_TIMEOUT, "every event run", || async {
        store
            .count_in_state(Some(&tenant), EventState::Queued)
            .await
            .unwrap_or(1)
            == 0
            && store
                .count_in_state(Some(&tenant), EventState::Retrying)
                .await
                .unwrap_or(1)
                == 0
            && store
                .count_in_state(Some(&tenant), EventState::Running)
                .await
                .unwrap_or(1)
                == 0
    })
    .await?;
    let dead = store
        .count_in_state(Some(&tenant), EventState::Dead)
        .await?;
    assert!(dead >= 50, "{dead}");
    assert_eq!(
        receivers.counts("alert.dead_letters", "dead_letters", "new dead letter")[0],
        0,
        "not before the window ends"
    );
    app.stop().await;

    let batches: Vec<Value> = receivers
        .webhook
        .bodies()
        .into_iter()
        .filter(|b| b["type"] == "alert.dead_letters")
        .collect();
    assert_eq!(batches.len(), 1, "{batches:#?}");
    let data = &batches[0]["data"];
    assert_eq!(data["tenant"], tenant.as_str());
    assert_eq!(
        data["counts"],
        serde_json::json!({ "validation": dead }),
        "{data}"
    );
    assert_eq!(
        data["link"],
        format!("https://ferry.example.com/console/tenants/{tenant}/dlq")
    );
    assert_eq!(
        receivers.counts("alert.dead_letters", "dead_letters", "new dead letter"),
        [1, 1, 1],
        "webhook, slack, e-mail"
    );
    assert!(
        receivers
            .smtp
            .messages()
            .iter()
            .any(|m| m.contains(&format!("validation: {dead}"))),
        "the e-mail counts per class"
    );
    Ok(())
}
