//! What an upload can check without compiling ([`PluginRuntime::check`]), what only the compile finds, and that
//! loads of the same bytes from several threads at once compile them once.

use crate::support::*;
use ferry_transform::{Error, LoadOrigin};

#[test]
fn the_cheap_checks_pass_a_real_plugin_and_give_the_hash_load_gives() {
    let (rt, _dir) = runtime();
    let bytes = wasm("custom-fields");
    let hash = rt.check("custom-fields", &bytes).unwrap();
    assert!(!rt.is_compiled(&hash), "nothing compiled by the check");
    assert_eq!(rt.compiles(), 0);
    let handle = rt.load("custom-fields", &bytes).unwrap();
    assert_eq!(handle.content_hash(), hash);
    assert!(rt.is_compiled(&hash));
    assert_eq!(rt.compiles(), 1);
}

#[test]
fn the_cheap_checks_name_a_forbidden_import_and_a_missing_export() {
    let (rt, _dir) = runtime();
    let err = rt
        .check("sneaky", &wasm("forbidden-import"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sneaky") && err.contains("wasi:sockets/tcp@0.2"),
        "{err}"
    );
    let err = rt
        .check("alien", &wasm("wrong-world"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing or mistyped export"), "{err}");
    assert_eq!(rt.compiles(), 0);
}

#[test]
fn a_mistyped_hook_passes_the_cheap_checks_and_fails_at_load() {
    let (rt, _dir) = runtime();
    let bytes = wasm("mistyped-hook");
    rt.check("mistyped-hook", &bytes).unwrap();
    let err = rt.load("mistyped-hook", &bytes).unwrap_err();
    assert!(matches!(err, Error::InvalidPlugin { .. }), "{err}");
}

#[test]
fn loads_of_the_same_bytes_at_once_compile_them_once() {
    let (rt, _dir) = runtime();
    let bytes = wasm("tax-rules");
    let origins: Vec<LoadOrigin> = std::thread::scope(|s| {
        let loads: Vec<_> = (0..4)
            .map(|_| s.spawn(|| rt.load("tax-rules", &bytes).unwrap().origin()))
            .collect();
        loads.into_iter().map(|l| l.join().unwrap()).collect()
    });
    assert_eq!(rt.compiles(), 1, "{origins:?}");
    assert_eq!(
        origins
            .iter()
            .filter(|o| **o == LoadOrigin::Compiled)
            .count(),
        1,
        "{origins:?}"
    );
}
