//! The repository's plugins (`plugins/transforms/`, `plugins/fixtures/`), built for wasm32-wasip2 once per
//! test binary, as bytes to upload or as an entry of a tenant's configured chain.

use ferry::tenants::PluginConfig;

/// The bytes of a plugin of this repository (`custom-fields`, `trap`, `forbidden-import`…), built if needed.
///
/// # Panics
/// The plugins could not be built or the file read.
pub fn wasm(name: &str) -> Vec<u8> {
    ferry_transform::artifacts::ensure_built().expect("build the plugins");
    let path = ferry_transform::artifacts::wasm_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A configured plugin entry for a plugin of this repository.
///
/// # Panics
/// The plugins could not be built.
pub fn plugin_config(name: &str, settings: &[(&str, &str)]) -> PluginConfig {
    ferry_transform::artifacts::ensure_built().expect("build the plugins");
    PluginConfig {
        path: ferry_transform::artifacts::wasm_path(name),
        settings: settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        version: None,
    }
}
