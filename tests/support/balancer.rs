//! A round-robin HTTP load balancer in front of several hosts, as operators run `ferry serve` behind one: each
//! request goes to the next host; a host that does not answer (killed) is skipped for the next one.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Upstreams {
    hosts: Vec<String>,
    next: AtomicUsize,
    http: reqwest::Client,
    /// Requests answered by each host.
    served: Vec<AtomicUsize>,
}

/// A running balancer.
pub struct Balancer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    upstreams: Arc<Upstreams>,
}

impl Balancer {
    /// Starts a balancer over `hosts` (`http://…` base URLs) on a free port.
    ///
    /// # Errors
    /// No port could be bound.
    pub async fn start(hosts: Vec<String>) -> anyhow::Result<Self> {
        let upstreams = Arc::new(Upstreams {
            served: hosts.iter().map(|_| AtomicUsize::new(0)).collect(),
            hosts,
            next: AtomicUsize::new(0),
            http: reqwest::Client::builder()
                .connect_timeout(std::time::Duration::from_millis(500))
                .build()?,
        });
        let app = Router::new()
            .fallback(forward)
            .with_state(upstreams.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { url, upstreams })
    }

    /// Requests each host answered, in host order.
    pub fn served(&self) -> Vec<usize> {
        self.upstreams
            .served
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect()
    }
}

async fn forward(
    State(up): State<Arc<Upstreams>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let start = up.next.fetch_add(1, Ordering::Relaxed);
    for i in 0..up.hosts.len() {
        let host = (start + i) % up.hosts.len();
        let mut request = up
            .http
            .request(method.clone(), format!("{}{path}", up.hosts[host]))
            .body(body.clone());
        for (name, value) in &headers {
            if name != axum::http::header::HOST && name != axum::http::header::CONTENT_LENGTH {
                request = request.header(name, value);
            }
        }
        let Ok(reply) = request.send().await else {
            continue;
        };
        up.served[host].fetch_add(1, Ordering::Relaxed);
        let status = reply.status();
        let headers = reply.headers().clone();
        let body = reply.bytes().await.unwrap_or_default();
        let mut out = (status, body).into_response();
        for (name, value) in &headers {
            if name != axum::http::header::CONTENT_LENGTH {
                out.headers_mut().insert(name, value.clone());
            }
        }
        return out;
    }
    (StatusCode::BAD_GATEWAY, "no host answered").into_response()
}
