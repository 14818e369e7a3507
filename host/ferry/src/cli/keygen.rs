//! `ferry keygen`: a fresh master key for sealing secrets, printed or written to a key file (`secrets.key_file`).
//!
//! A key file is created with mode 0600, so only its owner can read it, and an existing file is never replaced
//! unless `--force` says so: overwriting a master key makes every secret sealed with it unreadable.

use anyhow::Context as _;
use secrecy::ExposeSecret;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `ferry keygen [--out PATH [--force]]`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Write the key to this file (mode 0600, one key per line as `secrets.key_file` reads it) instead of
    /// printing it. An existing file is refused.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Replace the file named by `--out` if it exists (its key, and every secret sealed only with it, is lost).
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// Runs `ferry keygen`: prints the key to `out`, or writes it to `--out` and says where.
///
/// # Errors
/// The file exists (without `--force`) or cannot be written.
pub fn run(args: KeygenArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let key = ferry_secrets::Keyring::generate_encoded();
    match args.out {
        None => writeln!(out, "{}", key.expose_secret())?,
        Some(path) => {
            write_key_file(&path, key.expose_secret(), args.force)?;
            writeln!(
                out,
                "Wrote a new master key to {} (mode 0600); name it in [secrets] key_file.",
                path.display()
            )?;
        }
    }
    Ok(())
}

/// Creates `path` with mode 0600 holding `key` and a newline. Without `force`, an existing file is an error;
/// with it, the file is replaced by a new one (so an old file's wider mode does not carry over).
fn write_key_file(path: &Path, key: &str, force: bool) -> anyhow::Result<()> {
    if force {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("replace {}", path.display()));
            }
            _ => {}
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "{} already exists; it may hold the key your secrets are sealed with. Choose another path, or add \
             --force to replace it",
            path.display()
        ),
        other => other.with_context(|| format!("create {}", path.display()))?,
    };
    writeln!(file, "{key}")
        .and_then(|()| file.sync_all())
        .with_context(|| format!("write {}", path.display()))
}
