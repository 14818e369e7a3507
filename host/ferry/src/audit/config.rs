//! `[tenants.audit]`: when the books audit runs on its own for a tenant, and how far back it looks.

use ferry_model::ManualChanges;
use serde::{Deserialize, Serialize};

/// The tenant's audit schedule. Off by default; `ferry audit` and the admin API run an audit whenever asked.
///
/// ```toml
/// [tenants.audit]
/// every_hours = 24     # nightly
/// window_days = 7      # orders changed in the last week
/// manual_changes = "report"   # or "overwrite": a repair undoes invoices edited or deleted by hand
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Hours between scheduled audits; 0 (the default) schedules none.
    pub every_hours: u64,
    /// A scheduled audit checks the orders changed in Kentico in this many days before it.
    pub window_days: u64,
    /// An invoice a person edited or deleted in FreshBooks: reported and left alone (`report`, the default), or
    /// reported with a repair that restores it and brings it back to the order (`overwrite`).
    pub manual_changes: ManualChanges,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            every_hours: 0,
            window_days: 7,
            manual_changes: ManualChanges::Report,
        }
    }
}

impl AuditConfig {
    /// Whether audits are scheduled.
    pub fn scheduled(&self) -> bool {
        self.every_hours > 0
    }

    /// The time between scheduled audits.
    pub fn every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.every_hours.saturating_mul(3600))
    }

    /// How far back a scheduled audit looks.
    pub fn window(&self) -> time::Duration {
        time::Duration::days(i64::try_from(self.window_days).unwrap_or(i64::MAX / 86_400))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audits_are_off_unless_a_tenant_schedules_them() {
        assert!(!AuditConfig::default().scheduled());
        let nightly: AuditConfig = toml::from_str("every_hours = 24").unwrap();
        assert!(nightly.scheduled());
        assert_eq!(nightly.every().as_secs(), 86_400);
        assert_eq!(nightly.window_days, 7);
        assert!(toml::from_str::<AuditConfig>("every = 24").is_err());
        assert_eq!(nightly.manual_changes, ManualChanges::Report);
        let overwrite: AuditConfig = toml::from_str(r#"manual_changes = "overwrite""#).unwrap();
        assert_eq!(overwrite.manual_changes, ManualChanges::Overwrite);
        let bad = toml::from_str::<AuditConfig>(r#"manual_changes = "always""#).unwrap_err();
        assert!(bad.to_string().contains("report"), "{bad}");
    }
}
