//! Turning what came back (a status, headers, a body, or a transport failure) into an [`Error`].

use crate::{Error, redact::summarize_body};
use http::{HeaderMap, StatusCode, header::RETRY_AFTER};
use std::time::{Duration, SystemTime};
use time::{
    OffsetDateTime, PrimitiveDateTime, format_description::FormatItem, macros::format_description,
};

/// IMF-fixdate, the only `Retry-After` date form current servers send (`Sun, 06 Nov 1994 08:49:37 GMT`).
const IMF_FIXDATE: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// Reads a `Retry-After` value: delay seconds or an HTTP date (relative to `now`). A date in the past is zero.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = PrimitiveDateTime::parse(v, IMF_FIXDATE).ok()?.assume_utc();
    let now = OffsetDateTime::from(now);
    let diff = at - now;
    Some(if diff.is_negative() {
        Duration::ZERO
    } else {
        diff.unsigned_abs()
    })
}

pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// Classifies a non-success reply.
pub(crate) fn from_status(
    what: &str,
    write: bool,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Error {
    let what = what.to_owned();
    let code = status.as_u16();
    match code {
        401 => Error::Unauthorized {
            what,
            body: summarize_body(body),
        },
        429 => Error::Throttled {
            what,
            retry_after: retry_after(headers),
        },
        // 408 Request Timeout behaves like a timeout: the server gave up reading.
        408 => Error::Timeout { what, write },
        // FreshBooks errno 409: "being modified by another request": refused, so nothing was committed.
        409 | 423 => Error::Conflict {
            what,
            status: code,
            body: summarize_body(body),
        },
        500..=599 => Error::Server {
            what,
            status: code,
            write,
            body: summarize_body(body),
            retry_after: retry_after(headers),
        },
        _ => Error::Rejected {
            what,
            status: code,
            body: summarize_body(body),
        },
    }
}

/// Classifies a transport failure from reqwest. The error's text never contains headers.
pub(crate) fn from_reqwest(what: &str, write: bool, err: &reqwest::Error) -> Error {
    let what = what.to_owned();
    if err.is_timeout() {
        return Error::Timeout { what, write };
    }
    if err.is_connect() {
        return Error::Connect { what };
    }
    if err.is_builder() {
        return Error::Request {
            what,
            reason: err.without_url_string(),
        };
    }
    Error::Transport {
        what,
        write,
        reason: err.without_url_string(),
    }
}

trait WithoutUrl {
    fn without_url_string(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    /// The message without the URL (query strings may carry a Kentico `hash=`), with its sources.
    fn without_url_string(&self) -> String {
        use std::error::Error as _;
        let mut msg = String::new();
        let mut cur: Option<&dyn std::error::Error> = self.source();
        while let Some(e) = cur {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&e.to_string());
            cur = e.source();
        }
        if msg.is_empty() {
            "transport error".to_owned()
        } else {
            msg
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn statuses_classify_into_the_worker_vocabulary() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("4"));
        let e = from_status("x", true, StatusCode::TOO_MANY_REQUESTS, &h, b"");
        assert!(
            matches!(e, Error::Throttled { retry_after: Some(d), .. } if d == Duration::from_secs(4))
        );
        assert!(from_status("x", true, StatusCode::BAD_GATEWAY, &h, b"").outcome_unknown());
        assert!(from_status("x", false, StatusCode::UNAUTHORIZED, &h, b"").needs_auth_refresh());
        assert!(matches!(
            from_status("x", false, StatusCode::NOT_FOUND, &h, b"nope"),
            Error::Rejected { status: 404, .. }
        ));
        let conflict = from_status("x", true, StatusCode::CONFLICT, &h, b"");
        assert_eq!(
            conflict.disposition(),
            ferry_model::Disposition::Retry { after: None }
        );
        assert!(!conflict.outcome_unknown());
    }
}
