//! Where the signing secrets come from: the host, never this crate.

use ferry_model::TenantId;
use std::collections::HashMap;

/// Looks up a tenant's webhook signing secrets (raw key bytes; see [`decode_whsec`](crate::decode_whsec)).
///
/// `None` or an empty list means the tenant is unknown (404). Several secrets are tried in turn, so a
/// tenant can rotate: add the new secret, switch the sender, drop the old one.
pub trait TenantSecrets: Send + Sync + 'static {
    /// The tenant's current secrets, if it exists.
    fn secrets(&self, tenant: &TenantId) -> Option<Vec<Vec<u8>>>;
}

impl<F> TenantSecrets for F
where
    F: Fn(&TenantId) -> Option<Vec<Vec<u8>>> + Send + Sync + 'static,
{
    fn secrets(&self, tenant: &TenantId) -> Option<Vec<Vec<u8>>> {
        self(tenant)
    }
}

impl TenantSecrets for HashMap<TenantId, Vec<Vec<u8>>> {
    fn secrets(&self, tenant: &TenantId) -> Option<Vec<Vec<u8>>> {
        self.get(tenant).cloned()
    }
}
