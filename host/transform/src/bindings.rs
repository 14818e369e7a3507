//! Host bindings, one module per supported WIT version of `ferry:transform`.

pub(crate) mod v0_1;
