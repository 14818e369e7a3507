//! The `ferry` binary: parse the command line and run it (see `ferry::cli`).

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    ferry::cli::run(ferry::cli::Cli::parse()).await
}
