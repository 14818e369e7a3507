//! Errors of the transform stage and how the worker should treat them.

use std::fmt;
use std::time::Duration;

use ferry_model::{Disposition, ErrorClass, TenantId};

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Failure to set up the runtime or to load a plugin.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine or linker could not be built from the configuration.
    #[error("build plugin runtime: {0}")]
    Setup(#[source] anyhow::Error),
    /// The plugin bytes are not an acceptable component for our world; names the cause
    /// (forbidden import, missing export, not a component, precompiled bytes).
    #[error("load plugin {plugin}: {reason}")]
    InvalidPlugin {
        /// Plugin name given to `load`.
        plugin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing the `.cwasm` cache failed.
    #[error("plugin cache {path}: {source}")]
    Cache {
        /// File or directory involved.
        path: std::path::PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A hook call failed.
    #[error(transparent)]
    Transform(#[from] TransformError),
}

impl Error {
    /// What the worker does with an event that hit this error.
    pub fn disposition(&self) -> Disposition {
        match self {
            Error::Transform(e) => e.disposition(),
            // A plugin the runtime refuses stays refused: replay after the tenant uploads a fixed one.
            Error::InvalidPlugin { plugin, reason } => Disposition::DeadLetter {
                reason: format!("plugin {plugin} rejected at load: {reason}"),
            },
            Error::Setup(_) | Error::Cache { .. } => Disposition::Retry {
                after: Some(Duration::from_secs(30)),
            },
        }
    }
}

/// The exported hook being run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// `validate-order`.
    ValidateOrder,
    /// `map-client`.
    MapClient,
    /// `map-invoice`.
    MapInvoice,
    /// `map-item`.
    MapItem,
}

impl Hook {
    /// Every hook, in the order the chain runs them for an order.
    pub const ALL: [Hook; 4] = [
        Hook::ValidateOrder,
        Hook::MapClient,
        Hook::MapInvoice,
        Hook::MapItem,
    ];

    /// The WIT name of the hook.
    pub const fn wit_name(self) -> &'static str {
        match self {
            Hook::ValidateOrder => "validate-order",
            Hook::MapClient => "map-client",
            Hook::MapInvoice => "map-invoice",
            Hook::MapItem => "map-item",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wit_name())
    }
}

/// Why a hook call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The plugin trapped (panic, `unreachable`, stack overflow, …).
    Trapped {
        /// Trap description and wasm backtrace.
        detail: String,
    },
    /// The plugin burnt its fuel (instruction budget) for the call.
    OutOfFuel,
    /// The call passed its wall-clock deadline.
    TimedOut,
    /// The plugin tried to grow its memory past the cap.
    MemoryLimit,
    /// The plugin refused the record (`transform-error` in WIT).
    Rejected {
        /// Plugin's machine code.
        code: String,
        /// Plugin's explanation.
        message: String,
    },
    /// The plugin returned something the host cannot use (oversized, malformed decimal, …).
    InvalidOutput {
        /// What is wrong with it.
        detail: String,
    },
    /// No instance could be created (pool exhausted or similar host-side pressure).
    Unavailable {
        /// Host-side cause.
        detail: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Trapped { detail } => write!(f, "trapped: {detail}"),
            Reason::OutOfFuel => f.write_str("ran out of fuel"),
            Reason::TimedOut => f.write_str("timed out"),
            Reason::MemoryLimit => f.write_str("hit the memory limit"),
            Reason::Rejected { code, message } => {
                write!(f, "rejected the record ({code}): {message}")
            }
            Reason::InvalidOutput { detail } => write!(f, "returned invalid output: {detail}"),
            Reason::Unavailable { detail } => write!(f, "could not be instantiated: {detail}"),
        }
    }
}

/// A hook call that failed, naming tenant, plugin and hook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("run {hook} of plugin {plugin} for tenant {tenant}: {reason}")]
pub struct TransformError {
    /// Tenant whose chain ran.
    pub tenant: TenantId,
    /// Plugin name.
    pub plugin: String,
    /// Hook that failed.
    pub hook: Hook,
    /// Cause.
    pub reason: Reason,
}

impl TransformError {
    /// What the worker does with the event.
    ///
    /// Everything the plugin decided or computed is dead-lettered: a plugin is deterministic
    /// over its input (no clock, no randomness it can observe, fresh instance per call), so a
    /// trap, fuel exhaustion, memory blow-up, rejection or malformed output will repeat on every
    /// retry and only burn budget. The fix is a new plugin version, then a replay. Only causes
    /// outside the plugin's control are retried: a wall-clock timeout (host imports or machine
    /// load can be slow) and instance-pool exhaustion.
    pub fn disposition(&self) -> Disposition {
        match &self.reason {
            Reason::TimedOut => Disposition::Retry {
                after: Some(Duration::from_secs(30)),
            },
            Reason::Unavailable { .. } => Disposition::Retry {
                after: Some(Duration::from_secs(1)),
            },
            Reason::Trapped { .. }
            | Reason::OutOfFuel
            | Reason::MemoryLimit
            | Reason::Rejected { .. }
            | Reason::InvalidOutput { .. } => Disposition::DeadLetter {
                reason: self.to_string(),
            },
        }
    }

    /// The class a dead letter of this error is filed under: the plugin's, except when the host had no
    /// instance to give it (pool exhaustion is Ferry's own capacity, not the plugin's fault).
    pub fn class(&self) -> ErrorClass {
        match &self.reason {
            Reason::Unavailable { .. } => ErrorClass::Internal,
            _ => ErrorClass::Plugin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(reason: Reason) -> TransformError {
        TransformError {
            tenant: TenantId::parse("acme").unwrap(),
            plugin: "tax-rules".into(),
            hook: Hook::MapInvoice,
            reason,
        }
    }

    #[test]
    fn message_names_tenant_plugin_hook_and_reason() {
        let e = err(Reason::OutOfFuel);
        assert_eq!(
            e.to_string(),
            "run map-invoice of plugin tax-rules for tenant acme: ran out of fuel"
        );
    }

    #[test]
    fn plugin_faults_are_dead_lettered_and_host_pressure_is_retried() {
        let dead = [
            Reason::Trapped {
                detail: "unreachable".into(),
            },
            Reason::OutOfFuel,
            Reason::MemoryLimit,
            Reason::Rejected {
                code: "x".into(),
                message: "y".into(),
            },
            Reason::InvalidOutput { detail: "z".into() },
        ];
        for r in dead {
            assert!(matches!(
                err(r).disposition(),
                Disposition::DeadLetter { .. }
            ));
        }
        assert!(matches!(
            err(Reason::TimedOut).disposition(),
            Disposition::Retry { .. }
        ));
        assert!(matches!(
            err(Reason::Unavailable {
                detail: "pool".into()
            })
            .disposition(),
            Disposition::Retry { .. }
        ));
    }
}
