//! Shared helpers for the ferry-transform integration tests: a runtime over a temp cache,
//! plugins built from `plugins/`, services that record logs, and order/draft builders.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use ferry_model::{
    Address, ClientDraft, CurrencyCode, CustomField, Customer, Decimal, InvoiceDraft,
    InvoiceLineDraft, InvoiceStatus, ItemDraft, Money, Order, OrderLine, OrderStatus, OrderTotals,
    Payment, TaxClass, TenantId,
};
use ferry_transform::{
    HostServices, LogLevel, PluginHandle, PluginRuntime, RuntimeConfig, StaticServices,
    TransformCtx, artifacts,
};
use time::macros::{date, datetime};
use uuid::Uuid;

/// A runtime with default limits over a fresh cache directory (kept alive by the `TempDir`).
pub fn runtime() -> (PluginRuntime, tempfile::TempDir) {
    runtime_with(|_| {})
}

/// A runtime whose default config is adjusted by `tweak`.
pub fn runtime_with(tweak: impl FnOnce(&mut RuntimeConfig)) -> (PluginRuntime, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = RuntimeConfig::new(dir.path().join("cwasm"));
    tweak(&mut config);
    (PluginRuntime::new(config).unwrap(), dir)
}

/// The component bytes of plugin crate `name`, built from `plugins/` if needed.
pub fn wasm(name: &str) -> Vec<u8> {
    artifacts::ensure_built().unwrap();
    let path = artifacts::wasm_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Load plugin crate `name` into `rt` under its crate name.
pub fn load(rt: &PluginRuntime, name: &str) -> PluginHandle {
    rt.load(name, &wasm(name)).unwrap()
}

/// A tenant id.
pub fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

/// A plugin log line as recorded: tenant, plugin, level, message.
pub type LogLine = (String, String, LogLevel, String);

/// [`StaticServices`] that also records every plugin log line.
#[derive(Clone, Default)]
pub struct Recording {
    pub inner: StaticServices,
    pub logs: Arc<Mutex<Vec<LogLine>>>,
}

impl Recording {
    pub fn new(inner: StaticServices) -> Self {
        Self {
            inner,
            logs: Arc::default(),
        }
    }

    /// Log lines as `tenant/plugin: message`.
    pub fn lines(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .map(|(t, p, _, m)| format!("{t}/{p}: {m}"))
            .collect()
    }
}

impl HostServices for Recording {
    fn setting(&self, tenant: &TenantId, plugin: &str, key: &str) -> Option<String> {
        self.inner.setting(tenant, plugin, key)
    }

    fn exchange_rate(
        &self,
        tenant: &TenantId,
        base: &str,
        quote: &str,
        date: time::Date,
    ) -> Result<Decimal, String> {
        self.inner.exchange_rate(tenant, base, quote, date)
    }

    fn enrich(
        &self,
        tenant: &TenantId,
        kind: &str,
        key: &str,
    ) -> Result<Vec<(String, String)>, String> {
        self.inner.enrich(tenant, kind, key)
    }

    fn log(&self, line: &ferry_transform::LogLine<'_>) {
        self.logs.lock().unwrap().push((
            line.tenant.as_str().to_string(),
            line.plugin.to_string(),
            line.level,
            line.message.to_string(),
        ));
    }
}

/// A context for `tenant` over `services`.
pub fn ctx(tenant_id: &str, services: impl HostServices) -> TransformCtx {
    TransformCtx::new(tenant(tenant_id), Arc::new(services))
}

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn usd() -> CurrencyCode {
    CurrencyCode::parse("USD").unwrap()
}

pub fn field(name: &str, value: &str) -> CustomField {
    CustomField {
        name: name.into(),
        value: value.into(),
    }
}

pub fn address(country: &str, state: &str) -> Address {
    Address {
        personal_name: "Ada Lovelace".into(),
        line1: "1 Analytical Way".into(),
        city: "Springfield".into(),
        zip: "12345".into(),
        state_code: state.into(),
        country_code: country.into(),
        ..Address::default()
    }
}

pub fn customer() -> Customer {
    Customer {
        id: 7,
        guid: Uuid::nil(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email: Some("ada@example.com".into()),
        phone: "555-0100".into(),
        company: "Engines Ltd".into(),
        tax_registration_id: String::new(),
        organization_id: String::new(),
        custom_fields: vec![
            field("LoyaltyTier", "gold"),
            field("VatId", "GB123456789"),
            field("Mobile", "555-0199"),
        ],
        address: Some(address("US", "CA")),
        last_modified: datetime!(2026-11-20 10:00 UTC),
    }
}

pub fn tax_class(code: &str) -> TaxClass {
    TaxClass {
        id: 3,
        code: code.into(),
        display_name: code.into(),
        rate_percent: None,
        zero_if_tax_id: false,
    }
}

pub fn line(id: i64, sku: &str, class: Option<TaxClass>) -> OrderLine {
    OrderLine {
        id,
        sku_id: 100 + id,
        sku_number: sku.into(),
        name: format!("Product {sku}"),
        description: String::new(),
        quantity: 2,
        unit_price: dec("9.50"),
        total_price: dec("19.00"),
        sku_price: Some(dec("9.50")),
        tax_class: class,
        attributes: vec![field("Color", "red"), field("Size", "L")],
        guid: uuid::Uuid::nil(),
        parent_guid: None,
        bundle_guid: None,
        text: String::new(),
        unit_discounts: vec![],
        discounts: vec![],
    }
}

/// An order shipped to `country`/`state` with two lines (a standard-taxed mug, a book).
pub fn order_to(country: &str, state: &str) -> Order {
    Order {
        id: 42,
        guid: Uuid::nil(),
        number: "ORD-42".into(),
        status: OrderStatus {
            id: 1,
            code: "paid".into(),
            display_name: "Paid".into(),
            marks_paid: true,
        },
        created_at: datetime!(2026-11-25 09:00 UTC),
        last_modified: datetime!(2026-11-25 09:05 UTC),
        currency: usd(),
        totals: OrderTotals {
            total: dec("38.00"),
            tax: dec("0"),
            shipping: dec("5.00"),
            grand_total: dec("43.00"),
        },
        customer: customer(),
        billing_address: Some(address(country, state)),
        shipping_address: Some(address(country, state)),
        lines: vec![
            line(1, "MUG", Some(tax_class("standard"))),
            line(2, "BOOK", Some(tax_class("books"))),
        ],
        custom_attributes: vec![
            field("GiftMessage", "Happy birthday"),
            field("Channel", "web"),
        ],
        note: String::new(),
        payment: Payment {
            is_paid: true,
            method: "Card".into(),
            transaction_id: "tx-1".into(),
            amount: Money::new(dec("43.00"), usd()),
            paid_at: Some(datetime!(2026-11-25 09:01 UTC)),
        },
        discounts: vec![],
        coupon_codes: vec![],
        other_payments: vec![],
        taxes: vec![],
    }
}

pub fn order() -> Order {
    order_to("US", "CA")
}

pub fn client_draft() -> ClientDraft {
    ClientDraft {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email: "ada@example.com".into(),
        organization: "Engines Ltd".into(),
        note: String::new(),
        ..ClientDraft::default()
    }
}

pub fn item_draft(l: &OrderLine) -> ItemDraft {
    ItemDraft {
        name: l.name.clone(),
        description: l.description.clone(),
        sku: l.sku_number.clone(),
        unit_cost: Money::new(l.unit_price, usd()),
        taxable: false,
        tax: None,
    }
}

pub fn invoice_draft(o: &Order) -> InvoiceDraft {
    InvoiceDraft {
        create_date: date!(2026 - 11 - 25),
        due_offset_days: 30,
        currency_code: usd(),
        po_number: o.number.clone(),
        invoice_number: None,
        status: InvoiceStatus::Draft,
        notes: String::new(),
        terms: String::new(),
        lines: o
            .lines
            .iter()
            .map(|l| InvoiceLineDraft {
                name: l.name.clone(),
                description: String::new(),
                quantity: Decimal::from(l.quantity),
                unit_cost: Money::new(l.unit_price, usd()),
                tax1: None,
                tax2: None,
                sku: l.sku_number.clone(),
            })
            .collect(),
    }
}
