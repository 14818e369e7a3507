//! ferry-ingest: the webhook intake.
//!
//! Where it sits: **webhook** → store → extract → transform → load. `POST /hooks/kentico/{tenant}` checks the
//! Standard Webhooks signature against the tenant's secrets, parses the envelope with
//! [`ferry_model::EventEnvelope::parse`], and commits the event through the store's batching
//! [`Ingestor`](ferry_store::Ingestor) *before* answering, so a 2xx always means the event is on disk.
//! Every refusal is a 4xx JSON `{"error":{"code","message"}}` and stores nothing.
//!
//! Layout:
//! - `config`: [`IngestConfig`] (body limit, timestamp tolerance).
//! - `secrets`: [`TenantSecrets`], the host's lookup of each tenant's signing secrets.
//! - `signature`: Standard Webhooks verification (`v1` HMAC-SHA256, several secrets for rotation).
//! - `error`: [`ApiError`], the ingest surface's error body.
//! - `metrics`: the names of the metrics the handler records.
//! - `router`: [`router`] and [`IngestState`]; the handler.
//! - `callbacks`: [`callbacks_router`]: FreshBooks callbacks (handshake, signature, durable dedupe), with the host's
//!   [`CallbackKeys`].

mod callbacks;
mod config;
mod error;
pub mod metrics;
mod router;
mod secrets;
mod signature;

pub use callbacks::{
    BoxFuture, CallbackKeys, CallbackState, HEADER_FRESHBOOKS_HMAC, callbacks_router, python_json,
    verify_freshbooks,
};
pub use config::IngestConfig;
pub use error::{ApiError, ErrorCode};
pub use router::{IngestState, router};
pub use secrets::TenantSecrets;
pub use signature::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignatureError, decode_whsec, sign, verify,
};
