//! The `ferry` binary, built inside the test package so end-to-end tests can run and kill it as a process.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    exit_with_parent();
    ferry::cli::run(ferry::cli::Cli::parse()).await
}

/// Exits when the test that started this host is gone (it was killed, or timed out, before it could kill its hosts):
/// an orphaned host would go on holding its Postgres connections and ports, and starve the runs after it.
fn exit_with_parent() {
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(500));
            if std::os::unix::process::parent_id() != parent {
                std::process::exit(70);
            }
        }
    });
}
