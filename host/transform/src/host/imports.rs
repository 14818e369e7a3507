//! The store data of one hook call and its implementation of the WIT `host` interface, in each supported version
//! of the contract (the interface is the same in 0.1.0 and 0.2.0; only its package version differs).

use std::sync::Arc;

use ferry_model::TenantId;
use time::Date;
use time::macros::format_description;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::log_pipe::LogPipe;
use super::{HostServices, LogLevel, LogLine};
use crate::bindings::{v0_1, v0_2};
use crate::limits::MemoryCap;

/// Store data of one plugin instance (lives for one hook call).
pub(crate) struct PluginCtx {
    pub(crate) tenant: TenantId,
    pub(crate) plugin: Arc<str>,
    /// The event the chain runs for, named in the plugin's log lines.
    pub(crate) event: Option<Arc<str>>,
    pub(crate) services: Arc<dyn HostServices>,
    /// Locked-down WASI: no preopens, no env, no sockets; stdout/stderr go to the pipes below.
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) memory: MemoryCap,
    pub(crate) stdout: LogPipe,
    pub(crate) stderr: LogPipe,
}

impl WasiView for PluginCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl PluginCtx {
    /// Hands one line the plugin wrote to the host, with the plugin and the event it ran for.
    pub(crate) fn log_line(&self, level: LogLevel, message: &str) {
        self.services.log(&LogLine {
            tenant: &self.tenant,
            plugin: &self.plugin,
            event: self.event.as_deref(),
            level,
            message,
        });
    }

    fn setting(&self, key: &str) -> Option<String> {
        self.services.setting(&self.tenant, &self.plugin, key)
    }

    fn rate(&self, base: &str, quote: &str, date: &str) -> Result<String, String> {
        let day = Date::parse(date, format_description!("[year]-[month]-[day]"))
            .map_err(|e| format!("date `{date}` is not YYYY-MM-DD: {e}"))?;
        self.services
            .exchange_rate(&self.tenant, base, quote, day)
            .map(|r| r.to_string())
    }

    fn enrichment(&self, kind: &str, key: &str) -> Result<Vec<(String, String)>, String> {
        self.services.enrich(&self.tenant, kind, key)
    }
}

/// The `host` interface of one contract version, forwarded to the methods above.
macro_rules! host_interface {
    ($v:ident) => {
        impl $v::types::Host for PluginCtx {}

        impl $v::host::Host for PluginCtx {
            fn log(&mut self, level: $v::types::LogLevel, msg: String) {
                let level = match level {
                    $v::types::LogLevel::Debug => LogLevel::Debug,
                    $v::types::LogLevel::Info => LogLevel::Info,
                    $v::types::LogLevel::Warn => LogLevel::Warn,
                    $v::types::LogLevel::Error => LogLevel::Error,
                };
                self.log_line(level, &msg);
            }

            fn get_setting(&mut self, key: String) -> Option<String> {
                self.setting(&key)
            }

            fn exchange_rate(
                &mut self,
                base: String,
                quote: String,
                date: String,
            ) -> Result<String, String> {
                self.rate(&base, &quote, &date)
            }

            fn enrich(
                &mut self,
                kind: String,
                key: String,
            ) -> Result<Vec<(String, String)>, String> {
                self.enrichment(&kind, &key)
            }
        }
    };
}

host_interface!(v0_1);
host_interface!(v0_2);
