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
}

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
