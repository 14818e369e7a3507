//! What the tenants' plugin log costs (issue 17). On the event's path a plugin's line only goes through
//! [`PluginLog::record`] (clean the text, queue it); the store write happens in batches on the writer's task. Prints
//! both: nanoseconds per `record` call (with the writer draining into a SQLite file meanwhile), and the store's
//! cost per line of one batch of `BATCH` lines (the writer's transaction, with the trim to the newest lines).
//!
//! `cargo bench -p ferry --bench plugin_log` (env `LINES`, default 5000: below the queue's 10,000, so every line is
//! queued rather than dropped).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use ferry::tenants::PluginLog;
use ferry_model::TenantId;
use ferry_store::{JobId, NewPluginLogLine, Store, StoreConfig};
use ferry_transform::{LogLevel, LogLine};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const BATCH: usize = 500;

fn main() {
    let lines: u32 = std::env::var("LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::at(dir.path().join("ferry.db")))
            .await
            .unwrap();
        let tenant = TenantId::parse("shop").unwrap();
        let message = "enrich segment failed, client left as is: no segment enrichment provider is configured";

        let log = PluginLog::spawn(store.clone());
        let started = Instant::now();
        let event = "42".to_owned();
        for _ in 0..lines {
            log.record(
                &LogLine {
                    tenant: &tenant,
                    plugin: "enrich_segment",
                    event: Some(&event),
                    level: LogLevel::Warn,
                    message,
                },
                Some(3),
            );
        }
        let per = started.elapsed() / lines;
        println!("record: {per:?} per line on the event's path ({lines} lines)");

        let batch: Vec<NewPluginLogLine> = (0..BATCH)
            .map(|i| NewPluginLogLine {
                tenant: tenant.clone(),
                plugin: "enrich_segment".to_owned(),
                version: Some(3),
                level: "warn".to_owned(),
                message: message.to_owned(),
                job: JobId(i64::try_from(i).unwrap() + 1),
                at: OffsetDateTime::now_utc(),
            })
            .collect();
        // Let the writer finish what `record` queued before timing the store alone.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rounds = 20u32;
        let started = Instant::now();
        for _ in 0..rounds {
            store.append_plugin_log(&batch, 1_000).await.unwrap();
        }
        let per = started.elapsed() / (rounds * u32::try_from(BATCH).unwrap());
        println!(
            "store: {per:?} per line in batches of {BATCH} (SQLite file, trim to the newest 1000 included)"
        );
    });
}
