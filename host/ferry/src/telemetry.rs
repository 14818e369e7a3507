//! Logging set-up, metrics and the shutdown signal.
//!
//! Layout:
//! - `metrics`: metric names and the Prometheus exporter.

pub mod metrics;

use tracing_subscriber::EnvFilter;

/// Structured JSON logs (`FERRY_LOG_FORMAT=text` for humans); level from `RUST_LOG`, default `info`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if std::env::var("FERRY_LOG_FORMAT").is_ok_and(|v| v == "text") {
        builder.try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
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
