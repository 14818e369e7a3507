//! One FreshBooks payment or invoice event, the write-back direction: FreshBooks (the invoice's standing) → the
//! ledger (the Kentico order of an invoice Ferry created) → Kentico (the order's paid state, written when it differs
//! from what the tenant's `[tenants.payments]` policy asks for).
//!
//! Nothing echoes: a payment Ferry itself posted (its ledger key) is not news; an order Kentico already shows paid
//! is not written again; and the order event Kentico raises for Ferry's write syncs an invoice that is already paid,
//! so no payment is posted for it (`load` does not pay a settled invoice).

use super::{Pipeline, StepError};
use crate::tenants::TenantRuntime;
use crate::tenants::adapters::StoreLedger;
use ferry_extract::writeback::{PaidState, PaidWrite, decide, paid_state, write_paid_state};
use ferry_load::writeback::{
    InvoiceStanding, invoice_standing, is_ferrys_payment, order_of_invoice,
};
use ferry_model::{EventEnvelope, EventKind};
use ferry_store::{Claimed, Outcome};
use serde_json::json;

impl Pipeline {
    /// Runs one `payment.*` / `invoice.update` event.
    pub(super) async fn process_payment(
        &self,
        claimed: &Claimed,
        tenant: &TenantRuntime,
        envelope: &EventEnvelope,
    ) -> Result<Outcome, StepError> {
        let kind = envelope.kind;
        let object_id = envelope.object.id;
        let payment_id = (kind != EventKind::InvoiceUpdated).then_some(object_id);
        let policy = &tenant.config.payments;
        if !policy.enabled {
            return Ok(skipped(
                "payments write-back is off for the tenant",
                payment_id,
                None,
            ));
        }
        let standing = self
            .step(
                claimed,
                "freshbooks",
                |s: &Option<InvoiceStanding>| json!(s),
                async {
                    match invoice_standing(&tenant.freshbooks, kind, object_id).await {
                        Ok(s) => Ok(s),
                        // Deleted for good before we looked: nothing to carry back.
                        Err(e) if e.is_not_found() => Ok(None),
                        Err(e) => Err(e.into()),
                    }
                },
            )
            .await?;
        let Some(standing) = standing else {
            return Ok(skipped("not a payment on an invoice", payment_id, None));
        };
        let invoice_id = standing.invoice_id;
        let keys = self
            .store
            .ledger_keys_for(&tenant.id, &invoice_id.to_string())
            .await?;
        let Some(order_guid) = order_of_invoice(tenant.id.as_str(), &keys) else {
            return Ok(skipped(
                "invoice not created by Ferry",
                payment_id,
                Some(invoice_id),
            ));
        };
        if let Some(id) = standing.payment_id
            && !standing.payment_withdrawn
        {
            let keys = self
                .store
                .ledger_keys_for(&tenant.id, &id.to_string())
                .await?;
            if is_ferrys_payment(tenant.id.as_str(), &keys) {
                return Ok(skipped("Ferry's own payment", payment_id, Some(invoice_id)));
            }
        }
        // One write-back per order at a time: two payments of one invoice, run side by side, would both read the order
        // unpaid and both write it.
        let _held = lock_order(
            StoreLedger::new(self.store.clone(), tenant.id.clone()),
            order_guid,
        )
        .await?;
        let order: PaidState = self
            .step(claimed, "extract", |o: &PaidState| json!(o), async {
                Ok(paid_state(&tenant.kentico, order_guid).await?)
            })
            .await?;
        let refund = matches!(kind, EventKind::PaymentUpdated | EventKind::PaymentDeleted);
        let write = decide(
            policy,
            standing.standing,
            refund,
            &order,
            &tenant.config.mapping.cancelled_statuses,
        );
        let order_id = order.order_id;
        let written: Option<PaidWrite> = match write {
            None => None,
            Some(w) => Some(
                self.step(
                    claimed,
                    "writeback",
                    |w: &PaidWrite| json!({ "order_id": order_id, "written": w }),
                    async {
                        write_paid_state(&tenant.kentico, order.order_id, &w).await?;
                        Ok(w)
                    },
                )
                .await?,
            ),
        };
        if let Some(w) = &written {
            tracing::info!(order_id = order.order_id, invoice_id, is_paid = ?w.is_paid, status = ?w.status,
                "FreshBooks payment written back to Kentico.");
        }
        Ok(Outcome {
            freshbooks: json!({
                "payment_id": payment_id,
                "invoice_id": invoice_id,
                "standing": standing.standing,
                "kentico_order_id": order.order_id,
                "written": written,
            }),
            order_number: Some(order.number),
            invoice_id: Some(invoice_id.to_string()),
        })
    }
}

/// The outcome of an event that changes nothing in Kentico, and why.
fn skipped(why: &'static str, payment_id: Option<i64>, invoice_id: Option<i64>) -> Outcome {
    Outcome {
        freshbooks: json!({ "payment_id": payment_id, "invoice_id": invoice_id, "skipped": why }),
        order_number: None,
        invoice_id: invoice_id.map(|i| i.to_string()),
    }
}

/// Exclusive use of one order's write-back (across tasks and hosts) while it is read, decided and written.
async fn lock_order(
    ledger: StoreLedger,
    order_guid: uuid::Uuid,
) -> Result<ferry_load::LedgerLock, StepError> {
    let key = format!("writeback:{order_guid}");
    ferry_load::Ledger::lock(&ledger, &key).await.map_err(|e| {
        StepError::Load(ferry_load::Error::Store {
            what: "lock the order's write-back".to_owned(),
            reason: e.to_string(),
        })
    })
}
