//! Host bindings, one module per supported WIT version of `ferry:transform` (CONVENTIONS §12): `v0_2` for the
//! contract in `wit/`, `v0_1` for the frozen `wit/deps/ferry-transform@0.1.0`. Both worlds' imports are linked into
//! one linker, so a component of either version instantiates; [`crate::exports`] finds which one it exports.

pub(crate) mod v0_1;
pub(crate) mod v0_2;
