//! ferry-secrets: sealing secrets at rest, beside the store that keeps them (webhook → **store** → extract →
//! transform → load): the store holds only sealed blobs, and the host opens them at the call site.
//!
//! Secrets at rest: every credential and token Ferry stores is sealed with XChaCha20-Poly1305 under a master key.
//!
//! Sealed blobs carry the id of the key that sealed them (`key id ‖ nonce ‖ ciphertext`), so a new master key can
//! be introduced while the old one still opens existing rows (rotation without downtime): seal with the newest key,
//! open with whichever key the blob names; `ferry secrets reseal` then seals every stored blob with the newest
//! key, so the older one can be removed.

#![cfg_attr(test, allow(clippy::unwrap_used))]

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Why a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The master key is not 32 bytes of hex or base64.
    #[error("master key must be 32 bytes, hex or base64 encoded")]
    BadKey,
    /// The blob names a key this host does not have.
    #[error("sealed secret uses key {0:08x}, which is not configured")]
    UnknownKey(u32),
    /// The blob was tampered with or sealed under another key.
    #[error("sealed secret failed authentication")]
    Tampered,
}

/// One master key and its short id (first 4 bytes of its SHA-256).
struct MasterKey {
    id: u32,
    cipher: XChaCha20Poly1305,
}

/// The keyring: the newest key seals, any configured key opens.
pub struct Keyring {
    keys: Vec<MasterKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.keys.iter().map(|k| format!("{:08x}", k.id)).collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish()
    }
}

fn decode_key(text: &str) -> Result<[u8; 32], SecretsError> {
    use base64::Engine as _;
    let t = text.trim();
    let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| SecretsError::BadKey)?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(t)
            .map_err(|_| SecretsError::BadKey)?
    };
    bytes.try_into().map_err(|_| SecretsError::BadKey)
}

impl Keyring {
    /// Builds a keyring from encoded keys, newest first (the first one seals).
    ///
    /// # Errors
    /// [`SecretsError::BadKey`] when a key is not 32 bytes of hex or base64, or none is given.
    pub fn from_encoded(keys: &[SecretString]) -> Result<Self, SecretsError> {
        if keys.is_empty() {
            return Err(SecretsError::BadKey);
        }
        let keys = keys
            .iter()
            .map(|k| {
                let raw = decode_key(k.expose_secret())?;
                let digest = Sha256::digest(raw);
                let id = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
                Ok(MasterKey {
                    id,
                    cipher: XChaCha20Poly1305::new(Key::from_slice(&raw)),
                })
            })
            .collect::<Result<Vec<_>, SecretsError>>()?;
        Ok(Self { keys })
    }

    /// A fresh random key, hex encoded (for `ferry keygen` and the sandbox).
    pub fn generate_encoded() -> SecretString {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        SecretString::from(key.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }

    /// Seals a secret with the newest key.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let key = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ct = key.cipher.encrypt(&nonce, plaintext).unwrap_or_default();
        let mut out = Vec::with_capacity(4 + nonce.len() + ct.len());
        out.extend_from_slice(&key.id.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens a sealed secret with whichever configured key sealed it.
    ///
    /// # Errors
    /// [`SecretsError::UnknownKey`] or [`SecretsError::Tampered`].
    pub fn open(&self, sealed: &[u8]) -> Result<SecretString, SecretsError> {
        if sealed.len() < 4 + 24 + 16 {
            return Err(SecretsError::Tampered);
        }
        let id = u32::from_be_bytes([sealed[0], sealed[1], sealed[2], sealed[3]]);
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or(SecretsError::UnknownKey(id))?;
        let nonce = XNonce::from_slice(&sealed[4..28]);
        let pt = key
            .cipher
            .decrypt(nonce, &sealed[28..])
            .map_err(|_| SecretsError::Tampered)?;
        String::from_utf8(pt)
            .map(SecretString::from)
            .map_err(|_| SecretsError::Tampered)
    }

    /// The id of the key that seals (the first configured), as printed in errors and by `ferry secrets reseal`.
    pub fn sealing_key_id(&self) -> String {
        format!("{:08x}", self.keys[0].id)
    }

    /// The ids of every configured key, the sealing key first (for logs: ids, never key material).
    pub fn key_ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| format!("{:08x}", k.id)).collect()
    }

    /// Whether a blob was sealed by an older key and should be re-sealed.
    pub fn needs_reseal(&self, sealed: &[u8]) -> bool {
        sealed.len() >= 4
            && u32::from_be_bytes([sealed[0], sealed[1], sealed[2], sealed[3]]) != self.keys[0].id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_do_not_contain_the_plaintext_and_open_again() {
        let ring = Keyring::from_encoded(&[Keyring::generate_encoded()]).unwrap();
        let sealed = ring.seal(b"refresh-token-abc123");
        assert!(!sealed.windows(6).any(|w| w == b"abc123"));
        assert_eq!(
            ring.open(&sealed).unwrap().expose_secret(),
            "refresh-token-abc123"
        );
    }

    #[test]
    fn rotation_keeps_old_blobs_readable() {
        let old = Keyring::generate_encoded();
        let sealed = Keyring::from_encoded(std::slice::from_ref(&old))
            .unwrap()
            .seal(b"s3cret");
        let rotated = Keyring::from_encoded(&[Keyring::generate_encoded(), old]).unwrap();
        assert!(rotated.needs_reseal(&sealed));
        assert_eq!(rotated.open(&sealed).unwrap().expose_secret(), "s3cret");
        assert!(!rotated.needs_reseal(&rotated.seal(b"x")));
    }

    #[test]
    fn tampering_and_unknown_keys_are_detected() {
        let ring = Keyring::from_encoded(&[Keyring::generate_encoded()]).unwrap();
        let mut sealed = ring.seal(b"s3cret");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(matches!(ring.open(&sealed), Err(SecretsError::Tampered)));
        let other = Keyring::from_encoded(&[Keyring::generate_encoded()]).unwrap();
        assert!(matches!(
            other.open(&ring.seal(b"x")),
            Err(SecretsError::UnknownKey(_))
        ));
        assert!(format!("{ring:?}").starts_with("Keyring { key_ids"));
    }
}
