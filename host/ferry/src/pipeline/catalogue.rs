//! What a catalogue event does: `sku.*` → extract the SKU as it is now → its item draft (default + the plugins'
//! `map-item`) → load the item (created, updated, archived). A deleted SKU archives its item. And customers: with
//! `[tenants.customers] create_before_order`, `customer.created` / `customer.updated` make the client.

use super::{Pipeline, StepError};
use crate::tenants::TenantRuntime;
use crate::tenants::adapters::StoreLedger;
use ferry_model::{Conversion, EventEnvelope, EventKind, Product, ProductDraft};
use ferry_store::{Claimed, EventTag, Outcome};

impl Pipeline {
    /// `sku.created`, `sku.updated`, `sku.deleted`: the SKU's FreshBooks item brought to the catalogue. A tenant
    /// without the catalogue sync completes the event without a call.
    pub(super) async fn process_product(
        &self,
        claimed: &Claimed,
        tenant: &TenantRuntime,
        envelope: &EventEnvelope,
    ) -> Result<Outcome, StepError> {
        let sku_id = envelope.object.id;
        if !tenant.config.catalogue.enabled {
            return Ok(Outcome {
                freshbooks: serde_json::json!({ "skipped": "catalogue sync is off for this tenant" }),
                ..Outcome::default()
            });
        }
        let ledger = StoreLedger::new(self.store.clone(), tenant.id.clone());
        let country = tenant.config.catalogue.tax_country.as_deref();
        let product = if envelope.kind == EventKind::SkuDeleted {
            None
        } else {
            self.step(
                claimed,
                "extract",
                |p: &Option<Product>| {
                    serde_json::json!({ "sku": p.as_ref().map(|p| &p.number), "stock": p.as_ref().and_then(|p| p.stock) })
                },
                async {
                    match ferry_extract::fetch_product(&tenant.kentico, sku_id, country).await {
                        Ok(p) => Ok(Some(p)),
                        // Deleted since the event was sent: the same as `sku.deleted`.
                        Err(ferry_extract::Error::NotFound { .. }) => Ok(None),
                        Err(e) => Err(e.into()),
                    }
                },
            )
            .await?
        };
        let Some(product) = product else {
            let archived = self
                .step(
                    claimed,
                    "load",
                    |s: &ferry_load::ItemSynced| serde_json::to_value(s).unwrap_or_default(),
                    async {
                        Ok(ferry_load::archive_product(
                            &tenant.freshbooks,
                            &ledger,
                            &tenant.id,
                            sku_id,
                        )
                        .await?)
                    },
                )
                .await?;
            if !archived.sku.is_empty() {
                self.tag(claimed, EventTag::Sku(&archived.sku)).await;
            }
            return Ok(item_outcome(&archived));
        };
        let conversion = self.catalogue_conversion(tenant, &product).await?;
        let draft: ProductDraft = self
            .step(
                claimed,
                "transform",
                |d: &ProductDraft| serde_json::json!({ "sku": d.item.sku, "inventory": d.inventory, "active": d.active }),
                async { Ok(tenant.plugins.for_event(claimed.event.job).map_product(&product, conversion).await?) },
            )
            .await?;
        self.tag(claimed, EventTag::Sku(&draft.item.sku)).await;
        let synced = self
            .step(
                claimed,
                "load",
                |s: &ferry_load::ItemSynced| serde_json::to_value(s).unwrap_or_default(),
                async {
                    Ok(ferry_load::sync_product(
                        &tenant.freshbooks,
                        &ledger,
                        &tenant.id,
                        sku_id,
                        &draft,
                    )
                    .await?)
                },
            )
            .await?;
        Ok(item_outcome(&synced))
    }

    /// The conversion of catalogue prices (the site's main currency) into the tenant's FreshBooks currency, at
    /// today's rate, when they differ.
    async fn catalogue_conversion(
        &self,
        tenant: &TenantRuntime,
        product: &Product,
    ) -> Result<Option<Conversion>, StepError> {
        let today = time::OffsetDateTime::now_utc().date();
        Ok(self
            .exchange
            .conversion(&product.currency, &tenant.base_currency, today)
            .await?)
    }

    /// `customer.created` / `customer.updated` for a tenant with `[tenants.customers] create_before_order`: the
    /// customer's client, created if it has none.
    pub(super) async fn process_customer_client(
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
        let draft = self
            .step(
                claimed,
                "transform",
                |_: &ferry_model::ClientDraft| serde_json::json!({}),
                async {
                    Ok(tenant
                        .plugins
                        .for_event(claimed.event.job)
                        .map_customer(&customer, &tenant.base_currency)
                        .await?)
                },
            )
            .await?;
        let client_id = self
            .step(
                claimed,
                "load",
                |id: &i64| serde_json::json!({ "client_id": id }),
                async {
                    let ledger = StoreLedger::new(self.store.clone(), tenant.id.clone());
                    Ok(ferry_load::sync_customer_client(
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
            ..Outcome::default()
        })
    }
}

/// The run history's record of a catalogue event: the item and what was done, searchable by SKU.
fn item_outcome(synced: &ferry_load::ItemSynced) -> Outcome {
    Outcome {
        freshbooks: serde_json::to_value(synced).unwrap_or_default(),
        ..Outcome::default()
    }
}
