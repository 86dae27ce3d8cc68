//! Column values: the [`Value`] type, its decoding from the text protocol, and conversions to Rust
//! types ([`FromValue`]).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_row.html>
//!
//! Rows arrive as [`Value`]s ([`decode_text`] builds them from the text protocol); the
//! [`FromValue`] trait turns them into Rust types, with range checks and without silent truncation
//! except where documented (floating point). Dates and times are kept in MySQL's own model
//! ([`Date`], [`Time`], [`DateTime`]), which can represent zero dates and TIME values beyond 24
//! hours; conversions to `chrono` and `time` types are available behind the features of the same
//! names, to `rust_decimal::Decimal` behind `rust_decimal` and to `serde_json::Value` behind
//! `serde_json`.
//!
//! # Conversions
//!
//! [`FromValue`] never loses information silently, except for floating point targets (documented
//! on each implementation). On failure the [`FromValueError`] hands the value back with one of
//! these reasons:
//!
//! * `"unexpected NULL"`: [`Value::Null`] into anything but an [`Option`] or [`Value`];
//! * `"type mismatch"`: a value of an unrelated type (a date into an integer, ...);
//! * `"out of range"`: a number that does not fit the target (300 into `u8`, `-1` into `u64`);
//! * `"not an integer"`, `"not a number"`, `"invalid decimal"`, `"invalid date"`,
//!   `"invalid time"`: a DECIMAL with a fraction into an integer, or text (in [`Value::Bytes`])
//!   that does not hold a value of the target;
//! * `"not valid UTF-8"`: bytes into a [`String`];
//! * `"negative time"`: a negative TIME into an unsigned duration or a time of day;
//! * `"zero date"`: a zero date into a `chrono` or `time` date;
//! * `"invalid JSON"`: text into a `serde_json::Value`.
//!
//! MySQL expressions and MariaDB sometimes send numbers, dates and times as strings: numeric,
//! date and time targets also accept [`Value::Bytes`] holding their text form.
//!
//! `From<T> for Value` exists for the usual Rust types, to build values (e.g. parameters);
//! `None` becomes [`Value::Null`].
use std::fmt;
use std::str::FromStr;

use bytes::Bytes;

use super::constants::ColumnType;
use super::ProtocolError;

pub mod binary;
#[cfg(feature = "chrono")]
mod chrono;
mod convert;
pub mod escape;
#[cfg(feature = "rust_decimal")]
mod rust_decimal;
#[cfg(feature = "serde_json")]
mod serde_json;
mod text;
#[cfg(feature = "time")]
mod time;

/// One column value of a row, decoded according to its column type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A signed integer of any width (TINYINT .. BIGINT).
    Int(i64),
    /// An UNSIGNED integer of any width.
    UInt(u64),
    /// FLOAT.
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL / NUMERIC, exact.
    Decimal(Decimal),
    /// Strings and blobs (CHAR, VARCHAR, TEXT, BLOB, ENUM, SET, GEOMETRY, ...): the raw bytes.
    Bytes(Bytes),
    /// BIT(n), n <= 64.
    Bit(u64),
    /// YEAR.
    Year(u16),
    /// DATE (possibly the zero date `0000-00-00`).
    Date(Date),
    /// TIME, which may be negative and longer than 24 hours.
    Time(Time),
    /// DATETIME or TIMESTAMP with microseconds (possibly the zero date).
    DateTime(DateTime),
    /// JSON (MySQL's JSON type; MariaDB sends JSON as text in [`Value::Bytes`]).
    Json(Bytes),
}

/// A calendar date as MySQL stores it; `0000-00-00` and partial zero dates are representable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Date {
    /// Year, 0..=9999.
    pub year: u16,
    /// Month, 0..=12 (0 only in zero dates).
    pub month: u8,
    /// Day, 0..=31 (0 only in zero dates).
    pub day: u8,
}

/// A TIME value: a signed duration of up to 838:59:59.999999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Time {
    /// True for a negative duration.
    pub negative: bool,
    /// Hours, 0..=838.
    pub hours: u32,
    /// Minutes, 0..=59.
    pub minutes: u8,
    /// Seconds, 0..=59.
    pub seconds: u8,
    /// Microseconds, 0..=999_999.
    pub micros: u32,
}

/// A DATETIME or TIMESTAMP value with microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DateTime {
    /// The date part (may be a zero date).
    pub date: Date,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=59.
    pub second: u8,
    /// Microseconds, 0..=999_999.
    pub micros: u32,
}

/// An exact DECIMAL value, kept as its validated decimal text (e.g. `-123.4500`).
///
/// The text is `[-]digits[.digits]` with at most 65 significant digits. Equality compares the
/// text: `1.0` and `1.00` differ, as their scales do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal(Bytes);

/// Decodes one text-protocol value (`raw` is the column's bytes, never NULL here).
///
/// `flags` are the column definition's flags (only
/// [`UNSIGNED`](super::constants::column_flags::UNSIGNED) matters) and `charset` its character
/// set. Strings, blobs and JSON keep `raw` without copying it, as does DECIMAL.
///
/// | column type | value |
/// |---|---|
/// | TINY, SHORT, INT24, LONG, LONGLONG | [`Value::Int`], or [`Value::UInt`] for UNSIGNED columns (and for values beyond `i64::MAX`) |
/// | YEAR | [`Value::Year`] |
/// | FLOAT / DOUBLE | [`Value::Float`] / [`Value::Double`] |
/// | DECIMAL, NEWDECIMAL | [`Value::Decimal`] |
/// | DATE, NEWDATE | [`Value::Date`] |
/// | DATETIME, TIMESTAMP (and their `2` forms) | [`Value::DateTime`] |
/// | TIME, TIME2 | [`Value::Time`] |
/// | BIT | [`Value::Bit`], from the raw big-endian bytes |
/// | JSON | [`Value::Json`] |
/// | NULL | [`Value::Null`] |
/// | anything else | [`Value::Bytes`] |
///
/// # Errors
///
/// [`ProtocolError::InvalidValue`] if `raw` is not a well-formed value of a typed column (a
/// malformed number, a field out of range such as month 13, more than six fractional digits, a
/// TIME beyond 838 hours, a BIT value of more than 8 bytes, ...).
pub fn decode_text(
    raw: Bytes,
    column_type: ColumnType,
    flags: u16,
    charset: u16,
) -> Result<Value, ProtocolError> {
    text::decode(raw, column_type, flags, charset)
}

/// Why a [`Value`] could not be converted to the requested type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot convert {value:?} to {target}: {reason}")]
pub struct FromValueError {
    /// The value, handed back.
    pub value: Value,
    /// The Rust type asked for.
    pub target: &'static str,
    /// What went wrong (e.g. "out of range", "not valid UTF-8", "unexpected NULL").
    pub reason: &'static str,
}

/// Conversion from a [`Value`] to a Rust type.
pub trait FromValue: Sized {
    /// Converts, handing the value back in the error on failure.
    fn from_value(value: Value) -> Result<Self, FromValueError>;
}

impl Value {
    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Converts to `T` (shorthand for [`FromValue::from_value`]).
    ///
    /// # Errors
    ///
    /// As [`FromValue::from_value`]: the value does not fit `T`; the value is handed back.
    pub fn into_typed<T: FromValue>(self) -> Result<T, FromValueError> {
        T::from_value(self)
    }
}

/// Number of days of `month` (1..=12) in `year`.
fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

impl Date {
    /// The zero date `0000-00-00`.
    pub const ZERO: Date = Date {
        year: 0,
        month: 0,
        day: 0,
    };

    /// A calendar date; `None` unless `year <= 9999`, `1 <= month <= 12` and `day` exists in
    /// that month (leap years included).
    ///
    /// Zero dates and dates with zero parts, which MySQL can store, are built with the public
    /// fields or [`Date::ZERO`].
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let valid = year <= 9999
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// True for the zero date `0000-00-00`.
    pub fn is_zero(&self) -> bool {
        *self == Self::ZERO
    }

    /// True if this is a date of the calendar: no zero parts, and the day exists in its month.
    pub fn is_valid(&self) -> bool {
        Self::new(self.year, self.month, self.day).is_some()
    }
}

/// `YYYY-MM-DD`.
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Number of microseconds in a second, minute and hour.
const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;

impl Time {
    /// The largest TIME, `838:59:59.999999` (MySQL's own limit is `838:59:59`; MariaDB allows the
    /// fraction).
    pub const MAX: Time = Time {
        negative: false,
        hours: 838,
        minutes: 59,
        seconds: 59,
        micros: 999_999,
    };
    /// The smallest TIME, `-838:59:59.999999`.
    pub const MIN: Time = Time {
        negative: true,
        ..Time::MAX
    };

    /// A TIME value; `None` unless `hours <= 838`, `minutes <= 59`, `seconds <= 59` and
    /// `micros <= 999_999`. A negative zero is made positive.
    pub fn new(negative: bool, hours: u32, minutes: u8, seconds: u8, micros: u32) -> Option<Self> {
        let valid =
            hours <= text::MAX_TIME_HOURS && minutes <= 59 && seconds <= 59 && micros <= 999_999;
        let zero = hours == 0 && minutes == 0 && seconds == 0 && micros == 0;
        valid.then_some(Time {
            negative: negative && !zero,
            hours,
            minutes,
            seconds,
            micros,
        })
    }

    /// The TIME lasting `micros` microseconds (negative for a negative TIME); `None` beyond
    /// ±838:59:59.999999.
    pub fn from_micros(micros: i64) -> Option<Self> {
        let abs = micros.unsigned_abs();
        let micros_per_hour = MICROS_PER_HOUR.unsigned_abs();
        let hours = u32::try_from(abs / micros_per_hour).ok()?;
        let rest = abs % micros_per_hour;
        let minutes = u8::try_from(rest / MICROS_PER_MINUTE.unsigned_abs()).ok()?;
        let rest = rest % MICROS_PER_MINUTE.unsigned_abs();
        let seconds = u8::try_from(rest / MICROS_PER_SECOND.unsigned_abs()).ok()?;
        let sub = u32::try_from(rest % MICROS_PER_SECOND.unsigned_abs()).ok()?;
        Self::new(micros < 0, hours, minutes, seconds, sub)
    }

    /// The signed length of this TIME in microseconds.
    ///
    /// Exact for every valid TIME; saturates at `i64::MIN` / `i64::MAX` for field values far
    /// beyond the TIME range (the fields are public).
    pub fn to_micros(&self) -> i64 {
        let abs = i128::from(self.hours) * i128::from(MICROS_PER_HOUR)
            + i128::from(self.minutes) * i128::from(MICROS_PER_MINUTE)
            + i128::from(self.seconds) * i128::from(MICROS_PER_SECOND)
            + i128::from(self.micros);
        let signed = if self.negative { -abs } else { abs };
        i64::try_from(signed).unwrap_or(if self.negative { i64::MIN } else { i64::MAX })
    }

    /// True for a zero length (`00:00:00`, whatever the sign).
    pub fn is_zero(&self) -> bool {
        self.hours == 0 && self.minutes == 0 && self.seconds == 0 && self.micros == 0
    }
}

/// `[-]hh:mm:ss[.ffffff]`: at least two hour digits; the fraction (six digits) only when
/// non-zero.
impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.negative { "-" } else { "" };
        write!(
            f,
            "{sign}{:02}:{:02}:{:02}",
            self.hours, self.minutes, self.seconds
        )?;
        if self.micros != 0 {
            write!(f, ".{:06}", self.micros)?;
        }
        Ok(())
    }
}

/// An error for a TIME that cannot hold a [`std::time::Duration`] (more than 838:59:59.999999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("duration out of the TIME range")]
pub struct TimeRangeError;

/// Truncates to microseconds; fails beyond 838:59:59.999999.
impl TryFrom<std::time::Duration> for Time {
    type Error = TimeRangeError;

    fn try_from(d: std::time::Duration) -> Result<Self, Self::Error> {
        let micros = i64::try_from(d.as_micros()).map_err(|_| TimeRangeError)?;
        Time::from_micros(micros).ok_or(TimeRangeError)
    }
}

impl DateTime {
    /// The zero datetime `0000-00-00 00:00:00`.
    pub const ZERO: DateTime = DateTime {
        date: Date::ZERO,
        hour: 0,
        minute: 0,
        second: 0,
        micros: 0,
    };

    /// A datetime; `None` unless `hour <= 23`, `minute <= 59`, `second <= 59` and
    /// `micros <= 999_999`. The date is taken as is (it may be a zero date).
    pub fn new(date: Date, hour: u8, minute: u8, second: u8, micros: u32) -> Option<Self> {
        let valid = hour <= 23 && minute <= 59 && second <= 59 && micros <= 999_999;
        valid.then_some(DateTime {
            date,
            hour,
            minute,
            second,
            micros,
        })
    }

    /// Midnight of `date`.
    pub fn from_date(date: Date) -> Self {
        DateTime {
            date,
            ..DateTime::ZERO
        }
    }

    /// True for the zero datetime `0000-00-00 00:00:00`.
    pub fn is_zero(&self) -> bool {
        *self == Self::ZERO
    }
}

/// `YYYY-MM-DD hh:mm:ss[.ffffff]`: the fraction (six digits) only when non-zero.
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:02}:{:02}:{:02}",
            self.date, self.hour, self.minute, self.second
        )?;
        if self.micros != 0 {
            write!(f, ".{:06}", self.micros)?;
        }
        Ok(())
    }
}

impl From<Date> for DateTime {
    fn from(date: Date) -> Self {
        DateTime::from_date(date)
    }
}

/// The error of parsing a [`Decimal`] from text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid DECIMAL: expected [-]digits[.digits] with at most 65 significant digits")]
pub struct ParseDecimalError;

impl Decimal {
    /// The decimal text, e.g. `-123.4500`.
    pub fn as_str(&self) -> &str {
        // The bytes were checked to be ASCII digits, '-' and '.' on construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The decimal text as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The decimal text as [`Bytes`], without copying.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Checks `text` and wraps it without copying.
    ///
    /// # Errors
    ///
    /// [`ParseDecimalError`] unless `text` is `[-]digits[.digits]` (the integer part may be empty,
    /// a `.` needs at least one digit after it) with at most 65 significant digits.
    pub fn from_bytes(text: Bytes) -> Result<Self, ParseDecimalError> {
        if text::is_valid_decimal(&text) {
            Ok(Decimal(text))
        } else {
            Err(ParseDecimalError)
        }
    }

    /// True if the value is below zero (`-0.00` is not).
    pub fn is_negative(&self) -> bool {
        self.0.first() == Some(&b'-') && self.0.iter().any(|&b| matches!(b, b'1'..=b'9'))
    }

    /// Number of digits after the decimal point (the scale of the text, trailing zeros included).
    pub fn scale(&self) -> usize {
        self.fraction_digits().len()
    }

    /// True if every digit after the decimal point is zero (`12`, `12.000`).
    pub fn is_integer(&self) -> bool {
        self.fraction_digits().iter().all(|&b| b == b'0')
    }

    /// The digits before the decimal point, without sign (may be empty for `.5`).
    fn integer_digits(&self) -> &[u8] {
        let s = self.0.strip_prefix(b"-").unwrap_or(&self.0);
        match s.iter().position(|&b| b == b'.') {
            Some(dot) => s.get(..dot).unwrap_or_default(),
            None => s,
        }
    }

    /// The digits after the decimal point.
    fn fraction_digits(&self) -> &[u8] {
        match self.0.iter().position(|&b| b == b'.') {
            Some(dot) => self.0.get(dot + 1..).unwrap_or_default(),
            None => &[],
        }
    }

    /// The nearest `f64` (lossy: an `f64` holds about 15 to 17 significant decimal digits, a
    /// DECIMAL up to 65).
    pub fn to_f64(&self) -> f64 {
        // Valid decimal text always parses; NaN cannot come out of a valid value.
        self.as_str().parse().unwrap_or(f64::NAN)
    }
}

/// Parses and validates decimal text, as [`Decimal::from_bytes`].
impl FromStr for Decimal {
    type Err = ParseDecimalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl TryFrom<Bytes> for Decimal {
    type Error = ParseDecimalError;

    fn try_from(text: Bytes) -> Result<Self, Self::Error> {
        Decimal::from_bytes(text)
    }
}

impl TryFrom<&str> for Decimal {
    type Error = ParseDecimalError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl TryFrom<String> for Decimal {
    type Error = ParseDecimalError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Decimal::from_bytes(Bytes::from(text))
    }
}

impl From<i64> for Decimal {
    fn from(n: i64) -> Self {
        Decimal(Bytes::from(n.to_string()))
    }
}

impl From<u64> for Decimal {
    fn from(n: u64) -> Self {
        Decimal(Bytes::from(n.to_string()))
    }
}

impl From<Decimal> for String {
    fn from(d: Decimal) -> Self {
        d.as_str().to_owned()
    }
}

/// The decimal text, unchanged.
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::column_flags::UNSIGNED;
    use proptest::prelude::*;

    #[test]
    fn date_constructor_and_display() {
        assert_eq!(
            Date::new(2024, 2, 29).map(|d| d.to_string()),
            Some("2024-02-29".into())
        );
        assert_eq!(Date::new(2023, 2, 29), None);
        assert_eq!(Date::new(1900, 2, 29), None);
        assert!(Date::new(2000, 2, 29).is_some());
        assert_eq!(Date::new(2024, 4, 31), None);
        assert_eq!(Date::new(2024, 13, 1), None);
        assert_eq!(Date::new(2024, 0, 1), None);
        assert_eq!(Date::new(2024, 1, 0), None);
        assert_eq!(Date::new(10000, 1, 1), None);
        assert_eq!(
            Date::new(0, 1, 1).map(|d| d.to_string()),
            Some("0000-01-01".into())
        );
        assert_eq!(Date::ZERO.to_string(), "0000-00-00");
        assert!(Date::ZERO.is_zero());
        assert!(!Date::ZERO.is_valid());
        let partial = Date {
            year: 2024,
            month: 0,
            day: 0,
        };
        assert!(!partial.is_zero());
        assert!(!partial.is_valid());
        assert_eq!(partial.to_string(), "2024-00-00");
    }

    #[test]
    fn time_constructors_and_display() {
        assert_eq!(Time::MAX.to_string(), "838:59:59.999999");
        assert_eq!(Time::MIN.to_string(), "-838:59:59.999999");
        assert_eq!(Time::default().to_string(), "00:00:00");
        let t = Time::new(true, 1, 2, 3, 40).unwrap();
        assert_eq!(t.to_string(), "-01:02:03.000040");
        assert_eq!(t.to_micros(), -3_723_000_040);
        assert_eq!(Time::from_micros(-3_723_000_040), Some(t));
        assert_eq!(Time::new(true, 0, 0, 0, 0), Some(Time::default()));
        assert_eq!(Time::new(false, 839, 0, 0, 0), None);
        assert_eq!(Time::new(false, 0, 60, 0, 0), None);
        assert_eq!(Time::new(false, 0, 0, 60, 0), None);
        assert_eq!(Time::new(false, 0, 0, 0, 1_000_000), None);
        assert_eq!(Time::from_micros(Time::MAX.to_micros()), Some(Time::MAX));
        assert_eq!(Time::from_micros(Time::MIN.to_micros()), Some(Time::MIN));
        assert_eq!(Time::from_micros(Time::MAX.to_micros() + 1), None);
        assert_eq!(Time::from_micros(i64::MIN), None);
        let huge = Time {
            hours: u32::MAX,
            micros: u32::MAX,
            ..Time::MIN
        };
        assert_eq!(huge.to_micros(), i64::MIN);
        assert_eq!(
            Time {
                negative: false,
                ..huge
            }
            .to_micros(),
            i64::MAX
        );
        assert_eq!(
            Time::try_from(std::time::Duration::from_nanos(1_500_999)),
            Ok(Time::new(false, 0, 0, 0, 1500).unwrap())
        );
        assert_eq!(
            Time::try_from(std::time::Duration::from_secs(839 * 3600)),
            Err(TimeRangeError)
        );
        assert_eq!(
            Time::try_from(std::time::Duration::MAX),
            Err(TimeRangeError)
        );
    }

    #[test]
    fn datetime_constructors_and_display() {
        let d = Date::new(2024, 5, 17).unwrap();
        let dt = DateTime::new(d, 13, 45, 9, 0).unwrap();
        assert_eq!(dt.to_string(), "2024-05-17 13:45:09");
        let dt = DateTime::new(d, 13, 45, 9, 120_000).unwrap();
        assert_eq!(dt.to_string(), "2024-05-17 13:45:09.120000");
        assert_eq!(DateTime::ZERO.to_string(), "0000-00-00 00:00:00");
        assert!(DateTime::ZERO.is_zero());
        assert!(!DateTime::new(Date::ZERO, 0, 0, 1, 0).unwrap().is_zero());
        assert_eq!(DateTime::new(d, 24, 0, 0, 0), None);
        assert_eq!(DateTime::new(d, 0, 60, 0, 0), None);
        assert_eq!(DateTime::new(d, 0, 0, 60, 0), None);
        assert_eq!(DateTime::new(d, 0, 0, 0, 1_000_000), None);
        assert_eq!(DateTime::from(d).to_string(), "2024-05-17 00:00:00");
    }

    #[test]
    fn decimal_api() {
        let d: Decimal = "-123.4500".parse().unwrap();
        assert_eq!(d.as_str(), "-123.4500");
        assert_eq!(d.to_string(), "-123.4500");
        assert_eq!(String::from(d.clone()), "-123.4500");
        assert_eq!(d.as_bytes(), b"-123.4500");
        assert_eq!(d.scale(), 4);
        assert!(d.is_negative());
        assert!(!d.is_integer());
        assert_eq!(d.to_f64(), -123.45);
        assert_eq!(d.clone().into_bytes(), Bytes::from_static(b"-123.4500"));
        let z: Decimal = "-0.000".parse().unwrap();
        assert!(!z.is_negative());
        assert!(z.is_integer());
        assert_eq!(Decimal::from(-5i64).as_str(), "-5");
        assert_eq!(Decimal::from(u64::MAX).as_str(), "18446744073709551615");
        assert_eq!(Decimal::try_from("1.5"), Ok("1.5".parse().unwrap()));
        assert_eq!(
            Decimal::try_from(String::from("7")).map(|d| d.scale()),
            Ok(0)
        );
        assert_eq!(
            Decimal::try_from(Bytes::from_static(b"x")),
            Err(ParseDecimalError)
        );
        for bad in ["", "1e3", "1.", "abc", "+1", " 1", "1 "] {
            assert_eq!(bad.parse::<Decimal>(), Err(ParseDecimalError), "{bad:?}");
        }
        let long = format!("{}.{}", "1".repeat(35), "2".repeat(30));
        let d: Decimal = long.parse().unwrap();
        assert_eq!(d.as_str(), long);
        assert!((d.to_f64() - 1.111_111_111_111_111e34).abs() < 1e20);
    }

    #[test]
    fn value_helpers() {
        assert!(Value::Null.is_null());
        assert!(!Value::Int(0).is_null());
        assert_eq!(Value::Int(5).into_typed::<u8>(), Ok(5));
    }

    fn arb_date() -> impl Strategy<Value = Date> {
        (0u16..=9999, 0u8..=12, 0u8..=31).prop_map(|(year, month, day)| Date { year, month, day })
    }

    fn arb_time() -> impl Strategy<Value = Time> {
        (-Time::MAX.to_micros()..=Time::MAX.to_micros())
            .prop_map(|m| Time::from_micros(m).unwrap_or_default())
    }

    fn arb_datetime() -> impl Strategy<Value = DateTime> {
        (
            arb_date(),
            0u8..24,
            0u8..60,
            0u8..60,
            prop_oneof![Just(0u32), 0u32..1_000_000],
        )
            .prop_map(|(date, hour, minute, second, micros)| DateTime {
                date,
                hour,
                minute,
                second,
                micros,
            })
    }

    fn decode(text: String, ty: ColumnType, flags: u16) -> Result<Value, ProtocolError> {
        decode_text(Bytes::from(text), ty, flags, 63)
    }

    proptest! {
        #[test]
        fn date_round_trip(d in arb_date()) {
            prop_assert_eq!(decode(d.to_string(), ColumnType::Date, 0), Ok(Value::Date(d)));
        }

        #[test]
        fn time_round_trip(t in arb_time()) {
            prop_assert_eq!(decode(t.to_string(), ColumnType::Time, 0), Ok(Value::Time(t)));
            prop_assert_eq!(Time::from_micros(t.to_micros()), Some(t));
        }

        #[test]
        fn datetime_round_trip(d in arb_datetime()) {
            prop_assert_eq!(
                decode(d.to_string(), ColumnType::DateTime2, 0),
                Ok(Value::DateTime(d))
            );
        }

        #[test]
        fn decimal_round_trip(
            negative in any::<bool>(),
            int in "[0-9]{1,35}",
            frac in proptest::option::of("[0-9]{1,30}"),
        ) {
            let sign = if negative { "-" } else { "" };
            let text = match frac {
                Some(frac) => format!("{sign}{int}.{frac}"),
                None => format!("{sign}{int}"),
            };
            let d: Decimal = text.parse().unwrap();
            prop_assert_eq!(d.to_string(), text.clone());
            prop_assert_eq!(decode(d.to_string(), ColumnType::NewDecimal, 0), Ok(Value::Decimal(d)));
            let f = text.parse::<f64>().unwrap();
            prop_assert_eq!(Decimal::from_str(&text).unwrap().to_f64(), f);
        }

        #[test]
        fn int_round_trip(n in any::<i64>(), u in any::<u64>()) {
            prop_assert_eq!(decode(n.to_string(), ColumnType::LongLong, 0), Ok(Value::Int(n)));
            prop_assert_eq!(decode(u.to_string(), ColumnType::LongLong, UNSIGNED), Ok(Value::UInt(u)));
            prop_assert_eq!(i64::from_value(Value::Int(n)), Ok(n));
            prop_assert_eq!(u64::from_value(Value::UInt(u)), Ok(u));
            prop_assert_eq!(i64::from_value(Value::from(n.to_string())), Ok(n));
            prop_assert_eq!(u64::from_value(Value::Decimal(Decimal::from(u))), Ok(u));
        }

        #[test]
        fn float_round_trip(f in any::<f32>(), d in any::<f64>()) {
            // MySQL prints the shortest text that reads back as the same number, as Rust does.
            let got = decode(f.to_string(), ColumnType::Float, 0);
            prop_assert!(matches!(got, Ok(Value::Float(g)) if g.to_bits() == f.to_bits() || (f.is_nan() && g.is_nan())));
            let got = decode(d.to_string(), ColumnType::Double, 0);
            prop_assert!(matches!(got, Ok(Value::Double(g)) if g.to_bits() == d.to_bits() || (d.is_nan() && g.is_nan())));
        }

        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..80), ty in 0u8..=255, flags in any::<u16>()) {
            if let Some(ty) = ColumnType::from_u8(ty) {
                let _ = decode_text(Bytes::from(raw), ty, flags, 63);
            }
        }

        #[test]
        fn near_valid_text_never_panics(raw in "[-0-9:. ]{0,40}", flags in any::<u16>()) {
            for ty in [
                ColumnType::LongLong, ColumnType::Year, ColumnType::Float, ColumnType::Double,
                ColumnType::NewDecimal, ColumnType::Date, ColumnType::DateTime, ColumnType::Time,
                ColumnType::Bit,
            ] {
                match decode(raw.clone(), ty, flags) {
                    Ok(_) => {}
                    Err(e) => prop_assert_eq!(e, ProtocolError::InvalidValue { column_type: ty }),
                }
            }
        }
    }
}
