//! Test support: spawn the app and the simulators.
