//! ECB exchange-rate simulator: `/stats/eurofxref/eurofxref-daily.xml`, `eurofxref-hist-90d.xml` and
//! `eurofxref-hist.xml` in the ECB's gesmes format, business days only, with deterministic rates from the seed,
//! behind the shared fault layer.
//!
//! Layout:
//! - `rates`: TARGET business days, publication time, the quoted currencies and the rate model.
//! - `feed`: the XML files.

mod feed;
mod rates;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_decimal::Decimal;
use time::{Date, Duration, OffsetDateTime};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::faults::{self, Faults};

/// The path prefix of the feeds, as on `www.ecb.europa.eu`.
pub const FEED_PATH: &str = "/stats/eurofxref";

/// How to start the simulator.
#[derive(Debug, Clone)]
pub struct ExchangeSimConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of the rates and of the fault generator.
    pub seed: u64,
    /// Calendar days covered by `eurofxref-hist-90d.xml`.
    pub days: u32,
    /// First day of `eurofxref-hist.xml` (the euro's first reference day, 1999-01-04, by default).
    pub history_start: Date,
}

impl Default for ExchangeSimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            seed: 1,
            days: 90,
            history_start: rates::euro_start(),
        }
    }
}

/// Shared by the routes and the handle.
#[derive(Debug)]
struct Shared {
    config: ExchangeSimConfig,
    faults: Faults,
}

/// Starts the simulator.
#[derive(Debug)]
pub struct ExchangeSim;

impl ExchangeSim {
    /// Binds 127.0.0.1:`config.port` and serves until [`ExchangeHandle::shutdown`] or until every handle clone
    /// is dropped.
    ///
    /// # Errors
    ///
    /// Fails when the port cannot be bound.
    pub async fn start(config: ExchangeSimConfig) -> std::io::Result<ExchangeHandle> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            faults: Faults::new(config.seed),
            config,
        });
        let api = Router::new()
            .route(&format!("{FEED_PATH}/eurofxref-daily.xml"), get(daily))
            .route(
                &format!("{FEED_PATH}/eurofxref-hist-90d.xml"),
                get(hist_90d),
            )
            .route(&format!("{FEED_PATH}/eurofxref-hist.xml"), get(hist))
            .with_state(shared.clone())
            .layer(shared.faults.layer());
        let router = Router::new()
            .merge(api)
            .nest(faults::CONTROL_PATH, shared.faults.router());
        let (tx, mut rx) = watch::channel(false);
        tokio::spawn(async move {
            let _ = faults::serve(listener, router, async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        });
        Ok(ExchangeHandle {
            addr,
            shared,
            shutdown: Arc::new(tx),
        })
    }
}

fn xml(body: String) -> Response {
    // guess: the ECB serves the files as text/xml.
    ([(http::header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn today() -> Date {
    rates::latest_day(OffsetDateTime::now_utc())
}

async fn daily(State(s): State<Arc<Shared>>) -> Response {
    xml(feed::daily(s.config.seed, today()))
}

async fn hist_90d(State(s): State<Arc<Shared>>) -> Response {
    let latest = today();
    let first = latest - Duration::days(i64::from(s.config.days.max(1)) - 1);
    xml(feed::history(s.config.seed, latest, first))
}

async fn hist(State(s): State<Arc<Shared>>) -> Response {
    xml(feed::history(
        s.config.seed,
        today(),
        s.config.history_start.max(rates::euro_start()),
    ))
}

/// A running simulator. Clones share it; it stops on [`ExchangeHandle::shutdown`] or when the last clone drops.
#[derive(Debug, Clone)]
pub struct ExchangeHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Held only by handles, so dropping the last one stops the server.
    shutdown: Arc<watch::Sender<bool>>,
}

impl ExchangeHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`; the feeds are under `{base_url}/stats/eurofxref/`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The fault controls in front of the feeds.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The rate (units per EUR) published for `code` on `date`; `None` on weekends and TARGET holidays, for
    /// days not yet published, and for codes the ECB does not quote. EUR itself is 1 on every published day.
    pub fn rate(&self, date: Date, code: &str) -> Option<Decimal> {
        if date > today() {
            return None;
        }
        if code.eq_ignore_ascii_case("EUR") {
            return rates::is_business_day(date).then_some(Decimal::ONE);
        }
        rates::rate(self.shared.config.seed, date, code)
    }

    /// The rate of the latest published day on or before `date`, with that day.
    pub fn rate_on_or_before(&self, date: Date, code: &str) -> Option<(Decimal, Date)> {
        let mut d = date.min(today());
        for _ in 0..10 {
            if let Some(r) = self.rate(d, code) {
                return Some((r, d));
            }
            d -= Duration::days(1);
        }
        None
    }

    /// The latest day with published rates.
    pub fn latest_day(&self) -> Date {
        today()
    }

    /// Stops serving.
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }
}
