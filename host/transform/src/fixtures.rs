//! A realistic canonical order for unit tests of the pure pipeline steps.

use ferry_model::{
    Address, CurrencyCode, CustomField, Customer, Decimal, Money, Order, OrderLine, OrderStatus,
    OrderTotals, Payment, TaxClass,
};
use std::str::FromStr;
use time::macros::datetime;
use uuid::Uuid;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimal")
}

/// Two lines (one taxable at 8.25%), shipping, paid by card, billed to California.
pub(crate) fn sample_order() -> Order {
    let usd = CurrencyCode::parse("USD").expect("usd");
    let address = Address {
        personal_name: "Ada Lovelace".into(),
        line1: "1 Analytical Way".into(),
        line2: String::new(),
        city: "San Jose".into(),
        zip: "95113".into(),
        state_code: "CA".into(),
        state_name: "California".into(),
        country_code: "US".into(),
        country_name: "United States".into(),
        phone: "+1 408 555 0100".into(),
    };
    let tax = TaxClass {
        id: 1,
        code: "Standard".into(),
        display_name: "Standard rate".into(),
        rate_percent: Some(dec("8.25")),
        zero_if_tax_id: false,
    };
    Order {
        id: 27,
        guid: Uuid::from_u128(0x3f1c2a9e_5b7d_4c11_9a4e_2d7f0c8b6a51),
        number: "27".into(),
        status: OrderStatus {
            id: 3,
            code: "Processing".into(),
            display_name: "Processing".into(),
            marks_paid: false,
        },
        created_at: datetime!(2026-11-20 13:03:12 UTC),
        last_modified: datetime!(2026-11-20 13:03:12 UTC),
        currency: usd.clone(),
        totals: OrderTotals {
            total: dec("56.65"),
            tax: dec("1.65"),
            shipping: dec("5.00"),
            grand_total: dec("56.65"),
        },
        customer: Customer {
            id: 7,
            guid: Uuid::from_u128(7),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: Some("ada@example.com".into()),
            phone: "+1 408 555 0100".into(),
            company: "Engines Ltd".into(),
            tax_registration_id: String::new(),
            organization_id: String::new(),
            custom_fields: vec![CustomField {
                name: "CustomerLoyaltyTier".into(),
                value: "Gold".into(),
            }],
            address: Some(address.clone()),
            last_modified: datetime!(2026-11-01 09:00:00 UTC),
        },
        billing_address: Some(address.clone()),
        shipping_address: Some(address),
        lines: vec![
            OrderLine {
                id: 101,
                sku_id: 11,
                sku_number: "DG-CUP-01".into(),
                name: "Espresso cup".into(),
                description: "Porcelain cup".into(),
                quantity: 2,
                unit_price: dec("10.00"),
                total_price: dec("20.00"),
                sku_price: Some(dec("10.00")),
                tax_class: Some(tax),
                attributes: vec![CustomField {
                    name: "Color".into(),
                    value: "White".into(),
                }],
                guid: uuid::Uuid::nil(),
                parent_guid: None,
                bundle_guid: None,
                text: String::new(),
                unit_discounts: vec![],
                discounts: vec![],
            },
            OrderLine {
                id: 102,
                sku_id: 12,
                sku_number: "DG-BEAN-1KG".into(),
                name: "Coffee beans 1 kg".into(),
                description: String::new(),
                quantity: 1,
                unit_price: dec("30.00"),
                total_price: dec("30.00"),
                sku_price: Some(dec("30.00")),
                tax_class: None,
                attributes: vec![],
                guid: uuid::Uuid::nil(),
                parent_guid: None,
                bundle_guid: None,
                text: String::new(),
                unit_discounts: vec![],
                discounts: vec![],
            },
        ],
        custom_attributes: vec![CustomField {
            name: "GiftMessage".into(),
            value: "Happy birthday".into(),
        }],
        note: String::new(),
        payment: Payment {
            is_paid: true,
            method: "Credit card".into(),
            transaction_id: "tx-1".into(),
            amount: Money::new(dec("56.65"), usd),
            paid_at: Some(datetime!(2026-11-20 13:05:00 UTC)),
        },
        discounts: vec![],
        coupon_codes: vec![],
        other_payments: vec![],
        taxes: vec![],
    }
}
