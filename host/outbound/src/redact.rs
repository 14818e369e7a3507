//! Keeping secrets and payloads out of logs.

use http::HeaderMap;
use std::fmt;

/// A value whose `Debug`/`Display` print `[redacted]`; reach the value only through [`Redacted::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself; call only where it is sent.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Redacted<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Headers whose values must never reach a log line.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// Headers as `(name, value)` pairs safe to log: credentials and sensitive values are replaced by `[redacted]`.
pub fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let secret = value.is_sensitive() || SECRET_HEADERS.contains(&name.as_str());
            let shown = if secret {
                "[redacted]".to_owned()
            } else {
                value.to_str().unwrap_or("[binary]").to_owned()
            };
            (name.as_str().to_owned(), shown)
        })
        .collect()
}

/// Longest body excerpt kept in an error (errors are stored with dead letters and shown to operators).
const BODY_SUMMARY_CHARS: usize = 300;

/// A short, single-line excerpt of an error body for dead-letter reasons; token-like fields are masked.
pub fn summarize_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let masked = mask_tokens(&one_line);
    if masked.chars().count() > BODY_SUMMARY_CHARS {
        let cut: String = masked.chars().take(BODY_SUMMARY_CHARS).collect();
        format!("{cut}…")
    } else {
        masked
    }
}

/// Masks the values of JSON keys that carry tokens (`access_token`, `refresh_token`, `client_secret`, `password`).
fn mask_tokens(s: &str) -> String {
    let mut out = s.to_owned();
    for key in [
        "access_token",
        "refresh_token",
        "client_secret",
        "password",
        "id_token",
        "code",
    ] {
        let needle = format!("\"{key}\":");
        let mut from = 0;
        while let Some(pos) = out[from..].find(&needle) {
            let start = from + pos + needle.len();
            let rest = &out[start..];
            let trimmed = rest.trim_start();
            let lead = rest.len() - trimmed.len();
            if let Some(end) = trimmed.strip_prefix('"').and_then(|s| s.find('"')) {
                let a = start + lead + 1;
                out.replace_range(a..a + end, "[redacted]");
            }
            from = start;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn redacted_never_prints_its_value() {
        let r = Redacted::new("s3cret".to_owned());
        assert_eq!(format!("{r:?} {r}"), "[redacted] [redacted]");
        assert_eq!(r.expose(), "s3cret");
    }

    #[test]
    fn auth_headers_are_redacted() {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer abc"));
        h.insert("content-type", HeaderValue::from_static("application/json"));
        let shown = redact_headers(&h);
        assert!(shown.contains(&("authorization".into(), "[redacted]".into())));
        assert!(shown.contains(&("content-type".into(), "application/json".into())));
    }

    #[test]
    fn body_summary_is_short_and_masks_tokens() {
        let s = summarize_body(br#"{"error":"invalid_grant", "refresh_token": "abc123"}"#);
        assert!(!s.contains("abc123"), "{s}");
        assert!(s.contains("invalid_grant"));
        assert!(summarize_body(&[b'x'; 1000]).chars().count() <= BODY_SUMMARY_CHARS + 1);
    }
}
