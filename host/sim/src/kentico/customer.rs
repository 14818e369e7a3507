//! Customers (`COM_Customer`, with two developer-added custom columns) and their address book (`COM_Address`).

use time::OffsetDateTime;
use uuid::Uuid;

use super::class::{Class, Record};
use super::value::Kind::{Bool, Date, Guid, Int, Text};
use super::value::Value;

/// Custom column: loyalty tier (`Gold`, `Silver`, `Bronze` or NULL).
pub(crate) const LOYALTY_TIER: &str = "CustomerLoyaltyTier";
/// Custom column: marketing consent.
pub(crate) const MARKETING_OPT_IN: &str = "CustomerMarketingOptIn";

/// `COM_Customer`.
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub(crate) id: i64,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) company: Option<String>,
    /// A CMS user id for registered customers, `None` for guests.
    pub(crate) user_id: Option<i64>,
    pub(crate) guid: Uuid,
    pub(crate) tax_registration_id: Option<String>,
    pub(crate) organization_id: Option<String>,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) site_id: Option<i64>,
    pub(crate) created: OffsetDateTime,
    pub(crate) loyalty_tier: Option<String>,
    pub(crate) marketing_opt_in: Option<bool>,
    /// Ids of the customer's `COM_Address` rows.
    pub(crate) address_ids: Vec<i64>,
}

// guess: the two custom columns are what a site developer typically adds; K13 appends custom class fields as
// plain table columns, so they come after the system columns.
const CUSTOMER: Class = Class {
    object_type: "ecommerce.customer",
    table: "COM_Customer",
    columns: &[
        ("CustomerID", Int),
        ("CustomerFirstName", Text),
        ("CustomerLastName", Text),
        ("CustomerEmail", Text),
        ("CustomerPhone", Text),
        ("CustomerFax", Text),
        ("CustomerCompany", Text),
        ("CustomerUserID", Int),
        ("CustomerGUID", Guid),
        ("CustomerTaxRegistrationID", Text),
        ("CustomerOrganizationID", Text),
        ("CustomerLastModified", Date),
        ("CustomerSiteID", Int),
        ("CustomerCreated", Date),
        (LOYALTY_TIER, Text),
        (MARKETING_OPT_IN, Bool),
    ],
    guid: Some("CustomerGUID"),
    code_name: None,
    site: Some("CustomerSiteID"),
    parent: None,
};

impl Record for Customer {
    const CLASS: &'static Class = &CUSTOMER;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "CustomerID" => Value::Int(self.id),
            "CustomerFirstName" => Value::Text(self.first_name.clone()),
            "CustomerLastName" => Value::Text(self.last_name.clone()),
            "CustomerEmail" => Value::text(self.email.as_deref()),
            "CustomerPhone" => Value::text(self.phone.as_deref()),
            "CustomerCompany" => Value::text(self.company.as_deref()),
            "CustomerUserID" => Value::int(self.user_id),
            "CustomerGUID" => Value::Guid(self.guid),
            "CustomerTaxRegistrationID" => Value::text(self.tax_registration_id.as_deref()),
            "CustomerOrganizationID" => Value::text(self.organization_id.as_deref()),
            "CustomerLastModified" => Value::Date(self.last_modified),
            "CustomerSiteID" => Value::int(self.site_id),
            "CustomerCreated" => Value::Date(self.created),
            LOYALTY_TIER => Value::text(self.loyalty_tier.as_deref()),
            MARKETING_OPT_IN => self.marketing_opt_in.map_or(Value::Null, Value::Bool),
            _ => Value::Null,
        }
    }
}

/// `COM_Address`: an address-book entry of a customer.
#[derive(Debug, Clone)]
pub(crate) struct Address {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) line1: String,
    pub(crate) line2: Option<String>,
    pub(crate) city: String,
    pub(crate) zip: String,
    pub(crate) phone: Option<String>,
    pub(crate) customer_id: i64,
    pub(crate) country_id: i64,
    pub(crate) state_id: Option<i64>,
    pub(crate) personal_name: String,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
}

const ADDRESS: Class = Class {
    object_type: "ecommerce.address",
    table: "COM_Address",
    columns: &[
        ("AddressID", Int),
        ("AddressName", Text),
        ("AddressLine1", Text),
        ("AddressLine2", Text),
        ("AddressCity", Text),
        ("AddressZip", Text),
        ("AddressPhone", Text),
        ("AddressCustomerID", Int),
        ("AddressCountryID", Int),
        ("AddressStateID", Int),
        ("AddressPersonalName", Text),
        ("AddressGUID", Guid),
        ("AddressLastModified", Date),
    ],
    guid: Some("AddressGUID"),
    code_name: None,
    site: None,
    parent: Some(("ecommerce.customer", "AddressCustomerID")),
};

impl Record for Address {
    const CLASS: &'static Class = &ADDRESS;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "AddressID" => Value::Int(self.id),
            "AddressName" => Value::Text(self.name.clone()),
            "AddressLine1" => Value::Text(self.line1.clone()),
            "AddressLine2" => Value::text(self.line2.as_deref()),
            "AddressCity" => Value::Text(self.city.clone()),
            "AddressZip" => Value::Text(self.zip.clone()),
            "AddressPhone" => Value::text(self.phone.as_deref()),
            "AddressCustomerID" => Value::Int(self.customer_id),
            "AddressCountryID" => Value::Int(self.country_id),
            "AddressStateID" => Value::int(self.state_id),
            "AddressPersonalName" => Value::Text(self.personal_name.clone()),
            "AddressGUID" => Value::Guid(self.guid),
            "AddressLastModified" => Value::Date(self.last_modified),
            _ => Value::Null,
        }
    }
}
