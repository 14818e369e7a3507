//! The seeded store: Dancing Goat-like configuration (currencies, statuses, tax classes, payment and shipping
//! options, SKUs), countries and states from the reference data, and customers with address books. Everything
//! is a pure function of the seed, so two simulators with one seed serve the same store.

mod catalog;
mod people;
mod rng;

use std::str::FromStr;

use rand::Rng;
use rust_decimal::Decimal;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::reference::{
    Country, Currency, OrderStatus, PaymentOption, ShippingOption, State, TaxClass,
    TaxClassCountry, TaxClassState,
};
use super::sku::Sku;
use catalog::skus;
pub(crate) use people::{Place, customer, name, phone, place};
pub(crate) use rng::{SimRng, Stream, rng};

/// Countries and US states (`shared/reference/kentico/kentico-countries-states.json`).
const COUNTRIES_STATES: &str = include_str!("data/countries-states.json");

/// The one site's id.
pub(crate) const SITE_ID: i64 = 1;

/// A random (v4) GUID drawn from `rng`.
pub(crate) fn guid(rng: &mut impl Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid()
}

/// A decimal literal from the tables below.
pub(crate) fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_default()
}

/// Status code names the store and the API use.
pub(crate) mod status {
    pub(crate) const COMPLETED: &str = "Completed";
    pub(crate) const PAYMENT_RECEIVED: &str = "PaymentReceived";
    pub(crate) const NEW: &str = "New";
    pub(crate) const IN_PROGRESS: &str = "InProgress";
    pub(crate) const CANCELED: &str = "Canceled";
    pub(crate) const PAYMENT_FAILED: &str = "PaymentFailed";
    pub(crate) const RETURNED: &str = "Returned";
}

/// Configuration objects, countries and states, all stamped `at`.
pub(crate) struct Reference {
    pub(crate) currencies: Vec<Currency>,
    pub(crate) statuses: Vec<OrderStatus>,
    pub(crate) tax_classes: Vec<TaxClass>,
    pub(crate) tax_countries: Vec<TaxClassCountry>,
    pub(crate) tax_states: Vec<TaxClassState>,
    pub(crate) payment_options: Vec<PaymentOption>,
    pub(crate) shipping_options: Vec<ShippingOption>,
    pub(crate) countries: Vec<Country>,
    pub(crate) states: Vec<State>,
    pub(crate) skus: Vec<Sku>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CountryJson {
    #[serde(rename = "CountryID")]
    country_id: Option<i64>,
    country_display_name: String,
    country_name: String,
    #[serde(rename = "CountryGUID")]
    country_guid: Uuid,
    country_two_letter_code: Option<String>,
    country_three_letter_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StateJson {
    #[serde(rename = "StateID")]
    state_id: i64,
    state_display_name: String,
    state_name: String,
    state_code: Option<String>,
    #[serde(rename = "CountryID")]
    country_id: i64,
    #[serde(rename = "StateGUID")]
    state_guid: Uuid,
}

#[derive(Deserialize)]
struct CountriesStates {
    countries: Vec<CountryJson>,
    states: Vec<StateJson>,
}

fn countries_states(at: OffsetDateTime) -> (Vec<Country>, Vec<State>) {
    let Ok(data) = serde_json::from_str::<CountriesStates>(COUNTRIES_STATES) else {
        return (Vec::new(), Vec::new());
    };
    let max_id = data
        .countries
        .iter()
        .filter_map(|c| c.country_id)
        .max()
        .unwrap_or(0);
    let mut next = max_id;
    let countries = data
        .countries
        .into_iter()
        .map(|c| {
            // guess: countries newer than Kentico 6 have no known id; they get ids after the highest known one.
            let id = c.country_id.unwrap_or_else(|| {
                next += 1;
                next
            });
            Country {
                id,
                display_name: c.country_display_name,
                name: c.country_name,
                guid: c.country_guid,
                last_modified: at,
                two_letter: c.country_two_letter_code,
                three_letter: c.country_three_letter_code,
            }
        })
        .collect();
    let states = data
        .states
        .into_iter()
        .map(|s| State {
            id: s.state_id,
            display_name: s.state_display_name,
            name: s.state_name,
            code: s.state_code,
            country_id: s.country_id,
            guid: s.state_guid,
            last_modified: at,
        })
        .collect();
    (countries, states)
}

/// Country ids used by generated addresses (from the reference data).
pub(crate) mod country {
    pub(crate) const USA: i64 = 271;
    pub(crate) const CANADA: i64 = 309;
    pub(crate) const CZECH_REPUBLIC: i64 = 326;
    pub(crate) const FRANCE: i64 = 342;
    pub(crate) const GERMANY: i64 = 349;
    pub(crate) const NETHERLANDS: i64 = 420;
    pub(crate) const UNITED_KINGDOM: i64 = 492;
}

/// Builds the configuration objects.
pub(crate) fn reference(seed: u64, at: OffsetDateTime) -> Reference {
    let mut g = rng(seed, Stream::Guid, 0);
    let site = Some(SITE_ID);
    // guess: Dancing Goat's currencies, with store-side exchange rates against the main currency (USD).
    let currencies = [
        ("USDollar", "US Dollar", "USD", "${0:#,#.00}", true, "1"),
        ("Euro", "Euro", "EUR", "€{0:#,#.00}", false, "0.92"),
        (
            "BritishPound",
            "British Pound",
            "GBP",
            "£{0:#,#.00}",
            false,
            "0.79",
        ),
        (
            "CzechKoruna",
            "Czech Koruna",
            "CZK",
            "{0:#,#.00} Kč",
            false,
            "23.10",
        ),
        (
            "CanadianDollar",
            "Canadian Dollar",
            "CAD",
            "CA${0:#,#.00}",
            false,
            "1.36",
        ),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, display, code, format, main, rate))| Currency {
        id: i as i64 + 1,
        name,
        display_name: display,
        code,
        round_to: 2,
        format,
        is_main: *main,
        guid: guid(&mut g),
        last_modified: at,
        site_id: site,
        rate: dec(rate),
    })
    .collect();
    // guess: beyond New / PaymentReceived / Completed (seen in Kentico tests, ids 3 and 2 as there) the list is
    // the usual K13 lifecycle; only PaymentReceived has "Mark order as paid".
    let statuses = [
        (status::COMPLETED, "Completed", 4, "#2e7d32", false),
        (
            status::PAYMENT_RECEIVED,
            "Payment received",
            2,
            "#1565c0",
            true,
        ),
        (status::NEW, "New", 1, "#f9a825", false),
        (status::IN_PROGRESS, "In progress", 3, "#6a1b9a", false),
        (status::CANCELED, "Canceled", 5, "#c62828", false),
        (
            status::PAYMENT_FAILED,
            "Payment failed",
            6,
            "#ad1457",
            false,
        ),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, display, order, color, paid))| OrderStatus {
        id: i as i64 + 1,
        name,
        display_name: display,
        order: *order,
        color,
        guid: guid(&mut g),
        last_modified: at,
        send_notification: true,
        site_id: site,
        is_paid: *paid,
    })
    .collect::<Vec<_>>();
    // guess: a returned order is the other end state docs/kentico.md §7 expects besides `Canceled`; added after
    // the first release of the seed, so its GUID comes from its own stream and older GUIDs stay put.
    let mut statuses = statuses;
    statuses.push(OrderStatus {
        id: statuses.len() as i64 + 1,
        name: status::RETURNED,
        display_name: "Returned",
        order: 7,
        color: "#5d4037",
        guid: guid(&mut rng(seed, Stream::LateGuid, 0)),
        last_modified: at,
        send_notification: true,
        site_id: site,
        is_paid: false,
    });
    let tax_classes = [
        ("Standard", "Standard rate", true),
        ("Reduced", "Reduced rate (food)", true),
        ("Exempt", "Tax exempt", false),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, display, zero))| TaxClass {
        id: i as i64 + 1,
        name,
        display_name: display,
        zero_if_id_supplied: *zero,
        guid: guid(&mut g),
        last_modified: at,
        site_id: site,
    })
    .collect();
    use country::*;
    let tax_countries = [
        (1, CZECH_REPUBLIC, "21"),
        (1, GERMANY, "19"),
        (1, UNITED_KINGDOM, "20"),
        (1, FRANCE, "20"),
        (1, NETHERLANDS, "21"),
        (1, CANADA, "5"),
        (2, CZECH_REPUBLIC, "12"),
        (2, GERMANY, "7"),
        (2, UNITED_KINGDOM, "0"),
        (2, FRANCE, "5.5"),
        (2, NETHERLANDS, "9"),
        (2, CANADA, "0"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (class, country, value))| TaxClassCountry {
        id: i as i64 + 1,
        class_id: *class,
        country_id: *country,
        value: dec(value),
    })
    .collect();
    // US sales tax by state (StateIDs from the reference data): CA 66, NY 91… looked up by code below.
    let (countries, states) = countries_states(at);
    let state_id = |code: &str| {
        states
            .iter()
            .find(|s| s.code.as_deref() == Some(code))
            .map(|s| s.id)
            .unwrap_or_default()
    };
    let tax_states = [
        (1, "CA", "7.25"),
        (1, "NY", "4"),
        (1, "TX", "6.25"),
        (1, "WA", "6.5"),
        (1, "IL", "6.25"),
        (1, "MA", "6.25"),
        (1, "FL", "6"),
        (1, "CO", "2.9"),
        (2, "IL", "1"),
        (2, "CO", "2.9"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (class, code, value))| TaxClassState {
        id: i as i64 + 1,
        class_id: *class,
        state_id: state_id(code),
        value: dec(value),
    })
    .collect();
    // guess: option 3 is `DancingGoatCore.MoneyTransfer` as in the Kentico tests; the others are typical gateways.
    let payment_options = [
        (
            "DancingGoatCore.CreditCard",
            "Credit card",
            Some("DancingGoat.PaymentGateways.CreditCardGateway"),
        ),
        (
            "DancingGoatCore.PayPal",
            "PayPal",
            Some("DancingGoat.PaymentGateways.PayPalGateway"),
        ),
        ("DancingGoatCore.MoneyTransfer", "Money transfer", None),
        ("DancingGoatCore.CashOnDelivery", "Cash on delivery", None),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, display, gateway))| PaymentOption {
        id: i as i64 + 1,
        name,
        display_name: display,
        gateway: *gateway,
        succeeded_status_id: gateway.map(|_| 2),
        failed_status_id: gateway.map(|_| 6),
        authorized_status_id: None,
        guid: guid(&mut g),
        last_modified: at,
        site_id: site,
        description: None,
    })
    .collect();
    let shipping_options = [
        ("Pickup", "Pick up at the café", "0"),
        ("StandardDelivery", "Standard delivery", "5"),
        ("Express", "Express delivery", "15"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, display, cost))| ShippingOption {
        id: i as i64 + 1,
        name,
        display_name: display,
        cost: dec(cost),
        guid: guid(&mut g),
        last_modified: at,
        site_id: site,
    })
    .collect();
    let skus = skus(&mut g, at);
    Reference {
        currencies,
        statuses,
        tax_classes,
        tax_countries,
        tax_states,
        payment_options,
        shipping_options,
        countries,
        states,
        skus,
    }
}
