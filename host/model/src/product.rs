//! The catalogue: a Kentico SKU (product, variant or option) in canonical form, and the FreshBooks item it
//! becomes. Kentico is the master of stock; FreshBooks only mirrors it.

use crate::{CustomField, ItemDraft, TaxClass};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// A Kentico SKU (`COM_SKU`): a product, a variant of one (`SKUParentSKUID`), or a product option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// `SKUID`.
    pub id: i64,
    /// `SKUGUID`.
    pub guid: Uuid,
    /// `SKUNumber` (empty when the SKU has none).
    pub number: String,
    /// `SKUName`.
    pub name: String,
    /// `SKUShortDescription`, else `SKUDescription`, as plain text.
    pub description: String,
    /// `SKUPrice` in the site's main currency.
    pub price: Decimal,
    /// The site's main currency (`CurrencyIsMain`), the currency of `price`.
    pub currency: crate::CurrencyCode,
    /// The SKU's tax class, with the rate of the tenant's catalogue country when one is configured.
    pub tax_class: Option<TaxClass>,
    /// `SKUParentSKUID`: the product this SKU is a variant of.
    pub parent_id: Option<i64>,
    /// `SKUOptionCategoryID`: set for product options.
    pub option_category_id: Option<i64>,
    /// `SKUEnabled`: a disabled SKU cannot be bought, and its item is archived.
    pub enabled: bool,
    /// Stock, when the SKU tracks it (`SKUTrackInventory` `ByProduct`, or `ByVariants` on a variant); `None` when
    /// it does not.
    pub stock: Option<i64>,
    /// Product attributes: `SKUCustomData` entries.
    pub attributes: Vec<CustomField>,
    /// `SKULastModified`.
    #[serde(with = "time::serde::rfc3339")]
    pub last_modified: OffsetDateTime,
}

/// The FreshBooks item a SKU becomes: the item as orders would create it, plus what only the catalogue sync
/// writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDraft {
    /// Name, description, SKU, unit cost and tax (shaped by the plugins' `map-item`).
    pub item: ItemDraft,
    /// `inventory`: the stock count, `None` for an item whose stock is not tracked.
    pub inventory: Option<i64>,
    /// Whether the item should be active; a disabled or deleted SKU's item is archived (`vis_state` 1).
    pub active: bool,
}
