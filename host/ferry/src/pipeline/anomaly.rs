//! The anomaly hold between validate and transform: the tenant's checks (`ferry_transform::anomaly`) against its
//! order history in the store, and that history kept up to date after each sync.
//!
//! An order is checked the first time it is sent: an order already synced (an edit, a status change, a
//! redelivery) is not held again, and an event a replay released from its hold runs unchecked, so a replay is the
//! only way past a hold.

use super::{Pipeline, StepError};
use crate::tenants::TenantRuntime;
use ferry_model::Order;
use ferry_store::{Claimed, SyncedOrder};
use ferry_transform::anomaly::{self, History, OrderFacts};

/// What the anomaly step did with an order.
#[derive(Debug)]
enum Verdict {
    /// Checked; nothing unusual.
    Passed { history: usize },
    /// Synced before: an edit or redelivery, not held again.
    SyncedBefore,
    /// A replay released it from its hold.
    Released,
    /// Cancelled: nothing is sent, nothing to hold.
    Cancelled,
}

impl Pipeline {
    /// Runs the tenant's anomaly checks on `order` (the `anomaly` step in the run history, when they are enabled)
    /// and holds it for review when anything is unusual: the hold is recorded, then [`StepError::Held`]
    /// dead-letters the event with the reasons.
    pub(super) async fn check_anomalies(
        &self,
        claimed: &Claimed,
        tenant: &TenantRuntime,
        order: &Order,
    ) -> Result<(), StepError> {
        let config = &tenant.config.anomaly;
        if !config.enabled {
            return Ok(());
        }
        let verdict = self
            .step(
                claimed,
                "anomaly",
                |v: &Verdict| match v {
                    Verdict::Passed { history } => serde_json::json!({ "history": history }),
                    Verdict::SyncedBefore => serde_json::json!({ "skipped": "synced before" }),
                    Verdict::Released => serde_json::json!({ "skipped": "released by a replay" }),
                    Verdict::Cancelled => serde_json::json!({ "skipped": "cancelled" }),
                },
                async {
                    let cancelled = &tenant.config.mapping.cancelled_statuses;
                    if cancelled.contains(&order.status.code) {
                        return Ok(Verdict::Cancelled);
                    }
                    if self.store.released_from_review(claimed.lease.job).await? {
                        return Ok(Verdict::Released);
                    }
                    let facts = OrderFacts::of(order);
                    let h = self
                        .store
                        .order_history(
                            &tenant.id,
                            &order.guid.to_string(),
                            order.currency.as_str(),
                            &facts.customer,
                            config.history,
                        )
                        .await?;
                    if h.seen {
                        return Ok(Verdict::SyncedBefore);
                    }
                    let history = History {
                        totals: h.totals,
                        max_quantities: h.max_quantities,
                        customer_countries: h.customer_countries,
                    };
                    let reasons = anomaly::check(order, &history, config);
                    if reasons.is_empty() {
                        return Ok(Verdict::Passed {
                            history: history.totals.len(),
                        });
                    }
                    // Recorded before the dead letter, so the replay of that dead letter releases it.
                    self.store.hold_for_review(claimed.lease.job).await?;
                    Err(StepError::Held {
                        order: order.number.clone(),
                        reasons,
                    })
                },
            )
            .await?;
        tracing::debug!(?verdict, "Anomaly checks passed.");
        Ok(())
    }

    /// Keeps what the anomaly checks compare later orders with, and counts the order in the tenant's usage the first
    /// time, with the event's completion (in its transaction; [`Self::count_synced`] after it). Every tenant's orders
    /// are kept, so checks switched on later start from the history.
    pub(super) fn remember_synced(&self, claimed: &Claimed, tenant: &TenantRuntime, order: &Order) {
        let facts = OrderFacts::of(order);
        let synced = SyncedOrder {
            order_guid: order.guid.to_string(),
            currency: order.currency.to_string(),
            total: facts.total,
            max_quantity: facts.max_quantity,
            customer: facts.customer,
            country: facts.country,
        };
        self.store
            .record_synced_order_with_answer(&claimed.lease, &tenant.id, &synced);
    }

    /// Counts a completed event's order in the usage metric when its completion recorded it as synced for the first
    /// time.
    pub(super) fn count_synced(claimed: &Claimed) {
        if claimed.lease.counted_new_order() {
            metrics::counter!(crate::telemetry::metrics::USAGE_ORDERS_SYNCED_TOTAL,
                "tenant" => claimed.event.tenant.to_string())
            .increment(1);
        }
    }
}
