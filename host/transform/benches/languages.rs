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

/// Minor and major page faults of this process so far (Linux `/proc/self/stat`), zeros elsewhere.
fn page_faults() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces): minflt is the 10th field of
    // the line, majflt the 12th, so the 8th and 10th after the `)`.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<u64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    (
        fields.get(7).copied().unwrap_or(0),
        fields.get(9).copied().unwrap_or(0),
    )
}

/// Where one event's time goes with one plugin: p50 of the first hook (which instantiates the plugin), each later
/// hook, and the drop of the run (instances back to the pool), with the page faults per event.
fn breakdown(label: &str, n: usize, chain: &Chain, c: &TransformCtx, o: &Order) {
    const STEPS: [&str; 6] = [
        "validate-order",
        "map-client",
        "map-invoice",
        "map-item",
        "map-item",
        "drop (slots back to the pool)",
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(n); STEPS.len()];
    let faults = page_faults();
    for _ in 0..n {
        let mut run = chain.run(c);
        let mut t = Instant::now();
        let mut lap = |i: usize, samples: &mut Vec<Vec<Duration>>| {
            samples[i].push(t.elapsed());
            t = Instant::now();
        };
        black_box(run.validate_order(o).unwrap());
        lap(0, &mut samples);
        black_box(run.map_client(&o.customer, client_draft()).unwrap());
        lap(1, &mut samples);
        black_box(run.map_invoice(o, invoice_draft(o)).unwrap());
        lap(2, &mut samples);
        for (i, l) in o.lines.iter().take(2).enumerate() {
            black_box(run.map_item(l, item_draft(l)).unwrap());
            lap(3 + i, &mut samples);
        }
        drop(run);
        lap(5, &mut samples);
    }
    let after = page_faults();
    let validates = chain.plugins()[0].implements(ferry_transform::Hook::ValidateOrder);
    println!(
        "{label}: the first hook it implements instantiates it (implements validate-order: {validates})"
    );
    let per = |a: u64, b: u64| (b - a) as f64 / n as f64;
    for (step, mut s) in STEPS.iter().zip(samples) {
        s.sort();
        println!("{label}: {step:<40} p50 {:>8.1} µs", micros(s[s.len() / 2]));
    }
    println!(
        "{label}: page faults per event: {:.0} minor, {:.1} major",
        per(faults.0, after.0),
        per(faults.1, after.1)
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
    let langs = std::env::var("FERRY_BENCH_LANGS").unwrap_or_else(|_| "rust,ts,python".into());
    for lang in langs.split(',') {
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
        breakdown(&format!("{lang}: custom-fields"), n, &one, &c, &o);
    }
    // FERRY_BENCH_COMPONENT=<path>: the same breakdown for another component (a candidate build of a twin, a
    // plugin that does nothing), run as `custom-fields` with its settings.
    if let Ok(path) = std::env::var("FERRY_BENCH_COMPONENT") {
        let handle = rt
            .load("custom-fields", &std::fs::read(&path).unwrap())
            .unwrap();
        let one = Chain::new(vec![handle]);
        let first = &o.lines[0];
        measure(
            &format!("{path}: instantiate + one map-item + drop"),
            n,
            || {
                black_box(one.map_item(&c, first, item_draft(first)).unwrap());
            },
        );
        breakdown(&path, n, &one, &c, &o);
    }
    if std::env::var("FERRY_BENCH_MEMORY").as_deref() == Ok("0") {
        return;
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
