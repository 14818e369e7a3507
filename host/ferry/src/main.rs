//! The `ferry` binary: parse the command line and run it (see `ferry::cli`).

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    match ferry::cli::run(ferry::cli::Cli::parse()).await {
        // The reader of our output went away (`ferry … | head`, `grep -q`): stop quietly, as other Unix tools do,
        // rather than report the closed pipe as a failure.
        Err(e) if closed_pipe(&e) => Ok(ExitCode::SUCCESS),
        other => other,
    }
}

fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
