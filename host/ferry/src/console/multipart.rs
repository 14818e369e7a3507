//! `multipart/form-data` forms (the plugin upload): parsed once, by the session check that needs their `csrf`
//! field, and handed to the handler as [`FormData`].

use super::page::PageError;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};

/// Most fields a console form may have (the upload form has four).
const MAX_FIELDS: usize = 16;

/// The fields of a multipart form, in the order sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct FormData {
    fields: Vec<Field>,
}

/// One field: its name, the file name when it is a file, and its bytes.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    name: String,
    file_name: Option<String>,
    bytes: Bytes,
}

impl FormData {
    /// The text of field `name` (empty when absent or not UTF-8).
    pub(crate) fn text(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| std::str::from_utf8(&f.bytes).ok())
            .unwrap_or_default()
    }

    /// The file sent in field `name`, as (file name, bytes); `None` when no file was chosen.
    pub(crate) fn file(&self, name: &str) -> Option<(&str, &Bytes)> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| Some((f.file_name.as_deref()?, &f.bytes)))
            .filter(|(file, _)| !file.is_empty())
    }
}

/// The boundary of a `multipart/form-data` request, `None` for any other body.
pub(super) fn boundary(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    ct.to_ascii_lowercase()
        .starts_with("multipart/form-data")
        .then(|| multer::parse_boundary(ct).ok())
        .flatten()
}

/// Parses a whole multipart body (already read, within its limit).
///
/// # Errors
/// 400 naming what is malformed, or too many fields.
pub(super) async fn parse(body: Bytes, boundary: &str) -> Result<FormData, PageError> {
    let bad = |e: multer::Error| PageError::bad_request(format!("malformed form: {e}"));
    let mut parts = multer::Multipart::new(Body::from(body).into_data_stream(), boundary);
    let mut form = FormData::default();
    while let Some(field) = parts.next_field().await.map_err(bad)? {
        if form.fields.len() == MAX_FIELDS {
            return Err(PageError::bad_request("too many form fields"));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(bad)?;
        form.fields.push(Field {
            name,
            file_name,
            bytes,
        });
    }
    Ok(form)
}
