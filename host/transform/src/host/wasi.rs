//! The WASI a plugin may import, and the locked-down context behind it.
//!
//! Rust's `wasm32-wasip2` std imports `wasi:cli/*` and `wasi:io/*` even when a plugin never
//! touches them (JS and Python toolchains add `wasi:random`). Those are the only WASI interfaces
//! linked: no filesystem, sockets, clocks or HTTP exist in the linker at all, and
//! [`check_imports`] refuses a component asking for anything else before it is linked, naming
//! the import. Behind the linked ones sits a context with no preopens, no environment, no
//! arguments, a closed stdin, stdout/stderr captured for the tenant log, and a deterministic
//! random source (so a plugin's output depends only on its input and retries reproduce it).

use super::log_pipe::LogPipe;
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime::{Engine, component::Component};
use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
use wasmtime_wasi::p2::bindings::{cli, io, random, sync};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};
use wasmtime_wasi::{Deterministic, WasiCtx, WasiCtxBuilder, WasiView};

/// Import name prefixes a plugin may have: our own package and the WASI subset above.
pub(crate) const ALLOWED_IMPORT_PREFIXES: &[&str] = &[
    "ferry:transform/host@0.1.",
    "ferry:transform/types@0.1.",
    "ferry:transform/host@0.2.",
    "ferry:transform/types@0.2.",
    "wasi:cli/environment@0.2.",
    "wasi:cli/exit@0.2.",
    "wasi:cli/stdin@0.2.",
    "wasi:cli/stdout@0.2.",
    "wasi:cli/stderr@0.2.",
    "wasi:cli/terminal-",
    "wasi:io/",
    "wasi:random/",
];

/// Bytes the deterministic random source cycles through.
const RANDOM_CYCLE: &[u8] = b"ferry-transform-deterministic-rng";

/// Refuse a component that imports anything outside [`ALLOWED_IMPORT_PREFIXES`].
///
/// # Errors
/// A message naming every forbidden import.
pub(crate) fn check_imports(engine: &Engine, component: &Component) -> Result<(), String> {
    let imports: Vec<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    forbidden_imports(imports.iter().map(String::as_str))
}

/// Refuse import names outside [`ALLOWED_IMPORT_PREFIXES`] (the compiled component's, or the names the upload's
/// cheap checks read from the binary).
///
/// # Errors
/// A message naming every forbidden import.
pub(crate) fn forbidden_imports<'a>(names: impl Iterator<Item = &'a str>) -> Result<(), String> {
    let forbidden: Vec<&str> = names
        .filter(|name| !ALLOWED_IMPORT_PREFIXES.iter().any(|p| name.starts_with(p)))
        .collect();
    if forbidden.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "forbidden import(s) {}: plugins may import only ferry:transform/host and the \
             wasi:cli stdio, wasi:io and wasi:random interfaces",
            forbidden.join(", ")
        ))
    }
}

/// `HasData` for the `wasi:io` interfaces, which only need the resource table.
struct IoTable;

impl HasData for IoTable {
    type Data<'a> = &'a mut ResourceTable;
}

/// Link the allowed WASI interfaces (and nothing else) into `linker`.
///
/// # Errors
/// Wasmtime refused a definition (a name clash in the linker).
pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    let l = linker;
    io::error::add_to_linker::<T, IoTable>(l, |t| t.ctx().table)?;
    sync::io::poll::add_to_linker::<T, IoTable>(l, |t| t.ctx().table)?;
    sync::io::streams::add_to_linker::<T, IoTable>(l, |t| t.ctx().table)?;
    cli::exit::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::environment::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    random::random::add_to_linker::<T, WasiRandom>(l, <T as WasiRandomView>::random)?;
    random::insecure::add_to_linker::<T, WasiRandom>(l, <T as WasiRandomView>::random)?;
    random::insecure_seed::add_to_linker::<T, WasiRandom>(l, <T as WasiRandomView>::random)?;
    Ok(())
}

/// A WASI context that grants nothing: stdin closed, no env, args or preopens, sockets and
/// name lookup off (they are not even linked), stdio into the given pipes, deterministic random.
pub(crate) fn locked_down_ctx(stdout: LogPipe, stderr: LogPipe) -> WasiCtx {
    WasiCtxBuilder::new()
        .stdout(stdout)
        .stderr(stderr)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .secure_random(Deterministic::new(RANDOM_CYCLE.to_vec()))
        .insecure_random(Deterministic::new(RANDOM_CYCLE.to_vec()))
        .insecure_random_seed(0x5eed)
        .build()
}
