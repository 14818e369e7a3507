//! Log capture for the whole test binary: one global subscriber, installed by the first host (or test) that
//! asks for it, writes every event at debug level as a JSON line into one buffer while at least one
//! [`LogCapture`] guard is alive. A journey that asserts on logs (the redaction test: no secret is ever logged)
//! holds a guard for as long as its host runs, so every line its host writes is captured, together with the
//! lines of any host running beside it in the same binary. With `TEST_LOG=1` (or `RUST_LOG` set) the same
//! subscriber also prints to stderr.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tracing_subscriber::filter::{EnvFilter, FilterExt as _, filter_fn};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer as _, fmt};

/// What is captured: everything Ferry and the plugins log at debug level; the simulators only their warnings.
const CAPTURE_FILTER: &str = "debug,ferry_sim=warn,wasmtime=info,cranelift=info,h2=info";

/// Live [`LogCapture`] guards: events are formatted into the buffer only while this is above zero.
static CAPTURING: AtomicUsize = AtomicUsize::new(0);

/// Keeps the capture on while it lives (see the module doc).
#[must_use = "the capture stops when the guard is dropped"]
#[derive(Debug)]
pub struct LogCapture(());

impl LogCapture {
    /// Every line captured in this test binary so far.
    pub fn text(&self) -> String {
        captured()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Installs the global subscriber if need be and turns the capture on until the guard is dropped.
pub fn capture() -> LogCapture {
    install();
    CAPTURING.fetch_add(1, Ordering::SeqCst);
    LogCapture(())
}

/// Every line captured in this test binary so far (JSON, one event a line).
pub fn captured() -> String {
    let buf = buffer().lock().map(|b| b.clone()).unwrap_or_default();
    String::from_utf8_lossy(&buf).into_owned()
}

fn buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(Arc::default)
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(data);
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once) the capturing layer, plus a stderr layer when `TEST_LOG` or `RUST_LOG` is set.
pub fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let writer = Capture(buffer().clone());
        let capture = fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(move || writer.clone())
            .with_filter(
                EnvFilter::new(CAPTURE_FILTER)
                    .and(filter_fn(|_| CAPTURING.load(Ordering::Relaxed) > 0)),
            );
        let print = (std::env::var_os("TEST_LOG").is_some()
            || std::env::var_os("RUST_LOG").is_some())
        .then(|| {
            fmt::layer().with_test_writer().with_filter(
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
            )
        });
        let _ = tracing_subscriber::registry()
            .with(capture)
            .with(print)
            .try_init();
    });
}
