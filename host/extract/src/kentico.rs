//! The Kentico Xperience 13 REST service (`/rest`), read as docs/kentico.md §3 describes.

mod client;
mod fills;
mod rows;
mod xml;

pub use client::{DOWNSTREAM, KenticoClient, ListQuery, Page};
pub use rows::{Children, Row};
pub use xml::{
    PaymentResult, parse_coupon_codes, parse_custom_data, parse_payment_result, parse_summary,
};
