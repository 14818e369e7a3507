//! The services the host calls for its tenants besides Kentico and FreshBooks, each through `ferry-outbound`
//! (timeouts, error classes, backoff, a breaker).
//!
//! Layout:
//! - `exchange`: ECB reference rates for currency conversion, cached per day.
//! - `enrichment`: a tenant's enrichment service, called and cached by the host for its plugins.

pub mod enrichment;
pub mod exchange;

pub use enrichment::{EnrichmentClient, EnrichmentConfig};
pub use exchange::{ExchangeClient, ExchangeConfig, ExchangeError};
