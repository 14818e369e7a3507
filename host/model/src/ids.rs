//! Validated identifiers, built only through `parse`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The tenant id is empty, too long or has characters outside `[a-z0-9-_]`.
    #[error("tenant id {0:?} must be 1-64 characters of a-z, 0-9, '-' or '_'")]
    Tenant(String),
    /// The event id is empty or longer than 200 characters.
    #[error("event id must be 1-200 printable characters")]
    Event,
    /// The currency code is not three upper-case ASCII letters.
    #[error("currency code {0:?} is not an ISO 4217 code")]
    Currency(String),
}

/// A tenant: one Kentico site paired with one FreshBooks account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    /// Accepts 1-64 characters of `a-z`, `0-9`, `-`, `_` (it appears in URLs and file names).
    ///
    /// # Errors
    /// [`IdError::Tenant`] when the string does not fit.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::Tenant(s.to_owned()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<TenantId> for String {
    fn from(t: TenantId) -> String {
        t.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The sender's event id (`webhook-id`), stable across the sender's retries: the dedupe key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventId(String);

impl EventId {
    /// Accepts 1-200 printable ASCII characters without spaces.
    ///
    /// # Errors
    /// [`IdError::Event`] when the string does not fit.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok = !s.is_empty() && s.len() <= 200 && s.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::Event)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EventId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<EventId> for String {
    fn from(e: EventId) -> String {
        e.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISO 4217 currency code such as `USD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CurrencyCode(String);

impl CurrencyCode {
    /// Accepts three ASCII letters; lower case is folded to upper case.
    ///
    /// # Errors
    /// [`IdError::Currency`] when the string is not three letters.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim();
        if t.len() == 3 && t.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Self(t.to_ascii_uppercase()))
        } else {
            Err(IdError::Currency(s.to_owned()))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CurrencyCode {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<CurrencyCode> for String {
    fn from(c: CurrencyCode) -> String {
        c.0
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_url_safe() {
        assert!(TenantId::parse("acme-eu_1").is_ok());
        assert!(TenantId::parse("").is_err());
        assert!(TenantId::parse("Acme").is_err());
        assert!(TenantId::parse("a/b").is_err());
    }

    #[test]
    fn currency_codes_fold_to_upper_case() {
        assert_eq!(
            CurrencyCode::parse("eur").map(|c| c.to_string()),
            Ok("EUR".to_owned())
        );
        assert!(CurrencyCode::parse("EURO").is_err());
    }
}
