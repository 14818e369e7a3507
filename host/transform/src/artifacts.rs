//! Where the plugins of this repository (`plugins/`) are built, and building them on demand.
//!
//! `scripts/build-plugins.sh` (run by `scripts/setup.sh`) builds them ahead of time. Tests,
//! benches and the sandbox demo call [`ensure_built`] instead of assuming that happened, so a
//! plain `cargo test` on a fresh checkout works too: the first call in a process runs
//! `cargo build --release --target wasm32-wasip2` in `plugins/` (a no-op of a few hundred
//! milliseconds when everything is up to date) and later calls return the memoised outcome.
//! Concurrent processes are serialised by cargo's own lock on `plugins/target`.
//!
//! This is build-time tooling for a source checkout; a deployed host loads tenant components
//! from its configuration, never from here.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Rust target the plugins are compiled for.
pub const PLUGIN_TARGET: &str = "wasm32-wasip2";

/// The example transforms in `plugins/transforms/`, in the order the demo chains them.
pub const EXAMPLE_PLUGINS: [&str; 3] = ["custom-fields", "tax-rules", "enrich-segment"];

/// Why the plugins could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// `cargo` (or `rustup`) could not be started at all.
    #[error("start `{program}` to build the plugins in {workspace}: {message}")]
    Spawn {
        /// Program that failed to start.
        program: String,
        /// The plugins workspace.
        workspace: PathBuf,
        /// The OS error.
        message: String,
    },
    /// `cargo build` ran and failed; `stderr` holds its diagnostics (tail).
    #[error("build the plugins in {workspace} for {PLUGIN_TARGET}: {stderr}")]
    Failed {
        /// The plugins workspace.
        workspace: PathBuf,
        /// The end of cargo's error output.
        stderr: String,
    },
}

/// The plugins workspace of this checkout (`<repo>/plugins`).
pub fn plugins_workspace() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // host/transform → repo root
    manifest
        .parent()
        .and_then(Path::parent)
        .unwrap_or(manifest)
        .join("plugins")
}

/// Directory holding the built components: `<repo>/plugins/target/wasm32-wasip2/release`.
pub fn plugins_dir() -> PathBuf {
    plugins_workspace()
        .join("target")
        .join(PLUGIN_TARGET)
        .join("release")
}

/// Path of the component of plugin crate `name`, e.g. `"custom-fields"` →
/// `…/release/custom_fields.wasm` (cargo turns `-` into `_` in artifact names).
pub fn wasm_path(name: &str) -> PathBuf {
    plugins_dir().join(format!("{}.wasm", name.replace('-', "_")))
}

/// Build every plugin once per process and return [`plugins_dir`].
///
/// The first call runs cargo (installing the `wasm32-wasip2` target with rustup if cargo says
/// it is missing); every later call in the same process returns the first outcome at once.
///
/// # Errors
/// Cargo could not be started, or the build failed (the error carries cargo's diagnostics).
pub fn ensure_built() -> Result<PathBuf, BuildError> {
    static BUILT: OnceLock<Result<PathBuf, BuildError>> = OnceLock::new();
    BUILT.get_or_init(build).clone()
}

fn build() -> Result<PathBuf, BuildError> {
    let workspace = plugins_workspace();
    match cargo_build(&workspace) {
        Err(BuildError::Failed { stderr, .. }) if target_missing(&stderr) => {
            rustup_target_add(&workspace)?;
            cargo_build(&workspace)?;
        }
        other => other?,
    }
    Ok(plugins_dir())
}

/// Whether cargo failed because the standard library for our target is not installed.
fn target_missing(stderr: &str) -> bool {
    stderr.contains(PLUGIN_TARGET)
        && (stderr.contains("target may not be installed") || stderr.contains("can't find crate"))
}

fn cargo_build(workspace: &Path) -> Result<(), BuildError> {
    // Cargo sets CARGO for the processes it runs (tests, benches, `cargo run`); use the same
    // toolchain's cargo when it is there.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace)
        .args([
            "build",
            "--release",
            "--target",
            PLUGIN_TARGET,
            "--target-dir",
        ])
        .arg(workspace.join("target"))
        // The outer build's target dir and flags (set when this runs inside a build script or
        // under a wrapper) are for host crates, not for the plugins; plugins/.cargo/config.toml
        // holds theirs.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    run(cmd, &cargo.to_string_lossy(), workspace)
}

fn rustup_target_add(workspace: &Path) -> Result<(), BuildError> {
    let mut cmd = Command::new("rustup");
    cmd.current_dir(workspace)
        .args(["target", "add", PLUGIN_TARGET]);
    run(cmd, "rustup", workspace)
}

fn run(mut cmd: Command, program: &str, workspace: &Path) -> Result<(), BuildError> {
    let out = cmd.output().map_err(|e| BuildError::Spawn {
        program: program.to_string(),
        workspace: workspace.to_path_buf(),
        message: e.to_string(),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
    Err(BuildError::Failed {
        workspace: workspace.to_path_buf(),
        stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasm_path_uses_cargo_artifact_names_under_the_plugins_target_dir() {
        let p = wasm_path("custom-fields");
        assert!(
            p.ends_with("plugins/target/wasm32-wasip2/release/custom_fields.wasm"),
            "{}",
            p.display()
        );
        assert!(plugins_workspace().join("Cargo.toml").is_file());
    }
}
