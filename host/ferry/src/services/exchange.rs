//! Exchange rates from an ECB `eurofxref` feed, cached per reference day.
//!
//! The feed quotes every currency against EUR (`<Cube currency="USD" rate="1.0823"/>`), so a USD→GBP rate is
//! `GBP/EUR ÷ USD/EUR`. Ferry converts with the rate of the order's date (or the latest published day before it,
//! since the ECB publishes no rates on weekends and holidays).

use ferry_model::{CurrencyCode, Decimal};
use ferry_outbound::{CallCtx, HttpClient};
use quick_xml::Reader;
use quick_xml::events::Event;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Mutex;
use time::Date;
use time::macros::format_description;

/// The breaker and metrics name of the exchange-rate service.
const DOWNSTREAM: &str = "exchange";

/// The rates are shared by every tenant: their calls are counted and broken under this name instead of a tenant's.
const SHARED: &str = "_shared";

/// Exchange-rate service (ECB `eurofxref` format).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeConfig {
    /// Base URL serving `/stats/eurofxref/…`.
    pub base_url: String,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        Self {
            base_url: "https://www.ecb.europa.eu".to_owned(),
        }
    }
}

/// Why a rate could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The service did not answer, or answered with an error (classified like every outbound call).
    #[error(transparent)]
    Unavailable(#[from] ferry_outbound::Error),
    /// The feed could not be parsed.
    #[error("exchange rate feed is malformed: {0}")]
    Malformed(String),
    /// The feed has no rate for the currency on or before the date.
    #[error("no {currency} rate on or before {date}")]
    NoRate {
        /// The currency.
        currency: String,
        /// The date asked for.
        date: Date,
    },
}

impl ExchangeError {
    /// Retry when the service was unavailable (as its outbound error says); a missing currency will not appear
    /// by retrying.
    pub fn disposition(&self) -> ferry_model::Disposition {
        match self {
            Self::Unavailable(e) => e.disposition(),
            other => ferry_model::Disposition::DeadLetter {
                reason: other.to_string(),
            },
        }
    }

    /// The class a dead letter of this error is filed under.
    pub fn class(&self) -> ferry_model::ErrorClass {
        match self {
            Self::Unavailable(e) => e.class(),
            Self::Malformed(_) => ferry_model::ErrorClass::Upstream,
            Self::NoRate { .. } => ferry_model::ErrorClass::NotFound,
        }
    }

    /// False when the breaker refused the call locally (the event waits without spending an attempt).
    pub fn burns_attempt(&self) -> bool {
        match self {
            Self::Unavailable(e) => e.burns_attempt(),
            _ => true,
        }
    }
}

/// Rates per day: date → currency → units per EUR.
type Days = BTreeMap<Date, HashMap<String, Decimal>>;

/// Reads the ECB feed and caches it for the day it was fetched.
pub struct ExchangeClient {
    base_url: String,
    /// The host's outbound client: timeouts, retries of reads, error classes and a breaker for the service.
    http: HttpClient,
    ctx: CallCtx,
    /// Cache of the history feed, keyed by the day it was fetched on (a new day refetches).
    cache: Mutex<Option<(Date, std::sync::Arc<Days>)>>,
}

impl ExchangeClient {
    /// A client for the `[exchange]` service (which serves `/stats/eurofxref/eurofxref-hist-90d.xml`), through
    /// the host's outbound client.
    pub fn new(http: HttpClient, config: &ExchangeConfig) -> Self {
        Self {
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            http,
            ctx: CallCtx::new(SHARED, DOWNSTREAM),
            cache: Mutex::new(None),
        }
    }

    async fn days(&self, today: Date) -> Result<std::sync::Arc<Days>, ExchangeError> {
        if let Ok(guard) = self.cache.lock()
            && let Some((fetched, days)) = guard.as_ref()
            && *fetched == today
        {
            return Ok(days.clone());
        }
        let url = format!("{}/stats/eurofxref/eurofxref-hist-90d.xml", self.base_url);
        let request = self.http.http().get(&url);
        let reply = self
            .http
            .send(&self.ctx, "fetch exchange rates", request)
            .await?;
        let body = String::from_utf8_lossy(&reply.body);
        let days = std::sync::Arc::new(parse_feed(&body)?);
        if let Ok(mut guard) = self.cache.lock() {
            *guard = Some((today, days.clone()));
        }
        Ok(days)
    }

    /// The conversion of amounts in `from` into `to` at `date`'s rate (the feed's latest on or before it), or
    /// `None` when they are the same currency: what the pipeline, the books audit, the catalogue sync and the
    /// plugin dry run apply.
    ///
    /// # Errors
    /// As [`Self::rate`].
    pub async fn conversion(
        &self,
        from: &CurrencyCode,
        to: &CurrencyCode,
        date: Date,
    ) -> Result<Option<ferry_model::Conversion>, ExchangeError> {
        if from == to {
            return Ok(None);
        }
        let (rate, date) = self.rate(from, to, date).await?;
        Ok(Some(ferry_model::Conversion {
            to: to.clone(),
            rate,
            date,
        }))
    }

    /// Units of `to` per unit of `from`, from the latest reference day on or before `date`.
    ///
    /// # Errors
    /// [`ExchangeError`] when the feed is unavailable, malformed or lacks a currency.
    pub async fn rate(
        &self,
        from: &CurrencyCode,
        to: &CurrencyCode,
        date: Date,
    ) -> Result<(Decimal, Date), ExchangeError> {
        if from == to {
            return Ok((Decimal::ONE, date));
        }
        let today = time::OffsetDateTime::now_utc().date();
        let days = self.days(today).await?;
        cross_rate(&days, from.as_str(), to.as_str(), date)
    }
}

fn cross_rate(
    days: &Days,
    from: &str,
    to: &str,
    date: Date,
) -> Result<(Decimal, Date), ExchangeError> {
    let per_eur = |ccy: &str| -> Result<(Decimal, Date), ExchangeError> {
        if ccy == "EUR" {
            return Ok((Decimal::ONE, date));
        }
        days.range(..=date)
            .rev()
            .find_map(|(d, rates)| rates.get(ccy).map(|r| (*r, *d)))
            .ok_or_else(|| ExchangeError::NoRate {
                currency: ccy.to_owned(),
                date,
            })
    };
    let (f, fd) = per_eur(from)?;
    let (t, td) = per_eur(to)?;
    if f.is_zero() {
        return Err(ExchangeError::Malformed(format!("zero rate for {from}")));
    }
    Ok(((t / f).round_dp(8), fd.min(td)))
}

/// Parses `<Cube time="YYYY-MM-DD"><Cube currency="USD" rate="1.0823"/>…</Cube>` days.
fn parse_feed(xml: &str) -> Result<Days, ExchangeError> {
    let fmt = format_description!("[year]-[month]-[day]");
    let mut reader = Reader::from_str(xml);
    let mut days = Days::new();
    let mut current: Option<Date> = None;
    loop {
        match reader
            .read_event()
            .map_err(|e| ExchangeError::Malformed(e.to_string()))?
        {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"Cube" => {
                let mut time_attr = None;
                let mut currency = None;
                let mut rate = None;
                for attr in e.attributes().flatten() {
                    let value = String::from_utf8_lossy(&attr.value).into_owned();
                    match attr.key.local_name().as_ref() {
                        b"time" => time_attr = Some(value),
                        b"currency" => currency = Some(value),
                        b"rate" => rate = Some(value),
                        _ => {}
                    }
                }
                if let Some(t) = time_attr {
                    let d = Date::parse(&t, fmt)
                        .map_err(|e| ExchangeError::Malformed(format!("time {t:?}: {e}")))?;
                    current = Some(d);
                    days.entry(d).or_default();
                } else if let (Some(c), Some(r), Some(d)) = (currency, rate, current) {
                    let r = Decimal::from_str(&r)
                        .map_err(|e| ExchangeError::Malformed(format!("rate {r:?}: {e}")))?;
                    days.entry(d).or_default().insert(c, r);
                }
            }
            _ => {}
        }
    }
    if days.is_empty() {
        return Err(ExchangeError::Malformed("no <Cube time=…> days".to_owned()));
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
<gesmes:subject>Reference rates</gesmes:subject>
<Cube><Cube time="2026-11-20"><Cube currency="USD" rate="1.0800"/><Cube currency="GBP" rate="0.8640"/></Cube>
<Cube time="2026-11-19"><Cube currency="USD" rate="1.0700"/><Cube currency="GBP" rate="0.8600"/></Cube></Cube>
</gesmes:Envelope>"#;

    #[test]
    fn cross_rates_go_through_eur() {
        let days = parse_feed(FEED).unwrap();
        let (r, d) = cross_rate(&days, "USD", "GBP", date!(2026 - 11 - 20)).unwrap();
        assert_eq!(
            (r, d),
            (Decimal::from_str("0.8").unwrap(), date!(2026 - 11 - 20))
        );
        let (r, _) = cross_rate(&days, "EUR", "USD", date!(2026 - 11 - 19)).unwrap();
        assert_eq!(r, Decimal::from_str("1.07").unwrap());
    }

    #[test]
    fn weekends_use_the_last_published_day() {
        let days = parse_feed(FEED).unwrap();
        let (_, d) = cross_rate(&days, "USD", "EUR", date!(2026 - 11 - 22)).unwrap();
        assert_eq!(d, date!(2026 - 11 - 20));
        assert!(matches!(
            cross_rate(&days, "JPY", "EUR", date!(2026 - 11 - 22)),
            Err(ExchangeError::NoRate { .. })
        ));
    }
}
