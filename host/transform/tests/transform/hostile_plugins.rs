//! Each hostile fixture in `plugins/fixtures/` is contained with a typed error naming tenant,
//! plugin, hook and reason, and a healthy tenant's chain still works right after in the same
//! runtime.

use std::time::{Duration, Instant};

use crate::support::*;
use ferry_model::Disposition;
use ferry_transform::{
    Chain, Error, Hook, LogLevel, PluginRuntime, Reason, StaticServices, TransformError,
};

const HOSTILE: &str = "mallory";

/// Another tenant, with a real plugin, served by the same runtime right after the failure.
fn assert_healthy_tenant_still_works(rt: &PluginRuntime) {
    let chain = Chain::new(vec![load(rt, "custom-fields")]);
    let services = StaticServices::new().with_setting(
        "healthy",
        "custom-fields",
        "client-fields",
        "LoyaltyTier=note",
    );
    let out = chain
        .map_client(&ctx("healthy", services), &customer(), client_draft())
        .unwrap();
    assert_eq!(out.note, "LoyaltyTier: gold");
}

fn assert_names(err: &TransformError, plugin: &str, hook: Hook) {
    assert_eq!(err.tenant.as_str(), HOSTILE);
    assert_eq!(err.plugin, plugin);
    assert_eq!(err.hook, hook);
    let msg = err.to_string();
    assert!(
        msg.contains(HOSTILE) && msg.contains(plugin) && msg.contains(hook.wit_name()),
        "{msg}"
    );
}

#[test]
fn an_infinite_loop_runs_out_of_fuel_and_is_dead_lettered() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "infinite-loop")]);
    let started = Instant::now();
    let err = chain
        .validate_order(&ctx(HOSTILE, StaticServices::new()), &order())
        .unwrap_err();
    assert_names(&err, "infinite-loop", Hook::ValidateOrder);
    assert_eq!(err.reason, Reason::OutOfFuel, "{err}");
    assert!(matches!(err.disposition(), Disposition::DeadLetter { .. }));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stopped promptly"
    );
    assert_healthy_tenant_still_works(&rt);
}

#[test]
fn an_infinite_loop_with_unlimited_fuel_hits_the_wall_clock_deadline() {
    let (rt, _dir) = runtime_with(|c| {
        c.fuel_per_call = u64::MAX;
        c.call_timeout = Duration::from_millis(100);
    });
    let chain = Chain::new(vec![load(&rt, "infinite-loop")]);
    let started = Instant::now();
    let err = chain
        .validate_order(&ctx(HOSTILE, StaticServices::new()), &order())
        .unwrap_err();
    let took = started.elapsed();
    assert_names(&err, "infinite-loop", Hook::ValidateOrder);
    assert_eq!(err.reason, Reason::TimedOut, "{err}");
    assert!(matches!(err.disposition(), Disposition::Retry { .. }));
    assert!(
        took >= Duration::from_millis(100) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_healthy_tenant_still_works(&rt);
}

#[test]
fn a_memory_hog_hits_the_memory_cap() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "memory-hog")]);
    let err = chain
        .map_client(
            &ctx(HOSTILE, StaticServices::new()),
            &customer(),
            client_draft(),
        )
        .unwrap_err();
    assert_names(&err, "memory-hog", Hook::MapClient);
    assert_eq!(err.reason, Reason::MemoryLimit, "{err}");
    assert!(matches!(err.disposition(), Disposition::DeadLetter { .. }));
    assert_healthy_tenant_still_works(&rt);
}

/// Rust on wasm keeps address-taken locals on a shadow stack in linear memory (1 MiB below the
/// data), which overflows before wasmtime's native stack limit: either way it is a trap.
#[test]
fn deep_recursion_overflows_the_stack_and_traps() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "deep-recursion")]);
    let l = line(1, "MUG", None);
    let err = chain
        .map_item(&ctx(HOSTILE, StaticServices::new()), &l, item_draft(&l))
        .unwrap_err();
    assert_names(&err, "deep-recursion", Hook::MapItem);
    match &err.reason {
        Reason::Trapped { detail } => assert!(
            detail.contains("call stack exhausted")
                || detail.contains("out of bounds memory access"),
            "{detail}"
        ),
        other => panic!("expected a stack overflow trap, got {other:?}"),
    }
    assert!(matches!(err.disposition(), Disposition::DeadLetter { .. }));
    assert_healthy_tenant_still_works(&rt);
}

#[test]
fn a_panicking_plugin_traps_and_its_panic_message_reaches_the_tenant_log() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "trap")]);
    let services = Recording::new(StaticServices::new());
    let o = order();
    let err = chain
        .map_invoice(&ctx(HOSTILE, services.clone()), &o, invoice_draft(&o))
        .unwrap_err();
    assert_names(&err, "trap", Hook::MapInvoice);
    assert!(matches!(err.reason, Reason::Trapped { .. }), "{err}");
    assert!(matches!(err.disposition(), Disposition::DeadLetter { .. }));
    let logs = services.lines();
    assert!(
        logs.iter().any(|l| l.starts_with("mallory/trap:")
            && l.contains("plugin bug while mapping order ORD-42")),
        "stderr is captured into the tenant log: {logs:?}"
    );
    assert_healthy_tenant_still_works(&rt);
}

#[test]
fn a_panicking_no_std_plugin_traps_and_its_panic_message_reaches_the_tenant_log() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "no-std-panic")]);
    let services = Recording::new(StaticServices::new());
    let l = line(1, "MUG", None);
    let err = chain
        .map_item(&ctx(HOSTILE, services.clone()), &l, item_draft(&l))
        .unwrap_err();
    assert_names(&err, "no-std-panic", Hook::MapItem);
    assert!(matches!(err.reason, Reason::Trapped { .. }), "{err}");
    let logs = services.logs.lock().unwrap().clone();
    assert!(
        logs.iter()
            .any(|(_, plugin, level, msg)| plugin == "no-std-panic"
                && *level == LogLevel::Error
                && msg.contains("no_std plugin bug on line MUG")),
        "the SDK's panic handler logs the message: {logs:?}"
    );
    assert_healthy_tenant_still_works(&rt);
}

#[test]
fn oversized_output_is_refused_as_invalid_output() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "bad-output")]);
    let o = order();
    let err = chain
        .map_invoice(&ctx(HOSTILE, StaticServices::new()), &o, invoice_draft(&o))
        .unwrap_err();
    assert_names(&err, "bad-output", Hook::MapInvoice);
    match &err.reason {
        Reason::InvalidOutput { detail } => {
            assert!(detail.contains("exceeds 1048576 bytes"), "{detail}");
        }
        other => panic!("expected invalid output, got {other:?}"),
    }
    assert!(matches!(err.disposition(), Disposition::DeadLetter { .. }));
    assert_healthy_tenant_still_works(&rt);
}

#[test]
fn stdout_past_the_log_cap_is_dropped_and_reported_while_the_hook_succeeds() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "bad-output")]);
    let services = Recording::new(StaticServices::new());
    let out = chain
        .map_client(&ctx(HOSTILE, services.clone()), &customer(), client_draft())
        .expect("a chatty plugin still maps the client");
    assert_eq!(out, client_draft());
    let logs = services.lines();
    assert!(
        logs.iter().any(|l| l.contains("line 0000: ---")),
        "the first lines reach the tenant log: {} lines",
        logs.len()
    );
    assert!(
        !logs.iter().any(|l| l.contains("line 1023")),
        "lines past the cap are dropped"
    );
    let warning = logs
        .iter()
        .find(|l| l.contains("past the"))
        .expect("the drop is reported");
    assert!(
        warning.contains("stdout past the 16384-byte log cap dropped"),
        "{warning}"
    );
    assert_healthy_tenant_still_works(&rt);
}

#[test]
fn a_malformed_decimal_in_the_output_is_refused_naming_the_field() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "bad-output")]);
    let l = line(1, "MUG", None);
    let err = chain
        .map_item(&ctx(HOSTILE, StaticServices::new()), &l, item_draft(&l))
        .unwrap_err();
    assert_names(&err, "bad-output", Hook::MapItem);
    match &err.reason {
        Reason::InvalidOutput { detail } => assert!(detail.contains("unit-cost"), "{detail}"),
        other => panic!("expected invalid output, got {other:?}"),
    }
    assert_healthy_tenant_still_works(&rt);
}

#[test]
fn a_component_of_another_world_is_rejected_at_load() {
    let (rt, _dir) = runtime();
    let err = rt.load("wrong-world", &wasm("wrong-world")).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, Error::InvalidPlugin { plugin, .. } if plugin == "wrong-world"),
        "{msg}"
    );
    assert!(
        msg.contains("not a ferry:transform/transformer@0.2 or @0.1 component"),
        "{msg}"
    );
    assert!(matches!(err.disposition(), Disposition::DeadLetter { .. }));
    assert_healthy_tenant_still_works(&rt);
}

#[test]
fn a_component_whose_hooks_have_the_wrong_types_is_rejected_at_load_naming_the_hook() {
    let (rt, _dir) = runtime();
    let err = rt
        .load("mistyped-hook", &wasm("mistyped-hook"))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, Error::InvalidPlugin { plugin, .. } if plugin == "mistyped-hook"),
        "{msg}"
    );
    assert!(
        msg.contains("export `validate-order` has the wrong type"),
        "{msg}"
    );
    assert!(matches!(err.disposition(), Disposition::DeadLetter { .. }));
    assert_healthy_tenant_still_works(&rt);
}

#[test]
fn a_component_importing_sockets_is_rejected_at_load_naming_the_import() {
    let (rt, dir) = runtime();
    let err = rt
        .load("forbidden-import", &wasm("forbidden-import"))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, Error::InvalidPlugin { plugin, .. } if plugin == "forbidden-import"),
        "{msg}"
    );
    assert!(msg.contains("wasi:sockets/tcp@0.2"), "{msg}");
    assert!(msg.contains("wasi:clocks/monotonic-clock@0.2"), "{msg}");
    assert!(
        !msg.contains("wasi:cli/stdout"),
        "allowed imports are not listed: {msg}"
    );
    let cached = std::fs::read_dir(dir.path().join("cwasm")).unwrap().count();
    assert_eq!(cached, 0, "a rejected plugin is never cached");
    assert_healthy_tenant_still_works(&rt);
}

#[test]
fn precompiled_bytes_are_never_accepted_from_a_tenant() {
    let (rt, _dir) = runtime();
    let engine = wasmtime::Engine::default();
    let cwasm = engine.precompile_component(&wasm("custom-fields")).unwrap();
    let err = rt.load("sneaky", &cwasm).unwrap_err();
    assert!(err.to_string().contains("precompiled"), "{err}");
}

#[test]
fn a_failing_plugin_stops_its_own_chain_without_touching_later_plugins() {
    let (rt, _dir) = runtime();
    let chain = Chain::new(vec![load(&rt, "trap"), load(&rt, "custom-fields")]);
    let o = order();
    let err = chain
        .map_invoice(&ctx(HOSTILE, StaticServices::new()), &o, invoice_draft(&o))
        .unwrap_err();
    assert_eq!(err.plugin, "trap");
    // the same chain's other hooks still run: the trapped instance was thrown away
    let out = chain
        .map_client(
            &ctx(HOSTILE, StaticServices::new()),
            &customer(),
            client_draft(),
        )
        .unwrap();
    assert_eq!(out, client_draft());
}

#[test]
fn hostile_and_healthy_tenants_share_one_runtime_across_threads() {
    let (rt, _dir) = runtime();
    let hog = Chain::new(vec![load(&rt, "memory-hog")]);
    let spin = Chain::new(vec![load(&rt, "infinite-loop")]);
    std::thread::scope(|s| {
        let hog = s.spawn(|| {
            hog.map_client(
                &ctx(HOSTILE, StaticServices::new()),
                &customer(),
                client_draft(),
            )
        });
        let spin = s.spawn(|| spin.validate_order(&ctx(HOSTILE, StaticServices::new()), &order()));
        for _ in 0..20 {
            assert_healthy_tenant_still_works(&rt);
        }
        assert_eq!(hog.join().unwrap().unwrap_err().reason, Reason::MemoryLimit);
        assert_eq!(spin.join().unwrap().unwrap_err().reason, Reason::OutOfFuel);
    });
}
