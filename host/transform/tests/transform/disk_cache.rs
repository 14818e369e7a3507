//! Plugins compile once per content hash; the precompiled artifact on disk is reused by a new
//! runtime (a restart) instead of compiling again.

use std::time::Instant;

use crate::support::*;
use ferry_transform::{Chain, LoadOrigin, PluginRuntime, RuntimeConfig, StaticServices};

fn cwasm_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect()
}

fn works(rt: &PluginRuntime) {
    let chain = Chain::new(vec![load(rt, "custom-fields")]);
    let services = StaticServices::new().with_setting(
        "acme",
        "custom-fields",
        "client-fields",
        "VatId=vat-number",
    );
    let out = chain
        .map_client(&ctx("acme", services), &customer(), client_draft())
        .unwrap();
    assert_eq!(out.vat_number, "GB123456789");
}

#[test]
fn a_new_runtime_maps_the_cached_artifact_instead_of_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cwasm");
    let bytes = wasm("custom-fields");

    let first = PluginRuntime::new(RuntimeConfig::new(&cache)).unwrap();
    let started = Instant::now();
    let compiled = first.load("custom-fields", &bytes).unwrap();
    let compile_time = started.elapsed();
    assert_eq!(compiled.origin(), LoadOrigin::Compiled);
    let files = cwasm_files(&cache);
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(compiled.content_hash()),
        "keyed by content hash: {name}"
    );
    drop(first);

    // "restart": a new engine and runtime over the same directory
    let second = PluginRuntime::new(RuntimeConfig::new(&cache)).unwrap();
    let started = Instant::now();
    let mapped = second.load("custom-fields", &bytes).unwrap();
    let map_time = started.elapsed();
    assert_eq!(mapped.origin(), LoadOrigin::DiskCache);
    assert_eq!(mapped.content_hash(), compiled.content_hash());
    assert!(
        map_time * 5 < compile_time,
        "cache load {map_time:?} should be far below compile {compile_time:?}"
    );
    assert_eq!(
        cwasm_files(&cache).len(),
        1,
        "nothing recompiled or rewritten"
    );
    eprintln!("compile {compile_time:?}, load from disk cache {map_time:?}");
    works(&second);
}

#[test]
fn loading_the_same_bytes_again_reuses_the_linked_plugin() {
    let (rt, _dir) = runtime();
    let a = load(&rt, "custom-fields");
    let b = rt.load("custom-fields-v1", &wasm("custom-fields")).unwrap();
    assert_eq!(a.origin(), LoadOrigin::Compiled);
    assert_eq!(b.origin(), LoadOrigin::Memory);
    assert_eq!(
        b.name(),
        "custom-fields-v1",
        "the handle keeps its own name"
    );
    assert_eq!(a.content_hash(), b.content_hash());
}

#[test]
fn different_plugin_versions_get_their_own_cache_entries() {
    let (rt, dir) = runtime();
    let a = load(&rt, "custom-fields");
    let b = load(&rt, "tax-rules");
    assert_ne!(a.content_hash(), b.content_hash());
    assert_eq!(cwasm_files(&dir.path().join("cwasm")).len(), 2);
}

#[test]
fn a_corrupt_cache_file_is_recompiled_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cwasm");
    let bytes = wasm("custom-fields");
    {
        let rt = PluginRuntime::new(RuntimeConfig::new(&cache)).unwrap();
        rt.load("custom-fields", &bytes).unwrap();
    }
    let file = cwasm_files(&cache).remove(0);
    std::fs::write(&file, b"definitely not a cwasm").unwrap();

    let rt = PluginRuntime::new(RuntimeConfig::new(&cache)).unwrap();
    let handle = rt.load("custom-fields", &bytes).unwrap();
    assert_eq!(handle.origin(), LoadOrigin::Compiled);
    works(&rt);

    // and the rewritten file is good for the next restart
    let rt = PluginRuntime::new(RuntimeConfig::new(&cache)).unwrap();
    assert_eq!(
        rt.load("custom-fields", &bytes).unwrap().origin(),
        LoadOrigin::DiskCache
    );
}
