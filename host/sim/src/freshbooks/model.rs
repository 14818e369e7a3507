//! FreshBooks objects as the accounting API returns them (docs/freshbooks.md §6), written from the SDK fixtures and the
//! live recordings. Field order follows the API's alphabetical output; every key the live API sends is present, so the
//! simulator's replies have the recorded shape.

use serde::{Deserialize, Serialize};

/// Money: a decimal string amount and an ISO 4217 code (docs/freshbooks.md §0.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Decimal string, two places in responses (`"1500.00"`).
    pub amount: String,
    /// Currency code (`"USD"`).
    pub code: String,
}

/// A client (`users/clients`, docs/freshbooks.md §6.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // field names are the API's; docs/freshbooks.md §6.2 documents them
pub struct Client {
    pub accounting_systemid: String,
    pub allow_email_include_pdf: bool,
    pub allow_late_fees: bool,
    pub allow_late_notifications: bool,
    pub bus_phone: String,
    pub company_industry: Option<String>,
    pub company_size: Option<String>,
    pub currency_code: String,
    pub direct_link_token: Option<String>,
    pub email: String,
    #[serde(default)]
    pub exceeds_client_limit: i64,
    pub fax: String,
    pub fname: String,
    pub has_retainer: Option<bool>,
    pub home_phone: Option<String>,
    pub id: u64,
    pub language: String,
    pub last_activity: Option<String>,
    pub last_login: Option<String>,
    pub level: i64,
    pub lname: String,
    pub mob_phone: String,
    pub note: Option<String>,
    pub notified: bool,
    pub num_logins: i64,
    #[serde(default)]
    pub number_format: Option<String>,
    pub organization: String,
    pub p_city: String,
    pub p_code: String,
    pub p_country: String,
    pub p_province: String,
    pub p_street: String,
    pub p_street2: String,
    pub pref_email: bool,
    pub pref_gmail: bool,
    pub retainer_id: Option<u64>,
    pub role: String,
    pub s_city: String,
    pub s_code: String,
    pub s_country: String,
    pub s_province: String,
    pub s_street: String,
    pub s_street2: String,
    pub signup_date: String,
    pub statement_token: Option<String>,
    pub subdomain: Option<String>,
    pub updated: String,
    pub userid: u64,
    pub username: String,
    pub uuid: String,
    pub vat_name: Option<String>,
    pub vat_number: Option<String>,
    pub vis_state: i64,
}

/// An invoice line (`lines[]`, docs/freshbooks.md §6.4). Returned only with `include[]=lines`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs, non_snake_case)] // the API's camelCase tax keys
pub struct Line {
    pub amount: Money,
    pub basecampid: i64,
    pub compounded_tax: bool,
    pub date: Option<String>,
    pub description: String,
    pub expenseid: u64,
    pub invoiceid: u64,
    pub lineid: u64,
    pub modern_project_id: Option<u64>,
    pub modern_time_entries: Vec<serde_json::Value>,
    pub name: String,
    pub qty: String,
    pub retainer_id: Option<u64>,
    pub retainer_period_id: Option<u64>,
    pub taskno: u64,
    pub taxAmount1: String,
    pub taxAmount2: String,
    pub taxName1: Option<String>,
    pub taxName2: Option<String>,
    pub taxNumber1: Option<String>,
    pub taxNumber2: Option<String>,
    #[serde(rename = "type")]
    pub kind: i64,
    pub unit_cost: Money,
    pub updated: String,
}

/// Invoice-level discount block seen only in live responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Discount {
    pub amount: Money,
    pub rate: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// The business address printed on an invoice (live responses only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SenderAddress {
    pub city: String,
    pub code: String,
    pub country: String,
    pub province: String,
    pub street: String,
    pub street2: String,
}

/// An invoice (`invoices/invoices`, docs/freshbooks.md §6.3), keys as in the live `create-invoice` recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Invoice {
    pub accountid: String,
    pub accounting_systemid: String,
    pub address: String,
    pub amount: Money,
    #[serde(default)]
    pub attach_pdf_to_email: bool,
    pub auto_bill: bool,
    pub autobill_status: Option<String>,
    pub basecampid: i64,
    pub city: String,
    pub code: String,
    pub country: String,
    pub create_date: String,
    pub created_at: String,
    pub currency_code: String,
    pub current_organization: String,
    pub customerid: u64,
    pub date_paid: Option<String>,
    pub deposit_amount: Option<Money>,
    pub deposit_percentage: Option<String>,
    pub deposit_status: String,
    pub description: String,
    #[serde(default)]
    pub discount: Option<Discount>,
    pub discount_description: Option<String>,
    pub discount_total: Money,
    pub discount_value: String,
    pub display_status: String,
    pub dispute_status: Option<String>,
    pub due_date: String,
    pub due_offset_days: i64,
    pub estimateid: u64,
    pub ext_archive: i64,
    pub fname: String,
    pub fulfillment_date: Option<String>,
    pub generation_date: Option<String>,
    pub gmail: bool,
    pub id: u64,
    pub invoice_number: String,
    pub invoiceid: u64,
    pub language: String,
    pub last_order_status: Option<String>,
    /// Present only when the request asked for `include[]=lines`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<Line>>,
    pub lname: String,
    #[serde(default)]
    pub lock_status: Option<String>,
    pub net_paid_amount: Money,
    pub notes: String,
    pub organization: String,
    pub outstanding: Money,
    pub ownerid: u64,
    pub paid: Money,
    pub parent: u64,
    pub payment_details: String,
    pub payment_status: String,
    pub po_number: Option<String>,
    /// Present only with `include[]=presentation`; the simulator never produces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentation: Option<serde_json::Value>,
    pub province: String,
    pub return_uri: Option<String>,
    #[serde(default)]
    pub sender_address: Option<SenderAddress>,
    pub sentid: u64,
    #[serde(default)]
    pub series: Option<String>,
    pub show_attachments: bool,
    pub status: i64,
    pub street: String,
    pub street2: String,
    pub template: String,
    pub terms: Option<String>,
    pub updated: String,
    pub uuid: String,
    pub v3_status: String,
    pub vat_name: Option<String>,
    pub vat_number: Option<String>,
    pub version: String,
    pub vis_state: i64,
}

/// An item (`items/items`, docs/freshbooks.md §6.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Item {
    pub accounting_systemid: String,
    pub description: String,
    pub id: u64,
    pub inventory: Option<String>,
    pub itemid: u64,
    pub name: String,
    pub qty: String,
    pub sku: Option<String>,
    pub tax1: u64,
    pub tax2: u64,
    pub unit_cost: Money,
    pub updated: String,
    pub vis_state: i64,
}

/// A tax (`taxes/taxes`, docs/freshbooks.md §6.6). Taxes carry no `vis_state`; `DELETE` removes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Tax {
    pub accounting_systemid: String,
    pub amount: String,
    pub compound: bool,
    pub id: u64,
    pub name: String,
    pub number: Option<String>,
    pub taxid: u64,
    pub updated: String,
}

/// A payment (`payments/payments`, docs/freshbooks.md §6.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Payment {
    pub accounting_systemid: String,
    pub amount: Money,
    pub bulk_paymentid: Option<u64>,
    pub clientid: u64,
    pub creditid: Option<u64>,
    pub date: String,
    pub from_credit: bool,
    pub gateway: Option<String>,
    pub id: u64,
    /// `null` in the API for a payment that is not against an invoice (the credit half of an overpayment);
    /// 0 here, so Rust callers keep a plain id.
    #[serde(with = "zero_is_null")]
    pub invoiceid: u64,
    pub logid: u64,
    pub note: String,
    pub orderid: Option<u64>,
    pub overpaymentid: Option<u64>,
    pub send_client_notification: Option<bool>,
    #[serde(default)]
    pub transaction_uuid: Option<String>,
    pub transactionid: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub updated: String,
    pub vis_state: i64,
}

/// A credit note (`credit_notes/credit_notes`, docs/freshbooks.md §14.1.3), keys as in FreshBooks' Postman
/// list example. `lines` appear only with `include[]=lines`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // field names are the API's; docs/freshbooks.md §14.1.3 documents them
pub struct CreditNote {
    pub accounting_systemid: String,
    pub amount: Money,
    pub city: String,
    pub clientid: u64,
    pub code: String,
    pub country: String,
    pub create_date: String,
    pub credit_number: String,
    /// `goodwill` | `prepayment` (create) | `overpayment` (made by the system).
    pub credit_type: String,
    pub creditid: u64,
    pub currency_code: String,
    pub current_organization: String,
    pub description: String,
    pub display_status: String,
    pub dispute_status: Option<String>,
    pub ext_archive: i64,
    pub fname: String,
    pub id: u64,
    pub language: String,
    pub last_order_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<CreditLine>>,
    pub lname: String,
    pub notes: String,
    pub organization: String,
    pub paid: Money,
    pub payment_status: String,
    pub province: String,
    pub sentid: u64,
    pub status: String,
    pub street: String,
    pub street2: String,
    pub template: String,
    pub terms: Option<String>,
    pub vat_name: String,
    pub vat_number: String,
    pub vis_state: i64,
}

/// A credit-note line: like an invoice line without `type`/`expenseid`; `id` is `"<creditid>-<n>"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs, non_snake_case)] // the API's camelCase tax keys
pub struct CreditLine {
    pub amount: Money,
    pub compounded_tax: bool,
    pub creditid: u64,
    pub description: String,
    pub id: String,
    pub name: String,
    pub qty: String,
    pub taskno: u64,
    pub taxAmount1: String,
    pub taxAmount2: String,
    pub taxName1: Option<String>,
    pub taxName2: Option<String>,
    pub taxNumber1: Option<String>,
    pub taxNumber2: Option<String>,
    pub unit_cost: Money,
}

/// The token endpoint's reply (docs/freshbooks.md §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub scope: String,
    pub created_at: i64,
}

/// `GET /auth/api/v1/users/me` reply body inside `response` (docs/freshbooks.md §2), reduced to the keys a client uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Identity {
    pub id: u64,
    pub identity_id: u64,
    pub identity_uuid: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub language: String,
    pub confirmed_at: Option<String>,
    pub created_at: String,
    pub setup_complete: bool,
    pub business_memberships: Vec<Membership>,
}

/// One business the identity belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Membership {
    pub id: u64,
    pub role: String,
    pub unacknowledged_change: bool,
    pub business: Business,
}

/// A business; `account_id` goes into accounting paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Business {
    pub id: u64,
    pub business_uuid: String,
    pub name: String,
    pub account_id: String,
    pub date_format: String,
    pub business_clients: Vec<serde_json::Value>,
}

/// Serde for ids the API sends as `null` when absent and the model keeps as 0.
mod zero_is_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(id: &u64, s: S) -> Result<S::Ok, S::Error> {
        match id {
            0 => s.serialize_none(),
            id => s.serialize_u64(*id),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
    }
}
