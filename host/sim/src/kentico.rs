//! kentico simulator (being built).
