//! The store data of one hook call and its implementation of the WIT `host` interface.

use std::sync::Arc;

use ferry_model::TenantId;
use time::Date;
use time::macros::format_description;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::log_pipe::LogPipe;
use super::{HostServices, LogLevel};
use crate::bindings::v0_1::{ferry::transform::host, types};
use crate::limits::MemoryCap;

/// Store data of one plugin instance (lives for one hook call).
pub(crate) struct PluginCtx {
    pub(crate) tenant: TenantId,
    pub(crate) plugin: Arc<str>,
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

impl types::Host for PluginCtx {}

impl host::Host for PluginCtx {
    fn log(&mut self, level: types::LogLevel, msg: String) {
        let level = match level {
            types::LogLevel::Debug => LogLevel::Debug,
            types::LogLevel::Info => LogLevel::Info,
            types::LogLevel::Warn => LogLevel::Warn,
            types::LogLevel::Error => LogLevel::Error,
        };
        self.services.log(&self.tenant, &self.plugin, level, &msg);
    }

    fn get_setting(&mut self, key: String) -> Option<String> {
        self.services.setting(&self.tenant, &self.plugin, &key)
    }

    fn exchange_rate(
        &mut self,
        base: String,
        quote: String,
        date: String,
    ) -> Result<String, String> {
        let date = Date::parse(&date, format_description!("[year]-[month]-[day]"))
            .map_err(|e| format!("date `{date}` is not YYYY-MM-DD: {e}"))?;
        self.services
            .exchange_rate(&self.tenant, &base, &quote, date)
            .map(|r| r.to_string())
    }

    fn enrich(&mut self, kind: String, key: String) -> Result<Vec<(String, String)>, String> {
        self.services.enrich(&self.tenant, &kind, &key)
    }
}
