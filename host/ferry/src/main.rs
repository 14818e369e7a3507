//! The `ferry` binary: parse the command line and run it (see `ferry::commands`).

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    ferry::commands::run(ferry::cli::Cli::parse()).await
}
