//! Catalogue changes: SKUs created, edited, restocked, disabled and deleted by hand in the admin, and customers who
//! register before they order (stock moved by orders is `stock`). Each change stamps `*LastModified` and returns
//! the webhook events it causes (`sku.created`, `sku.updated`, `sku.deleted`, `customer.created`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use super::class::Record;
use super::customer::Customer;
use super::seed::{self, SITE_ID, Stream};
use super::sku::Sku;
use super::spec::{CustomerInfo, SkuKind};
use super::store::{Event, Store};

/// Webhook event types of the catalogue (Ferry's contract, `host/model/src/event.rs`).
pub(crate) mod kind {
    pub(crate) const SKU_CREATED: &str = "sku.created";
    pub(crate) const SKU_UPDATED: &str = "sku.updated";
    pub(crate) const SKU_DELETED: &str = "sku.deleted";
    pub(crate) const CUSTOMER_CREATED: &str = "customer.created";
}

/// `SKUTrackInventory` values (the Store API's `TrackInventoryTypeEnum`).
const TRACK_MODES: &[&str] = &["ByProduct", "ByVariants", "Disabled"];

/// A product, variant or option added by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuSpec {
    /// `SKUNumber`.
    pub number: String,
    /// `SKUName`.
    pub name: String,
    /// `SKUShortDescription` (plain text; stored as the admin's editor does, in a `<p>`).
    #[serde(default)]
    pub description: String,
    /// `SKUPrice` in the main currency.
    pub price: Decimal,
    /// `SKUTaxClassID` (1 standard, 2 reduced, 3 exempt in the seeded site).
    #[serde(default)]
    pub tax_class_id: Option<i64>,
    /// `SKUParentSKUID`: makes this SKU a variant of that product.
    #[serde(default)]
    pub parent_id: Option<i64>,
    /// `SKUTrackInventory`: `ByProduct` (default), `ByVariants` or `Disabled`.
    #[serde(default)]
    pub track_inventory: Option<String>,
    /// `SKUAvailableItems`.
    #[serde(default)]
    pub available_items: i64,
}

/// A change to a SKU made in the admin; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuPatch {
    /// `SKUName`.
    #[serde(default)]
    pub name: Option<String>,
    /// `SKUShortDescription`, plain text.
    #[serde(default)]
    pub description: Option<String>,
    /// `SKUPrice`.
    #[serde(default)]
    pub price: Option<Decimal>,
    /// `SKUAvailableItems`: the new stock count (a restock or a correction).
    #[serde(default)]
    pub available_items: Option<i64>,
    /// `SKUEnabled`.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `SKUTrackInventory`.
    #[serde(default)]
    pub track_inventory: Option<String>,
}

/// Why a catalogue change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogueError {
    /// No such SKU (or it was deleted).
    UnknownSku(i64),
    /// The SKU number is taken by another live SKU.
    DuplicateNumber(String),
    /// Not one of `ByProduct`, `ByVariants`, `Disabled`.
    TrackMode(String),
    /// The name is empty.
    EmptyName,
}

// Display is written out, as for `EditError`: the simulator keeps its dependencies to what the vendors' APIs need.
impl std::fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownSku(id) => write!(f, "no sku {id}"),
            Self::DuplicateNumber(n) => write!(f, "sku number {n} is already used"),
            Self::TrackMode(m) => write!(
                f,
                "track_inventory must be ByProduct, ByVariants or Disabled, got {m}"
            ),
            Self::EmptyName => write!(f, "name must not be empty"),
        }
    }
}

impl std::error::Error for CatalogueError {}

fn track_mode(raw: Option<&str>) -> Result<&'static str, CatalogueError> {
    match raw {
        None => Ok("ByProduct"),
        Some(m) => TRACK_MODES
            .iter()
            .find(|t| t.eq_ignore_ascii_case(m))
            .copied()
            .ok_or_else(|| CatalogueError::TrackMode(m.to_owned())),
    }
}

pub(crate) fn sku_event(sku: &Sku, kind: &'static str, changes: Map<String, Json>) -> Event {
    Event {
        kind,
        object_type: Sku::CLASS.object_type,
        id: sku.id,
        guid: sku.guid,
        last_modified: sku.last_modified,
        changes,
    }
}

impl Store {
    fn live_sku(&self, id: i64) -> Result<usize, CatalogueError> {
        self.skus
            .iter()
            .position(|s| s.id == id && !s.deleted)
            .ok_or(CatalogueError::UnknownSku(id))
    }

    /// Adds a SKU: `sku.created`.
    pub(crate) fn create_sku(
        &mut self,
        spec: &SkuSpec,
    ) -> Result<(i64, Vec<Event>), CatalogueError> {
        if spec.name.trim().is_empty() {
            return Err(CatalogueError::EmptyName);
        }
        if self
            .skus
            .iter()
            .any(|s| !s.deleted && s.number == spec.number)
        {
            return Err(CatalogueError::DuplicateNumber(spec.number.clone()));
        }
        if let Some(parent) = spec.parent_id {
            self.live_sku(parent)?;
        }
        let track_inventory = track_mode(spec.track_inventory.as_deref())?;
        let at = self.clock.now();
        let id = self.skus.len() as i64 + 1;
        let mut r = seed::rng(self.seed, Stream::LateGuid, 1_000_000 + id as u64);
        let sku = Sku {
            id,
            number: spec.number.clone(),
            name: spec.name.clone(),
            description: format!("<p>{}</p>", spec.description),
            short_description: format!("<p>{}</p>", spec.description),
            price: spec.price,
            retail_price: None,
            tax_class_id: spec.tax_class_id,
            guid: seed::guid(&mut r),
            created: at,
            last_modified: at,
            product_type: "PRODUCT",
            needs_shipping: true,
            weight: 0.25,
            available_items: spec.available_items,
            site_id: Some(SITE_ID),
            custom: Vec::new(),
            kind: SkuKind::Product,
            option_category_id: None,
            option_for: Vec::new(),
            bundle_items: Vec::new(),
            enabled: true,
            track_inventory,
            parent_id: spec.parent_id,
            deleted: false,
        };
        let event = sku_event(&sku, kind::SKU_CREATED, Map::new());
        self.skus.push(sku);
        Ok((id, vec![event]))
    }

    /// Applies an admin edit: one `sku.updated` listing the changed columns, none when nothing changed.
    pub(crate) fn update_sku(
        &mut self,
        id: i64,
        patch: &SkuPatch,
    ) -> Result<Vec<Event>, CatalogueError> {
        let i = self.live_sku(id)?;
        if patch.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(CatalogueError::EmptyName);
        }
        let track = patch
            .track_inventory
            .as_deref()
            .map(|m| track_mode(Some(m)))
            .transpose()?;
        let at = self.clock.now();
        let sku = &mut self.skus[i];
        let mut changes = Map::new();
        let mut note = |col: &str, from: Json, to: Json| {
            if from != to {
                changes.insert(col.into(), json!({"from": from, "to": to}));
            }
        };
        if let Some(name) = &patch.name {
            note("SKUName", json!(sku.name), json!(name));
            sku.name = name.clone();
        }
        if let Some(text) = &patch.description {
            let html = format!("<p>{text}</p>");
            note(
                "SKUShortDescription",
                json!(sku.short_description),
                json!(html),
            );
            sku.short_description = html.clone();
            sku.description = html;
        }
        if let Some(price) = patch.price {
            note("SKUPrice", json!(sku.price), json!(price));
            sku.price = price;
        }
        if let Some(n) = patch.available_items {
            note("SKUAvailableItems", json!(sku.available_items), json!(n));
            sku.available_items = n;
        }
        if let Some(enabled) = patch.enabled {
            note("SKUEnabled", json!(sku.enabled), json!(enabled));
            sku.enabled = enabled;
        }
        if let Some(track) = track {
            note(
                "SKUTrackInventory",
                json!(sku.track_inventory),
                json!(track),
            );
            sku.track_inventory = track;
        }
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        sku.last_modified = at;
        Ok(vec![sku_event(sku, kind::SKU_UPDATED, changes)])
    }

    /// Deletes a SKU: `sku.deleted`; the REST service no longer finds it. Orders keep their rows.
    pub(crate) fn delete_sku(&mut self, id: i64) -> Result<Vec<Event>, CatalogueError> {
        let i = self.live_sku(id)?;
        let at = self.clock.now();
        let sku = &mut self.skus[i];
        sku.deleted = true;
        sku.last_modified = at;
        Ok(vec![sku_event(sku, kind::SKU_DELETED, Map::new())])
    }

    /// A customer registers on the site (an account, no order yet): `customer.created`.
    pub(crate) fn register_customer(&mut self) -> (CustomerInfo, Vec<Event>) {
        let at = self.clock.now();
        let id = self.customers.len() as i64 + 1;
        let address_id = self.addresses.len() as i64 + 1;
        let (mut c, mut a) = seed::customer(self.seed, id, address_id, &self.states, at);
        c.created = at;
        c.last_modified = at;
        c.user_id = Some(100 + id);
        a.last_modified = at;
        let event = Event {
            kind: kind::CUSTOMER_CREATED,
            object_type: Customer::CLASS.object_type,
            id: c.id,
            guid: c.guid,
            last_modified: at,
            changes: Map::new(),
        };
        let info = CustomerInfo {
            id: c.id,
            guid: c.guid,
            email: c.email.clone().unwrap_or_default(),
        };
        self.customers.push(c);
        self.addresses.push(a);
        (info, vec![event])
    }
}
