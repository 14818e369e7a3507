//! Names, places and registered customers with their address book.

use rand::Rng;
use time::{Duration, OffsetDateTime};

use super::super::customer::{Address, Customer};
use super::super::reference::State;
use super::{SITE_ID, Stream, country, guid, rng};

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
