//! The Rust/JSON API for driving the store: what to place, how to change it, and what came back.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How an invalid order is made invalid, the way such orders really reach Kentico.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Defect {
    /// A guest checkout whose customer row has no e-mail (`CustomerEmail` NULL).
    MissingEmail,
    /// An order with no items (all lines removed in the admin after checkout).
    EmptyOrder,
    /// `OrderTotalPrice` edited by hand so it no longer equals items + shipping + tax.
    TotalsMismatch,
    /// A correction line with a negative `OrderItemUnitCount`.
    NegativeQuantity,
}

impl Defect {
    /// Every defect, in the order `random_order` picks from.
    pub const ALL: [Self; 4] = [
        Self::MissingEmail,
        Self::EmptyOrder,
        Self::TotalsMismatch,
        Self::NegativeQuantity,
    ];
}

/// Proportions for [`super::KenticoHandle::random_order`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderMix {
    /// Fraction of orders carrying a [`Defect`].
    pub invalid: f64,
    /// Fraction of orders in a currency other than the main one (EUR, GBP or CAD).
    pub foreign_currency: f64,
    /// Fraction of orders paid at checkout.
    pub paid: f64,
}

impl Default for OrderMix {
    fn default() -> Self {
        Self {
            invalid: 0.0,
            foreign_currency: 0.3,
            paid: 0.6,
        }
    }
}

/// How often generated orders use each cart feature ([`super::KenticoHandle::random_order_with`]), each a
/// fraction in 0..=1 drawn independently. All default to 0, which generates exactly the orders
/// [`OrderMix`] alone does. Only valid orders (no [`Defect`]) get features. Over the control API these knobs
/// sit in the same `mix` object as [`OrderMix`]'s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderKinds {
    /// Catalog discounts run (lower unit prices); the order gets a coffee or gear line.
    pub discounted: f64,
    /// Volume discounts run; the order gets a coffee line of 5 to 12 units.
    pub volume: f64,
    /// A coupon code is entered (`WELCOME10`, `SAVE15` when the subtotal reaches it, or `BREW10` with a gear line).
    pub coupon: f64,
    /// The automatic order discount runs.
    pub order_discount: f64,
    /// A gift card (10, 25, 50 or 100) pays part or all of the order.
    pub gift_card: f64,
    /// A line gets a product option (bag size, gift box, engraving or paper filters).
    pub options: f64,
    /// The order contains a bundle.
    pub bundle: f64,
    /// Shipping is free (the automatic offer, or the `FREESHIP` coupon).
    pub free_shipping: f64,
    /// Buy X Get Y runs; the order gets three or more bags of one coffee.
    pub multibuy: f64,
    /// The order is edited in the admin after checkout (a quantity, a line or the shipping address).
    pub edited: f64,
    /// The order is cancelled after checkout.
    pub cancelled: f64,
}

/// One line to place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineSpec {
    /// `SKUID` from [`super::KenticoHandle::catalogue`].
    pub sku_id: i64,
    /// Units; negative only for a correction line.
    pub quantity: i32,
}

/// An order to place through checkout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderSpec {
    /// The customer; `None` picks one of the seeded customers.
    pub customer_id: Option<i64>,
    /// ISO currency code; `None` is the main currency (USD).
    pub currency: Option<String>,
    /// Lines; unit prices come from the catalogue, converted to the order currency.
    pub lines: Vec<LineSpec>,
    /// Pay at checkout (the gateway result marks the order paid right after it is created).
    pub paid: bool,
    /// Status code name to place the order in (`New` when `None`).
    pub status: Option<String>,
    /// How to make the order invalid, if at all.
    pub defect: Option<Defect>,
    /// Run the site's catalog discounts: "Coffee of the month" (10 % off every coffee) and "Gear clearance"
    /// (5.00 off each unit of brewing gear). They lower `OrderItemUnitPrice`.
    pub catalog_discounts: bool,
    /// Run the volume discounts: 5 % off a coffee bought 5 times or more, 10 % from 10.
    pub volume_discounts: bool,
    /// Run the Buy X Get Y offers: "Buy 2 bags, get 1 free" (coffee) and "Second mug half price".
    pub multibuy: bool,
    /// Run the automatic order discount "Loyalty 5%" (5 % off the items subtotal).
    pub order_discount: bool,
    /// Run the automatic free-shipping offer "Free shipping weekend".
    pub free_shipping: bool,
    /// Coupon codes entered at checkout (see [`COUPON_CODES`]); codes whose condition the cart does not meet
    /// are dropped, as Kentico does.
    pub coupons: Vec<String>,
    /// Redeem a gift card with this remaining value (main currency) as an "other payment".
    pub gift_card: Option<Decimal>,
    /// Product options chosen for lines (see [`SkuInfo::kind`]).
    pub options: Vec<OptionSpec>,
    /// Edit the order in the admin right after checkout (an `order.updated` event).
    pub then_edit: Option<OrderEdit>,
    /// Cancel the order right after checkout (and after `then_edit`): status `Canceled`.
    pub then_cancel: bool,
}

/// Coupon codes the seeded site accepts: `WELCOME10` (order discount "Welcome 10%"), `SAVE15` (order discount
/// "Save 15 on 75+": 15.00 off a subtotal of at least 75.00, main currency), `BREW10` (product coupon
/// "Brewing gear 10% off" on brewing gear lines) and `FREESHIP` (free shipping).
pub const COUPON_CODES: [&str; 4] = ["WELCOME10", "SAVE15", "BREW10", "FREESHIP"];

/// A product option chosen for one line of an [`OrderSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionSpec {
    /// Index of the parent line in [`OrderSpec::lines`].
    pub line: usize,
    /// `SKUID` of the option SKU.
    pub sku_id: i64,
    /// The customer's text, for a text option (`OrderItemText`).
    #[serde(default)]
    pub text: Option<String>,
}

/// A change made to a placed order in the admin. The order is recalculated the way K13's order editor does:
/// kept lines keep their stored unit prices, new lines are priced by the order's rules, and cart-item
/// discounts, order discounts, shipping, tax and gift cards run again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderEdit {
    /// The order's new product lines (SKU and quantity), replacing the old ones; a line whose SKU the order
    /// already had keeps its `OrderItemGuid`, unit price and options. `None` leaves the items alone.
    pub lines: Option<Vec<LineSpec>>,
    /// New billing address.
    pub billing_address: Option<AddressSpec>,
    /// New shipping address (only for orders that ship).
    pub shipping_address: Option<AddressSpec>,
}

/// An address to write on an order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddressSpec {
    /// `AddressPersonalName`; empty keeps the current one.
    pub personal_name: String,
    /// `AddressLine1`.
    pub line1: String,
    /// `AddressLine2`.
    pub line2: Option<String>,
    /// `AddressCity`.
    pub city: String,
    /// `AddressZip`.
    pub zip: String,
    /// ISO two-letter country code (`CountryTwoLetterCode`).
    pub country_code: String,
    /// State code (`StateCode`), for countries with states.
    pub state_code: Option<String>,
}

/// Why an order could not be edited.
// Display is written out rather than derived: the simulator crate keeps its dependencies to what the vendors'
// APIs need, and the workspace lockfile is shared with engineers working in parallel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// No order has this id.
    UnknownOrder(i64),
    /// A line names a SKU the store does not have, or one that cannot be ordered on its own.
    UnknownSku(i64),
    /// An address names an unknown country or state.
    UnknownPlace(String),
    /// A shipping address was given for an order that has none.
    NoShipping(i64),
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownOrder(id) => write!(f, "edit order {id}: the order does not exist"),
            Self::UnknownSku(id) => {
                write!(f, "edit order: sku {id} does not exist or is not a product")
            }
            Self::UnknownPlace(code) => write!(f, "edit order: unknown country or state {code}"),
            Self::NoShipping(id) => write!(f, "edit order {id}: the order has no shipping address"),
        }
    }
}

impl std::error::Error for EditError {}

/// What [`super::KenticoHandle::place_order`] created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedOrder {
    /// `OrderID`.
    pub id: i64,
    /// `OrderGUID`.
    pub guid: Uuid,
    /// `OrderInvoiceNumber` (K13's default generator writes the order id).
    pub number: String,
    /// ISO currency code of the order.
    pub currency: String,
    /// The defect it was placed with.
    pub defect: Option<Defect>,
}

/// Changes to a customer; `None` leaves a field alone, `Some("")` clears it (NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomerPatch {
    /// `CustomerFirstName`.
    pub first_name: Option<String>,
    /// `CustomerLastName`.
    pub last_name: Option<String>,
    /// `CustomerEmail`.
    pub email: Option<String>,
    /// `CustomerPhone`.
    pub phone: Option<String>,
    /// `CustomerCompany`.
    pub company: Option<String>,
    /// `CustomerTaxRegistrationID`.
    pub tax_registration_id: Option<String>,
    /// Custom column `CustomerLoyaltyTier`.
    pub loyalty_tier: Option<String>,
}

/// What a SKU is to the cart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkuKind {
    /// A product or e-product ordered on its own.
    #[default]
    Product,
    /// A bundle (`SKUProductType` `BUNDLE`): its contents become child rows.
    Bundle,
    /// An attribute option: its price is folded into the parent line's unit price.
    AttributeOption,
    /// A text option (the customer's text in `OrderItemText`), priced like an attribute option.
    TextOption,
    /// An accessory option: its own priced row under the parent line.
    AccessoryOption,
}

/// A catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuInfo {
    /// `SKUID`.
    pub id: i64,
    /// `SKUNumber`.
    pub number: String,
    /// `SKUName`.
    pub name: String,
    /// `SKUPrice` in the main currency.
    pub price: Decimal,
    /// Product, bundle or option.
    #[serde(default)]
    pub kind: SkuKind,
    /// For options: `SKUID`s of the products the option can be chosen for.
    #[serde(default)]
    pub option_for: Vec<i64>,
    /// `SKUAvailableItems`.
    #[serde(default)]
    pub available_items: i64,
    /// `SKUTrackInventory` is not `Disabled`.
    #[serde(default)]
    pub tracks_inventory: bool,
    /// `SKUEnabled`.
    #[serde(default)]
    pub enabled: bool,
    /// Deleted (no longer served over REST).
    #[serde(default)]
    pub deleted: bool,
    /// `SKUParentSKUID`: the product this SKU is a variant of.
    #[serde(default)]
    pub parent_id: Option<i64>,
}

/// A customer, as tests need to find it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerInfo {
    /// `CustomerID`.
    pub id: i64,
    /// `CustomerGUID`.
    pub guid: Uuid,
    /// `CustomerEmail` (empty for a guest without one).
    pub email: String,
}
