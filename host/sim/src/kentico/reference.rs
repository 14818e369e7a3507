//! Configuration objects: currencies, order statuses, tax classes and their rates, payment and shipping options,
//! countries and states (columns from `k13-ecommerce-schema.json`, KX13).

use rust_decimal::Decimal;
use time::OffsetDateTime;
use uuid::Uuid;

use super::class::{Class, Record};
use super::value::Kind::{Bool, Date, Guid, Int, Money, Text};
use super::value::Value;

/// `COM_Currency`.
#[derive(Debug, Clone)]
pub(crate) struct Currency {
    pub(crate) id: i64,
    pub(crate) name: &'static str,
    pub(crate) display_name: &'static str,
    pub(crate) code: &'static str,
    pub(crate) round_to: i64,
    pub(crate) format: &'static str,
    pub(crate) is_main: bool,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) site_id: Option<i64>,
    /// Units of this currency per unit of the main currency (`COM_CurrencyExchangeRate`, not served).
    pub(crate) rate: Decimal,
}

const CURRENCY: Class = Class {
    object_type: "ecommerce.currency",
    table: "COM_Currency",
    columns: &[
        ("CurrencyID", Int),
        ("CurrencyName", Text),
        ("CurrencyDisplayName", Text),
        ("CurrencyCode", Text),
        ("CurrencyRoundTo", Int),
        ("CurrencyEnabled", Bool),
        ("CurrencyFormatString", Text),
        ("CurrencyIsMain", Bool),
        ("CurrencyGUID", Guid),
        ("CurrencyLastModified", Date),
        ("CurrencySiteID", Int),
    ],
    guid: Some("CurrencyGUID"),
    code_name: Some("CurrencyName"),
    site: Some("CurrencySiteID"),
    parent: None,
};

impl Record for Currency {
    const CLASS: &'static Class = &CURRENCY;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "CurrencyID" => Value::Int(self.id),
            "CurrencyName" => Value::Text(self.name.into()),
            "CurrencyDisplayName" => Value::Text(self.display_name.into()),
            "CurrencyCode" => Value::Text(self.code.into()),
            "CurrencyRoundTo" => Value::Int(self.round_to),
            "CurrencyEnabled" => Value::Bool(true),
            "CurrencyFormatString" => Value::Text(self.format.into()),
            "CurrencyIsMain" => Value::Bool(self.is_main),
            "CurrencyGUID" => Value::Guid(self.guid),
            "CurrencyLastModified" => Value::Date(self.last_modified),
            "CurrencySiteID" => Value::int(self.site_id),
            _ => Value::Null,
        }
    }
}

/// `COM_OrderStatus`.
#[derive(Debug, Clone)]
pub(crate) struct OrderStatus {
    pub(crate) id: i64,
    pub(crate) name: &'static str,
    pub(crate) display_name: &'static str,
    pub(crate) order: i64,
    pub(crate) color: &'static str,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) send_notification: bool,
    pub(crate) site_id: Option<i64>,
    /// "Mark order as paid": entering this status sets `OrderIsPaid`.
    pub(crate) is_paid: bool,
}

const ORDER_STATUS: Class = Class {
    object_type: "ecommerce.orderstatus",
    table: "COM_OrderStatus",
    columns: &[
        ("StatusID", Int),
        ("StatusName", Text),
        ("StatusDisplayName", Text),
        ("StatusOrder", Int),
        ("StatusEnabled", Bool),
        ("StatusColor", Text),
        ("StatusGUID", Guid),
        ("StatusLastModified", Date),
        ("StatusSendNotification", Bool),
        ("StatusSiteID", Int),
        ("StatusOrderIsPaid", Bool),
    ],
    guid: Some("StatusGUID"),
    code_name: Some("StatusName"),
    site: Some("StatusSiteID"),
    parent: None,
};

impl Record for OrderStatus {
    const CLASS: &'static Class = &ORDER_STATUS;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "StatusID" => Value::Int(self.id),
            "StatusName" => Value::Text(self.name.into()),
            "StatusDisplayName" => Value::Text(self.display_name.into()),
            "StatusOrder" => Value::Int(self.order),
            "StatusEnabled" => Value::Bool(true),
            "StatusColor" => Value::Text(self.color.into()),
            "StatusGUID" => Value::Guid(self.guid),
            "StatusLastModified" => Value::Date(self.last_modified),
            "StatusSendNotification" => Value::Bool(self.send_notification),
            "StatusSiteID" => Value::int(self.site_id),
            "StatusOrderIsPaid" => Value::Bool(self.is_paid),
            _ => Value::Null,
        }
    }
}

/// `COM_TaxClass`.
#[derive(Debug, Clone)]
pub(crate) struct TaxClass {
    pub(crate) id: i64,
    pub(crate) name: &'static str,
    pub(crate) display_name: &'static str,
    pub(crate) zero_if_id_supplied: bool,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) site_id: Option<i64>,
}

const TAX_CLASS: Class = Class {
    object_type: "ecommerce.taxclass",
    table: "COM_TaxClass",
    columns: &[
        ("TaxClassID", Int),
        ("TaxClassName", Text),
        ("TaxClassDisplayName", Text),
        ("TaxClassZeroIfIDSupplied", Bool),
        ("TaxClassGUID", Guid),
        ("TaxClassLastModified", Date),
        ("TaxClassSiteID", Int),
    ],
    guid: Some("TaxClassGUID"),
    code_name: Some("TaxClassName"),
    site: Some("TaxClassSiteID"),
    parent: None,
};

impl Record for TaxClass {
    const CLASS: &'static Class = &TAX_CLASS;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "TaxClassID" => Value::Int(self.id),
            "TaxClassName" => Value::Text(self.name.into()),
            "TaxClassDisplayName" => Value::Text(self.display_name.into()),
            "TaxClassZeroIfIDSupplied" => Value::Bool(self.zero_if_id_supplied),
            "TaxClassGUID" => Value::Guid(self.guid),
            "TaxClassLastModified" => Value::Date(self.last_modified),
            "TaxClassSiteID" => Value::int(self.site_id),
            _ => Value::Null,
        }
    }
}

/// `COM_TaxClassCountry`: a class's rate in a country (`TaxValue` in percent).
#[derive(Debug, Clone)]
pub(crate) struct TaxClassCountry {
    pub(crate) id: i64,
    pub(crate) class_id: i64,
    pub(crate) country_id: i64,
    pub(crate) value: Decimal,
}

const TAX_CLASS_COUNTRY: Class = Class {
    object_type: "ecommerce.taxclasscountry",
    table: "COM_TaxClassCountry",
    columns: &[
        ("TaxClassCountryID", Int),
        ("TaxClassID", Int),
        ("CountryID", Int),
        ("TaxValue", Money),
    ],
    guid: None,
    code_name: None,
    site: None,
    parent: Some(("ecommerce.taxclass", "TaxClassID")),
};

impl Record for TaxClassCountry {
    const CLASS: &'static Class = &TAX_CLASS_COUNTRY;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "TaxClassCountryID" => Value::Int(self.id),
            "TaxClassID" => Value::Int(self.class_id),
            "CountryID" => Value::Int(self.country_id),
            "TaxValue" => Value::Money(self.value),
            _ => Value::Null,
        }
    }
}

/// `COM_TaxClassState`: a class's rate in a state, which wins over the country's.
#[derive(Debug, Clone)]
pub(crate) struct TaxClassState {
    pub(crate) id: i64,
    pub(crate) class_id: i64,
    pub(crate) state_id: i64,
    pub(crate) value: Decimal,
}

const TAX_CLASS_STATE: Class = Class {
    object_type: "ecommerce.taxclassstate",
    table: "COM_TaxClassState",
    columns: &[
        ("TaxClassStateID", Int),
        ("TaxClassID", Int),
        ("StateID", Int),
        ("TaxValue", Money),
    ],
    guid: None,
    code_name: None,
    site: None,
    parent: Some(("ecommerce.taxclass", "TaxClassID")),
};

impl Record for TaxClassState {
    const CLASS: &'static Class = &TAX_CLASS_STATE;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "TaxClassStateID" => Value::Int(self.id),
            "TaxClassID" => Value::Int(self.class_id),
            "StateID" => Value::Int(self.state_id),
            "TaxValue" => Value::Money(self.value),
            _ => Value::Null,
        }
    }
}

/// `COM_PaymentOption`.
#[derive(Debug, Clone)]
pub(crate) struct PaymentOption {
    pub(crate) id: i64,
    pub(crate) name: &'static str,
    pub(crate) display_name: &'static str,
    /// Gateway class; `None` for offline methods (money transfer, cash on delivery).
    pub(crate) gateway: Option<&'static str>,
    pub(crate) succeeded_status_id: Option<i64>,
    pub(crate) failed_status_id: Option<i64>,
    pub(crate) authorized_status_id: Option<i64>,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) site_id: Option<i64>,
    pub(crate) description: Option<&'static str>,
}

const PAYMENT_OPTION: Class = Class {
    object_type: "ecommerce.paymentoption",
    table: "COM_PaymentOption",
    columns: &[
        ("PaymentOptionID", Int),
        ("PaymentOptionName", Text),
        ("PaymentOptionDisplayName", Text),
        ("PaymentOptionEnabled", Bool),
        ("PaymentOptionSiteID", Int),
        ("PaymentOptionPaymentGateUrl", Text),
        ("PaymentOptionAssemblyName", Text),
        ("PaymentOptionClassName", Text),
        ("PaymentOptionSucceededOrderStatusID", Int),
        ("PaymentOptionFailedOrderStatusID", Int),
        ("PaymentOptionGUID", Guid),
        ("PaymentOptionLastModified", Date),
        ("PaymentOptionAllowIfNoShipping", Bool),
        ("PaymentOptionThumbnailGUID", Guid),
        ("PaymentOptionDescription", Text),
        ("PaymentOptionAuthorizedOrderStatusID", Int),
    ],
    guid: Some("PaymentOptionGUID"),
    code_name: Some("PaymentOptionName"),
    site: Some("PaymentOptionSiteID"),
    parent: None,
};

impl Record for PaymentOption {
    const CLASS: &'static Class = &PAYMENT_OPTION;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "PaymentOptionID" => Value::Int(self.id),
            "PaymentOptionName" => Value::Text(self.name.into()),
            "PaymentOptionDisplayName" => Value::Text(self.display_name.into()),
            "PaymentOptionEnabled" => Value::Bool(true),
            "PaymentOptionSiteID" => Value::int(self.site_id),
            "PaymentOptionAssemblyName" => {
                Value::text(self.gateway.map(|_| "DancingGoat.PaymentGateways"))
            }
            "PaymentOptionClassName" => Value::text(self.gateway),
            "PaymentOptionSucceededOrderStatusID" => Value::int(self.succeeded_status_id),
            "PaymentOptionFailedOrderStatusID" => Value::int(self.failed_status_id),
            "PaymentOptionAuthorizedOrderStatusID" => Value::int(self.authorized_status_id),
            "PaymentOptionGUID" => Value::Guid(self.guid),
            "PaymentOptionLastModified" => Value::Date(self.last_modified),
            "PaymentOptionAllowIfNoShipping" => Value::Bool(true),
            "PaymentOptionDescription" => Value::text(self.description),
            _ => Value::Null,
        }
    }
}

/// `COM_ShippingOption`.
#[derive(Debug, Clone)]
pub(crate) struct ShippingOption {
    pub(crate) id: i64,
    pub(crate) name: &'static str,
    pub(crate) display_name: &'static str,
    /// Flat cost in the main currency (`COM_ShippingCost`, not served).
    pub(crate) cost: Decimal,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) site_id: Option<i64>,
}

const SHIPPING_OPTION: Class = Class {
    object_type: "ecommerce.shippingoption",
    table: "COM_ShippingOption",
    columns: &[
        ("ShippingOptionID", Int),
        ("ShippingOptionName", Text),
        ("ShippingOptionDisplayName", Text),
        ("ShippingOptionEnabled", Bool),
        ("ShippingOptionSiteID", Int),
        ("ShippingOptionGUID", Guid),
        ("ShippingOptionLastModified", Date),
        ("ShippingOptionThumbnailGUID", Guid),
        ("ShippingOptionDescription", Text),
        ("ShippingOptionCarrierID", Int),
        ("ShippingOptionCarrierServiceName", Text),
        ("ShippingOptionTaxClassID", Int),
    ],
    guid: Some("ShippingOptionGUID"),
    code_name: Some("ShippingOptionName"),
    site: Some("ShippingOptionSiteID"),
    parent: None,
};

impl Record for ShippingOption {
    const CLASS: &'static Class = &SHIPPING_OPTION;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "ShippingOptionID" => Value::Int(self.id),
            "ShippingOptionName" => Value::Text(self.name.into()),
            "ShippingOptionDisplayName" => Value::Text(self.display_name.into()),
            "ShippingOptionEnabled" => Value::Bool(true),
            "ShippingOptionSiteID" => Value::int(self.site_id),
            "ShippingOptionGUID" => Value::Guid(self.guid),
            "ShippingOptionLastModified" => Value::Date(self.last_modified),
            "ShippingOptionCarrierID" => Value::Int(1),
            "ShippingOptionCarrierServiceName" => Value::Text(self.name.into()),
            _ => Value::Null,
        }
    }
}

/// `CMS_Country`.
#[derive(Debug, Clone)]
pub(crate) struct Country {
    pub(crate) id: i64,
    pub(crate) display_name: String,
    pub(crate) name: String,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
    pub(crate) two_letter: Option<String>,
    pub(crate) three_letter: Option<String>,
}

const COUNTRY: Class = Class {
    object_type: "cms.country",
    table: "CMS_Country",
    columns: &[
        ("CountryID", Int),
        ("CountryDisplayName", Text),
        ("CountryName", Text),
        ("CountryGUID", Guid),
        ("CountryLastModified", Date),
        ("CountryTwoLetterCode", Text),
        ("CountryThreeLetterCode", Text),
    ],
    guid: Some("CountryGUID"),
    code_name: Some("CountryName"),
    site: None,
    parent: None,
};

impl Record for Country {
    const CLASS: &'static Class = &COUNTRY;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "CountryID" => Value::Int(self.id),
            "CountryDisplayName" => Value::Text(self.display_name.clone()),
            "CountryName" => Value::Text(self.name.clone()),
            "CountryGUID" => Value::Guid(self.guid),
            "CountryLastModified" => Value::Date(self.last_modified),
            "CountryTwoLetterCode" => Value::text(self.two_letter.as_deref()),
            "CountryThreeLetterCode" => Value::text(self.three_letter.as_deref()),
            _ => Value::Null,
        }
    }
}

/// `CMS_State`.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub(crate) id: i64,
    pub(crate) display_name: String,
    pub(crate) name: String,
    pub(crate) code: Option<String>,
    pub(crate) country_id: i64,
    pub(crate) guid: Uuid,
    pub(crate) last_modified: OffsetDateTime,
}

const STATE: Class = Class {
    object_type: "cms.state",
    table: "CMS_State",
    columns: &[
        ("StateID", Int),
        ("StateDisplayName", Text),
        ("StateName", Text),
        ("StateCode", Text),
        ("CountryID", Int),
        ("StateGUID", Guid),
        ("StateLastModified", Date),
    ],
    guid: Some("StateGUID"),
    code_name: Some("StateName"),
    site: None,
    parent: Some(("cms.country", "CountryID")),
};

impl Record for State {
    const CLASS: &'static Class = &STATE;

    fn id(&self) -> i64 {
        self.id
    }

    fn get(&self, column: &str) -> Value {
        match column {
            "StateID" => Value::Int(self.id),
            "StateDisplayName" => Value::Text(self.display_name.clone()),
            "StateName" => Value::Text(self.name.clone()),
            "StateCode" => Value::text(self.code.as_deref()),
            "CountryID" => Value::Int(self.country_id),
            "StateGUID" => Value::Guid(self.guid),
            "StateLastModified" => Value::Date(self.last_modified),
            _ => Value::Null,
        }
    }
}
