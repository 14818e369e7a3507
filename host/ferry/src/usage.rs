//! Usage, what an operator bills on: per tenant and UTC day, orders synced to FreshBooks and the calls Ferry made to
//! FreshBooks and to Kentico; served by the admin API (`/usage`, `/tenants/{tenant}/usage`), the console's usage
//! page and `/metrics` (`ferry_usage_*`).
//!
//! Calls are counted where every request goes out (`ferry_outbound::CallCounts`) and added to the store every few
//! seconds (`[usage] flush_every_ms`) and at shutdown, so a call costs a map update, not a write; a host that
//! crashes loses at most that interval's calls. An order is counted in the store's own transaction the first time
//! it is recorded as synced, so it is counted once, whichever host syncs it and however often it changes.
//!
//! Layout:
//! - `flush`: the task adding the counted calls to the store, and the [`UsageConfig`] saying how often.
//! - `report`: the days asked for ([`UsageRange`]) and one tenant's days, months and total ([`TenantUsage`]).

mod flush;
mod report;

pub use flush::{UsageConfig, flush, run};
pub use report::{DayUsage, MAX_DAYS, MonthUsage, TenantUsage, UsageRange, by_tenant, month_label};
