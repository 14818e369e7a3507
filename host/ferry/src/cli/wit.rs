//! `ferry wit export DIR`: the plugin contract's WIT files, as this binary was built with them, for plugin authors
//! and their toolchains (wit-bindgen, componentize-js, componentize-py) without a checkout of Ferry.

use anyhow::Context as _;
use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;

/// `ferry wit …`.
#[derive(Debug, Subcommand)]
pub enum WitCommand {
    /// Write the WIT files of the plugin contract (`ferry:transform`, with its frozen releases under `deps/`) into
    /// DIR, created if missing; existing files of the same names are replaced.
    Export {
        /// The directory to write (`wit` in a plugin project).
        dir: PathBuf,
    },
}

/// Runs one `wit` subcommand.
///
/// # Errors
/// A directory or file cannot be written.
pub fn run(cmd: WitCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match cmd {
        WitCommand::Export { dir } => {
            let written = ferry_transform::contract::export(&dir)
                .with_context(|| format!("export the WIT files to {}", dir.display()))?;
            writeln!(
                out,
                "Wrote ferry:transform@{} ({} files) to {}.",
                ferry_transform::contract::VERSION,
                written.len(),
                dir.display()
            )?;
        }
    }
    Ok(())
}
