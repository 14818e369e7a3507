//! ferry-alert: telling people when something needs them.
//!
//! Where it sits: beside the pipeline, not in it. The `ferry` crate reports what happens (an event dead-lettered,
//! a breaker opening, a tenant disconnected, a backlog growing old, a plugin failing) to [`Alerts`]; this crate
//! decides what is worth a message and sends it to the tenant's channels and the operator's. A condition that
//! stays true sends one message when it starts and one when it clears; dead letters are counted per class over a
//! window and sent as one message; every destination is held to a number of messages per hour.
//!
//! Layout:
//! - `config`: [`AlertsConfig`] (the host's `[alerts]`: thresholds and the operator's channels),
//!   [`TenantAlertsConfig`] (a tenant's `[tenants.alerts]`), [`ChannelConfig`] and their checks.
//! - `message`: [`Alert`], what one message says, and its text and JSON forms; [`Condition`], what it is about.
//! - `channel`: delivery to one channel: `webhook` (signed like Standard Webhooks), `slack`, `email` (SMTP).
//! - `sign`: the Standard Webhooks signature of an outgoing webhook.
//! - `dispatch`: [`Alerts`], the handle the host reports to, and the task that deduplicates, batches and sends.
//! - `shared`: what was sent, in the store shared by every host (or in memory), so hosts on one database send each
//!   message once between them.

mod channel;
mod config;
mod dispatch;
mod message;
mod shared;
mod sign;

pub use config::{AlertsConfig, ChannelConfig, InvalidAlertConfig, TenantAlertsConfig};
pub use dispatch::{Alerts, AlertsHandle, TenantChannels};
pub use message::{Alert, AlertKind, Condition};
pub use sign::{sign, webhook_headers};
