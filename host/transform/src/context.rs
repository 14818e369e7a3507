//! Who a chain runs for: the tenant, the host services its plugins may reach and its own limits; and the error
//! that names them when a plugin fails.

use crate::error::{Hook, Reason, TransformError};
use crate::host::HostServices;
use crate::runtime::PluginHandle;
use ferry_model::TenantId;
use std::sync::Arc;

/// Who the chain runs for, what host services its plugins can reach, and the tenant's own limits.
#[derive(Clone)]
pub struct TransformCtx {
    /// Tenant whose chain runs; names errors and scopes settings.
    pub tenant: TenantId,
    /// Host imports (settings, exchange rates, enrichment, logs).
    pub services: Arc<dyn HostServices>,
    /// The tenant's limits; `None` fields take the runtime's.
    pub limits: PluginLimits,
    /// The stored event the chain runs for, handed to [`HostServices::log`] with each line; `None` for previews.
    pub event: Option<Arc<str>>,
}

/// A tenant's own plugin limits, within the runtime's ([`crate::RuntimeConfig`]): a tenant can be given less,
/// never more (a larger memory cap is cut to the runtime's, which sizes the pool's slots).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PluginLimits {
    /// Fuel one hook call may burn; the runtime's `fuel_per_call` when `None`.
    pub fuel_per_call: Option<u64>,
    /// Linear memory cap per instance, in bytes; the runtime's `memory_limit_bytes` when `None`.
    pub memory_limit_bytes: Option<usize>,
}

impl TransformCtx {
    /// Context for `tenant` backed by `services`, with the runtime's limits.
    pub fn new(tenant: TenantId, services: Arc<dyn HostServices>) -> Self {
        Self {
            tenant,
            services,
            limits: PluginLimits::default(),
            event: None,
        }
    }

    /// The same context for one stored event (its key), named in the plugins' log lines.
    #[must_use]
    pub fn with_event(mut self, event: impl Into<Arc<str>>) -> Self {
        self.event = Some(event.into());
        self
    }

    /// The same context with the tenant's own limits.
    #[must_use]
    pub fn with_limits(mut self, limits: PluginLimits) -> Self {
        self.limits = limits;
        self
    }
}

/// The error of `p`'s `hook` in this context.
pub(crate) fn failure(
    ctx: &TransformCtx,
    p: &PluginHandle,
    hook: Hook,
    reason: Reason,
) -> TransformError {
    TransformError {
        tenant: ctx.tenant.clone(),
        plugin: p.name().to_string(),
        hook,
        reason,
    }
}
