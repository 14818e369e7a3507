//! `ferry completions bash|zsh|fish`: the shell completion script for every subcommand and flag, generated from
//! the same clap definition the binary parses with (the Debian package installs the bash one).

use clap::CommandFactory as _;
use std::io::Write;

/// `ferry completions <SHELL>`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: Shell,
}

/// The shells a script is generated for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    /// bash (`ferry completions bash > /usr/share/bash-completion/completions/ferry`).
    Bash,
    /// zsh (write it as `_ferry` in a directory of `$fpath`).
    Zsh,
    /// fish (`ferry completions fish > ~/.config/fish/completions/ferry.fish`).
    Fish,
}

/// Writes the completion script for `args.shell` to `out`.
///
/// # Errors
/// Writing to `out` failed.
pub fn run(args: CompletionsArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut super::Cli::command(), "ferry", &mut script);
    out.write_all(&script)?;
    Ok(())
}
