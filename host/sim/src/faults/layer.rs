//! The tower layer that applies a [`Faults`] decision to each request it wraps.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use futures::future::BoxFuture;
use http::Request;
use tower::{Layer, Service};

use super::{Action, ConnectionKill, Faults};

/// Layer wrapping API routes with fault injection. Build it with [`Faults::layer`].
#[derive(Debug, Clone)]
pub struct FaultLayer {
    faults: Faults,
}

impl FaultLayer {
    /// Creates a layer sharing `faults`.
    pub fn new(faults: Faults) -> Self {
        Self { faults }
    }
}

impl<S> Layer<S> for FaultLayer {
    type Service = FaultService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FaultService {
            inner,
            faults: self.faults.clone(),
        }
    }
}

/// The service produced by [`FaultLayer`].
#[derive(Debug, Clone)]
pub struct FaultService<S> {
    inner: S,
    faults: Faults,
}

impl<S> Service<Request<Body>> for FaultService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // Take the service that was driven to readiness and leave a fresh clone behind (tower's usual pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let faults = self.faults.clone();
        let write = !matches!(
            *request.method(),
            http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
        );
        Box::pin(async move {
            let (delay, action) = faults.decide(write);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let kill = request.extensions().get::<ConnectionKill>().cloned();
            match action {
                Action::Pass => inner.call(request).await,
                Action::Respond {
                    status,
                    kind,
                    retry_after,
                } => Ok(faults.respond(status, kind, retry_after)),
                Action::Reset => Ok(abort(kill).await),
                Action::DropReply => {
                    // The handler runs to completion first: its effects are committed before the reply is lost.
                    let _committed = inner.call(request).await;
                    Ok(abort(kill).await)
                }
            }
        })
    }
}

/// Closes the connection without replying. Under [`super::serve`] this resets the socket and never returns;
/// under another server (no [`ConnectionKill`] extension) it falls back to a response whose body fails at once,
/// which hyper turns into an aborted, incomplete message.
async fn abort(kill: Option<ConnectionKill>) -> Response {
    match kill {
        Some(kill) => {
            kill.kill();
            std::future::pending::<Response>().await
        }
        None => {
            let failing = futures::stream::once(async {
                Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected connection reset",
                ))
            });
            Response::new(Body::from_stream(failing))
        }
    }
}
