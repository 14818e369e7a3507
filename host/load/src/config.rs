//! The FreshBooks side of a tenant (`[tenants.freshbooks]`): account, OAuth application and base currency.

use crate::freshbooks::{FreshBooksClient, OAuthApp, TokenStore};
use ferry_model::{PaidChange, SentCancellation, UnknownSkuPolicy};
use ferry_outbound::HttpClient;
use secrecy::SecretString;
use serde::Deserialize;
use std::sync::Arc;

/// FreshBooks account access.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshBooksConfig {
    /// API base URL (`https://api.freshbooks.com`).
    pub api_base: String,
    /// OAuth base URL (`https://auth.freshbooks.com` for the authorize page; the token endpoint is on `api_base`).
    pub auth_base: String,
    /// The FreshBooks account id (from `/auth/api/v1/users/me`).
    pub account_id: String,
    /// OAuth application client id.
    pub client_id: String,
    /// OAuth application client secret.
    pub client_secret: SecretString,
    /// OAuth redirect URI registered with the application.
    #[serde(default)]
    pub redirect_uri: String,
    /// Initial refresh token (after `ferry connect` the store keeps the rotated one).
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    /// The account's base currency; orders in another currency are converted.
    pub base_currency: String,
}

impl FreshBooksConfig {
    /// The OAuth application this account is reached through.
    pub fn oauth_app(&self) -> OAuthApp {
        OAuthApp {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            redirect_uri: self.redirect_uri.clone(),
        }
    }

    /// A client for this account, on the host's shared outbound client, with tokens kept in `tokens`.
    pub fn client(
        &self,
        http: HttpClient,
        tenant: impl Into<String>,
        tokens: Arc<dyn TokenStore>,
    ) -> FreshBooksClient {
        FreshBooksClient::new(
            http,
            tenant,
            &self.api_base,
            &self.auth_base,
            self.account_id.clone(),
            self.oauth_app(),
            tokens,
        )
    }
}

/// Per-tenant load settings: what to do with SKUs FreshBooks has no item for, and with invoices whose order was
/// cancelled or edited after they were sent or paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// Unknown-SKU policy.
    pub unknown_sku: UnknownSkuPolicy,
    /// The item lines are billed against under [`UnknownSkuPolicy::DefaultItem`].
    pub default_item: String,
    /// What a cancelled order's sent, unpaid invoice gets.
    pub sent_cancellation: SentCancellation,
    /// What a cancelled order's paid invoice gets.
    pub paid_cancellation: PaidChange,
    /// What a paid invoice gets when its order is edited.
    pub paid_edit: PaidChange,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            unknown_sku: UnknownSkuPolicy::CreateItem,
            default_item: "Kentico product".to_owned(),
            sent_cancellation: SentCancellation::CreditNote,
            paid_cancellation: PaidChange::CreditNote,
            paid_edit: PaidChange::CreditNote,
        }
    }
}

/// The catalogue sync (`[tenants.catalogue]`): Kentico SKUs kept as FreshBooks items, with their stock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogueConfig {
    /// Keep every SKU (product, variant, option) as a FreshBooks item: `sku.*` webhooks, `SKULastModified`
    /// polling and `ferry tenant backfill --catalogue`. Off by default: items are then created only when an order
    /// first bills a SKU, and never updated.
    pub enabled: bool,
    /// ISO 3166 two-letter country whose rate of the SKU's tax class the item carries (the shop's home country);
    /// unset, items carry no tax (each invoice line still carries its destination's tax).
    pub tax_country: Option<String>,
}

/// Customers (`[tenants.customers]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CustomersConfig {
    /// Create the FreshBooks client when a customer registers or changes (`customer.created`, `customer.updated`),
    /// before any order; off, a client is created with the customer's first order and only updated before it.
    pub create_before_order: bool,
}
