//! Helpers shared by the resource handlers: request-body parsing, the success envelope, partial-update merging
//! and money formatting.

use axum::Json;
use bytes::Bytes;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::model::Money;

/// `{"response":{"result":{<key>: <value>}}}`.
pub(crate) fn envelope(key: &str, value: impl Serialize) -> Json<Value> {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    let mut result = Map::new();
    result.insert(key.to_owned(), value);
    Json(json!({"response": {"result": Value::Object(result)}}))
}

/// `{"response":{"result":<result>}}` for lists.
pub(crate) fn list_envelope(result: Value) -> Json<Value> {
    Json(json!({"response": {"result": result}}))
}

/// Parses `{"<singular>":{…}}` from a request body.
///
/// # Errors
///
/// 422 errno 1005 (ParseError) for bad JSON, 1001 (RequiredField) when the wrapper key is missing.
pub(crate) fn body_object(body: &Bytes, singular: &str) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid(
            1005,
            singular,
            singular,
            format!("Could not parse request body: {e}"),
        )
    })?;
    match value.get(singular) {
        Some(Value::Object(map)) => Ok(map.clone()),
        _ => Err(ApiError::invalid(
            1001,
            singular,
            singular,
            format!("Field {singular} is required."),
        )),
    }
}

/// Applies a partial update: each key of `patch` that exists on `object` and is not read-only replaces it.
/// Unknown keys are ignored (docs/freshbooks.md §7.2 [G]). Numbers sent where the API keeps strings (`qty`, `amount`)
/// are accepted and stored as strings.
///
/// # Errors
///
/// 422 errno 1004 (InvalidValue) naming the first field whose value has the wrong type.
pub(crate) fn merge<T: Serialize + DeserializeOwned>(
    object: &T,
    patch: &Map<String, Value>,
    read_only: &[&str],
    singular: &str,
) -> Result<T, ApiError> {
    let mut current = serde_json::to_value(object)
        .map_err(|_| ApiError::unexpected(http::StatusCode::INTERNAL_SERVER_ERROR))?;
    for (key, value) in patch {
        if read_only.contains(&key.as_str()) {
            continue;
        }
        let Some(map) = current.as_object_mut() else {
            break;
        };
        if !map.contains_key(key) {
            continue;
        }
        let previous = map.insert(key.clone(), value.clone());
        if serde_json::from_value::<T>(current.clone()).is_err() {
            let retry = stringify_numbers(value.clone());
            if let Some(map) = current.as_object_mut() {
                map.insert(key.clone(), retry);
            }
            if serde_json::from_value::<T>(current.clone()).is_err() {
                if let (Some(map), Some(previous)) = (current.as_object_mut(), previous) {
                    map.insert(key.clone(), previous);
                }
                return Err(ApiError::invalid(
                    1004,
                    singular,
                    key,
                    format!("Invalid value for field {key}."),
                ));
            }
        }
    }
    serde_json::from_value(current)
        .map_err(|_| ApiError::unexpected(http::StatusCode::INTERNAL_SERVER_ERROR))
}

fn stringify_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, stringify_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Parses a decimal from a JSON string or number.
pub(crate) fn decimal(value: Option<&Value>) -> Option<Decimal> {
    match value? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// Rounds money to cents, halves away from zero, always with two decimals (`5.00`).
pub(crate) fn cents(amount: Decimal) -> Decimal {
    let mut cents = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    cents.rescale(2);
    if cents.is_zero() {
        cents.set_sign_positive(true); // never "-0.00"
    }
    cents
}

/// Money with two decimal places, as responses show it (rounded as [`cents`] does).
pub(crate) fn money(amount: Decimal, code: &str) -> Money {
    Money {
        amount: cents(amount).to_string(),
        code: code.to_owned(),
    }
}

/// Re-renders a money amount with two decimals (requests may send `"27"` or `27`).
pub(crate) fn normalize(m: &mut Money) {
    if let Ok(d) = m.amount.parse::<Decimal>() {
        m.amount = cents(d).to_string();
    }
}

/// Decimal to the API's plain string form (`"4"`, `"1.5"`).
pub(crate) fn plain(d: Decimal) -> String {
    d.normalize().to_string()
}
