//! Progress of the CLI's long operations (backfill, bulk replay): a bar on a terminal, nothing otherwise, so a
//! script or a log gets only the command's final line. indicatif draws on stderr and hides itself when stderr is not
//! a terminal; the demo's bar is its own (it also names its log file).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` things, counted in `unit` ("events").
pub(crate) fn bar(len: u64, unit: &str) -> ProgressBar {
    let template = format!("{{msg:>10}} [{{bar:40}}] {{pos}}/{{len}} {unit}, {{elapsed}}");
    ProgressBar::new(len).with_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    )
}

/// A spinner for a step whose length is not known yet (reading Kentico's changes).
pub(crate) fn spinner(message: &'static str) -> ProgressBar {
    let spinner = ProgressBar::new_spinner().with_message(message);
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}
