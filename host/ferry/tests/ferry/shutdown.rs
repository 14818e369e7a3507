//! `ferry serve` stopped with SIGTERM says so in its log: the signal, the start of the drain and its end.

use crate::{ferry, printed};
use std::io::Read as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn sigterm_is_logged_with_the_start_and_end_of_the_drain() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("ferry.toml");
    std::fs::write(
        &config,
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\n[store]\npath = \"ferry.db\"\n"),
    )
    .unwrap();
    let mut child = ferry(dir.path(), &["-c", config.to_str().unwrap(), "serve"])
        .env("RUST_LOG", "info")
        .env("FERRY_MASTER_KEY", crate::config_file::master_key())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready once /readyz answers 200 (plain HTTP/1.0 over a socket: no client library needed here).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready(port) {
        assert!(child.try_wait().unwrap().is_none(), "the host exited early");
        assert!(Instant::now() < deadline, "the host did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
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
    assert!(out.status.success(), "{}", printed(&out));
    let at = |needle: &str| {
        stderr
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} in the log: {}", printed(&out)))
    };
    let (signal, start, end) = (at("SIGTERM"), at("Drain started"), at("Drain finished"));
    assert!(signal < start && start < end, "{}", printed(&out));
}

/// Whether `GET /readyz` on `port` answers 200.
pub(crate) fn ready(port: u16) -> bool {
    use std::io::Write as _;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}
