//! The host as a real process (`ferry-under-test serve`), for tests that kill it with SIGKILL, and the CLI as an
//! operator runs it ([`cli`]).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts `ferry-under-test --config <config> serve` with `env` added, waiting until `url/healthz` answers.
/// The host's warnings go to a log file whose tail [`HostProcess::log_tail`] reads back for a failing test;
/// `FERRY_E2E_LOGS=<dir>` keeps an info log there instead, for diagnosis.
///
/// # Errors
/// The binary cannot be started, or the host does not come up within 30 s.
pub async fn start_host(
    bin: &str,
    config: &std::path::Path,
    url: &str,
    env: &[(&str, &str)],
) -> anyhow::Result<HostProcess> {
    let mut command = Command::new(bin);
    command
        .args(["--config", &config.display().to_string(), "serve"])
        .stdout(Stdio::null());
    // `FERRY_E2E_LOGS=<dir>` keeps each host's info log as `<dir>/host-<port>.log`, for diagnosis.
    let log = if let Some(dir) = std::env::var_os("FERRY_E2E_LOGS") {
        let port = url.rsplit(':').next().unwrap_or("host");
        command.env("RUST_LOG", "info");
        HostLog::Kept(std::path::Path::new(&dir).join(format!("host-{port}.log")))
    } else {
        command.env("RUST_LOG", "warn");
        HostLog::Temporary(tempfile::NamedTempFile::new()?)
    };
    command.stderr(std::fs::File::create(log.path())?);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn()?;
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(format!("{url}/healthz")).send().await.is_ok() {
            return Ok(HostProcess { child, log });
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("host exited with {status} before answering at {url}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    anyhow::bail!("host did not come up at {url}")
}

/// Where a host process logs.
#[derive(Debug)]
enum HostLog {
    /// A file under `FERRY_E2E_LOGS`, kept after the test.
    Kept(std::path::PathBuf),
    /// A temporary file, removed with the host.
    Temporary(tempfile::NamedTempFile),
}

impl HostLog {
    fn path(&self) -> &std::path::Path {
        match self {
            Self::Kept(path) => path,
            Self::Temporary(file) => file.path(),
        }
    }
}

/// `bin <args>` as an operator would run it: without the caller's `FERRY_*` variables, `RUST_LOG=warn`, no stdin,
/// killed when dropped. The caller adds the working directory, `-c` and anything else.
pub fn cli(bin: &str, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("FERRY_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Ports [`free_port`] picks from: below Linux's ephemeral range (32768–60999), from which the kernel hands out the
/// ports of everything bound to port 0 (the simulators, other tests' hosts) and of outgoing connections.
const PICKED_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A port free right now on 127.0.0.1, for a host that binds it later (its URL must be known first). Picked at
/// random outside the ephemeral range, so nothing bound to port 0, nor an outgoing connection, takes it in between,
/// which made a test's host fail with "address already in use" now and then.
///
/// # Errors
/// No port of the range could be bound.
pub fn free_port() -> anyhow::Result<u16> {
    let span = u128::from(PICKED_PORTS.end - PICKED_PORTS.start);
    for _ in 0..100 {
        let offset = u16::try_from(uuid::Uuid::new_v4().as_u128() % span).unwrap_or(0);
        let port = PICKED_PORTS.start + offset;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    anyhow::bail!("no free port in {PICKED_PORTS:?}")
}

/// A running host process, killed (SIGKILL) when dropped, so a failing test never leaves hosts behind.
#[derive(Debug)]
pub struct HostProcess {
    child: Child,
    log: HostLog,
}

impl HostProcess {
    /// Kills the host with SIGKILL and reaps it.
    ///
    /// # Errors
    /// The process could not be signalled or waited for.
    pub fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(drop)
    }

    /// The last `lines` lines the host logged (warnings and errors, or info under `FERRY_E2E_LOGS`), for a failing
    /// test's message.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Freezes the host with SIGSTOP: alive, holding its connections and locks, doing nothing.
    ///
    /// # Errors
    /// The process could not be signalled.
    pub fn pause(&self) -> std::io::Result<()> {
        self.signal("-STOP")
    }

    /// Lets a paused host go on (SIGCONT).
    ///
    /// # Errors
    /// The process could not be signalled.
    pub fn resume(&self) -> std::io::Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, signal: &str) -> std::io::Result<()> {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("kill {signal}: {status}")))
        }
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
