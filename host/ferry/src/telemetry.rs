//! Logging set-up, metrics and the shutdown signal.
//!
//! Layout:
//! - `metrics`: metric names and the Prometheus exporter.

pub mod metrics;

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

/// `FERRY_LOG_FORMAT`: `json` or `text`; unset, text for a person at a terminal and JSON lines otherwise.
const LOG_FORMAT: &str = "FERRY_LOG_FORMAT";

/// Logs to stderr: human-readable text when stderr is a terminal, JSON lines when it is not (a service manager, a
/// pipe, a file); `FERRY_LOG_FORMAT=json|text` overrides. The level comes from `RUST_LOG`, default `info`.
pub fn init() {
    let format = std::env::var(LOG_FORMAT).ok();
    let json = json_logs(format.as_deref(), std::io::stderr().is_terminal());
    install(json, BoxMakeWriter::new(std::io::stderr));
}

/// JSON lines unless asked for text, or unset at a terminal.
fn json_logs(format: Option<&str>, terminal: bool) -> bool {
    match format {
        Some("json") => true,
        Some("text") => false,
        _ => !terminal,
    }
}

/// Logs to `path` as JSON lines, leaving the terminal to the command's own output (`ferry demo`).
///
/// # Errors
/// The file cannot be created.
pub fn init_to_file(path: &std::path::Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    install(true, BoxMakeWriter::new(std::sync::Mutex::new(file)));
    Ok(())
}

fn install(json: bool, writer: BoxMakeWriter) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
    // A subscriber may already be set (tests); keeping it is fine.
    drop(result);
}

/// Resolves on Ctrl-C or SIGTERM, logging which came.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!(signal = "SIGINT", "Shutdown signal received."),
        _ = term => tracing::info!(signal = "SIGTERM", "Shutdown signal received."),
    }
}

#[cfg(test)]
mod tests {
    use super::json_logs;

    #[test]
    fn logs_are_text_at_a_terminal_and_json_elsewhere_unless_asked() {
        assert!(!json_logs(None, true));
        assert!(json_logs(None, false));
        assert!(json_logs(Some("json"), true));
        assert!(!json_logs(Some("text"), false));
    }
}
