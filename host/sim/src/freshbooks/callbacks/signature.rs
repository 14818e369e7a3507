//! How a delivery is signed: `X-FreshBooks-Hmac-SHA256` = base64(HMAC-SHA256(verifier, Python `json.dumps` of the
//! form fields in the order sent)), docs/freshbooks.md §10.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature header of a delivery.
pub const HEADER_HMAC: &str = "X-FreshBooks-Hmac-SHA256";

/// Python's `json.dumps(dict(form))` with default separators (`", "`, `": "`) and ASCII escapes: the message
/// FreshBooks signs (docs/freshbooks.md §10).
pub fn python_json(form: &[(String, String)]) -> String {
    fn quote(s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
    let mut out = String::from("{");
    for (i, (k, v)) in form.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        quote(k, &mut out);
        out.push_str(": ");
        quote(v, &mut out);
    }
    out.push('}');
    out
}

/// The `X-FreshBooks-Hmac-SHA256` value of a delivery's form, signed with the callback's verifier.
pub fn sign(verifier: &str, form: &[(String, String)]) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(verifier.as_bytes()) else {
        return String::new();
    };
    mac.update(python_json(form).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_message_is_pythons_json_dumps() {
        let form = vec![
            ("name".to_owned(), "invoice.create".to_owned()),
            ("object_id".to_owned(), "1234567".to_owned()),
            ("note".to_owned(), "café \"x\"".to_owned()),
        ];
        assert_eq!(
            python_json(&form),
            r#"{"name": "invoice.create", "object_id": "1234567", "note": "caf\u00e9 \"x\""}"#
        );
    }
}
