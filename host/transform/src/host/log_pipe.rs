//! A plugin's stdout or stderr: captured for the tenant log up to a cap, the rest counted and dropped.
//!
//! wasmtime's `MemoryOutputPipe` traps the guest when it writes past its capacity, which would fail an order
//! because a plugin was chatty. Logging is not the plugin's job to get right, so this pipe keeps the first
//! `capacity` bytes, drops the rest and counts them; the host reports the count in the tenant log.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Largest write the guest is offered at once; writes past the cap still succeed (and are dropped).
const WRITE_PERMIT: usize = 64 * 1024;

/// What a [`LogPipe`] holds.
#[derive(Default)]
struct Captured {
    kept: BytesMut,
    dropped: usize,
}

/// Captured output with a cap; clones share one buffer.
#[derive(Clone)]
pub(crate) struct LogPipe {
    capacity: usize,
    inner: Arc<Mutex<Captured>>,
}

impl LogPipe {
    /// A pipe keeping at most `capacity` bytes.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Arc::default(),
        }
    }

    /// The kept bytes and how many were dropped past the cap.
    pub(crate) fn contents(&self) -> (Bytes, usize) {
        let c = self.lock();
        (c.kept.clone().freeze(), c.dropped)
    }

    fn lock(&self) -> MutexGuard<'_, Captured> {
        // A poisoned lock only means another writer panicked mid-append; the bytes are still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn append(&self, bytes: &[u8]) {
        let mut c = self.lock();
        let room = self.capacity.saturating_sub(c.kept.len());
        let kept = bytes.len().min(room);
        c.kept.extend_from_slice(&bytes[..kept]);
        c.dropped += bytes.len() - kept;
    }
}

impl OutputStream for LogPipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_PERMIT)
    }
}

#[async_trait::async_trait]
impl Pollable for LogPipe {
    async fn ready(&mut self) {}
}

impl AsyncWrite for LogPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for LogPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_up_to_the_cap_and_counts_the_rest() {
        let mut pipe = LogPipe::new(10);
        pipe.write(Bytes::from_static(b"hello ")).unwrap();
        pipe.write(Bytes::from_static(b"world, again")).unwrap();
        assert_eq!(pipe.check_write().unwrap(), WRITE_PERMIT);
        let (kept, dropped) = pipe.clone().contents();
        assert_eq!(&kept[..], b"hello worl");
        assert_eq!(dropped, 8);
    }
}
