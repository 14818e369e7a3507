//! Products (`COM_SKU`).

use rust_decimal::Decimal;
use time::OffsetDateTime;
use uuid::Uuid;

use super::class::{Class, Record};
use super::spec::SkuKind;
use super::value::Kind::{Bool, Date, Float, Guid, Int, Money, Text};
use super::value::{Value, custom_data_xml};

/// `COM_SKU`.
#[derive(Debug, Clone)]
pub(crate) struct Sku {
    pub(crate) id: i64,
    pub(crate) number: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) short_description: String,
    /// Price in the main currency.
    pub(crate) price: Decimal,
    pub(crate) retail_price: Option<Decimal>,
    pub(crate) tax_class_id: Option<i64>,
    pub(crate) guid: Uuid,
    pub(crate) created: OffsetDateTime,
    pub(crate) last_modified: OffsetDateTime,
    /// guess: stored upper-case codes (docs/kentico.md §2.1 marks the stored values [G]).
    pub(crate) product_type: &'static str,
    pub(crate) needs_shipping: bool,
    pub(crate) weight: f64,
    pub(crate) available_items: i64,
    pub(crate) site_id: Option<i64>,
    pub(crate) custom: Vec<(&'static str, String)>,
    /// Product, bundle or option.
    pub(crate) kind: SkuKind,
    /// `SKUOptionCategoryID` of an option.
    pub(crate) option_category_id: Option<i64>,
    /// Options: ids of the products they can be chosen for (`COM_SKUOptionCategory`, not served).
    pub(crate) option_for: Vec<i64>,
    /// Bundles: `(SKUID, units per bundle)` of the contents (`COM_Bundle`, not served).
    pub(crate) bundle_items: Vec<(i64, i64)>,
    /// `SKUEnabled`.
    pub(crate) enabled: bool,
    /// `SKUTrackInventory`: `ByProduct`, `ByVariants` or `Disabled` (the Store API's `TrackInventoryTypeEnum`).
    pub(crate) track_inventory: &'static str,
    /// `SKUParentSKUID`: the product this SKU is a variant of.
    pub(crate) parent_id: Option<i64>,
    /// Deleted: no longer served (kept so positions and ids of the other SKUs stay as seeded).
    pub(crate) deleted: bool,
}

impl Sku {
    /// Whether the cart prices this SKU's row itself (products, bundles, accessory options).
    pub(crate) fn is_calculated(&self) -> bool {
        !matches!(self.kind, SkuKind::AttributeOption | SkuKind::TextOption)
    }
}

const SKU: Class = Class {
    object_type: "ecommerce.sku",
    table: "COM_SKU",
    columns: &[
        ("SKUID", Int),
        ("SKUNumber", Text),
        ("SKUName", Text),
        ("SKUDescription", Text),
        ("SKUPrice", Money),
        ("SKUEnabled", Bool),
        ("SKUDepartmentID", Int),
        ("SKUManufacturerID", Int),
        ("SKUInternalStatusID", Int),
        ("SKUPublicStatusID", Int),
        ("SKUSupplierID", Int),
        ("SKUAvailableInDays", Int),
        ("SKUGUID", Guid),
        ("SKUImagePath", Text),
        ("SKUWeight", Float),
        ("SKUWidth", Float),
        ("SKUDepth", Float),
        ("SKUHeight", Float),
        ("SKUAvailableItems", Int),
        ("SKUSellOnlyAvailable", Bool),
        ("SKUCustomData", Text),
        ("SKUOptionCategoryID", Int),
        ("SKUOrder", Int),
        ("SKULastModified", Date),
        ("SKUCreated", Date),
        ("SKUSiteID", Int),
        ("SKUNeedsShipping", Bool),
        ("SKUValidUntil", Date),
        ("SKUProductType", Text),
        ("SKUMaxItemsInOrder", Int),
        ("SKUValidity", Text),
        ("SKUValidFor", Int),
        ("SKUMembershipGUID", Guid),
        ("SKUBundleInventoryType", Text),
        ("SKUMinItemsInOrder", Int),
        ("SKURetailPrice", Money),
        ("SKUParentSKUID", Int),
        ("SKUShortDescription", Text),
        ("SKUEproductFilesCount", Int),
        ("SKUBundleItemsCount", Int),
        ("SKUInStoreFrom", Date),
        ("SKUReorderAt", Int),
        ("SKUTrackInventory", Text),
        ("SKUTaxClassID", Int),
        ("SKUBrandID", Int),
        ("SKUCollectionID", Int),
    ],
    guid: Some("SKUGUID"),
    code_name: None,
    site: Some("SKUSiteID"),
    parent: None,
};

impl Record for Sku {
    const CLASS: &'static Class = &SKU;

    fn id(&self) -> i64 {
        self.id
    }

    fn is_live(&self) -> bool {
        !self.deleted
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "SKUID" => Value::Int(self.id),
            "SKUNumber" => Value::Text(self.number.clone()),
            "SKUName" => Value::Text(self.name.clone()),
            "SKUDescription" => Value::Text(self.description.clone()),
            "SKUShortDescription" => Value::Text(self.short_description.clone()),
            "SKUPrice" => Value::Money(self.price),
            "SKURetailPrice" => self.retail_price.map_or(Value::Null, Value::Money),
            "SKUEnabled" => Value::Bool(self.enabled),
            "SKUGUID" => Value::Guid(self.guid),
            "SKUWeight" => Value::Float(self.weight),
            "SKUAvailableItems" => Value::Int(self.available_items),
            "SKUSellOnlyAvailable" => Value::Bool(false),
            "SKUCustomData" => Value::text(custom_data_xml(&self.custom).as_deref()),
            "SKUOrder" => Value::Int(self.id),
            "SKULastModified" => Value::Date(self.last_modified),
            "SKUCreated" => Value::Date(self.created),
            "SKUSiteID" => Value::int(self.site_id),
            "SKUNeedsShipping" => Value::Bool(self.needs_shipping),
            "SKUProductType" => Value::Text(self.product_type.into()),
            "SKUTrackInventory" => Value::Text(self.track_inventory.into()),
            "SKUParentSKUID" => Value::int(self.parent_id),
            "SKUTaxClassID" => Value::int(self.tax_class_id),
            "SKUEproductFilesCount" => Value::Int(0),
            "SKUBundleItemsCount" => Value::Int(self.bundle_items.len() as i64),
            "SKUOptionCategoryID" => Value::int(self.option_category_id),
            // guess: the enum name upper-cased, as SKUProductType is stored (docs/kentico.md §2.1 marks both [G]).
            "SKUBundleInventoryType" => {
                Value::text((self.kind == SkuKind::Bundle).then_some("REMOVEBUNDLE"))
            }
            _ => Value::Null,
        }
    }
}
