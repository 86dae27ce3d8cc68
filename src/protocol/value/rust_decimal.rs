//! Conversions between values and `rust_decimal::Decimal` (feature `rust_decimal`).
//!
//! `rust_decimal` holds 28 to 29 significant digits with a scale of at most 28, a DECIMAL up to 65
//! digits with a scale of up to 30 (38 on MariaDB): conversions are exact or fail with
//! `"out of range"`, never round.

use std::str::FromStr;

use bytes::Bytes;

use super::convert::{fail, mismatch, INVALID_DECIMAL, OUT_OF_RANGE};
use super::{Decimal, FromValue, FromValueError, Value};

/// Parses decimal text exactly, dropping trailing fractional zeros only if the scale is too
/// large to keep them.
fn exact(text: &str) -> Option<rust_decimal::Decimal> {
    if let Ok(d) = rust_decimal::Decimal::from_str_exact(text) {
        return Some(d);
    }
    let trimmed = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    };
    if trimmed.len() == text.len() {
        return None;
    }
    rust_decimal::Decimal::from_str_exact(trimmed).ok()
}

/// From `Decimal` (exactly, else `"out of range"`), `Int`, `UInt`, and `Bytes` holding decimal
/// text.
impl FromValue for rust_decimal::Decimal {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        let target = "rust_decimal::Decimal";
        match &value {
            Value::Decimal(d) => match exact(d.as_str()) {
                Some(n) => Ok(n),
                None => fail(value, target, OUT_OF_RANGE),
            },
            Value::Int(n) => Ok(rust_decimal::Decimal::from(*n)),
            Value::UInt(n) => Ok(rust_decimal::Decimal::from(*n)),
            Value::Bytes(b) => match Decimal::from_bytes(b.clone()) {
                Ok(d) => match exact(d.as_str()) {
                    Some(n) => Ok(n),
                    None => fail(value, target, OUT_OF_RANGE),
                },
                Err(_) => fail(value, target, INVALID_DECIMAL),
            },
            v => {
                let reason = mismatch(v);
                fail(value, target, reason)
            }
        }
    }
}

/// A [`Decimal`] with the same digits and scale.
impl From<rust_decimal::Decimal> for Decimal {
    fn from(d: rust_decimal::Decimal) -> Self {
        let text = d.to_string();
        // rust_decimal prints plain decimal text (at most 29 digits), which always validates.
        Decimal::from_str(&text).unwrap_or(Decimal(Bytes::from(text)))
    }
}

/// [`Value::Decimal`] with the same digits and scale.
impl From<rust_decimal::Decimal> for Value {
    fn from(d: rust_decimal::Decimal) -> Self {
        Value::Decimal(Decimal::from(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal as Rd;

    fn dec(s: &str) -> Value {
        Value::Decimal(s.parse().unwrap())
    }

    #[test]
    fn exact_conversions() {
        for s in [
            "0",
            "-0.00",
            "123.4500",
            "-123.4500",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "0.0000000000000000000000000001",
        ] {
            let want = Rd::from_str_exact(s).unwrap();
            let got = Rd::from_value(dec(s)).unwrap();
            assert_eq!(got, want, "{s}");
            assert_eq!(got.scale(), want.scale(), "{s}");
        }
        assert_eq!(Rd::from_value(Value::Int(i64::MIN)), Ok(Rd::from(i64::MIN)));
        assert_eq!(
            Rd::from_value(Value::UInt(u64::MAX)),
            Ok(Rd::from(u64::MAX))
        );
        assert_eq!(Rd::from_value(Value::from("-1.5")), Ok(Rd::new(-15, 1)));
    }

    #[test]
    fn trailing_zeros_beyond_scale_28_are_dropped() {
        let s = format!("1.{}", "0".repeat(30));
        assert_eq!(Rd::from_value(dec(&s)), Ok(Rd::ONE));
        let s = format!("0.{}1{}", "0".repeat(26), "0".repeat(3));
        assert_eq!(Rd::from_value(dec(&s)), Ok(Rd::new(1, 27)));
    }

    #[test]
    fn overflow_is_out_of_range() {
        let too_big = "79228162514264337593543950336";
        let too_precise = format!("0.{}1", "0".repeat(28));
        let max65 = format!("{}.{}", "9".repeat(35), "9".repeat(30));
        for s in [too_big, too_precise.as_str(), max65.as_str()] {
            let e = Rd::from_value(dec(s)).unwrap_err();
            assert_eq!((e.reason, e.value), ("out of range", dec(s)));
        }
        assert_eq!(
            Rd::from_value(Value::from("1e5")).unwrap_err().reason,
            "invalid decimal"
        );
        assert_eq!(
            Rd::from_value(Value::Null).unwrap_err().reason,
            "unexpected NULL"
        );
        assert_eq!(
            Rd::from_value(Value::Double(1.5)).unwrap_err().reason,
            "type mismatch"
        );
    }

    #[test]
    fn into_value() {
        assert_eq!(Value::from(Rd::new(-12345, 3)), dec("-12.345"));
        assert_eq!(Value::from(Rd::new(100, 2)), dec("1.00"));
        assert_eq!(Value::from(Rd::MAX), dec("79228162514264337593543950335"));
        assert_eq!(Decimal::from(Rd::new(5, 1)).as_str(), "0.5");
    }
}
