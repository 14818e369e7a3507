//! Requests counted by kind — `POST invoices/invoices`, `GET users/clients/{id}`, `GET rest/ecommerce.order/{id}`
//! — so a test or a bench can say how many calls an order costs each vendor (every request that reached the
//! simulator, faulted ones included).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Request counts by kind, and how many were answered 429.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestCounts(Arc<Mutex<BTreeMap<String, u64>>>, Arc<AtomicU64>);

impl RequestCounts {
    /// A copy of the counts.
    pub(crate) fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests answered 429 (throttled) so far.
    pub(crate) fn throttled(&self) -> u64 {
        self.1.load(Ordering::Relaxed)
    }

    fn add(&self, kind: String) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(kind)
            .or_default() += 1;
    }
}

/// `METHOD resource`: the path after FreshBooks' `/accounting/account/<id>/` (or the whole path), numeric segments
/// as `{id}`.
pub(crate) fn kind(method: &http::Method, path: &str) -> String {
    let path = path.trim_start_matches('/');
    let path = match path.strip_prefix("accounting/account/") {
        Some(rest) => rest.split_once('/').map_or("", |(_, r)| r),
        None => path,
    };
    let resource: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.chars().all(|c| c.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect();
    format!("{method} {}", resource.join("/"))
}

/// Middleware: counts the request, then serves it.
pub(crate) async fn count(
    State(counts): State<RequestCounts>,
    request: Request,
    next: Next,
) -> Response {
    counts.add(kind(request.method(), request.uri().path()));
    let response = next.run(request).await;
    if response.status() == http::StatusCode::TOO_MANY_REQUESTS {
        counts.1.fetch_add(1, Ordering::Relaxed);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::kind;

    #[test]
    fn kinds_name_the_resource_with_ids_masked() {
        let get = http::Method::GET;
        assert_eq!(
            kind(&get, "/accounting/account/AbC12/users/clients/100024"),
            "GET users/clients/{id}"
        );
        assert_eq!(
            kind(&http::Method::POST, "/auth/oauth/token"),
            "POST auth/oauth/token"
        );
    }
}
