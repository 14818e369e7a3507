//! Helpers shared by the test modules: stand-in servers.

pub(crate) mod mock_freshbooks;
