//! Bindings for `ferry:transform/transformer@0.2.0`, generated from `wit/` (the newest contract; plugins built
//! with the current SDK). The host's conversions (`convert`) speak these records.
#![allow(missing_docs, unreachable_pub)]

wasmtime::component::bindgen!({
    world: "transformer",
    path: "../../wit",
});

// `wit/deps/` holds the frozen 0.1.0 package beside it, so the generated module carries the version.
pub(crate) use ferry::transform0_2_0::{host, types};
