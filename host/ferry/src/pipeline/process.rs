//! What one event does, stage by stage: the diagram webhook → store → extract → transform → load in code.

use super::{Pipeline, StepError};
use crate::tenants::TenantRuntime;
use crate::tenants::adapters::StoreLedger;
use ferry_model::{Conversion, Drafts, EventEnvelope, EventKind, Order};
use ferry_store::{Claimed, EventTag, Outcome, Step};
use std::future::Future;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

impl Pipeline {
    /// Runs one claimed event through the stages and returns what it produced.
    pub(super) async fn process(&self, claimed: &Claimed) -> Result<Outcome, StepError> {
        let ev = &claimed.event;
        let tenant = self
            .tenants
            .get(&ev.tenant)
            .ok_or_else(|| StepError::UnknownTenant(ev.tenant.to_string()))?;
        let envelope = ev
            .envelope()
            .map_err(|e| StepError::BadEvent(e.to_string()))?;
        match envelope.kind {
            EventKind::CustomerCreated | EventKind::CustomerUpdated
                if tenant.config.customers.create_before_order =>
            {
                self.process_customer_client(claimed, &tenant, &envelope)
                    .await
            }
            // A registration alone has nothing to update: the client comes with the first order.
            EventKind::CustomerCreated => Ok(Outcome::default()),
            EventKind::CustomerUpdated => self.process_customer(claimed, &tenant, &envelope).await,
            EventKind::SkuCreated | EventKind::SkuUpdated | EventKind::SkuDeleted => {
                self.process_product(claimed, &tenant, &envelope).await
            }
            EventKind::PaymentCreated
            | EventKind::PaymentUpdated
            | EventKind::PaymentDeleted
            | EventKind::InvoiceUpdated => self.process_payment(claimed, &tenant, &envelope).await,
            _ => self.process_order(claimed, &tenant, &envelope).await,
        }
    }

    /// Times a step and records it in the run history (ids only, never payloads).
    pub(super) async fn step<T, F, D>(
        &self,
        claimed: &Claimed,
        name: &str,
        detail: D,
        fut: F,
    ) -> Result<T, StepError>
    where
        F: Future<Output = Result<T, StepError>>,
        D: FnOnce(&T) -> serde_json::Value,
    {
        let started_at = OffsetDateTime::now_utc();
        let clock = Instant::now();
        let result = fut.await;
        let (ok, detail) = match &result {
            Ok(v) => (true, detail(v)),
            Err(e) => (false, serde_json::json!({ "error": e.to_string() })),
        };
        let step = Step {
            name: name.to_owned(),
            started_at,
            duration: clock.elapsed(),
            ok,
            detail,
        };
        metrics::histogram!(crate::telemetry::metrics::STEP_SECONDS,
            "tenant" => claimed.event.tenant.to_string(), "step" => name.to_owned())
        .record(step.duration.as_secs_f64());
        // History is best effort: losing a timing row must not fail or repeat the sync.
        if let Err(error) = self.store.record_step(&claimed.lease, &step).await {
            tracing::warn!(%error, step = name, "Could not record step.");
        }
        result
    }

    /// Runs the load step, and runs it again — up to `load_retries` times, `load_backoff` apart — when FreshBooks
    /// failed in passing (a 503, a reset, a lost reply): a fault costs a short pause inside the attempt instead of a
    /// trip back through the queue under the worker's backoff, with the Kentico reads, the validation and the plugins
    /// done again (issue 20). The ledger keeps the rerun exactly-once: writes already done are not redone (the
    /// attempt's held-back results included), and a write whose outcome is unknown is searched for by its marker
    /// before it is sent again. Each run is a step of the run history.
    pub(super) async fn load<T, F, Fut>(
        &self,
        claimed: &Claimed,
        detail: impl Fn(&T) -> serde_json::Value,
        run: F,
    ) -> Result<T, StepError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ferry_load::Error>>,
    {
        let backoff = self.retry.load_backoff;
        let mut reruns = 0;
        let mut failed = None;
        loop {
            let result = self
                .step(claimed, "load", &detail, async { Ok(run().await?) })
                .await;
            match result {
                Err(StepError::Load(error))
                    if reruns < self.retry.load_retries
                        && error.failed_in_passing(Duration::from_millis(backoff.cap_ms)) =>
                {
                    let delay = backoff
                        .delay_for(reruns, &error.disposition())
                        .unwrap_or_default();
                    tracing::info!(%error, delay_ms = delay.as_millis() as u64,
                        "FreshBooks failed in passing; the load runs again within the attempt.");
                    tokio::time::sleep(delay).await;
                    reruns += 1;
                    failed = Some(error);
                }
                // A rerun can only do better than the failure before it: one that met the breaker the failures
                // opened (a wait that spends no attempt) answers with that failure, as the attempt would have
                // without the rerun, so an outage still spends the event's attempts.
                Err(error) if !error.burns_attempt() => {
                    return Err(failed.map_or(error, StepError::Load));
                }
                other => return other,
            }
        }
    }

    /// Tags the event with a business key for search (best effort, like the run history's steps).
    pub(super) async fn tag(&self, claimed: &Claimed, tag: EventTag<'_>) {
        if let Err(error) = self.store.tag_event(&claimed.lease, tag).await {
            tracing::warn!(%error, ?tag, "Could not tag the event for search.");
        }
    }

    async fn process_order(
        &self,
        claimed: &Claimed,
        tenant: &TenantRuntime,
        envelope: &EventEnvelope,
    ) -> Result<Outcome, StepError> {
        // A completed run of this order that read it as it stood at or after this event's change (a checkout's paid
        // webhook arriving after the created one was synced) has answered it: no Kentico read, nothing to write.
        if let Some((run, number)) = &claimed.covered_by {
            return Ok(Outcome {
                freshbooks: serde_json::json!({ "covered_by": run.0 }),
                order_number: number.clone(),
                invoice_id: None,
            });
        }
        let order: Order = self
            .step(
                claimed,
                "extract",
                |o: &Order| serde_json::json!({ "order_number": o.number, "lines": o.lines.len() }),
                async {
                    Ok(ferry_extract::fetch_order_since(
                        &tenant.kentico,
                        envelope.object.id,
                        envelope.object.last_modified,
                    )
                    .await?)
                },
            )
            .await?;
        // Found by its number from now on, even when a later step fails (an invalid order's dead letter).
        self.tag(claimed, EventTag::OrderNumber(&order.number))
            .await;

        let reasons = self
            .step(
                claimed,
                "validate",
                |r: &Vec<String>| serde_json::json!({ "issues": r.len() }),
                async {
                    Ok(tenant
                        .plugins
                        .for_event(claimed.event.job)
                        .validate(&order)
                        .await?)
                },
            )
            .await?;
        if !reasons.is_empty() {
            return Err(StepError::Invalid {
                order: order.number.clone(),
                reasons,
            });
        }
        self.check_anomalies(claimed, tenant, &order).await?;

        let conversion = self.conversion(tenant, &order).await?;
        let drafts: Drafts = self
            .step(
                claimed,
                "transform",
                |d: &Drafts| {
                    let status = ferry_transform::unmapped_status(
                        &tenant.config.mapping,
                        &order.status.code,
                    );
                    serde_json::json!({ "lines": d.invoice.lines.len(), "status": status })
                },
                async {
                    Ok(tenant
                        .plugins
                        .for_event(claimed.event.job)
                        .run(&order, conversion)
                        .await?)
                },
            )
            .await?;

        let ledger =
            StoreLedger::for_attempt(self.store.clone(), tenant.id.clone(), claimed.lease.clone());
        let synced = self
            .load(
                claimed,
                |s: &ferry_load::Synced| serde_json::to_value(s).unwrap_or_default(),
                || {
                    ferry_load::sync_order(
                        &tenant.freshbooks,
                        &ledger,
                        &tenant.id,
                        &order,
                        &drafts,
                        &tenant.sync,
                    )
                },
            )
            .await?;
        if synced.invoice_id != 0 && !drafts.cancelled {
            self.remember_synced(claimed, tenant, &order);
        }
        // This run saw the order as it stood at its OrderLastModified: the order's events still waiting with changes
        // up to then (a checkout's paid webhook behind its created one) are done with it.
        self.store
            .covers_with_answer(&claimed.lease, order.last_modified);
        Ok(Outcome {
            freshbooks: serde_json::to_value(&synced).unwrap_or_default(),
            order_number: Some(order.number.clone()),
            // A cancelled order that was never invoiced has none.
            invoice_id: (synced.invoice_id != 0).then(|| synced.invoice_id.to_string()),
        })
    }

    async fn process_customer(
        &self,
        claimed: &Claimed,
        tenant: &TenantRuntime,
        envelope: &EventEnvelope,
    ) -> Result<Outcome, StepError> {
        let customer = self
            .step(
                claimed,
                "extract",
                |c: &ferry_model::Customer| serde_json::json!({ "customer_id": c.id }),
                async {
                    Ok(ferry_extract::fetch_customer(&tenant.kentico, envelope.object.id).await?)
                },
            )
            .await?;
        let client_id = self
            .step(
                claimed,
                "load",
                |id: &Option<i64>| serde_json::json!({ "client_id": id }),
                async {
                    let draft = tenant
                        .plugins
                        .for_event(claimed.event.job)
                        .map_customer(&customer, &tenant.base_currency)
                        .await?;
                    let ledger = StoreLedger::new(self.store.clone(), tenant.id.clone());
                    Ok(ferry_load::sync_customer(
                        &tenant.freshbooks,
                        &ledger,
                        &tenant.id,
                        &customer,
                        &draft,
                    )
                    .await?)
                },
            )
            .await?;
        Ok(Outcome {
            freshbooks: serde_json::json!({ "client_id": client_id }),
            order_number: None,
            invoice_id: None,
        })
    }

    /// The conversion into the tenant's FreshBooks currency, when the order is in another one.
    async fn conversion(
        &self,
        tenant: &TenantRuntime,
        order: &Order,
    ) -> Result<Option<Conversion>, StepError> {
        conversion(&self.exchange, tenant, order).await
    }
}

/// The conversion of `order` into the tenant's FreshBooks currency at the order date's rate, when it is in another
/// one (the books audit builds its expected drafts with the same one).
pub(crate) async fn conversion(
    exchange: &crate::services::ExchangeClient,
    tenant: &TenantRuntime,
    order: &Order,
) -> Result<Option<Conversion>, StepError> {
    Ok(exchange
        .conversion(
            &order.currency,
            &tenant.base_currency,
            order.created_at.date(),
        )
        .await?)
}
