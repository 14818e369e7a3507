//! `ferry sandbox` and `ferry demo` listen where they are told (every simulator and the host), and `ferry plugin
//! test` keeps its compile cache in the user's cache directory, never a fixed shared path.

use crate::{ferry, finish, printed};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn free_ports<const N: usize>() -> [u16; N] {
    // Held together so no two are the same; released just before the command binds them.
    let listeners: Vec<_> = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// The example plugins, compiled (once per checkout) to WebAssembly components.
fn plugins_dir() -> PathBuf {
    ferry_transform::artifacts::ensure_built().unwrap();
    ferry_transform::artifacts::wasm_path("custom-fields")
        .parent()
        .unwrap()
        .to_owned()
}

#[test]
fn sandbox_listens_on_the_ports_given_including_the_enrichment_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let [kentico, freshbooks, exchange, enrichment, host] = free_ports::<5>();
    let config = dir.path().join("sandbox.toml");
    let args = [
        "sandbox".to_owned(),
        "--orders".to_owned(),
        "1".to_owned(),
        format!("--kentico-port={kentico}"),
        format!("--freshbooks-port={freshbooks}"),
        format!("--exchange-port={exchange}"),
        format!("--enrichment-port={enrichment}"),
        format!("--ferry-port={host}"),
        format!("--write-config={}", config.display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = ferry(dir.path(), &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(config.exists()
        && [kentico, freshbooks, exchange, enrichment]
            .into_iter()
            .all(listening))
    {
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the sandbox is not listening on the ports given: {}",
                printed(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(
        written.contains(&format!("127.0.0.1:{enrichment}")),
        "the tenant's enrichment service is the simulator: {written}"
    );
    assert!(written.contains(&format!("127.0.0.1:{host}")), "{written}");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{stdout}");
    assert!(
        stdout.contains(&format!("127.0.0.1:{enrichment}/v1/segment")),
        "{stdout}"
    );
}

#[test]
fn demo_runs_its_simulators_and_host_on_the_ports_given() {
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports::<5>();
    let [kentico, freshbooks, exchange, enrichment, host] = ports;
    let args = [
        "demo".to_owned(),
        "--orders=3".to_owned(),
        "--outage-secs=0".to_owned(),
        format!("--plugins-dir={}", plugins_dir().display()),
        format!("--kentico-port={kentico}"),
        format!("--freshbooks-port={freshbooks}"),
        format!("--exchange-port={exchange}"),
        format!("--enrichment-port={enrichment}"),
        format!("--ferry-port={host}"),
        format!("--log-file={}", dir.path().join("demo.log").display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = ferry(dir.path(), &args);
    cmd.env("RUST_LOG", "info");
    let out = finish(cmd);
    assert!(out.status.success(), "{}", printed(&out));
    // The demo logs to the file it names (the terminal gets the progress and the summary).
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("demo.log"),
        "the summary names the log: {stdout}"
    );
    let log = std::fs::read_to_string(dir.path().join("demo.log")).unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("\"level\""),
        "no log lines on the terminal: {}",
        printed(&out)
    );
    for port in ports {
        assert!(
            log.contains(&format!("127.0.0.1:{port}")),
            "port {port}: {}",
            printed(&out)
        );
    }
}

/// Files under `dir`, recursively.
fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    files_under(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

#[test]
fn plugin_test_caches_compiled_plugins_in_the_users_cache_directory() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = ferry_transform::artifacts::wasm_path("custom-fields");
    plugins_dir();
    let order = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/sample-order.json");
    let args = ["plugin", "test", wasm.to_str().unwrap(), "--order", order];

    let xdg = dir.path().join("xdg-cache");
    let mut cmd = ferry(dir.path(), &args);
    cmd.env("XDG_CACHE_HOME", &xdg);
    let out = finish(cmd);
    assert!(out.status.success(), "{}", printed(&out));
    assert!(
        files_under(&xdg.join("ferry").join("plugin-test")) > 0,
        "the compiled plugin is cached under $XDG_CACHE_HOME/ferry: {}",
        printed(&out)
    );

    let explicit = dir.path().join("explicit");
    let mut cmd = ferry(dir.path(), &args);
    cmd.arg("--cache-dir").arg(&explicit);
    let out = finish(cmd);
    assert!(out.status.success(), "{}", printed(&out));
    assert!(files_under(&explicit) > 0, "{}", printed(&out));
}
