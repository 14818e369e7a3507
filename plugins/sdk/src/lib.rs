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

/// Generated bindings for `ferry:transform/transformer@0.1.0` (the only `generate!` for guests).
pub mod bindings {
    #![allow(missing_docs)]
    wit_bindgen::generate!({
        world: "transformer",
        path: "../../wit",
        pub_export_macro: true,
        default_bindings_module: "ferry_plugin_sdk::bindings",
    });
}

pub use bindings::ferry::transform::host;
pub use bindings::ferry::transform::types::{
    Address, ClientDraft, CustomField, Customer, InvoiceDraft, InvoiceLineDraft, InvoiceStatus, ItemDraft,
    LineTax, LogLevel, Money, Order, OrderLine, OrderStatus, OrderTotals, Payment, TaxClass,
    TransformError, ValidationIssue,
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

/// Export a [`Transform`] implementation as the component's `transform` interface.
#[macro_export]
macro_rules! export_transform {
    ($ty:ty) => {
        #[doc(hidden)]
        pub struct __FerryExport;
        impl $crate::bindings::exports::ferry::transform::transform::Guest for __FerryExport {
            fn validate_order(order: $crate::Order) -> ::std::vec::Vec<$crate::ValidationIssue> {
                <$ty as $crate::Transform>::validate_order(order)
            }
            fn map_client(
                customer: $crate::Customer,
                draft: $crate::ClientDraft,
            ) -> ::core::result::Result<$crate::ClientDraft, $crate::TransformError> {
                <$ty as $crate::Transform>::map_client(customer, draft)
            }
            fn map_invoice(
                order: $crate::Order,
                draft: $crate::InvoiceDraft,
            ) -> ::core::result::Result<$crate::InvoiceDraft, $crate::TransformError> {
                <$ty as $crate::Transform>::map_invoice(order, draft)
            }
            fn map_item(
                line: $crate::OrderLine,
                draft: $crate::ItemDraft,
            ) -> ::core::result::Result<$crate::ItemDraft, $crate::TransformError> {
                <$ty as $crate::Transform>::map_item(line, draft)
            }
        }
        $crate::bindings::export!(__FerryExport with_types_in $crate::bindings);
    };
}

/// A refusal with a code and message.
pub fn reject(code: &str, message: impl Into<String>) -> TransformError {
    TransformError { code: code.to_string(), message: message.into() }
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
