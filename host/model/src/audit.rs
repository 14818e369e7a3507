//! The books audit's findings: how FreshBooks differs from what Kentico's orders say it should hold, classified,
//! with both sides' values and whether Ferry may repair the difference itself.
//!
//! `load` produces them (it knows what it wrote and how to read it back), `store` keeps them as a report with its
//! window, the host shows them (CLI, admin API) and repairs what [`Repair`] allows.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What kind of difference: one name per way the books can stop matching the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditClass {
    /// An order that should have an invoice has none in FreshBooks (or its ledger entry points to nothing).
    Missing,
    /// The order's invoice was deleted in FreshBooks while the order still stands.
    DeletedByHand,
    /// The invoice's lines or total differ from the order (edited in FreshBooks, or the order changed in Kentico and
    /// the change has not reached FreshBooks yet; [`Difference::repair`] says which).
    AmountChanged,
    /// The invoice belongs to another client than the customer's.
    ClientChanged,
    /// A second invoice carries the order's marker.
    Duplicate,
    /// A payment the order calls for (paid in Kentico, a gift card) is not in FreshBooks.
    PaymentMissing,
    /// A payment beyond what the order calls for: a second one with the same marker, one recorded by hand, or one
    /// on an order Kentico shows unpaid.
    PaymentExtra,
    /// An invoice or payment with a Ferry marker whose order Kentico does not know.
    Orphan,
    /// FreshBooks has the object, the idempotency ledger lost its entry: a sync would create a second one.
    LedgerMissing,
}

impl AuditClass {
    /// Every class, in the order reports list them.
    pub const ALL: [Self; 9] = [
        Self::Missing,
        Self::DeletedByHand,
        Self::AmountChanged,
        Self::ClientChanged,
        Self::Duplicate,
        Self::PaymentMissing,
        Self::PaymentExtra,
        Self::Orphan,
        Self::LedgerMissing,
    ];

    /// The snake_case name used in reports, metrics and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::DeletedByHand => "deleted_by_hand",
            Self::AmountChanged => "amount_changed",
            Self::ClientChanged => "client_changed",
            Self::Duplicate => "duplicate",
            Self::PaymentMissing => "payment_missing",
            Self::PaymentExtra => "payment_extra",
            Self::Orphan => "orphan",
            Self::LedgerMissing => "ledger_missing",
        }
    }
}

impl std::fmt::Display for AuditClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How Ferry can repair a difference through its normal, idempotent paths. Differences a person made in FreshBooks
/// (an edited amount, a deleted invoice) have none unless the tenant's policy allows overwriting them
/// ([`Repair::Overwrite`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Repair {
    /// Run the order through the pipeline again (an event like a webhook's): creates what is missing, brings a
    /// stale invoice to the order, withdraws a cancelled one. Safe because every write is ledgered and marked.
    Resync,
    /// Record the object FreshBooks already has under the ledger key it lost, so no sync creates it twice.
    RecordLedger {
        /// The ledger key (`{tenant}:{kind}:{marker}`).
        key: String,
        /// The FreshBooks id it resolves to.
        id: i64,
    },
    /// Undo what a person did to the order's invoice, because the tenant's policy says Ferry's copy wins
    /// (`[tenants.audit] manual_changes = "overwrite"`): restore the invoice if it was deleted, make sure the ledger
    /// points to it, then run the order again so the sync brings its lines back to the order.
    Overwrite {
        /// The FreshBooks invoice id.
        invoice: i64,
        /// The invoice was deleted: it is restored (`vis_state` 0), keeping its number, rather than made again.
        restore: bool,
    },
}

/// What the audit does about a change a person made to an order's invoice in FreshBooks (an edited amount, a deleted
/// invoice): the tenant's `[tenants.audit] manual_changes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManualChanges {
    /// Report it and leave it: the accountant's word stands (the default).
    #[default]
    Report,
    /// Report it with a [`Repair::Overwrite`]: a repair brings the invoice back to the Kentico order.
    Overwrite,
}

/// One difference between the shop and the books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// What kind.
    pub class: AuditClass,
    /// The Kentico order number (empty for an orphan).
    #[serde(default)]
    pub order_number: String,
    /// The Kentico order id (0 for an orphan).
    #[serde(default)]
    pub order_id: i64,
    /// The Kentico order GUID, as the marker carries it.
    pub order_guid: String,
    /// The FreshBooks object concerned (`invoice 12`, `payment 40`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshbooks: Option<String>,
    /// What Kentico (the order, through the sync's own mapping) says FreshBooks should hold.
    pub expected: String,
    /// What FreshBooks holds.
    pub actual: String,
    /// How Ferry can repair it, if it may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair: Option<Repair>,
}

/// One audit of a tenant: the window, what was checked, what it cost, and every difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// The stored report's id (0 until stored).
    #[serde(default)]
    pub id: i64,
    /// The tenant audited.
    pub tenant: String,
    /// Orders changed in Kentico from this moment were checked.
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// When the audit started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When it finished.
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// Kentico orders compared with FreshBooks.
    pub orders_checked: usize,
    /// Orders in the window not compared: invalid (the sync refuses them) or waiting in the dead-letter queue for a
    /// person.
    pub orders_skipped: usize,
    /// FreshBooks API calls the audit made.
    pub freshbooks_calls: u64,
    /// Every difference found.
    pub differences: Vec<Difference>,
}

impl AuditReport {
    /// How many differences of each class, every class listed (zeros included).
    pub fn counts(&self) -> Vec<(AuditClass, usize)> {
        AuditClass::ALL
            .iter()
            .map(|c| {
                (
                    *c,
                    self.differences.iter().filter(|d| d.class == *c).count(),
                )
            })
            .collect()
    }

    /// No difference at all.
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }

    /// Differences Ferry may repair.
    pub fn repairable(&self) -> impl Iterator<Item = &Difference> {
        self.differences.iter().filter(|d| d.repair.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_serialise_by_their_snake_case_name() {
        for c in AuditClass::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        let r = Repair::RecordLedger {
            key: "t:invoice:x".into(),
            id: 4,
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"action": "record_ledger", "key": "t:invoice:x", "id": 4})
        );
    }
}
