//! The seeded store: Dancing Goat-like configuration (currencies, statuses, tax classes, payment and shipping
//! options, SKUs), countries and states from the reference data, and customers with address books. Everything
//! is a pure function of the seed, so two simulators with one seed serve the same store.

use std::str::FromStr;

use rand::{Rng, RngCore};
use rust_decimal::Decimal;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::customer::{Address, Customer};
use super::reference::{
    Country, Currency, OrderStatus, PaymentOption, ShippingOption, State, TaxClass,
    TaxClassCountry, TaxClassState,
};
use super::sku::Sku;

/// Countries and US states (`shared/reference/kentico/kentico-countries-states.json`).
const COUNTRIES_STATES: &str = include_str!("data/countries-states.json");

/// The one site's id.
pub(crate) const SITE_ID: i64 = 1;

/// Random streams, so one kind of object never shifts another's numbers.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Stream {
    Guid = 1,
    Customer = 2,
    Order = 3,
    RandomOrder = 4,
    History = 5,
    Skip = 6,
}

/// The store's generator: xoshiro256** seeded by splitmix64. Small and fast even in unoptimised builds, where
/// ChaCha-based `StdRng` made generating 100,000 orders take many seconds; the numbers only need to look random.
#[derive(Debug, Clone)]
pub(crate) struct SimRng {
    s: [u64; 4],
}

impl SimRng {
    /// A generator seeded from one number.
    pub(crate) fn from_seed(mut seed: u64) -> Self {
        let mut next = || {
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            splitmix(seed)
        };
        Self {
            s: [next(), next(), next(), next()],
        }
    }
}

impl RngCore for SimRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A generator for object `n` of `stream` under `seed`.
pub(crate) fn rng(seed: u64, stream: Stream, n: u64) -> SimRng {
    SimRng::from_seed(splitmix(
        seed ^ (stream as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ n.wrapping_mul(0xBF58_476D_1CE4_E5B9),
    ))
}

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
    .collect();
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

/// Dancing Goat-style catalogue: coffees (reduced tax), equipment (standard), gift cards (exempt e-products).
fn skus(g: &mut SimRng, at: OffsetDateTime) -> Vec<Sku> {
    const COFFEE: &[(&str, &str, &str)] = &[
        ("Colombia Carlos Imbachi", "13.50", "Colombia"),
        ("Brazil Natural Barra Grande", "18.90", "Brazil"),
        ("Ethiopia Yirgacheffe", "15.20", "Ethiopia"),
        ("Kenya Gakuyuni AA", "16.80", "Kenya"),
        ("Guatemala El Injerto", "19.50", "Guatemala"),
        ("Costa Rica Finca Las Lajas", "14.70", "Costa Rica"),
        ("Sumatra Mandheling", "12.90", "Indonesia"),
        ("Honduras Finca Cual Bicho", "14.10", "Honduras"),
    ];
    const GEAR: &[(&str, &str, &str)] = &[
        ("Chemex Classic 8-cup", "46.50", "GEAR"),
        ("Hario V60 Dripper", "24.00", "GEAR"),
        ("AeroPress Coffee Maker", "34.95", "GEAR"),
        ("Hario Skerton Pro Grinder", "52.00", "GRND"),
        ("Baratza Encore Grinder", "169.00", "GRND"),
        ("Bialetti Moka Express", "39.90", "GEAR"),
        ("Dancing Goat Mug", "11.00", "MERC"),
        ("Barista Scale", "59.00", "GEAR"),
    ];
    let mut out = Vec::new();
    let mut push = |name: &str,
                    number: String,
                    price: &str,
                    class: i64,
                    product_type: &'static str,
                    custom: Vec<(&'static str, String)>,
                    description: String,
                    g: &mut SimRng| {
        let id = out.len() as i64 + 1;
        out.push(Sku {
            id,
            number,
            name: name.to_owned(),
            description: format!("<p>{description}</p>"),
            short_description: format!("<p>{}</p>", description.replace('&', "&amp;")),
            price: dec(price),
            retail_price: None,
            tax_class_id: Some(class),
            guid: guid(g),
            created: at - Duration::days(400),
            last_modified: at,
            product_type,
            needs_shipping: product_type == "PRODUCT",
            weight: if product_type == "PRODUCT" { 0.25 } else { 0.0 },
            available_items: g.gen_range(20..500),
            site_id: Some(SITE_ID),
            custom,
        });
    };
    for (i, (name, price, origin)) in COFFEE.iter().enumerate() {
        push(
            name,
            format!("DG-COF-{:03}", i + 1),
            price,
            2,
            "PRODUCT",
            vec![("Origin", (*origin).to_owned())],
            format!("Single origin coffee from {origin}, roasted & packed in 250 g bags."),
            g,
        );
    }
    for (i, (name, price, kind)) in GEAR.iter().enumerate() {
        push(
            name,
            format!("DG-{kind}-{:03}", i + 1),
            price,
            1,
            "PRODUCT",
            Vec::new(),
            format!("{name} for brewing at home."),
            g,
        );
    }
    for (i, amount) in ["25", "50"].iter().enumerate() {
        push(
            &format!("Gift card ${amount}"),
            format!("DG-GIFT-{:03}", i + 1),
            amount,
            3,
            "EPRODUCT",
            Vec::new(),
            format!("An electronic gift card worth ${amount}."),
            g,
        );
    }
    out
}

const FIRST: &[&str] = &[
    "Ada",
    "Ben",
    "Chloé",
    "David",
    "Eva",
    "František",
    "Greta",
    "Hugo",
    "Isla",
    "Jan",
    "Kateřina",
    "Liam",
    "Mia",
    "Noah",
    "Olivia",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sofia",
    "Tomáš",
    "Uma",
    "Victor",
    "Wendy",
    "Xavier",
    "Yara",
    "Zoë",
    "Lukas",
    "Emma",
    "Oliver",
    "Amelia",
];
const LAST: &[&str] = &[
    "Tester", "Novák", "Müller", "Smith", "O'Brien", "García", "Dvořák", "Johnson", "Schmidt",
    "Brown", "Dubois", "de Vries", "Taylor", "Svoboda", "Wilson", "Martin", "Jansen", "Clark",
    "Weber", "Lewis", "Moreau", "Bakker", "Walker", "Fischer", "Young",
];

/// `(country id, state code, city, zip, street pattern)`; `{n}` is the house number.
const PLACES: &[(i64, Option<&str>, &str, &str, &str)] = &[
    (
        country::USA,
        Some("CA"),
        "San Francisco",
        "94107",
        "{n} Folsom Street",
    ),
    (
        country::USA,
        Some("NY"),
        "New York",
        "10001",
        "{n} West 34th Street",
    ),
    (
        country::USA,
        Some("TX"),
        "Austin",
        "73301",
        "{n} Congress Avenue",
    ),
    (
        country::USA,
        Some("WA"),
        "Seattle",
        "98101",
        "{n} Pike Street",
    ),
    (
        country::USA,
        Some("IL"),
        "Chicago",
        "60601",
        "{n} North Michigan Avenue",
    ),
    (
        country::USA,
        Some("MA"),
        "Boston",
        "02108",
        "{n} Beacon Street",
    ),
    (
        country::USA,
        Some("FL"),
        "Miami",
        "33101",
        "{n} Ocean Drive",
    ),
    (
        country::USA,
        Some("CO"),
        "Denver",
        "80202",
        "{n} Larimer Street",
    ),
    (
        country::USA,
        Some("OR"),
        "Portland",
        "97201",
        "{n} SW Broadway",
    ),
    (
        country::CZECH_REPUBLIC,
        None,
        "Praha",
        "110 00",
        "Národní {n}",
    ),
    (
        country::CZECH_REPUBLIC,
        None,
        "Brno",
        "602 00",
        "Masarykova {n}",
    ),
    (
        country::GERMANY,
        None,
        "Berlin",
        "10115",
        "Invalidenstraße {n}",
    ),
    (
        country::GERMANY,
        None,
        "München",
        "80331",
        "Kaufingerstraße {n}",
    ),
    (
        country::UNITED_KINGDOM,
        None,
        "London",
        "SW1A 1AA",
        "{n} Whitehall",
    ),
    (
        country::UNITED_KINGDOM,
        None,
        "Manchester",
        "M1 1AE",
        "{n} Market Street",
    ),
    (
        country::CANADA,
        None,
        "Toronto",
        "M5H 2N2",
        "{n} Bay Street",
    ),
    (country::FRANCE, None, "Paris", "75001", "{n} rue de Rivoli"),
    (
        country::NETHERLANDS,
        None,
        "Amsterdam",
        "1012 AB",
        "Damrak {n}",
    ),
];

/// A generated postal address.
pub(crate) struct Place {
    pub(crate) line1: String,
    pub(crate) line2: Option<String>,
    pub(crate) city: String,
    pub(crate) zip: String,
    pub(crate) country_id: i64,
    pub(crate) state_id: Option<i64>,
}

/// Draws a place; US addresses get their state id.
pub(crate) fn place(r: &mut impl Rng, states: &[State]) -> Place {
    // Half the customers are American, the rest spread over the other countries.
    let i = if r.gen_bool(0.5) {
        r.gen_range(0..9)
    } else {
        r.gen_range(9..PLACES.len())
    };
    let (country_id, state, city, zip, street) = PLACES[i];
    let state_id = state.and_then(|code| {
        states
            .iter()
            .find(|s| s.code.as_deref() == Some(code))
            .map(|s| s.id)
    });
    Place {
        line1: street.replace("{n}", &r.gen_range(1..400).to_string()),
        line2: r
            .gen_bool(0.15)
            .then(|| format!("Apt {}", r.gen_range(1..60))),
        city: city.to_owned(),
        zip: zip.to_owned(),
        country_id,
        state_id,
    }
}

/// A random first and last name.
pub(crate) fn name(r: &mut impl Rng) -> (String, String) {
    (
        FIRST[r.gen_range(0..FIRST.len())].to_owned(),
        LAST[r.gen_range(0..LAST.len())].to_owned(),
    )
}

/// A phone number.
pub(crate) fn phone(r: &mut impl Rng) -> String {
    format!("+1 555 01{:02}", r.gen_range(0..100))
}

/// ASCII-only lower-case letters of a name, for e-mail addresses.
fn email_part(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'á' | 'à' => Some('a'),
            'é' | 'ě' | 'ë' => Some('e'),
            'í' => Some('i'),
            'ó' | 'ö' => Some('o'),
            'ú' | 'ů' | 'ü' => Some('u'),
            'ř' => Some('r'),
            'š' => Some('s'),
            'č' => Some('c'),
            'ž' => Some('z'),
            'ý' => Some('y'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// Registered customer number `id` with one address-book entry (`address_id`), created before `at`.
pub(crate) fn customer(
    seed: u64,
    id: i64,
    address_id: i64,
    states: &[State],
    at: OffsetDateTime,
) -> (Customer, Address) {
    let mut r = rng(seed, Stream::Customer, id as u64);
    let (first, last) = name(&mut r);
    let created = at - Duration::seconds(r.gen_range(86_400..86_400 * 700));
    let company = r.gen_bool(0.3).then(|| format!("{last} Coffee Roasters"));
    let place = place(&mut r, states);
    let eu = ![country::USA, country::CANADA].contains(&place.country_id);
    let tax_registration_id = company
        .as_ref()
        .filter(|_| eu && r.gen_bool(0.6))
        .map(|_| format!("EU{:09}", r.gen_range(0..1_000_000_000u64)));
    let organization_id = company
        .as_ref()
        .map(|_| format!("{:08}", r.gen_range(10_000_000..99_999_999u64)));
    let loyalty_tier = match r.gen_range(0..10) {
        0 => Some("Gold"),
        1 | 2 => Some("Silver"),
        3..=5 => Some("Bronze"),
        _ => None,
    };
    let marketing_opt_in = match r.gen_range(0..3) {
        0 => Some(true),
        1 => Some(false),
        _ => None,
    };
    let phone = r.gen_bool(0.8).then(|| phone(&mut r));
    let customer = Customer {
        id,
        email: Some(format!(
            "{}.{}{id}@example.com",
            email_part(&first),
            email_part(&last)
        )),
        first_name: first.clone(),
        last_name: last.clone(),
        phone: phone.clone(),
        company,
        user_id: r.gen_bool(0.7).then_some(100 + id),
        guid: guid(&mut r),
        tax_registration_id,
        organization_id,
        last_modified: created + Duration::seconds(r.gen_range(0..86_400)),
        site_id: Some(SITE_ID),
        created,
        loyalty_tier: loyalty_tier.map(str::to_owned),
        marketing_opt_in,
        address_ids: vec![address_id],
    };
    let address = Address {
        id: address_id,
        name: format!("{first} {last}, {}", place.city),
        line1: place.line1,
        line2: place.line2,
        city: place.city,
        zip: place.zip,
        phone,
        customer_id: id,
        country_id: place.country_id,
        state_id: place.state_id,
        personal_name: format!("{first} {last}"),
        guid: guid(&mut r),
        last_modified: created,
    };
    (customer, address)
}
