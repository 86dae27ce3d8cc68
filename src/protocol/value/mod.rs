//! Column values: the [`Value`] type, its decoding from the text protocol, and conversions to Rust
//! types ([`FromValue`]).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_row.html>
// CONTRACT STUB: implemented by the values work.
use bytes::Bytes;

use super::constants::ColumnType;
use super::ProtocolError;

mod text;

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
