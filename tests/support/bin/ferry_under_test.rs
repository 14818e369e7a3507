//! The `ferry` binary, built inside the test package so end-to-end tests can run and kill it as a process.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    ferry::cli::run(ferry::cli::Cli::parse()).await
}
