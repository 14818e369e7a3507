//! What one alert says: its kind, the tenant, a one-line summary, details, counts per error class and a link, in
//! the forms the channels send (text for e-mail and Slack, JSON for the webhook).

use ferry_model::{ErrorClass, TenantId};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The condition a raise or clear is about: a tenant's (or the host's, `tenant: None`) named state, e.g.
/// `breaker.freshbooks`, `freshbooks.disconnected`, `backlog.old`, `plugin.failing`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Condition {
    /// Whose; `None` for the host.
    pub tenant: Option<TenantId>,
    /// What, as a dotted name; also the alert's `condition` field.
    pub name: String,
}

impl Condition {
    /// A tenant's condition.
    pub fn tenant(tenant: &TenantId, name: impl Into<String>) -> Self {
        Self {
            tenant: Some(tenant.clone()),
            name: name.into(),
        }
    }
}

/// What happened; the webhook's `type` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertKind {
    /// New dead letters over a window, counted per class.
    DeadLetters,
    /// A condition started (a breaker opened, a tenant was disconnected, …): `condition` names it.
    Raised,
    /// A condition raised earlier cleared.
    Cleared,
}

/// One message, before it is shaped for a channel.
#[derive(Debug, Clone)]
pub struct Alert {
    /// What happened.
    pub kind: AlertKind,
    /// The tenant it is about; `None` for the host itself (then only the operator's channels get it).
    pub tenant: Option<TenantId>,
    /// The condition raised or cleared, e.g. `breaker.freshbooks.open`; `dead_letters` for a batch.
    pub condition: String,
    /// One line, e.g. `FreshBooks circuit breaker opened for tenant shop`.
    pub summary: String,
    /// More lines, each a fact.
    pub details: Vec<String>,
    /// New dead letters per class (dead-letter batches only).
    pub counts: BTreeMap<ErrorClass, u64>,
    /// Where to look, e.g. the console's dead-letter page.
    pub link: Option<String>,
    /// How many messages to this destination were dropped by the hourly limit before this one.
    pub suppressed: u64,
    /// When it was decided.
    pub at: OffsetDateTime,
}

impl Alert {
    /// A message about `condition`.
    pub fn new(
        kind: AlertKind,
        tenant: Option<TenantId>,
        condition: impl Into<String>,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            tenant,
            condition: condition.into(),
            summary: summary.into(),
            details: Vec::new(),
            counts: BTreeMap::new(),
            link: None,
            suppressed: 0,
            at: OffsetDateTime::now_utc(),
        }
    }

    /// The webhook's `type`: `alert.dead_letters`, `alert.raised`, `alert.cleared`.
    pub fn event_type(&self) -> &'static str {
        match self.kind {
            AlertKind::DeadLetters => "alert.dead_letters",
            AlertKind::Raised => "alert.raised",
            AlertKind::Cleared => "alert.cleared",
        }
    }

    /// The subject line of an e-mail: `[Ferry] shop: …`.
    pub fn subject(&self) -> String {
        let status = match self.kind {
            AlertKind::Cleared => "resolved: ",
            _ => "",
        };
        match &self.tenant {
            Some(t) => format!("[Ferry] {t}: {status}{}", self.summary),
            None => format!("[Ferry] {status}{}", self.summary),
        }
    }

    /// The text of an e-mail or chat message.
    pub fn text(&self) -> String {
        let mut out = self.subject();
        out.push('\n');
        for (class, n) in &self.counts {
            out.push_str(&format!("\n{class}: {n}"));
        }
        for d in &self.details {
            out.push('\n');
            out.push_str(d);
        }
        if let Some(link) = &self.link {
            out.push_str(&format!("\n{link}"));
        }
        if self.suppressed > 0 {
            out.push_str(&format!(
                "\n({} earlier alert(s) were not sent: hourly limit)",
                self.suppressed
            ));
        }
        out
    }

    /// The webhook body: Standard Webhooks' `{"type", "timestamp", "data"}`.
    pub fn json(&self) -> serde_json::Value {
        let counts: serde_json::Map<String, serde_json::Value> = self
            .counts
            .iter()
            .map(|(c, n)| (c.as_str().to_owned(), (*n).into()))
            .collect();
        let at = self
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        serde_json::json!({
            "type": self.event_type(),
            "timestamp": at,
            "data": {
                "tenant": self.tenant.as_ref().map(TenantId::as_str),
                "condition": self.condition,
                "summary": self.summary,
                "details": self.details,
                "counts": counts,
                "link": self.link,
                "suppressed": self.suppressed,
            }
        })
    }
}
