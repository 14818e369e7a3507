//! The `ferry` binary as an operator runs it: a real process (`CARGO_BIN_EXE_ferry`) in a scratch directory, its
//! exit code, what it prints and the files it leaves. One test binary for the crate, as Wasmtime's `tests/all`.
//!
//! Layout: `config_file`: how `-c`, `FERRY_CONFIG` and the default `ferry.toml` are read, and how a wrong or
//! inconsistent file is refused; `config_check`: `ferry config check`; `keygen_and_completions`: `ferry keygen
//! --out` and `ferry completions`; `shutdown`: what `ferry serve` logs when it is stopped; `ports_and_caches`: the
//! sandbox's and the demo's port flags, and where `ferry plugin test` caches compiled plugins; `store_purge`:
//! `ferry store purge [--dry-run]` on old and recent events; `startup_summary`: the line `ferry serve` logs when it
//! starts.

// A panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

mod config_check;
mod config_file;
mod keygen_and_completions;
mod ports_and_caches;
mod shutdown;
mod startup_summary;
mod store_purge;

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_ferry");

/// A `ferry` command run in `dir`, with no `FERRY_*` variable from the caller's environment.
fn ferry(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("FERRY_LOG_FORMAT", "text")
        .stdin(Stdio::null());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("FERRY_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs `cmd` to the end, killing it if it is still running after a minute (a host that should have refused to
/// start but serves instead), so a failing test reports instead of hanging.
fn finish(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// What a finished command printed, for assertion messages.
fn printed(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
