//! [`FromValue`] for Rust's own types, and `From<T> for Value` for building values.
//!
//! Rules shared by every conversion:
//!
//! * [`Value::Null`] converts only into [`Option`] (as `None`) and [`Value`]; anything else fails
//!   with the reason `"unexpected NULL"`.
//! * A value of an unrelated type fails with `"type mismatch"`; one that does not fit the target
//!   with `"out of range"`. The value is always handed back in the error.
//! * MySQL expressions and MariaDB sometimes send numbers, dates and times as strings; numeric,
//!   date and time targets therefore also accept [`Value::Bytes`] holding their text form.

use bytes::Bytes;

use super::{text, Date, DateTime, Decimal, FromValue, FromValueError, Time, Value};

pub(super) const UNEXPECTED_NULL: &str = "unexpected NULL";
pub(super) const TYPE_MISMATCH: &str = "type mismatch";
pub(super) const OUT_OF_RANGE: &str = "out of range";
pub(super) const NOT_UTF8: &str = "not valid UTF-8";
pub(super) const NOT_AN_INTEGER: &str = "not an integer";
pub(super) const NOT_A_NUMBER: &str = "not a number";
pub(super) const INVALID_DATE: &str = "invalid date";
pub(super) const INVALID_TIME: &str = "invalid time";
pub(super) const INVALID_DECIMAL: &str = "invalid decimal";
pub(super) const NEGATIVE_TIME: &str = "negative time";

/// Builds the error handing `value` back.
pub(super) fn fail<T>(
    value: Value,
    target: &'static str,
    reason: &'static str,
) -> Result<T, FromValueError> {
    Err(FromValueError {
        value,
        target,
        reason,
    })
}

/// The reason for a value that is not of a convertible type: NULL or a mismatch.
pub(super) fn mismatch(value: &Value) -> &'static str {
    if value.is_null() {
        UNEXPECTED_NULL
    } else {
        TYPE_MISMATCH
    }
}

impl FromValue for Value {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        Ok(value)
    }
}

/// `None` for [`Value::Null`], else the conversion to `T`.
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// An integer as sign and magnitude, wide enough for every integer a [`Value`] can carry except
/// DECIMALs beyond 39 digits.
struct Wide {
    negative: bool,
    magnitude: u128,
}

impl Wide {
    fn from_i64(n: i64) -> Self {
        Wide {
            negative: n < 0,
            magnitude: u128::from(n.unsigned_abs()),
        }
    }

    fn from_u64(n: u64) -> Self {
        Wide {
            negative: false,
            magnitude: u128::from(n),
        }
    }

    /// Parses `[-]digits` (the integer part of a decimal text, or integer text).
    fn parse(negative: bool, digits: &[u8]) -> Result<Self, &'static str> {
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(NOT_AN_INTEGER);
        }
        let mut magnitude: u128 = 0;
        for &b in digits {
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u128::from(b - b'0')))
                .ok_or(OUT_OF_RANGE)?;
        }
        Ok(Wide {
            negative: negative && magnitude != 0,
            magnitude,
        })
    }

    fn to_i128(&self) -> Option<i128> {
        if self.negative {
            0i128.checked_sub_unsigned(self.magnitude)
        } else {
            i128::try_from(self.magnitude).ok()
        }
    }

    fn to_u128(&self) -> Option<u128> {
        (!self.negative).then_some(self.magnitude)
    }
}

/// The integer a value holds, or why it holds none.
fn integer_of(value: &Value) -> Result<Wide, &'static str> {
    match value {
        Value::Int(n) => Ok(Wide::from_i64(*n)),
        Value::UInt(n) | Value::Bit(n) => Ok(Wide::from_u64(*n)),
        Value::Year(y) => Ok(Wide::from_u64(u64::from(*y))),
        Value::Decimal(d) => {
            if !d.is_integer() {
                return Err(NOT_AN_INTEGER);
            }
            let digits = d.integer_digits();
            // `.0` has no integer digits but is zero.
            let digits = if digits.is_empty() { &b"0"[..] } else { digits };
            Wide::parse(d.as_bytes().first() == Some(&b'-'), digits)
        }
        Value::Bytes(b) => match b.split_first() {
            Some((b'-', digits)) => Wide::parse(true, digits),
            _ => Wide::parse(false, b),
        },
        v => Err(mismatch(v)),
    }
}

macro_rules! from_value_int {
    ($($t:ty => $wide:ident),* $(,)?) => {$(
        /// From integers (`Int`, `UInt`, `Year`, `Bit`), from a `Decimal` whose fractional digits
        /// are all zero, and from `Bytes` holding `[-]digits`; fails with `"out of range"` when
        /// the number does not fit.
        impl FromValue for $t {
            fn from_value(value: Value) -> Result<Self, FromValueError> {
                let target = stringify!($t);
                match integer_of(&value) {
                    Ok(wide) => match wide.$wide().and_then(|n| <$t>::try_from(n).ok()) {
                        Some(n) => Ok(n),
                        None => fail(value, target, OUT_OF_RANGE),
                    },
                    Err(reason) => fail(value, target, reason),
                }
            }
        }
    )*};
}

from_value_int!(
    i8 => to_i128, i16 => to_i128, i32 => to_i128, i64 => to_i128, i128 => to_i128,
    isize => to_i128,
    u8 => to_u128, u16 => to_u128, u32 => to_u128, u64 => to_u128, u128 => to_u128,
    usize => to_u128,
);

/// Parses a float from text (`Bytes`).
fn parse_float<F: std::str::FromStr>(b: &Bytes) -> Option<F> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// The number a value holds as the nearest `f64`, or why it holds none.
fn float_of(value: &Value) -> Result<f64, &'static str> {
    match value {
        Value::Double(d) => Ok(*d),
        Value::Float(f) => Ok(f64::from(*f)),
        Value::Int(n) => Ok(*n as f64),
        Value::UInt(n) => Ok(*n as f64),
        Value::Year(y) => Ok(f64::from(*y)),
        Value::Decimal(d) => Ok(d.to_f64()),
        Value::Bytes(b) => parse_float(b).ok_or(NOT_A_NUMBER),
        v => Err(mismatch(v)),
    }
}

/// From `Double` and `Float` (exact), and from `Int`, `UInt`, `Year`, `Decimal` and numeric text
/// in `Bytes`, rounded to the nearest `f64`: integers beyond 2^53 and decimals with more than
/// about 15 significant digits lose precision.
impl FromValue for f64 {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        float_of(&value).or_else(|reason| fail(value, "f64", reason))
    }
}

/// From `Float` (exact), and rounded to the nearest `f32` from `Double`, `Int`, `UInt`, `Year`,
/// `Decimal` and numeric text in `Bytes`. A finite value beyond the range of `f32` (about
/// ±3.4e38) fails with `"out of range"` instead of becoming infinite; infinities and NaN are kept.
impl FromValue for f32 {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        if let Value::Float(f) = value {
            return Ok(f);
        }
        match float_of(&value) {
            Ok(d) => {
                let f = d as f32;
                if f.is_finite() || !d.is_finite() {
                    Ok(f)
                } else {
                    fail(value, "f32", OUT_OF_RANGE)
                }
            }
            Err(reason) => fail(value, "f32", reason),
        }
    }
}

/// From integers (`Int`, `UInt`, `Bit`, `Decimal` and `Bytes` holding an integer): zero is
/// `false`, any other number `true`, as MySQL's `BOOL` (`TINYINT(1)`) and `BIT(1)` behave.
impl FromValue for bool {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        let ok = match &value {
            Value::Int(_)
            | Value::UInt(_)
            | Value::Bit(_)
            | Value::Decimal(_)
            | Value::Bytes(_) => integer_of(&value),
            v => Err(mismatch(v)),
        };
        match ok {
            Ok(wide) => Ok(wide.magnitude != 0),
            Err(reason) => fail(value, "bool", reason),
        }
    }
}

/// The text form of a scalar value (numbers, dates, times), as MySQL would print it.
fn text_of(value: &Value) -> Option<String> {
    Some(match value {
        Value::Int(n) => n.to_string(),
        Value::UInt(n) => n.to_string(),
        Value::Float(n) => n.to_string(),
        Value::Double(n) => n.to_string(),
        Value::Year(y) => format!("{y:04}"),
        Value::Decimal(d) => d.as_str().to_owned(),
        Value::Date(d) => d.to_string(),
        Value::Time(t) => t.to_string(),
        Value::DateTime(d) => d.to_string(),
        _ => return None,
    })
}

/// From `Bytes` and `Json` holding UTF-8 (else `"not valid UTF-8"`), and from numbers, dates and
/// times through their text form. `Bit` is not text and fails.
impl FromValue for String {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        match value {
            Value::Bytes(b) => match String::from_utf8(Vec::from(b)) {
                Ok(s) => Ok(s),
                Err(e) => fail(
                    Value::Bytes(Bytes::from(e.into_bytes())),
                    "String",
                    NOT_UTF8,
                ),
            },
            Value::Json(b) => match String::from_utf8(Vec::from(b)) {
                Ok(s) => Ok(s),
                Err(e) => fail(Value::Json(Bytes::from(e.into_bytes())), "String", NOT_UTF8),
            },
            v => match text_of(&v) {
                Some(s) => Ok(s),
                None => {
                    let reason = mismatch(&v);
                    fail(v, "String", reason)
                }
            },
        }
    }
}

/// From `Bytes` and `Json` (without copying), and from numbers, dates and times through their
/// text form.
impl FromValue for Bytes {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        match value {
            Value::Bytes(b) | Value::Json(b) => Ok(b),
            Value::Decimal(d) => Ok(d.into_bytes()),
            v => match text_of(&v) {
                Some(s) => Ok(Bytes::from(s)),
                None => {
                    let reason = mismatch(&v);
                    fail(v, "Bytes", reason)
                }
            },
        }
    }
}

/// As [`Bytes`], copied into a vector.
impl FromValue for Vec<u8> {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        Bytes::from_value(value)
            .map(Vec::from)
            .map_err(|e| FromValueError {
                target: "Vec<u8>",
                ..e
            })
    }
}

/// The date a value holds: a `Date`, or date text in `Bytes`.
pub(super) fn date_of(value: &Value) -> Result<Date, &'static str> {
    match value {
        Value::Date(d) => Ok(*d),
        Value::Bytes(b) => text::parse_date(b).ok_or(INVALID_DATE),
        v => Err(mismatch(v)),
    }
}

/// The datetime a value holds: a `DateTime`, a `Date` (at midnight), or datetime text in `Bytes`.
pub(super) fn datetime_of(value: &Value) -> Result<DateTime, &'static str> {
    match value {
        Value::DateTime(d) => Ok(*d),
        Value::Date(d) => Ok(DateTime::from_date(*d)),
        Value::Bytes(b) => text::parse_datetime(b).ok_or(INVALID_DATE),
        v => Err(mismatch(v)),
    }
}

/// The TIME a value holds: a `Time`, or TIME text in `Bytes`.
pub(super) fn time_of(value: &Value) -> Result<Time, &'static str> {
    match value {
        Value::Time(t) => Ok(*t),
        Value::Bytes(b) => text::parse_time(b).ok_or(INVALID_TIME),
        v => Err(mismatch(v)),
    }
}

/// From `Date`, or `Bytes` holding `YYYY-MM-DD` (zero dates included).
impl FromValue for Date {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        date_of(&value).or_else(|reason| fail(value, "Date", reason))
    }
}

/// From `DateTime`, `Date` (at midnight), or `Bytes` holding a datetime.
impl FromValue for DateTime {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        datetime_of(&value).or_else(|reason| fail(value, "DateTime", reason))
    }
}

/// From `Time`, or `Bytes` holding `[-]hh:mm:ss[.ffffff]`.
impl FromValue for Time {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        time_of(&value).or_else(|reason| fail(value, "Time", reason))
    }
}

/// From a `Time` that is not negative (else `"negative time"`), or `Bytes` holding one.
impl FromValue for std::time::Duration {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        match time_of(&value) {
            Ok(t) if t.negative && !t.is_zero() => fail(value, "Duration", NEGATIVE_TIME),
            Ok(t) => Ok(std::time::Duration::from_micros(
                t.to_micros().unsigned_abs(),
            )),
            Err(reason) => fail(value, "Duration", reason),
        }
    }
}

/// From `Decimal`, from `Int`/`UInt` (exact), and from `Bytes` holding decimal text.
impl FromValue for Decimal {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        match value {
            Value::Decimal(d) => Ok(d),
            Value::Int(n) => Ok(Decimal::from(n)),
            Value::UInt(n) => Ok(Decimal::from(n)),
            Value::Bytes(b) => match Decimal::from_bytes(b.clone()) {
                Ok(d) => Ok(d),
                Err(_) => fail(Value::Bytes(b), "Decimal", INVALID_DECIMAL),
            },
            v => {
                let reason = mismatch(&v);
                fail(v, "Decimal", reason)
            }
        }
    }
}

macro_rules! value_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from($v: $t) -> Self {
                $e
            }
        }
    )*};
}

value_from!(
    i8 => |n| Value::Int(n.into()),
    i16 => |n| Value::Int(n.into()),
    i32 => |n| Value::Int(n.into()),
    i64 => |n| Value::Int(n),
    u8 => |n| Value::UInt(n.into()),
    u16 => |n| Value::UInt(n.into()),
    u32 => |n| Value::UInt(n.into()),
    u64 => |n| Value::UInt(n),
    f32 => |n| Value::Float(n),
    f64 => |n| Value::Double(n),
    bool => |b| Value::Int(b.into()),
    &str => |s| Value::Bytes(Bytes::copy_from_slice(s.as_bytes())),
    String => |s| Value::Bytes(Bytes::from(s)),
    &String => |s| Value::Bytes(Bytes::copy_from_slice(s.as_bytes())),
    &[u8] => |b| Value::Bytes(Bytes::copy_from_slice(b)),
    Vec<u8> => |b| Value::Bytes(Bytes::from(b)),
    Bytes => |b| Value::Bytes(b),
    Date => |d| Value::Date(d),
    Time => |t| Value::Time(t),
    DateTime => |d| Value::DateTime(d),
    Decimal => |d| Value::Decimal(d),
);

macro_rules! value_from_wide_int {
    ($($t:ty => $narrow:ty, $variant:ident;)*) => {$(
        /// [`Value::Int`] / [`Value::UInt`] when the number fits 64 bits; a wider number becomes
        /// its decimal text in [`Value::Bytes`], which the server reads as a number in numeric
        /// context.
        impl From<$t> for Value {
            fn from(n: $t) -> Self {
                match <$narrow>::try_from(n) {
                    Ok(n) => Value::$variant(n),
                    Err(_) => Value::Bytes(Bytes::from(n.to_string())),
                }
            }
        }
    )*};
}

value_from_wide_int!(
    isize => i64, Int;
    usize => u64, UInt;
    i128 => i64, Int;
    u128 => u64, UInt;
);

/// A `std::time::Duration` as a TIME, truncated to microseconds; a duration beyond
/// 838:59:59.999999 (which no TIME holds) becomes its text form in [`Value::Bytes`] for the
/// server to judge.
impl From<std::time::Duration> for Value {
    fn from(d: std::time::Duration) -> Self {
        match Time::try_from(d) {
            Ok(t) => Value::Time(t),
            Err(_) => {
                let secs = d.as_secs();
                let text = format!(
                    "{}:{:02}:{:02}.{:06}",
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60,
                    d.subsec_micros()
                );
                Value::Bytes(Bytes::from(text))
            }
        }
    }
}

/// `None` is NULL.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::from(s)
    }

    fn decimal(s: &str) -> Value {
        Value::Decimal(s.parse().unwrap())
    }

    fn reason<T: FromValue + std::fmt::Debug>(v: Value) -> &'static str {
        let e = T::from_value(v.clone()).unwrap_err();
        assert_eq!(e.value, v, "the value is handed back");
        e.reason
    }

    #[test]
    fn integers_in_range() {
        assert_eq!(i8::from_value(Value::Int(-128)), Ok(-128));
        assert_eq!(i8::from_value(Value::Int(127)), Ok(127));
        assert_eq!(u8::from_value(Value::UInt(255)), Ok(255));
        assert_eq!(u8::from_value(Value::Int(0)), Ok(0));
        assert_eq!(i16::from_value(Value::Year(2024)), Ok(2024));
        assert_eq!(u64::from_value(Value::Bit(u64::MAX)), Ok(u64::MAX));
        assert_eq!(i64::from_value(Value::Int(i64::MIN)), Ok(i64::MIN));
        assert_eq!(i64::from_value(Value::UInt(i64::MAX as u64)), Ok(i64::MAX));
        assert_eq!(u64::from_value(Value::UInt(u64::MAX)), Ok(u64::MAX));
        assert_eq!(i128::from_value(Value::UInt(u64::MAX)), Ok(u64::MAX.into()));
        assert_eq!(i128::from_value(Value::Int(i64::MIN)), Ok(i64::MIN.into()));
        assert_eq!(u128::from_value(Value::UInt(u64::MAX)), Ok(u64::MAX.into()));
        assert_eq!(isize::from_value(Value::Int(-1)), Ok(-1));
        assert_eq!(usize::from_value(Value::UInt(7)), Ok(7));
        assert_eq!(u32::from_value(Value::Int(u32::MAX.into())), Ok(u32::MAX));
        assert_eq!(i32::from_value(Value::Int(i32::MIN.into())), Ok(i32::MIN));
    }

    #[test]
    fn integers_out_of_range() {
        assert_eq!(reason::<i8>(Value::Int(128)), OUT_OF_RANGE);
        assert_eq!(reason::<i8>(Value::Int(-129)), OUT_OF_RANGE);
        assert_eq!(reason::<u8>(Value::Int(256)), OUT_OF_RANGE);
        assert_eq!(reason::<u8>(Value::Int(-1)), OUT_OF_RANGE);
        assert_eq!(reason::<u64>(Value::Int(-1)), OUT_OF_RANGE);
        assert_eq!(reason::<u128>(Value::Int(i64::MIN)), OUT_OF_RANGE);
        assert_eq!(
            reason::<i64>(Value::UInt(i64::MAX as u64 + 1)),
            OUT_OF_RANGE
        );
        assert_eq!(reason::<i32>(Value::UInt(u64::MAX)), OUT_OF_RANGE);
        assert_eq!(reason::<i16>(Value::UInt(32768)), OUT_OF_RANGE);
        assert_eq!(
            reason::<u32>(Value::Int(i64::from(u32::MAX) + 1)),
            OUT_OF_RANGE
        );
        assert_eq!(reason::<i8>(Value::Year(2024)), OUT_OF_RANGE);
        assert_eq!(reason::<u8>(Value::Bit(256)), OUT_OF_RANGE);
    }

    #[test]
    fn integers_from_text_and_decimals() {
        assert_eq!(i64::from_value(text("-9223372036854775808")), Ok(i64::MIN));
        assert_eq!(u64::from_value(text("18446744073709551615")), Ok(u64::MAX));
        assert_eq!(u8::from_value(text("007")), Ok(7));
        assert_eq!(i32::from_value(text("-0")), Ok(0));
        assert_eq!(u32::from_value(text("-0")), Ok(0));
        assert_eq!(reason::<u64>(text("18446744073709551616")), OUT_OF_RANGE);
        assert_eq!(reason::<i64>(text("9223372036854775808")), OUT_OF_RANGE);
        assert_eq!(
            i128::from_value(text("-170141183460469231731687303715884105728")),
            Ok(i128::MIN)
        );
        assert_eq!(
            u128::from_value(text("340282366920938463463374607431768211455")),
            Ok(u128::MAX)
        );
        assert_eq!(
            reason::<u128>(text("340282366920938463463374607431768211456")),
            OUT_OF_RANGE
        );
        for bad in ["", "-", "1.5", "1e3", " 1", "abc", "+1", "0x1"] {
            assert_eq!(reason::<i64>(text(bad)), NOT_AN_INTEGER, "{bad:?}");
        }
        assert_eq!(i64::from_value(decimal("-42")), Ok(-42));
        assert_eq!(i64::from_value(decimal("-42.000")), Ok(-42));
        assert_eq!(u8::from_value(decimal("0.00")), Ok(0));
        assert_eq!(u8::from_value(decimal(".0")), Ok(0));
        assert_eq!(u8::from_value(decimal("-0.00")), Ok(0));
        assert_eq!(reason::<i64>(decimal("1.5")), NOT_AN_INTEGER);
        assert_eq!(reason::<i64>(decimal("-0.01")), NOT_AN_INTEGER);
        assert_eq!(reason::<u8>(decimal("256")), OUT_OF_RANGE);
        assert_eq!(reason::<u64>(decimal("-1")), OUT_OF_RANGE);
        assert_eq!(reason::<i64>(decimal(&"9".repeat(65))), OUT_OF_RANGE);
        assert_eq!(
            u128::from_value(decimal(&"9".repeat(38))),
            Ok(10u128.pow(38) - 1)
        );
    }

    #[test]
    fn integer_mismatches() {
        assert_eq!(reason::<i64>(Value::Null), UNEXPECTED_NULL);
        assert_eq!(reason::<i64>(Value::Double(1.0)), TYPE_MISMATCH);
        assert_eq!(reason::<i64>(Value::Float(1.0)), TYPE_MISMATCH);
        assert_eq!(
            reason::<i64>(Value::Json(Bytes::from_static(b"1"))),
            TYPE_MISMATCH
        );
        assert_eq!(reason::<u8>(Value::Date(Date::ZERO)), TYPE_MISMATCH);
        assert_eq!(reason::<u8>(Value::Time(Time::default())), TYPE_MISMATCH);
        assert_eq!(reason::<u8>(Value::DateTime(DateTime::ZERO)), TYPE_MISMATCH);
        let e = i8::from_value(Value::Int(300)).unwrap_err();
        assert_eq!(e.target, "i8");
        assert_eq!(e.to_string(), "cannot convert Int(300) to i8: out of range");
    }

    #[test]
    fn floats() {
        assert_eq!(f64::from_value(Value::Double(1.25)), Ok(1.25));
        assert_eq!(f64::from_value(Value::Float(0.1)), Ok(f64::from(0.1f32)));
        assert_eq!(f64::from_value(Value::Int(-3)), Ok(-3.0));
        assert_eq!(
            f64::from_value(Value::UInt(u64::MAX)),
            Ok(1.844_674_407_370_955_2e19)
        );
        assert_eq!(
            f64::from_value(Value::Int((1 << 53) + 1)),
            Ok(9_007_199_254_740_992.0)
        );
        assert_eq!(f64::from_value(Value::Year(1999)), Ok(1999.0));
        assert_eq!(f64::from_value(decimal("-123.4500")), Ok(-123.45));
        assert_eq!(f64::from_value(text("2.5e3")), Ok(2500.0));
        assert_eq!(reason::<f64>(text("abc")), NOT_A_NUMBER);
        assert_eq!(reason::<f64>(Value::Null), UNEXPECTED_NULL);
        assert_eq!(reason::<f64>(Value::Bit(1)), TYPE_MISMATCH);
        assert_eq!(reason::<f64>(Value::Date(Date::ZERO)), TYPE_MISMATCH);

        assert_eq!(f32::from_value(Value::Float(f32::MAX)), Ok(f32::MAX));
        assert_eq!(f32::from_value(Value::Double(0.1)), Ok(0.1f32));
        assert_eq!(
            f32::from_value(Value::Double(f64::from(f32::MIN))),
            Ok(f32::MIN)
        );
        assert_eq!(f32::from_value(Value::Int(16_777_217)), Ok(16_777_216.0));
        assert_eq!(
            f32::from_value(Value::Double(f64::INFINITY)),
            Ok(f32::INFINITY)
        );
        assert!(f32::from_value(Value::Double(f64::NAN)).unwrap().is_nan());
        assert_eq!(f32::from_value(Value::Double(1e-50)), Ok(0.0));
        assert_eq!(reason::<f32>(Value::Double(1e39)), OUT_OF_RANGE);
        assert_eq!(reason::<f32>(Value::Double(-f64::MAX)), OUT_OF_RANGE);
        assert_eq!(reason::<f32>(text("1e40")), OUT_OF_RANGE);
        assert_eq!(reason::<f32>(decimal(&"9".repeat(40))), OUT_OF_RANGE);
        assert_eq!(reason::<f32>(text("x")), NOT_A_NUMBER);
        assert_eq!(reason::<f32>(Value::Null), UNEXPECTED_NULL);
    }

    #[test]
    fn bools() {
        assert_eq!(bool::from_value(Value::Int(0)), Ok(false));
        assert_eq!(bool::from_value(Value::Int(1)), Ok(true));
        assert_eq!(bool::from_value(Value::Int(-1)), Ok(true));
        assert_eq!(bool::from_value(Value::UInt(2)), Ok(true));
        assert_eq!(bool::from_value(Value::Bit(0)), Ok(false));
        assert_eq!(bool::from_value(Value::Bit(1)), Ok(true));
        assert_eq!(bool::from_value(text("0")), Ok(false));
        assert_eq!(bool::from_value(text("1")), Ok(true));
        assert_eq!(bool::from_value(decimal("0.0")), Ok(false));
        assert_eq!(reason::<bool>(text("true")), NOT_AN_INTEGER);
        assert_eq!(reason::<bool>(decimal("0.5")), NOT_AN_INTEGER);
        assert_eq!(reason::<bool>(Value::Double(1.0)), TYPE_MISMATCH);
        assert_eq!(reason::<bool>(Value::Year(1)), TYPE_MISMATCH);
        assert_eq!(reason::<bool>(Value::Null), UNEXPECTED_NULL);
        assert_eq!(Option::<bool>::from_value(Value::Null), Ok(None));
        assert_eq!(Value::from(true), Value::Int(1));
        assert_eq!(Value::from(false), Value::Int(0));
    }

    #[test]
    fn strings_and_bytes() {
        assert_eq!(String::from_value(text("héllo")), Ok("héllo".to_owned()));
        assert_eq!(
            String::from_value(Value::Json(Bytes::from_static(b"[1]"))),
            Ok("[1]".into())
        );
        assert_eq!(
            reason::<String>(Value::Bytes(Bytes::from_static(b"\xff"))),
            NOT_UTF8
        );
        assert_eq!(
            reason::<String>(Value::Json(Bytes::from_static(b"\xc3"))),
            NOT_UTF8
        );
        assert_eq!(String::from_value(Value::Int(-5)), Ok("-5".into()));
        assert_eq!(
            String::from_value(Value::UInt(u64::MAX)),
            Ok(u64::MAX.to_string())
        );
        assert_eq!(String::from_value(Value::Double(1.5)), Ok("1.5".into()));
        assert_eq!(String::from_value(Value::Float(0.25)), Ok("0.25".into()));
        assert_eq!(String::from_value(Value::Year(0)), Ok("0000".into()));
        assert_eq!(String::from_value(decimal("-0.10")), Ok("-0.10".into()));
        assert_eq!(
            String::from_value(Value::Date(Date::ZERO)),
            Ok("0000-00-00".into())
        );
        assert_eq!(
            String::from_value(Value::Time(Time::MIN)),
            Ok("-838:59:59.999999".into())
        );
        assert_eq!(
            String::from_value(Value::DateTime(DateTime::ZERO)),
            Ok("0000-00-00 00:00:00".into())
        );
        assert_eq!(reason::<String>(Value::Bit(1)), TYPE_MISMATCH);
        assert_eq!(reason::<String>(Value::Null), UNEXPECTED_NULL);

        let raw = Bytes::from_static(b"\x00\xff");
        assert_eq!(
            Bytes::from_value(Value::Bytes(raw.clone())),
            Ok(raw.clone())
        );
        assert_eq!(Vec::<u8>::from_value(Value::Bytes(raw)), Ok(vec![0, 0xff]));
        assert_eq!(Vec::<u8>::from_value(Value::Int(12)), Ok(b"12".to_vec()));
        assert_eq!(
            Bytes::from_value(decimal("1.50")),
            Ok(Bytes::from_static(b"1.50"))
        );
        assert_eq!(
            Bytes::from_value(Value::Json(Bytes::from_static(b"{}"))),
            Ok(Bytes::from_static(b"{}"))
        );
        let e = Vec::<u8>::from_value(Value::Null).unwrap_err();
        assert_eq!((e.target, e.reason), ("Vec<u8>", UNEXPECTED_NULL));
        assert_eq!(reason::<Bytes>(Value::Bit(3)), TYPE_MISMATCH);
    }

    #[test]
    fn dates_and_times() {
        let d = Date::new(2024, 5, 17).unwrap();
        let dt = DateTime::new(d, 1, 2, 3, 4).unwrap();
        assert_eq!(Date::from_value(Value::Date(d)), Ok(d));
        assert_eq!(Date::from_value(text("2024-05-17")), Ok(d));
        assert_eq!(Date::from_value(Value::Date(Date::ZERO)), Ok(Date::ZERO));
        assert_eq!(reason::<Date>(text("2024-13-01")), INVALID_DATE);
        assert_eq!(reason::<Date>(Value::DateTime(dt)), TYPE_MISMATCH);
        assert_eq!(reason::<Date>(Value::Null), UNEXPECTED_NULL);
        assert_eq!(DateTime::from_value(Value::DateTime(dt)), Ok(dt));
        assert_eq!(
            DateTime::from_value(Value::Date(d)),
            Ok(DateTime::from_date(d))
        );
        assert_eq!(
            DateTime::from_value(text("2024-05-17 01:02:03.000004")),
            Ok(dt)
        );
        assert_eq!(
            reason::<DateTime>(text("2024-05-17 25:00:00")),
            INVALID_DATE
        );
        assert_eq!(reason::<DateTime>(Value::Int(0)), TYPE_MISMATCH);
        assert_eq!(Time::from_value(Value::Time(Time::MIN)), Ok(Time::MIN));
        assert_eq!(Time::from_value(text("-838:59:59.999999")), Ok(Time::MIN));
        assert_eq!(reason::<Time>(text("839:00:00")), INVALID_TIME);
        assert_eq!(reason::<Time>(Value::Null), UNEXPECTED_NULL);
        assert_eq!(Option::<Time>::from_value(Value::Null), Ok(None));
        assert_eq!(
            Option::<Time>::from_value(Value::Time(Time::MAX)),
            Ok(Some(Time::MAX))
        );
    }

    #[test]
    fn std_durations() {
        use std::time::Duration;
        assert_eq!(
            Duration::from_value(Value::Time(Time::MAX)),
            Ok(Duration::new(838 * 3600 + 59 * 60 + 59, 999_999_000))
        );
        assert_eq!(
            Duration::from_value(Value::Time(Time::default())),
            Ok(Duration::ZERO)
        );
        assert_eq!(reason::<Duration>(Value::Time(Time::MIN)), NEGATIVE_TIME);
        assert_eq!(reason::<Duration>(Value::Null), UNEXPECTED_NULL);
        assert_eq!(
            Duration::from_value(text("00:00:01.5")),
            Ok(Duration::from_millis(1500))
        );
        assert_eq!(
            Value::from(Duration::from_micros(1)),
            Value::Time(Time::new(false, 0, 0, 0, 1).unwrap())
        );
        assert_eq!(
            Value::from(Duration::from_secs(839 * 3600 + 61)),
            text("839:01:01.000000")
        );
    }

    #[test]
    fn decimals() {
        assert_eq!(
            Decimal::from_value(decimal("1.50")),
            Ok("1.50".parse().unwrap())
        );
        assert_eq!(
            Decimal::from_value(Value::Int(i64::MIN)),
            Ok(Decimal::from(i64::MIN))
        );
        assert_eq!(
            Decimal::from_value(Value::UInt(u64::MAX)),
            Ok(Decimal::from(u64::MAX))
        );
        assert_eq!(
            Decimal::from_value(text("-0.5")),
            Ok("-0.5".parse().unwrap())
        );
        assert_eq!(reason::<Decimal>(text("1e5")), INVALID_DECIMAL);
        assert_eq!(reason::<Decimal>(Value::Double(1.5)), TYPE_MISMATCH);
        assert_eq!(reason::<Decimal>(Value::Null), UNEXPECTED_NULL);
    }

    #[test]
    fn options_and_values() {
        assert_eq!(Option::<i32>::from_value(Value::Null), Ok(None));
        assert_eq!(Option::<i32>::from_value(Value::Int(3)), Ok(Some(3)));
        assert_eq!(Option::<String>::from_value(Value::Null), Ok(None));
        let e = Option::<u8>::from_value(Value::Int(-1)).unwrap_err();
        assert_eq!((e.reason, e.value), (OUT_OF_RANGE, Value::Int(-1)));
        assert_eq!(Value::from_value(Value::Null), Ok(Value::Null));
        assert_eq!(
            Option::<Value>::from_value(Value::Int(1)),
            Ok(Some(Value::Int(1)))
        );
    }

    #[test]
    fn values_from_rust_types() {
        assert_eq!(Value::from(-1i8), Value::Int(-1));
        assert_eq!(Value::from(-1i16), Value::Int(-1));
        assert_eq!(Value::from(-1i32), Value::Int(-1));
        assert_eq!(Value::from(i64::MIN), Value::Int(i64::MIN));
        assert_eq!(Value::from(-1isize), Value::Int(-1));
        assert_eq!(Value::from(255u8), Value::UInt(255));
        assert_eq!(Value::from(1u16), Value::UInt(1));
        assert_eq!(Value::from(1u32), Value::UInt(1));
        assert_eq!(Value::from(u64::MAX), Value::UInt(u64::MAX));
        assert_eq!(Value::from(7usize), Value::UInt(7));
        assert_eq!(Value::from(-7i128), Value::Int(-7));
        assert_eq!(Value::from(i128::MIN), text(&i128::MIN.to_string()));
        assert_eq!(Value::from(u128::MAX), text(&u128::MAX.to_string()));
        assert_eq!(Value::from(1.5f32), Value::Float(1.5));
        assert_eq!(Value::from(1.5f64), Value::Double(1.5));
        assert_eq!(Value::from("a"), Value::Bytes(Bytes::from_static(b"a")));
        assert_eq!(
            Value::from(String::from("a")),
            Value::Bytes(Bytes::from_static(b"a"))
        );
        assert_eq!(
            Value::from(&String::from("a")),
            Value::Bytes(Bytes::from_static(b"a"))
        );
        assert_eq!(
            Value::from(&b"\x00"[..]),
            Value::Bytes(Bytes::from_static(b"\x00"))
        );
        assert_eq!(
            Value::from(vec![1u8]),
            Value::Bytes(Bytes::from_static(b"\x01"))
        );
        assert_eq!(
            Value::from(Bytes::from_static(b"x")),
            Value::Bytes(Bytes::from_static(b"x"))
        );
        assert_eq!(Value::from(Date::ZERO), Value::Date(Date::ZERO));
        assert_eq!(Value::from(Time::MAX), Value::Time(Time::MAX));
        assert_eq!(Value::from(DateTime::ZERO), Value::DateTime(DateTime::ZERO));
        assert_eq!(Value::from(Decimal::from(1i64)), decimal("1"));
        assert_eq!(Value::from(None::<i32>), Value::Null);
        assert_eq!(Value::from(Some(3i32)), Value::Int(3));
        assert_eq!(Value::from(Some("x")), text("x"));
    }
}
