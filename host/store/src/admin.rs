//! What the admin API keeps: bearer tokens (only their SHA-256), uploaded plugin components by content hash
//! with their versions per tenant, and a paged event listing.
//!
//! Tokens are looked up by hash, so the store never holds anything that would let a reader of the database
//! authenticate. Plugin bytes are stored once per hash; each upload adds a version of a tenant's named plugin,
//! and at most one version per (tenant, name) is active.
//!
//! Layout: `tokens` holds the bearer tokens and their scopes; `plugins` the component blobs and the
//! per-tenant plugin versions; `chain` each tenant's uploaded plugins in chain order with their API-given
//! settings; `events` the paged event listing; `sessions` the web console's signed-in sessions; `overview` every
//! tenant's backlog, dead letters and synced orders at once; `search` the console's filtered run history.

mod chain;
mod events;
mod overview;
mod plugins;
mod search;
mod sessions;
mod tokens;

pub use chain::ChainEntry;
pub use overview::TenantActivity;
pub use plugins::{PluginState, PluginVersion};
pub use search::EventFilter;
pub use sessions::ConsoleSession;
pub use tokens::{AdminToken, TokenScope};
