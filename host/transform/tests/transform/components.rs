//! Every crate in `plugins/` builds to a WebAssembly component wasmtime accepts.

use std::path::Path;

use ferry_transform::artifacts;
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

const EXAMPLES: [&str; 3] = artifacts::EXAMPLE_PLUGINS;

/// Plugin crate names under `plugins/transforms/` and `plugins/fixtures/`.
fn plugin_crates() -> Vec<String> {
    let root = artifacts::plugins_workspace();
    let mut names = Vec::new();
    for group in ["transforms", "fixtures"] {
        for entry in std::fs::read_dir(root.join(group)).unwrap() {
            let path = entry.unwrap().path();
            if path.join("Cargo.toml").is_file() {
                names.push(file_name(&path));
            }
        }
    }
    names.sort();
    names
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_plugin_in_the_workspace_builds_to_a_component() {
    let dir = artifacts::ensure_built().unwrap();
    assert_eq!(dir, artifacts::plugins_dir());
    let engine = Engine::new(&Config::new()).unwrap();
    let crates = plugin_crates();
    assert!(crates.len() >= 10, "{crates:?}");
    for name in crates {
        let path = artifacts::wasm_path(&name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let component = Component::new(&engine, &bytes)
            .unwrap_or_else(|e| panic!("{name} is not a component: {e:?}"));
        let imports: Vec<String> = component
            .component_type()
            .imports(&engine)
            .map(|(n, _)| n.to_string())
            .collect();
        if EXAMPLES.contains(&name.as_str()) {
            // what the Rust toolchain adds to a transform: our package plus wasi:cli/io only
            let unexpected: Vec<&String> = imports
                .iter()
                .filter(|i| {
                    !["ferry:transform/", "wasi:cli/", "wasi:io/"]
                        .iter()
                        .any(|p| i.starts_with(p))
                })
                .collect();
            assert!(unexpected.is_empty(), "{name} imports {unexpected:?}");
        }
    }
}
