//! Bindings for `ferry:transform/transformer@0.1.0`, generated from `wit/`.
#![allow(missing_docs, unreachable_pub)]

wasmtime::component::bindgen!({
    world: "transformer",
    path: "../../wit",
});

pub(crate) use ferry::transform::types;
