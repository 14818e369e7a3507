//! exchange simulator (being built).
