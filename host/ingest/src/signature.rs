//! Standard Webhooks verification.
//!
//! Signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`, HMAC-SHA256 keyed with the secret's
//! bytes (`whsec_<base64>`). `webhook-signature` holds space-separated `v1,<base64>` entries; any entry
//! matching any of the tenant's secrets passes. Comparison is constant-time (`Mac::verify_slice`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header carrying the sender's event id (stable across retries).
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the attempt's Unix timestamp in seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying the signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

const SECRET_PREFIX: &str = "whsec_";

/// Why a signature check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// `webhook-timestamp` is not an integer.
    #[error("webhook-timestamp is not a unix timestamp")]
    InvalidTimestamp,
    /// The timestamp is further from now than the tolerance.
    #[error("webhook-timestamp is {0} seconds away from now")]
    Stale(i64),
    /// No `v1` entry matched any secret.
    #[error("no v1 signature matches")]
    Mismatch,
    /// A secret string is not `whsec_<base64>`.
    #[error("secret is not whsec_<base64>")]
    BadSecret,
}

/// Decodes `whsec_<base64>` (the prefix is optional) into key bytes.
///
/// # Errors
/// [`SignatureError::BadSecret`] when the rest is not base64.
pub fn decode_whsec(secret: &str) -> Result<Vec<u8>, SignatureError> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(b64).map_err(|_| SignatureError::BadSecret)
}

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` value a sender would put for this content (one `v1` entry); for tests and tools.
pub fn sign(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> String {
    format!(
        "v1,{}",
        STANDARD.encode(mac(key, id, timestamp, body).finalize().into_bytes())
    )
}

/// Checks timestamp freshness, then the signatures against every key.
///
/// # Errors
/// [`SignatureError::InvalidTimestamp`], [`SignatureError::Stale`] or [`SignatureError::Mismatch`].
pub fn verify(
    keys: &[Vec<u8>],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: u64,
) -> Result<(), SignatureError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::InvalidTimestamp)?;
    let skew = now_unix.saturating_sub(ts);
    if skew.unsigned_abs() > tolerance_secs {
        return Err(SignatureError::Stale(skew));
    }
    let candidates: Vec<Vec<u8>> = signatures
        .split_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, sig)| STANDARD.decode(sig).ok())
        .collect();
    for key in keys {
        let expected = mac(key, id, timestamp, body);
        if candidates
            .iter()
            .any(|sig| expected.clone().verify_slice(sig).is_ok())
        {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks reference vector.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: &str = "1614265330";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn reference_vector_verifies() {
        let key = decode_whsec(SECRET).expect("reference secret");
        assert_eq!(sign(&key, ID, TS, BODY), SIG);
        assert_eq!(
            verify(
                &[key],
                ID,
                TS,
                &format!("v1,bad {SIG}"),
                BODY,
                1_614_265_330,
                300
            ),
            Ok(())
        );
    }

    #[test]
    fn rotated_secret_and_stale_timestamp() {
        let key = decode_whsec(SECRET).expect("reference secret");
        let old = b"old-key".to_vec();
        assert_eq!(
            verify(
                &[old.clone(), key.clone()],
                ID,
                TS,
                SIG,
                BODY,
                1_614_265_330,
                300
            ),
            Ok(())
        );
        assert_eq!(
            verify(&[old], ID, TS, SIG, BODY, 1_614_265_330, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                std::slice::from_ref(&key),
                ID,
                TS,
                SIG,
                BODY,
                1_614_265_931,
                300
            ),
            Err(SignatureError::Stale(601))
        );
        assert_eq!(
            verify(&[key], ID, "x", SIG, BODY, 0, 300),
            Err(SignatureError::InvalidTimestamp)
        );
    }
}
