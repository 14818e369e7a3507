//! An allocator for plugins whose instance lives for one event: a bump arena that starts over
//! whenever nothing is allocated.
//!
//! The host makes a fresh instance of a plugin for every event and copies each string of the
//! order into it through `cabi_realloc`, a few hundred times per event. With Rust's default
//! allocator (dlmalloc) that allocation and the frees after the call were about 15 % of the
//! instructions of an event. Here an allocation is a pointer bump, a free of the newest block
//! steps back, any other free is left for later, and when the last live block is freed (at the
//! end of each hook call, once the host has read the result) the arena starts over.
//!
//! The cost: memory freed out of order inside one call comes back only when the call's blocks
//! are all freed, so a plugin that churns through many large temporary allocations within one
//! call reaches the memory cap sooner than with dlmalloc. Opt in with [`crate::use_event_allocator!`].

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;

const PAGE: usize = 64 * 1024;

/// The event allocator; install it with [`crate::use_event_allocator!`].
pub struct EventAllocator {
    /// Start of the region the arena currently bumps through (0 = none yet).
    base: Cell<usize>,
    /// Next free byte.
    next: Cell<usize>,
    /// End of the region (exclusive).
    end: Cell<usize>,
    /// Blocks handed out and not yet freed.
    live: Cell<usize>,
}

// SAFETY: the plugin runs on wasm32 without threads, so there is never a second thread.
unsafe impl Sync for EventAllocator {}

impl EventAllocator {
    /// An empty arena; memory is taken from the instance with `memory.grow` on first use.
    pub const fn new() -> Self {
        Self {
            base: Cell::new(0),
            next: Cell::new(0),
            end: Cell::new(0),
            live: Cell::new(0),
        }
    }

    /// Whether the block at `ptr` of `size` bytes is the newest one (it ends at `next`).
    fn is_newest(&self, ptr: *mut u8, size: usize) -> bool {
        ptr as usize + size == self.next.get()
    }

    /// Bump out `layout` from the current region, growing the memory when it does not fit.
    fn bump(&self, layout: Layout) -> *mut u8 {
        let align = layout.align();
        let start = align_up(self.next.get(), align);
        if self.base.get() != 0 && start + layout.size() <= self.end.get() {
            self.next.set(start + layout.size());
            return start as *mut u8;
        }
        let pages = (layout.size() + align).div_ceil(PAGE).max(1);
        let Some(prev) = grow(pages) else {
            return core::ptr::null_mut();
        };
        let region = prev * PAGE;
        if region != self.end.get() || self.base.get() == 0 {
            // Someone else (wasi-libc's own malloc) grew the memory in between, or this is the
            // first region: start a new region; the rest of the old one is abandoned.
            self.base.set(region);
            self.next.set(region);
        }
        self.end.set(region + pages * PAGE);
        let start = align_up(self.next.get(), align);
        self.next.set(start + layout.size());
        start as *mut u8
    }
}

/// `addr` rounded up to a multiple of `align` (a power of two).
fn align_up(addr: usize, align: usize) -> usize {
    (addr + align - 1) & !(align - 1)
}

impl Default for EventAllocator {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_arch = "wasm32")]
fn grow(pages: usize) -> Option<usize> {
    let prev = core::arch::wasm32::memory_grow(0, pages);
    (prev != usize::MAX).then_some(prev)
}

#[cfg(not(target_arch = "wasm32"))]
fn grow(_pages: usize) -> Option<usize> {
    None
}

// SAFETY: blocks never overlap: each comes from a part of the region past `next`, and `next`
// moves back only over the newest block (on its free) or to `base` when no block is live.
unsafe impl GlobalAlloc for EventAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = self.bump(layout);
        if !p.is_null() {
            self.live.set(self.live.get() + 1);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let live = self.live.get().saturating_sub(1);
        self.live.set(live);
        if live == 0 {
            self.next.set(self.base.get());
        } else if self.is_newest(ptr, layout.size()) {
            self.next.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The newest block grows or shrinks in place when the region has room.
        if self.is_newest(ptr, layout.size()) && ptr as usize + new_size <= self.end.get() {
            self.next.set(ptr as usize + new_size);
            return ptr;
        }
        // SAFETY: same alignment as the caller's valid layout; size checked by `bump`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // The old block stays until the arena starts over: the new one lies past it.
        let new = self.bump(new_layout);
        if !new.is_null() {
            // SAFETY: `new` is fresh (past every live block), `ptr` holds `layout.size()` bytes.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}
