//! What plugins can reach: the `host` WIT interface, backed by [`HostServices`].
//!
//! Layout: `services` (the trait the app implements + an in-memory impl),
//! `imports` (the WIT `host` interface on the store data), `wasi` (the allowed WASI subset and
//! its locked-down context), `log_pipe` (captured stdout/stderr with a cap that drops, never traps).

mod imports;
pub(crate) mod log_pipe;
mod services;
pub(crate) mod wasi;

pub(crate) use imports::PluginCtx;
pub use services::{HostServices, LogLevel, LogLine, StaticServices};

/// A problem reported by a plugin's `validate-order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationIssue {
    /// Plugin that reported it.
    pub plugin: String,
    /// Path of the offending field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}
