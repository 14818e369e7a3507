//! Memory cap of each plugin instance, checked by the event store's limiter on every memory grow;
//! the CPU budget (fuel + epoch deadline) is set per call in `invoke`.

use wasmtime::ResourceLimiter;

/// Memory cap of one plugin instance that remembers whether it was hit, so the trap it
/// causes can be reported as `MemoryLimit` rather than a generic trap.
#[derive(Debug)]
pub(crate) struct MemoryCap {
    max_bytes: usize,
    pub(crate) hit: bool,
}

impl MemoryCap {
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            hit: false,
        }
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            // Trap rather than return false: a guest allocator that sees a failed grow aborts
            // anyway, and an explicit trap keeps the cause precise.
            wasmtime::bail!(
                "memory grow to {desired} bytes exceeds the {} byte cap",
                self.max_bytes
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
