//! What a plugin costs per event in each language: the example plugins in Rust (`plugins/transforms/`) against
//! their TypeScript and Python twins (`plugins/ts/`, `plugins/python/`, built by `scripts/build-plugin-sdks.sh`),
//! each event with fresh pooled instances as in production; then the memory a loaded JavaScript plugin costs.
//!
//! `cargo bench -p ferry-transform --bench languages` prints, per language, p50/p90/p99 of:
//! - one order through `custom-fields` alone (`map-client`, `map-invoice`, `map-item` × 2; JS and Python
//!   components declare no hooks, so `validate-order` runs too);
//! - one order through the three-plugin chain;
//! - instantiating one plugin and dropping it (the part of the event that is the engine starting);
//!
//! and the host's resident memory after loading the JavaScript `custom-fields` and after 50 tenants ran an event
//! on it (they share one compiled plugin), with the growth per tenant.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/transform/support.rs"]
mod support;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ferry_model::Order;
use ferry_transform::{
    Chain, ChainRun, PluginHandle, PluginRuntime, RuntimeConfig, StaticServices, TransformCtx,
    artifacts,
};
use support::*;

const PLUGINS: [&str; 3] = ["custom-fields", "tax-rules", "enrich-segment"];

/// Samples per section: `FERRY_BENCH_EVENTS`, default 500.
fn events() -> usize {
    std::env::var("FERRY_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

fn sdks_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/plugin-sdks")
}

fn services(tenant: &str) -> StaticServices {
    StaticServices::new()
        .with_setting(
            tenant,
            "custom-fields",
            "client-fields",
            "LoyaltyTier=note,VatId=vat-number",
        )
        .with_setting(
            tenant,
            "custom-fields",
            "invoice-note-attributes",
            "GiftMessage",
        )
        .with_setting(tenant, "custom-fields", "item-attributes", "*")
        .with_setting(tenant, "tax-rules", "rule.standard", "Sales Tax:5")
        .with_setting(
            tenant,
            "tax-rules",
            "rule.standard.US.CA",
            "CA Sales Tax:7.25",
        )
        .with_setting(tenant, "tax-rules", "rule.books", "exempt")
        .with_setting(tenant, "tax-rules", "home-country", "US")
        .with_setting(tenant, "tax-rules", "home-state", "CA")
        .with_enrichment("segment", "ada@example.com", &[("segment", "VIP")])
}

fn load_lang(rt: &PluginRuntime, lang: &str, name: &str) -> PluginHandle {
    if lang == "rust" {
        return load(rt, name);
    }
    let path = sdks_dir().join(format!("twins/{lang}/{name}.wasm"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "read {}: {e}; run scripts/build-plugin-sdks.sh first",
            path.display()
        )
    });
    rt.load(name, &bytes).unwrap()
}

fn one_order(run: &mut ChainRun<'_>, o: &Order) {
    black_box(run.validate_order(o).unwrap());
    black_box(run.map_client(&o.customer, client_draft()).unwrap());
    black_box(run.map_invoice(o, invoice_draft(o)).unwrap());
    for l in &o.lines {
        black_box(run.map_item(l, item_draft(l)).unwrap());
    }
}

fn measure(label: &str, n: usize, mut f: impl FnMut()) {
    for _ in 0..(n / 10).max(5) {
        f();
    }
    let mut samples: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    let pct = |p: usize| samples[(samples.len() * p / 100).min(samples.len() - 1)];
    println!(
        "{label:<52} p50 {:>8.1} µs   p90 {:>8.1} µs   p99 {:>8.1} µs   (n={n})",
        micros(pct(50)),
        micros(pct(90)),
        micros(pct(99)),
    );
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Resident set size of this process in MiB (Linux), 0 elsewhere.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    artifacts::ensure_built().unwrap();
    // The compiled twins are cached where the tests and the build script leave them: no compile in the figures.
    let rt = PluginRuntime::new(RuntimeConfig::new(sdks_dir().join("cwasm"))).unwrap();
    let n = events();
    let o = order();
    let c = ctx("acme", services("acme"));
    println!(
        "ferry-transform languages bench: order with {} lines, fresh pooled instances per event",
        o.lines.len()
    );
    for lang in ["rust", "ts", "python"] {
        let one = Chain::new(vec![load_lang(&rt, lang, "custom-fields")]);
        measure(&format!("{lang}: custom-fields, per event"), n, || {
            one_order(&mut one.run(&c), &o);
        });
        let chain = Chain::new(PLUGINS.iter().map(|p| load_lang(&rt, lang, p)).collect());
        measure(&format!("{lang}: 3-plugin chain, per event"), n, || {
            one_order(&mut chain.run(&c), &o);
        });
        let first = &o.lines[0];
        measure(
            &format!("{lang}: instantiate + one map-item + drop"),
            n,
            || {
                black_box(one.map_item(&c, first, item_draft(first)).unwrap());
            },
        );
    }

    // Memory: one JavaScript plugin loaded, then 50 tenants each running an event on it.
    let before = rss_mib();
    let fresh = PluginRuntime::new(RuntimeConfig::new(sdks_dir().join("cwasm"))).unwrap();
    let js = load_lang(&fresh, "ts", "custom-fields");
    let loaded = rss_mib();
    let tenants: Vec<(Chain, TransformCtx)> = (0..50)
        .map(|i| {
            let id = format!("tenant-{i}");
            let handle = fresh
                .load(
                    "custom-fields",
                    &std::fs::read(sdks_dir().join("twins/ts/custom-fields.wasm")).unwrap(),
                )
                .unwrap();
            (Chain::new(vec![handle]), ctx(&id, services(&id)))
        })
        .collect();
    for (chain, c) in &tenants {
        one_order(&mut chain.run(c), &o);
    }
    let after = rss_mib();
    drop(js);
    println!(
        "memory: JS custom-fields loaded +{:.1} MiB; 50 tenants on it after an event each +{:.1} MiB ({:.2} MiB per tenant)",
        loaded - before,
        after - loaded,
        (after - loaded) / 50.0
    );
}
