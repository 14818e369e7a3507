//! End-to-end journeys: orders placed in the Kentico simulator travel through a real Ferry host (real sockets,
//! a real SQLite file) into the FreshBooks simulator, under the faults each module names. Every journey audits
//! FreshBooks itself: one invoice per valid order, one client per customer, one payment per paid order.

mod admin_api;
mod alerts;
mod alerts_across_hosts;
mod amounts;
mod amounts_property;
mod anomaly;
mod books_audit;
mod budget;
mod calls_per_order;
mod catalogue;
mod config_sync;
mod console;
mod console_audit;
mod console_connect;
mod console_plugins;
mod crash_restart;
mod disconnected;
mod edits;
mod enrichment;
mod faults;
mod lease_takeover;
mod metrics;
mod multi_host;
mod order_by_number;
mod payments_back;
mod readiness;
mod usage;
mod webhook_intake;
