//! The ECB exchange-rate simulator over real HTTP: the three feeds parse as ECB XML, list business days only,
//! agree with the handle's rates, are deterministic per seed, and go through the fault layer.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use ferry_sim::exchange::{ExchangeHandle, ExchangeSim, ExchangeSimConfig};
use quick_xml::Reader;
use quick_xml::events::Event;
use rust_decimal::Decimal;
use time::{Date, Weekday, macros::format_description};

type Days = BTreeMap<Date, BTreeMap<String, Decimal>>;

/// Reads `<Cube time=…><Cube currency=… rate=…/>…</Cube>` the way a client would.
fn parse(xml: &str) -> anyhow::Result<Days> {
    let fmt = format_description!("[year]-[month]-[day]");
    let mut reader = Reader::from_str(xml);
    let mut days = Days::new();
    let mut current = None;
    loop {
        match reader.read_event()? {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"Cube" => {
                let mut attrs = BTreeMap::new();
                for a in e.attributes() {
                    let a = a?;
                    attrs.insert(
                        String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(),
                        String::from_utf8_lossy(&a.value).into_owned(),
                    );
                }
                if let Some(t) = attrs.get("time") {
                    let d = Date::parse(t, fmt)?;
                    current = Some(d);
                    days.entry(d).or_default();
                } else if let (Some(c), Some(r), Some(d)) =
                    (attrs.get("currency"), attrs.get("rate"), current)
                {
                    days.entry(d)
                        .or_default()
                        .insert(c.clone(), Decimal::from_str(r)?);
                }
            }
            _ => {}
        }
    }
    Ok(days)
}

async fn fetch(sim: &ExchangeHandle, file: &str) -> anyhow::Result<(reqwest::StatusCode, String)> {
    let r = reqwest::get(format!("{}/stats/eurofxref/{file}", sim.base_url())).await?;
    Ok((r.status(), r.text().await?))
}

fn check_against_handle(sim: &ExchangeHandle, days: &Days) {
    for (d, rates) in days {
        assert!(
            !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday),
            "{d}"
        );
        for (code, rate) in rates {
            assert_eq!(sim.rate(*d, code), Some(*rate), "{d} {code}");
        }
    }
}

#[tokio::test]
async fn daily_feed_is_the_latest_business_day() -> anyhow::Result<()> {
    let sim = ExchangeSim::start(ExchangeSimConfig::default()).await?;
    let (status, body) = fetch(&sim, "eurofxref-daily.xml").await?;
    assert_eq!(status, 200);
    assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gesmes:Envelope xmlns:gesmes=\"http://www.gesmes.org/xml/2002-08-01\" xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/eurofxref\">"));
    assert!(body.contains("<gesmes:subject>Reference rates</gesmes:subject>"));
    assert!(body.contains("<gesmes:name>European Central Bank</gesmes:name>"));
    let days = parse(&body)?;
    assert_eq!(days.len(), 1);
    let (day, rates) = days.iter().next().expect("one day");
    assert_eq!(*day, sim.latest_day());
    assert!(rates.len() >= 29, "{}", rates.len());
    let near = |code: &str, lo: i64, hi: i64| {
        let r = rates[code];
        assert!(
            r > Decimal::from(lo) / Decimal::from(100)
                && r < Decimal::from(hi) / Decimal::from(100),
            "{code} {r}"
        );
    };
    near("USD", 95, 125);
    near("GBP", 75, 95);
    near("CZK", 2200, 2800);
    near("CAD", 130, 165);
    near("JPY", 13000, 19000);
    near("CHF", 85, 105);
    assert!(!rates.contains_key("EUR"));
    check_against_handle(&sim, &days);
    Ok(())
}

#[tokio::test]
async fn ninety_day_history_lists_business_days_newest_first() -> anyhow::Result<()> {
    let sim = ExchangeSim::start(ExchangeSimConfig::default()).await?;
    let (status, body) = fetch(&sim, "eurofxref-hist-90d.xml").await?;
    assert_eq!(status, 200);
    let days = parse(&body)?;
    assert!((58..=66).contains(&days.len()), "{} days", days.len());
    let latest = *days.keys().last().expect("days");
    let oldest = *days.keys().next().expect("days");
    assert_eq!(latest, sim.latest_day());
    assert!((latest - oldest).whole_days() < 90);
    // Newest first in the document.
    let first_time = body.find("time=\"").map(|i| &body[i + 6..i + 16]);
    assert_eq!(first_time, Some(latest.to_string().as_str()));
    check_against_handle(&sim, &days);
    // Weekends resolve to the last published day.
    let saturday = (0..7)
        .map(|n| latest - time::Duration::days(n))
        .find(|d| d.weekday() == Weekday::Saturday)
        .expect("a saturday");
    assert_eq!(sim.rate(saturday, "USD"), None);
    let (rate, on) = sim.rate_on_or_before(saturday, "USD").expect("rate");
    assert_eq!(on.weekday(), Weekday::Friday);
    assert_eq!(days.get(&on).map(|r| r["USD"]), Some(rate));
    Ok(())
}

#[tokio::test]
async fn full_history_starts_with_the_euro() -> anyhow::Result<()> {
    let sim = ExchangeSim::start(ExchangeSimConfig::default()).await?;
    let (status, body) = fetch(&sim, "eurofxref-hist.xml").await?;
    assert_eq!(status, 200);
    let days = parse(&body)?;
    assert_eq!(
        days.keys().next().map(ToString::to_string).as_deref(),
        Some("1999-01-04")
    );
    assert!(days.len() > 6000);
    let christmas = Date::from_calendar_date(2024, time::Month::December, 25)?;
    assert!(!days.contains_key(&christmas));
    Ok(())
}

#[tokio::test]
async fn rates_are_deterministic_per_seed() -> anyhow::Result<()> {
    let a = ExchangeSim::start(ExchangeSimConfig {
        seed: 7,
        ..ExchangeSimConfig::default()
    })
    .await?;
    let b = ExchangeSim::start(ExchangeSimConfig {
        seed: 7,
        ..ExchangeSimConfig::default()
    })
    .await?;
    let c = ExchangeSim::start(ExchangeSimConfig {
        seed: 8,
        ..ExchangeSimConfig::default()
    })
    .await?;
    let (_, ba) = fetch(&a, "eurofxref-hist-90d.xml").await?;
    let (_, bb) = fetch(&b, "eurofxref-hist-90d.xml").await?;
    let (_, bc) = fetch(&c, "eurofxref-hist-90d.xml").await?;
    assert_eq!(ba, bb);
    assert_ne!(ba, bc);
    // Rates move from day to day but stay in a realistic band.
    let days = parse(&ba)?;
    let usd: Vec<Decimal> = days.values().map(|r| r["USD"]).collect();
    let (min, max) = (
        usd.iter().min().expect("min"),
        usd.iter().max().expect("max"),
    );
    assert!(min < max);
    assert!(*max / *min < Decimal::from_str("1.15")?);
    Ok(())
}

#[tokio::test]
async fn faults_reach_the_feeds() -> anyhow::Result<()> {
    let sim = ExchangeSim::start(ExchangeSimConfig::default()).await?;
    sim.faults().fail_next(1, 503);
    assert_eq!(fetch(&sim, "eurofxref-hist-90d.xml").await?.0, 503);
    sim.faults().reset_next(1);
    assert!(fetch(&sim, "eurofxref-daily.xml").await.is_err());
    sim.faults().outage_for(Duration::from_millis(200));
    assert_eq!(fetch(&sim, "eurofxref-daily.xml").await?.0, 503);
    sim.faults().end_outage();
    sim.faults().throttle_next(1, Some(Duration::from_secs(2)));
    let r = reqwest::get(format!(
        "{}/stats/eurofxref/eurofxref-daily.xml",
        sim.base_url()
    ))
    .await?;
    assert_eq!(r.status(), 429);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("2")
    );
    assert_eq!(fetch(&sim, "eurofxref-daily.xml").await?.0, 200);
    assert_eq!(fetch(&sim, "eurofxref-nope.xml").await?.0, 404);
    sim.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        reqwest::Client::new()
            .get(format!(
                "{}/stats/eurofxref/eurofxref-daily.xml",
                sim.base_url()
            ))
            .send()
            .await
            .is_err()
    );
    Ok(())
}
