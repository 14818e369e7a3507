//! The accept loop for every simulator. It exists so a fault can really drop a connection: `axum::serve` offers
//! no way for a handler to close its socket, and a panicking handler still gets a 500 written by hyper.
//!
//! Each connection gets a [`ConnectionKill`] in its request extensions. Killing it drops the hyper connection
//! (and with it the in-flight handler future) after setting `SO_LINGER` to zero, so the kernel sends a TCP RST:
//! the client sees "connection reset" / "connection closed before message completed", never a response.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// Kill switch for the connection a request arrived on (a request extension set by [`serve`]).
#[derive(Debug, Clone)]
pub struct ConnectionKill {
    /// Read by the socket wrapper's `Drop` to choose RST over FIN.
    killed: Arc<AtomicBool>,
    /// Wakes the connection task, which then drops the connection.
    notify: Arc<Notify>,
}

impl ConnectionKill {
    /// Closes the connection with a TCP reset; any response not yet written is never sent.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }
}

/// Serves `router` on `listener` (HTTP/1.1) until `shutdown` resolves, then stops accepting and closes open
/// connections.
///
/// # Errors
///
/// Never returns an error today; accept failures (such as running out of file descriptors) are logged and
/// retried. The `io::Result` leaves room for bind-time checks.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let mut shutdown = pin!(shutdown);
    let (stop_tx, stop_rx) = watch::channel(false);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, _peer)) => {
                tokio::spawn(serve_connection(stream, router.clone(), stop_rx.clone()));
            }
            Err(error) => {
                tracing::warn!(%error, "Accept failed.");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    let _ = stop_tx.send(true);
    Ok(())
}

async fn serve_connection(stream: TcpStream, router: Router, mut stop: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let kill = ConnectionKill {
        killed: Arc::new(AtomicBool::new(false)),
        notify: Arc::new(Notify::new()),
    };
    let io = TokioIo::new(KillableStream {
        stream,
        killed: kill.killed.clone(),
    });
    let notify = kill.notify.clone();
    let service = tower::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(kill.clone());
        router.clone().oneshot(request.map(Body::new))
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, TowerToHyperService::new(service));
    tokio::select! {
        result = connection => {
            if let Err(error) = result {
                tracing::debug!(%error, "Connection ended with an error.");
            }
        }
        () = notify.notified() => {}
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
}

/// A TCP stream that resets instead of closing gracefully when its connection was killed.
struct KillableStream {
    stream: TcpStream,
    killed: Arc<AtomicBool>,
}

impl Drop for KillableStream {
    fn drop(&mut self) {
        if self.killed.load(Ordering::SeqCst) {
            // Zero linger makes close() send RST at once; it does not block (the blocking concern is non-zero).
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
