//! ferry-plugin-sdk: everything a Ferry transform plugin needs.
//!
//! A plugin implements [`Transform`], overriding only the hooks it cares about (the others
//! pass the draft through unchanged), and calls [`export_transform!`]:
//!
//! ```ignore
//! use ferry_plugin_sdk::{Transform, ClientDraft, Customer, TransformError};
//! struct Upper;
//! impl Transform for Upper {
//!     fn map_client(_c: Customer, mut d: ClientDraft) -> Result<ClientDraft, TransformError> {
//!         d.last_name = d.last_name.to_uppercase();
//!         Ok(d)
//!     }
//! }
//! ferry_plugin_sdk::export_transform!(Upper);
//! ```
//!
//! Listing the hooks a plugin implements, `export_transform!(Upper: map_client)`, lets the host
//! skip the others entirely (no instance, no copy of the order), which matters per event.
//!
//! The SDK is `no_std` (it needs `alloc` only), so a plugin can be too: `#![no_std]`,
//! `extern crate alloc;` and [`no_std_plugin!`]. Such a component imports no WASI at all, which
//! makes every fresh instance cheaper; see that macro.

#![no_std]

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec::Vec;

mod event_alloc;
pub use event_alloc::EventAllocator;

// Without std nothing links the C library, and the compiler still emits calls to `memcpy`,
// `memcmp` and friends; take them from wasi-libc's static archive (pure functions: they import
// nothing). With std it is linked anyway.
#[link(name = "c")]
unsafe extern "C" {}

/// `alloc`, for paths in the macros below (a `no_std` plugin may not name it itself).
#[doc(hidden)]
pub extern crate alloc as __alloc;

/// Install [`EventAllocator`] as the plugin's global allocator: cheaper allocation for a plugin
/// that, like most, only allocates what one hook call needs. Call once, at the crate root.
#[macro_export]
macro_rules! use_event_allocator {
    () => {
        #[global_allocator]
        static __FERRY_EVENT_ALLOCATOR: $crate::EventAllocator = $crate::EventAllocator::new();
    };
}

/// Make a `#![no_std]` plugin complete: the [`EventAllocator`] as its allocator and a panic
/// handler that writes the panic message to the tenant log (level error) and traps, so the event
/// fails with the message in the log, as with std.
///
/// Why `no_std`: Rust's std brings the WASI stdio, environment and exit imports into every
/// component, used or not, and the host links each import into every fresh instance. A plugin
/// that needs only `alloc` (`String`, `Vec`, `format!`, `BTreeMap`) imports nothing but
/// `ferry:transform/host`, which makes each fresh instance about a fifth cheaper, and it can
/// reach nothing outside the WIT imports even in principle. Call once, at the crate root, after
/// `#![no_std]` and `extern crate alloc;`.
#[macro_export]
macro_rules! no_std_plugin {
    () => {
        $crate::use_event_allocator!();

        #[panic_handler]
        fn __ferry_panic(info: &::core::panic::PanicInfo<'_>) -> ! {
            $crate::__panic(info)
        }

        /// The canonical ABI's allocator export, which std provides on `wasm32-wasip2`.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn cabi_realloc(
            old_ptr: *mut u8,
            old_len: usize,
            align: usize,
            new_len: usize,
        ) -> *mut u8 {
            // SAFETY: the host calls this with the canonical ABI's contract, which is the one
            // `__cabi_realloc` states.
            unsafe { $crate::__cabi_realloc(old_ptr, old_len, align, new_len) }
        }
    };
}

/// `cabi_realloc` over the global allocator (the same as std's and wit-bindgen's).
///
/// # Safety
/// `old_ptr`/`old_len`/`align` describe a block this allocator returned (or `old_len` is 0), and
/// `align` is a power of two.
#[doc(hidden)]
pub unsafe fn __cabi_realloc(
    old_ptr: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    use alloc::alloc::{Layout, alloc, handle_alloc_error, realloc};
    let layout;
    // SAFETY: the caller's contract; a zero-sized request never reaches the allocator.
    let ptr = unsafe {
        if old_len == 0 {
            if new_len == 0 {
                return align as *mut u8;
            }
            layout = Layout::from_size_align_unchecked(new_len, align);
            alloc(layout)
        } else {
            layout = Layout::from_size_align_unchecked(old_len, align);
            realloc(old_ptr, layout, new_len)
        }
    };
    if ptr.is_null() {
        handle_alloc_error(layout);
    }
    ptr
}

/// The panic handler behind [`no_std_plugin!`]: log the message once, then trap.
#[doc(hidden)]
pub fn __panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::sync::atomic::{AtomicBool, Ordering};
    static PANICKING: AtomicBool = AtomicBool::new(false);
    // Formatting allocates; a panic raised while logging one (memory exhausted) just traps.
    if !PANICKING.swap(true, Ordering::Relaxed) {
        host::log(LogLevel::Error, &alloc::format!("{info}"));
    }
    trap()
}

#[cfg(target_arch = "wasm32")]
fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
fn trap() -> ! {
    loop {}
}

/// Generated bindings for `ferry:transform/transformer@0.2.0` (the only `generate!` for guests).
///
/// A plugin built with this SDK targets 0.2.0. The host still runs plugins built against 0.1.0
/// (an earlier SDK); their records simply lack what 0.2.0 added. Because `wit/deps/` holds the
/// frozen 0.1.0 package beside it, the generated module names carry the version
/// (`ferry::transform0_2_0`); plugins use the re-exports below instead.
pub mod bindings {
    #![allow(missing_docs)]
    wit_bindgen::generate!({
        world: "transformer",
        path: "../../wit",
        pub_export_macro: true,
        default_bindings_module: "ferry_plugin_sdk::bindings",
    });
}

pub use bindings::ferry::transform0_2_0::host;
pub use bindings::ferry::transform0_2_0::types::{
    Address, ClientDraft, CouponCode, CustomField, Customer, InvoiceDraft, InvoiceLineDraft,
    InvoiceStatus, ItemDraft, LineTax, LogLevel, Money, NamedAmount, Order, OrderLine, OrderStatus,
    OrderTotals, Payment, TaxClass, TransformError, ValidationIssue,
};

/// The hooks of a transform plugin; every method defaults to pass-through.
pub trait Transform {
    /// Check an order; the default finds nothing wrong.
    fn validate_order(_order: Order) -> Vec<ValidationIssue> {
        Vec::new()
    }
    /// Adjust a client draft; the default returns it unchanged.
    fn map_client(_customer: Customer, draft: ClientDraft) -> Result<ClientDraft, TransformError> {
        Ok(draft)
    }
    /// Adjust an invoice draft; the default returns it unchanged.
    fn map_invoice(_order: Order, draft: InvoiceDraft) -> Result<InvoiceDraft, TransformError> {
        Ok(draft)
    }
    /// Adjust an item draft; the default returns it unchanged.
    fn map_item(_line: OrderLine, draft: ItemDraft) -> Result<ItemDraft, TransformError> {
        Ok(draft)
    }
}

/// Bits of the hook set `export_transform!` records in the component (custom section
/// `ferry-hooks`, bytes `[1, bits]`), so the host skips calls to hooks a plugin leaves as
/// pass-through instead of copying the order into it for nothing.
pub mod hooks {
    /// `validate-order`.
    pub const VALIDATE_ORDER: u8 = 1;
    /// `map-client`.
    pub const MAP_CLIENT: u8 = 2;
    /// `map-invoice`.
    pub const MAP_INVOICE: u8 = 4;
    /// `map-item`.
    pub const MAP_ITEM: u8 = 8;
}

/// Export a [`Transform`] implementation as the component's `transform` interface.
///
/// `export_transform!(MyPlugin)` exports every hook (the ones not overridden pass through).
/// `export_transform!(MyPlugin: map_client, map_item)` exports the listed hooks and declares
/// the others pass-through, so the host does not call them at all; an unlisted hook is
/// pass-through even if the type overrides it, so the declaration and the behaviour always agree.
#[macro_export]
macro_rules! export_transform {
    ($ty:ty) => {
        $crate::export_transform!($ty: validate_order, map_client, map_invoice, map_item);
    };
    ($ty:ty: $($hook:ident),+ $(,)?) => {
        #[doc(hidden)]
        const __FERRY_HOOKS: u8 = 0 $(| $crate::__hook_bit!($hook))+;

        /// The implemented hooks, read by the host from the component's custom sections.
        #[doc(hidden)]
        #[used]
        #[unsafe(link_section = "ferry-hooks")]
        static __FERRY_HOOKS_SECTION: [u8; 2] = [1, __FERRY_HOOKS];

        #[doc(hidden)]
        pub struct __FerryExport;
        impl $crate::bindings::exports::ferry::transform0_2_0::transform::Guest for __FerryExport {
            fn validate_order(order: $crate::Order) -> $crate::__alloc::vec::Vec<$crate::ValidationIssue> {
                if __FERRY_HOOKS & $crate::hooks::VALIDATE_ORDER == 0 {
                    return $crate::__alloc::vec::Vec::new();
                }
                <$ty as $crate::Transform>::validate_order(order)
            }
            fn map_client(
                customer: $crate::Customer,
                draft: $crate::ClientDraft,
            ) -> ::core::result::Result<$crate::ClientDraft, $crate::TransformError> {
                if __FERRY_HOOKS & $crate::hooks::MAP_CLIENT == 0 {
                    return Ok(draft);
                }
                <$ty as $crate::Transform>::map_client(customer, draft)
            }
            fn map_invoice(
                order: $crate::Order,
                draft: $crate::InvoiceDraft,
            ) -> ::core::result::Result<$crate::InvoiceDraft, $crate::TransformError> {
                if __FERRY_HOOKS & $crate::hooks::MAP_INVOICE == 0 {
                    return Ok(draft);
                }
                <$ty as $crate::Transform>::map_invoice(order, draft)
            }
            fn map_item(
                line: $crate::OrderLine,
                draft: $crate::ItemDraft,
            ) -> ::core::result::Result<$crate::ItemDraft, $crate::TransformError> {
                if __FERRY_HOOKS & $crate::hooks::MAP_ITEM == 0 {
                    return Ok(draft);
                }
                <$ty as $crate::Transform>::map_item(line, draft)
            }
        }
        $crate::bindings::export!(__FerryExport with_types_in $crate::bindings);
    };
}

/// The bit of one hook name in [`hooks`]; a misspelt hook is a compile error.
#[doc(hidden)]
#[macro_export]
macro_rules! __hook_bit {
    (validate_order) => {
        $crate::hooks::VALIDATE_ORDER
    };
    (map_client) => {
        $crate::hooks::MAP_CLIENT
    };
    (map_invoice) => {
        $crate::hooks::MAP_INVOICE
    };
    (map_item) => {
        $crate::hooks::MAP_ITEM
    };
}

/// A refusal with a code and message.
pub fn reject(code: &str, message: impl Into<String>) -> TransformError {
    TransformError {
        code: code.to_string(),
        message: message.into(),
    }
}

/// Read a setting, falling back to a default.
pub fn setting_or(key: &str, default: &str) -> String {
    host::get_setting(key).unwrap_or_else(|| default.to_string())
}

/// Write an info line to the tenant log.
pub fn log_info(msg: &str) {
    host::log(LogLevel::Info, msg);
}

/// Append `line` to `text`, separated by a newline when `text` is not empty.
pub fn append_line(text: &mut String, line: &str) {
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(line);
}
