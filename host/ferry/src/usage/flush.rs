//! Adding the calls counted in memory to the store: every `flush_every_ms`, and once more when the host has stopped
//! its workers (`App::run_until_stopped` calls [`flush`] last, so the calls of events finishing during the drain
//! are written too).

use crate::telemetry::metrics::USAGE_CALLS_TOTAL;
use ferry_model::TenantId;
use ferry_outbound::CallCounts;
use ferry_store::{Store, UsageCounts, UsageDay};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;
use time::Date;
use tokio::sync::watch;

/// `[usage]`: how the usage figures are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsageConfig {
    /// Milliseconds between two writes of the counted calls to the store (default 5000). Calls are counted in
    /// memory meanwhile: a host that crashes loses at most this long's calls; a host that stops writes them first.
    pub flush_every_ms: u64,
}

impl Default for UsageConfig {
    fn default() -> Self {
        Self {
            flush_every_ms: 5_000,
        }
    }
}

/// The Julian day number of 1970-01-01, to turn [`ferry_outbound::CallKey::day`] into a date.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// Writes the counted calls every `every` until `stop` (the host writes what is left once its workers stopped).
pub async fn run(
    store: Store,
    calls: CallCounts,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => flush(&store, &calls).await,
            _ = stop.changed() => break,
        }
    }
}

/// Adds the calls counted since the last flush to the store, one transaction for all of them. A failed write puts
/// them back to be written with the next flush, so none are lost or written twice.
pub async fn flush(store: &Store, calls: &CallCounts) {
    let taken = calls.take();
    if taken.is_empty() {
        return;
    }
    let mut days: BTreeMap<(TenantId, Date), UsageCounts> = BTreeMap::new();
    let mut billed = Vec::new();
    for (key, n) in &taken {
        // Only the two services an operator bills on; the exchange-rate and enrichment services are not counted.
        let field: fn(&mut UsageCounts) -> &mut u64 = match key.downstream.as_str() {
            ferry_load::freshbooks::DOWNSTREAM => |c: &mut UsageCounts| &mut c.freshbooks_calls,
            ferry_extract::kentico::DOWNSTREAM => |c: &mut UsageCounts| &mut c.kentico_calls,
            _ => continue,
        };
        let (Ok(tenant), Ok(day)) = (
            TenantId::parse(&key.tenant),
            i32::try_from(key.day + UNIX_EPOCH_JULIAN_DAY)
                .map_err(|_| ())
                .and_then(|d| Date::from_julian_day(d).map_err(|_| ())),
        ) else {
            continue;
        };
        *field(days.entry((tenant, day)).or_default()) += n;
        billed.push((key, *n));
    }
    let rows: Vec<UsageDay> = days
        .into_iter()
        .map(|((tenant, day), counts)| UsageDay {
            tenant,
            day,
            counts,
        })
        .collect();
    match store.add_usage(&rows).await {
        Ok(()) => {
            for (key, n) in billed {
                metrics::counter!(USAGE_CALLS_TOTAL, "tenant" => key.tenant.clone(), "downstream" => key.downstream.clone())
                    .increment(n);
            }
        }
        Err(error) => {
            tracing::warn!(%error, "Could not write the usage counts; they are kept for the next try.");
            calls.restore(taken);
        }
    }
}
