//! Conversions between values and `serde_json::Value` (feature `serde_json`).

use bytes::Bytes;

use super::convert::{fail, mismatch};
use super::{FromValue, FromValueError, Value};

const INVALID_JSON: &str = "invalid JSON";

/// Parses `Json` (MySQL's JSON type) or `Bytes` (MariaDB sends JSON as text); text that is not
/// JSON fails with `"invalid JSON"`. SQL NULL is not JSON `null`: it fails with
/// `"unexpected NULL"` unless read as an `Option`.
impl FromValue for serde_json::Value {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        match &value {
            Value::Json(b) | Value::Bytes(b) => match serde_json::from_slice(b) {
                Ok(v) => Ok(v),
                Err(_) => fail(value, "serde_json::Value", INVALID_JSON),
            },
            v => {
                let reason = mismatch(v);
                fail(value, "serde_json::Value", reason)
            }
        }
    }
}

/// [`Value::Json`] holding the serialised document.
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        Value::from(&v)
    }
}

/// [`Value::Json`] holding the serialised document.
impl From<&serde_json::Value> for Value {
    fn from(v: &serde_json::Value) -> Self {
        // Serialising a `serde_json::Value` into memory cannot fail.
        Value::Json(Bytes::from(v.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_json_and_text() {
        let doc = json!({"a": [1, 2.5, "x"], "b": null});
        let text = Bytes::from(doc.to_string());
        assert_eq!(
            serde_json::Value::from_value(Value::Json(text.clone())),
            Ok(doc.clone())
        );
        assert_eq!(
            serde_json::Value::from_value(Value::Bytes(text)),
            Ok(doc.clone())
        );
        assert_eq!(
            serde_json::Value::from_value(Value::Json(Bytes::from_static(b"null"))),
            Ok(serde_json::Value::Null)
        );
        assert_eq!(Value::from(&doc), Value::Json(Bytes::from(doc.to_string())));
        assert_eq!(
            serde_json::Value::from_value(Value::from(doc.clone())),
            Ok(doc)
        );
    }

    #[test]
    fn errors() {
        let bad = Value::Json(Bytes::from_static(b"{\"a\":"));
        let e = serde_json::Value::from_value(bad.clone()).unwrap_err();
        assert_eq!((e.reason, e.value), ("invalid JSON", bad));
        assert_eq!(
            serde_json::Value::from_value(Value::Null)
                .unwrap_err()
                .reason,
            "unexpected NULL"
        );
        assert_eq!(
            Option::<serde_json::Value>::from_value(Value::Null),
            Ok(None)
        );
        assert_eq!(
            serde_json::Value::from_value(Value::Int(1))
                .unwrap_err()
                .reason,
            "type mismatch"
        );
    }
}
