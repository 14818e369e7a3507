//! Webhooks ("callbacks", docs/freshbooks.md §10; reference lifecycle.md §5): registration under
//! `/events/account/<account_id>/events/callbacks`, the verification handshake, and signed deliveries with the
//! Kentico sender's faults (drops, retries, duplicates) plus delays that reorder them.
//!
//! - `POST …/callbacks` `{"callback":{"event","uri"}}` registers an unverified callback and at once POSTs the
//!   receiver a form with a unique `verifier` and the callback id as `object_id`. `PUT …/callbacks/<id>`
//!   `{"callback":{"verifier"}}` verifies it; `{"callback":{"resend":true}}` sends the code again. Nothing is
//!   delivered to an unverified callback. `GET` lists (`search[event]`) and reads; `DELETE` answers 204.
//! - A write through the accounting API (payments create/update/delete, invoice update/delete) emits an event;
//!   every verified callback of the account whose event is that name or its parent (`payment` covers
//!   `payment.create`) gets a form POST `name, object_id, account_id, business_id, identity_id, user_id`,
//!   signed `X-FreshBooks-Hmac-SHA256` = base64(HMAC-SHA256(verifier, Python `json.dumps` of the form fields in
//!   the order sent)).
//! - Errors use the events family's body (`{"errno","message"}`, docs/freshbooks.md §3.2).
//!
//! Layout:
//! - `registry`: [`SimCallback`], the event names, and `Callbacks`, the registered callbacks under one lock with
//!   the sender's state.
//! - `routes`: the registration API's handlers.
//! - `delivery`: the sender: handshake, deliveries, [`CallbackFaults`], [`CallbackStats`].
//! - `signature`: [`python_json`] and [`sign`], the message and its HMAC.
//! - `write_events`: the middleware that turns accounting writes into events.
//! - `error`: the events family's error body.

mod delivery;
mod error;
mod registry;
mod routes;
mod signature;
mod write_events;

pub(crate) use registry::Callbacks;
pub use registry::{CallbackFaults, CallbackStats, SimCallback};
pub(crate) use routes::{
    create_callback, delete_callback, get_callback, list_callbacks, update_callback,
};
pub use signature::{HEADER_HMAC, python_json, sign};
pub(crate) use write_events::emit_writes;
