//! `ferry serve` says in one log line what it runs with: the configuration file, the store, the listen address,
//! the tenants (from the file and the database), each tenant's plugins and the ids of the master keys, and never
//! a key or a password.

use crate::{ferry, printed};
use sha2::Digest as _;
use std::io::Read as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A key's id as the keyring shows it: the first 4 bytes of the SHA-256 of the 32 raw key bytes, in hex.
fn key_id(hex_key: &str) -> String {
    let raw: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex_key[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    sha2::Sha256::digest(&raw)[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn serve_logs_one_start_up_line_naming_config_store_address_tenants_plugins_and_key_ids() {
    ferry_transform::artifacts::ensure_built().unwrap();
    let plugin = ferry_transform::artifacts::wasm_path("custom-fields");
    let plugin_name = plugin.file_stem().unwrap().to_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (password, client_secret) = ("kentico-pw-4f1e9a", "fb-secret-77c2d0");
    let config = dir.path().join("host.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"state.db\"\n{}[[tenants.plugins]]\npath = \
             \"{}\"\n{}",
            crate::config_file::tenant_block("acme", password, client_secret),
            plugin.display(),
            crate::config_file::tenant_block("globex", password, client_secret),
        ),
    )
    .unwrap();
    // Two master keys, as during a rotation: both ids are named, the sealing (first) one first.
    let (new_key, old_key) = (
        crate::config_file::master_key(),
        crate::config_file::master_key(),
    );
    let mut child = ferry(dir.path(), &["-c", config.to_str().unwrap(), "serve"])
        .env("RUST_LOG", "info")
        .env("FERRY_LOG_FORMAT", "json")
        .env("FERRY_MASTER_KEY", format!("{new_key},{old_key}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !crate::shutdown::ready(port) {
        assert!(child.try_wait().unwrap().is_none(), "the host exited early");
        assert!(Instant::now() < deadline, "the host did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let out = std::process::Output {
        status: child.wait().unwrap(),
        stdout: Vec::new(),
        stderr: stderr.clone().into_bytes(),
    };
    // JSON log lines, as the host writes them by default.
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["message"] == "Ferry is serving.")
        .collect();
    assert_eq!(lines.len(), 1, "one start-up line: {}", printed(&out));
    let line = &lines[0];
    let field = |name: &str| line[name].to_string().trim_matches('"').to_owned();
    assert_eq!(field("config_file"), config.display().to_string());
    assert_eq!(field("store"), "sqlite:state.db");
    assert_eq!(field("addr"), format!("127.0.0.1:{port}"));
    assert_eq!(field("file_tenants"), "2");
    assert_eq!(field("file_tenant_ids"), "acme,globex");
    assert_eq!(field("stored_tenants"), "0");
    assert_eq!(
        field("plugins"),
        format!("acme: {plugin_name}; globex: none")
    );
    assert_eq!(
        field("master_key_ids"),
        format!("{},{}", key_id(&new_key), key_id(&old_key))
    );
    for secret in [new_key.as_str(), old_key.as_str(), password, client_secret] {
        assert!(
            !stderr.contains(secret),
            "a secret in the log: {}",
            printed(&out)
        );
    }
}
