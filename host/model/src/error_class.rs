//! What kind of failure parked an event in the dead-letter queue: the grouping an operator triages by, stored on
//! the dead letter and used by the alerts' counts.

use std::fmt;
use std::str::FromStr;

/// The class of the error that dead-lettered an event. Each stage's error type decides it where it already
/// decides retry or dead-letter (`class()` beside `disposition()`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The order (or a reply about it) breaks a rule: missing customer, bad amounts, a 400/422 from FreshBooks.
    Validation,
    /// A tenant plugin trapped, ran out of fuel or memory, refused the record or returned bad output.
    Plugin,
    /// A downstream refused the credentials (401/403, a refresh token refused).
    Authorization,
    /// A downstream kept throttling (429) until the attempts ran out.
    RateLimit,
    /// A downstream was down, slow or answering 5xx until the attempts ran out.
    Upstream,
    /// Something the event needs does not exist (the Kentico order, a FreshBooks object, an exchange rate).
    NotFound,
    /// A downstream reported a conflicting change (409), or a change Ferry may not make on its own.
    Conflict,
    /// Nothing failed: the order was held for a person to look at (anomaly checks, a paid order's edit under
    /// `"review"`). Kept apart so a held order is not mistaken for a broken one; a replay releases it.
    Review,
    /// Ferry itself could not go on (its store, an unreadable stored event, a tenant no longer served).
    Internal,
}

impl ErrorClass {
    /// Every class, in the order lists and alerts show them.
    pub const ALL: [Self; 9] = [
        Self::Validation,
        Self::Plugin,
        Self::Authorization,
        Self::RateLimit,
        Self::Upstream,
        Self::NotFound,
        Self::Conflict,
        Self::Review,
        Self::Internal,
    ];

    /// The stored and serialized name (`rate_limit`, `not_found`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Validation => "validation",
            Self::Plugin => "plugin",
            Self::Authorization => "authorization",
            Self::RateLimit => "rate_limit",
            Self::Upstream => "upstream",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Review => "review",
            Self::Internal => "internal",
        }
    }

    /// The class of an HTTP status a downstream answered with.
    pub const fn of_status(status: u16) -> Self {
        match status {
            401 | 403 => Self::Authorization,
            404 | 410 => Self::NotFound,
            409 | 412 => Self::Conflict,
            429 => Self::RateLimit,
            400..=499 => Self::Validation,
            _ => Self::Upstream,
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`ErrorClass::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown error class {0:?} (one of validation, plugin, authorization, rate_limit, upstream, not_found, conflict, review, internal)"
)]
pub struct UnknownErrorClass(pub String);

impl FromStr for ErrorClass {
    type Err = UnknownErrorClass;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| UnknownErrorClass(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_parses_back_from_its_name_and_serializes_as_it() {
        for c in ErrorClass::ALL {
            assert_eq!(c.as_str().parse::<ErrorClass>(), Ok(c));
            assert_eq!(
                serde_json::to_value(c).ok(),
                Some(serde_json::Value::String(c.as_str().into()))
            );
        }
        assert!("bogus".parse::<ErrorClass>().is_err());
    }

    #[test]
    fn statuses_map_to_the_class_an_operator_acts_on() {
        assert_eq!(ErrorClass::of_status(403), ErrorClass::Authorization);
        assert_eq!(ErrorClass::of_status(404), ErrorClass::NotFound);
        assert_eq!(ErrorClass::of_status(409), ErrorClass::Conflict);
        assert_eq!(ErrorClass::of_status(429), ErrorClass::RateLimit);
        assert_eq!(ErrorClass::of_status(422), ErrorClass::Validation);
        assert_eq!(ErrorClass::of_status(503), ErrorClass::Upstream);
    }
}
