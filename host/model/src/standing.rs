//! How much of an invoice is paid: what the payment write-back carries from FreshBooks to Kentico.

use serde::{Deserialize, Serialize};

/// How much of an invoice is paid, as the accounting system shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Nothing paid.
    Unpaid,
    /// Some paid, some outstanding.
    Partial,
    /// Nothing outstanding.
    Paid,
}
