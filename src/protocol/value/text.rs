//! Decoding of text-protocol column values.
//!
//! In a text-protocol row every non-NULL value is a length-encoded string holding the value's
//! textual form, whatever its column type: integers in decimal, dates as `YYYY-MM-DD`, and so on.
//! The only exception is BIT, which is sent as its raw big-endian bytes.
//!
//! Every parser here works on byte slices without allocating and never panics on malformed input.

use bytes::Bytes;

use super::{Date, DateTime, Decimal, Time, Value};
use crate::protocol::constants::{column_flags, ColumnType};
use crate::protocol::ProtocolError;

/// Largest number of hours a TIME value may have.
pub(super) const MAX_TIME_HOURS: u32 = 838;
/// Largest number of significant digits of a DECIMAL value (MySQL's and MariaDB's maximum
/// precision).
pub(super) const MAX_DECIMAL_DIGITS: usize = 65;

pub(super) fn decode(
    raw: Bytes,
    column_type: ColumnType,
    flags: u16,
    _charset: u16,
) -> Result<Value, ProtocolError> {
    use ColumnType as T;
    let invalid = || ProtocolError::InvalidValue { column_type };
    let value = match column_type {
        T::Null => Value::Null,
        T::Tiny | T::Short | T::Int24 | T::Long | T::LongLong => {
            if flags & column_flags::UNSIGNED != 0 {
                Value::UInt(parse_u64(&raw).ok_or_else(invalid)?)
            } else {
                parse_int(&raw).ok_or_else(invalid)?
            }
        }
        T::Year => Value::Year(parse_year(&raw).ok_or_else(invalid)?),
        T::Float => Value::Float(parse_float::<f32>(&raw).ok_or_else(invalid)?),
        T::Double => Value::Double(parse_float::<f64>(&raw).ok_or_else(invalid)?),
        T::Decimal | T::NewDecimal => {
            if !is_valid_decimal(&raw) {
                return Err(invalid());
            }
            Value::Decimal(Decimal(raw))
        }
        T::Date | T::NewDate => Value::Date(parse_date(&raw).ok_or_else(invalid)?),
        T::DateTime | T::DateTime2 | T::Timestamp | T::Timestamp2 => {
            Value::DateTime(parse_datetime(&raw).ok_or_else(invalid)?)
        }
        T::Time | T::Time2 => Value::Time(parse_time(&raw).ok_or_else(invalid)?),
        T::Bit => Value::Bit(parse_bit(&raw).ok_or_else(invalid)?),
        T::Json => Value::Json(raw),
        _ => Value::Bytes(raw),
    };
    Ok(value)
}

/// Parses a non-empty run of ASCII digits as a `u64`, rejecting overflow.
pub(super) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// Parses an optionally negative decimal integer as an `i64`.
pub(super) fn parse_i64(s: &[u8]) -> Option<i64> {
    match s.split_first() {
        Some((b'-', digits)) => {
            let n = parse_u64(digits)?;
            if n <= i64::MAX as u64 {
                Some(-(n as i64))
            } else if n == i64::MIN.unsigned_abs() {
                Some(i64::MIN)
            } else {
                None
            }
        }
        _ => i64::try_from(parse_u64(s)?).ok(),
    }
}

/// Parses an integer of a column without the UNSIGNED flag.
///
/// A non-negative value beyond `i64::MAX` (which some expressions produce without flagging the
/// column as unsigned) becomes [`Value::UInt`] instead of failing.
fn parse_int(s: &[u8]) -> Option<Value> {
    match s.first() {
        Some(b'-') => parse_i64(s).map(Value::Int),
        _ => {
            let n = parse_u64(s)?;
            Some(match i64::try_from(n) {
                Ok(i) => Value::Int(i),
                Err(_) => Value::UInt(n),
            })
        }
    }
}

fn parse_year(s: &[u8]) -> Option<u16> {
    if s.len() > 4 {
        return None;
    }
    u16::try_from(parse_u64(s)?).ok()
}

fn parse_float<F: std::str::FromStr>(s: &[u8]) -> Option<F> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Checks the DECIMAL text form: `[-]digits[.digits]`, at most [`MAX_DECIMAL_DIGITS`]
/// significant digits.
///
/// At least one digit is required; the integer part may be empty (`.5`) but a `.` must be
/// followed by at least one digit.
pub(super) fn is_valid_decimal(s: &[u8]) -> bool {
    let s = match s.split_first() {
        Some((b'-', rest)) => rest,
        _ => s,
    };
    let (int, frac) = match s.iter().position(|&b| b == b'.') {
        Some(dot) => match (s.get(..dot), s.get(dot + 1..)) {
            (Some(int), Some(frac)) if !frac.is_empty() => (int, frac),
            _ => return false,
        },
        None => (s, &[][..]),
    };
    if int.is_empty() && frac.is_empty() {
        return false;
    }
    if !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return false;
    }
    let significant_int = int.iter().skip_while(|&&b| b == b'0').count();
    int.len() <= MAX_DECIMAL_DIGITS && significant_int + frac.len() <= MAX_DECIMAL_DIGITS
}

/// Parses exactly `N` ASCII digits.
fn fixed_digits<const N: usize>(s: &[u8]) -> Option<u32> {
    if s.len() != N {
        return None;
    }
    let mut n = 0u32;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u32::from(d);
    }
    Some(n)
}

/// Parses `[.ffffff]` (nothing, or a dot and 1 to 6 digits) into microseconds.
fn parse_micros(s: &[u8]) -> Option<u32> {
    let digits = match s.split_first() {
        None => return Some(0),
        Some((b'.', digits)) => digits,
        Some(_) => return None,
    };
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    let mut n = 0u32;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u32::from(d);
    }
    // Scale a short fraction (`.5` of DATETIME(1)) to microseconds.
    for _ in digits.len()..6 {
        n *= 10;
    }
    Some(n)
}

/// Parses `YYYY-MM-DD`; zero dates and zero parts are accepted.
pub(super) fn parse_date(s: &[u8]) -> Option<Date> {
    let (year, rest) = (s.get(..4)?, s.get(4..)?);
    let (b'-', rest) = rest.split_first()? else {
        return None;
    };
    let (month, rest) = (rest.get(..2)?, rest.get(2..)?);
    let (b'-', day) = rest.split_first()? else {
        return None;
    };
    let year = fixed_digits::<4>(year)?;
    let month = fixed_digits::<2>(month)?;
    let day = fixed_digits::<2>(day)?;
    if month > 12 || day > 31 {
        return None;
    }
    Some(Date {
        year: u16::try_from(year).ok()?,
        month: u8::try_from(month).ok()?,
        day: u8::try_from(day).ok()?,
    })
}

/// Parses `hh:mm:ss[.ffffff]` with exactly two hour digits, as in DATETIME.
fn parse_clock(s: &[u8]) -> Option<(u8, u8, u8, u32)> {
    let (hms, frac) = (s.get(..8)?, s.get(8..)?);
    let (hour, minute, second) = parse_hms::<2>(hms)?;
    if hour > 23 {
        return None;
    }
    Some((
        u8::try_from(hour).ok()?,
        minute,
        second,
        parse_micros(frac)?,
    ))
}

/// Parses `h{N}:mm:ss` (exactly `N` hour digits), checking minutes and seconds.
fn parse_hms<const N: usize>(s: &[u8]) -> Option<(u32, u8, u8)> {
    let hours = fixed_digits::<N>(s.get(..N)?)?;
    let rest = s.get(N..)?;
    let (b':', rest) = rest.split_first()? else {
        return None;
    };
    let minutes = fixed_digits::<2>(rest.get(..2)?)?;
    let (b':', rest) = rest.get(2..)?.split_first()? else {
        return None;
    };
    let seconds = fixed_digits::<2>(rest)?;
    if minutes > 59 || seconds > 59 {
        return None;
    }
    Some((
        hours,
        u8::try_from(minutes).ok()?,
        u8::try_from(seconds).ok()?,
    ))
}

/// Parses `YYYY-MM-DD hh:mm:ss[.ffffff]`, or a bare `YYYY-MM-DD` as midnight.
pub(super) fn parse_datetime(s: &[u8]) -> Option<DateTime> {
    let date = parse_date(s.get(..10)?)?;
    let rest = s.get(10..)?;
    let (hour, minute, second, micros) = match rest.split_first() {
        None => (0, 0, 0, 0),
        Some((b' ', clock)) => parse_clock(clock)?,
        Some(_) => return None,
    };
    Some(DateTime {
        date,
        hour,
        minute,
        second,
        micros,
    })
}

/// Parses `[-]h{1,3}:mm:ss[.ffffff]` with at most 838 hours.
///
/// A negative zero (`-00:00:00`) is normalised to zero.
pub(super) fn parse_time(s: &[u8]) -> Option<Time> {
    let (negative, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let hour_digits = s.iter().position(|&b| b == b':')?;
    let (hms, frac) = (s.get(..hour_digits + 6)?, s.get(hour_digits + 6..)?);
    let (hours, minutes, seconds) = match hour_digits {
        1 => parse_hms::<1>(hms)?,
        2 => parse_hms::<2>(hms)?,
        3 => parse_hms::<3>(hms)?,
        _ => return None,
    };
    if hours > MAX_TIME_HOURS {
        return None;
    }
    let micros = parse_micros(frac)?;
    let is_zero = hours == 0 && minutes == 0 && seconds == 0 && micros == 0;
    Some(Time {
        negative: negative && !is_zero,
        hours,
        minutes,
        seconds,
        micros,
    })
}

/// Reads 1 to 8 big-endian bytes as an unsigned integer.
fn parse_bit(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 8 {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::{column_flags::UNSIGNED, BINARY_COLLATION};

    fn dec(raw: &[u8], ty: ColumnType, flags: u16) -> Result<Value, ProtocolError> {
        decode(Bytes::copy_from_slice(raw), ty, flags, BINARY_COLLATION)
    }

    fn ok(raw: &str, ty: ColumnType, flags: u16) -> Value {
        match dec(raw.as_bytes(), ty, flags) {
            Ok(v) => v,
            Err(e) => panic!("{raw:?} as {ty:?}: {e}"),
        }
    }

    fn bad(raw: &[u8], ty: ColumnType, flags: u16) {
        assert_eq!(
            dec(raw, ty, flags),
            Err(ProtocolError::InvalidValue { column_type: ty }),
            "{:?} as {ty:?} should be rejected",
            String::from_utf8_lossy(raw)
        );
    }

    fn decimal(s: &str) -> Value {
        Value::Decimal(Decimal(Bytes::copy_from_slice(s.as_bytes())))
    }

    fn date(year: u16, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    fn datetime(d: Date, hour: u8, minute: u8, second: u8, micros: u32) -> DateTime {
        DateTime {
            date: d,
            hour,
            minute,
            second,
            micros,
        }
    }

    fn time(negative: bool, hours: u32, minutes: u8, seconds: u8, micros: u32) -> Time {
        Time {
            negative,
            hours,
            minutes,
            seconds,
            micros,
        }
    }

    const INT_TYPES: [ColumnType; 5] = [
        ColumnType::Tiny,
        ColumnType::Short,
        ColumnType::Int24,
        ColumnType::Long,
        ColumnType::LongLong,
    ];

    #[test]
    fn signed_integers() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("1", 1),
            ("-1", -1),
            ("127", 127),
            ("-128", -128),
            ("00042", 42),
            ("-00042", -42),
            ("2147483647", 2_147_483_647),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ];
        for ty in INT_TYPES {
            for &(raw, want) in cases {
                assert_eq!(ok(raw, ty, 0), Value::Int(want), "{raw} as {ty:?}");
            }
        }
    }

    #[test]
    fn unsigned_integers() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("255", 255),
            ("0000000255", 255),
            ("9223372036854775808", 1 << 63),
            ("18446744073709551615", u64::MAX),
        ];
        for ty in INT_TYPES {
            for &(raw, want) in cases {
                assert_eq!(ok(raw, ty, UNSIGNED), Value::UInt(want), "{raw} as {ty:?}");
            }
        }
    }

    #[test]
    fn signed_column_with_value_beyond_i64_becomes_uint() {
        assert_eq!(
            ok("18446744073709551615", ColumnType::LongLong, 0),
            Value::UInt(u64::MAX)
        );
    }

    #[test]
    fn malformed_integers() {
        let bad_signed: &[&[u8]] = &[
            b"",
            b"-",
            b"+1",
            b" 1",
            b"1 ",
            b"1.0",
            b"1e3",
            b"abc",
            b"--1",
            b"0x10",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"99999999999999999999999999",
            b"\xff",
        ];
        for ty in INT_TYPES {
            for raw in bad_signed {
                bad(raw, ty, 0);
                bad(raw, ty, UNSIGNED);
            }
            bad(b"-1", ty, UNSIGNED);
            bad(b"-0", ty, UNSIGNED);
        }
    }

    #[test]
    fn years() {
        use column_flags::ZEROFILL;
        assert_eq!(
            ok("2024", ColumnType::Year, UNSIGNED | ZEROFILL),
            Value::Year(2024)
        );
        assert_eq!(
            ok("0000", ColumnType::Year, UNSIGNED | ZEROFILL),
            Value::Year(0)
        );
        assert_eq!(ok("1901", ColumnType::Year, 0), Value::Year(1901));
        assert_eq!(ok("2155", ColumnType::Year, 0), Value::Year(2155));
        for raw in [&b""[..], b"-1", b"20245", b"20a4", b"year"] {
            bad(raw, ColumnType::Year, UNSIGNED);
        }
    }

    #[test]
    fn floats_and_doubles() {
        assert_eq!(ok("1.5", ColumnType::Float, 0), Value::Float(1.5));
        assert_eq!(
            ok("-3.4028235e38", ColumnType::Float, 0),
            Value::Float(f32::MIN)
        );
        assert_eq!(ok("1e-45", ColumnType::Float, 0), Value::Float(1e-45));
        assert_eq!(ok("0", ColumnType::Double, 0), Value::Double(0.0));
        assert_eq!(ok("-2.5e-7", ColumnType::Double, 0), Value::Double(-2.5e-7));
        assert_eq!(
            ok("1.7976931348623157e308", ColumnType::Double, 0),
            Value::Double(f64::MAX)
        );
        assert_eq!(
            ok("inf", ColumnType::Double, 0),
            Value::Double(f64::INFINITY)
        );
        assert!(matches!(ok("NaN", ColumnType::Double, 0), Value::Double(d) if d.is_nan()));
        for ty in [ColumnType::Float, ColumnType::Double] {
            for raw in [
                &b""[..],
                b"abc",
                b"1.5x",
                b"1,5",
                b" 1",
                b"\xff\xfe",
                b"--1",
            ] {
                bad(raw, ty, 0);
            }
        }
    }

    #[test]
    fn decimals() {
        let max_precision = format!("{}.{}", "9".repeat(35), "9".repeat(30));
        let negative_max = format!("-{max_precision}");
        let small = format!("0.{}1", "0".repeat(29));
        let all_integer = "1".repeat(65);
        for ty in [ColumnType::NewDecimal, ColumnType::Decimal] {
            for raw in [
                "0",
                "-0",
                "0.00",
                "123.4500",
                "-123.4500",
                "00012.50",
                ".5",
                max_precision.as_str(),
                negative_max.as_str(),
                small.as_str(),
                all_integer.as_str(),
            ] {
                assert_eq!(ok(raw, ty, 0), decimal(raw), "{raw} as {ty:?}");
            }
        }
    }

    #[test]
    fn decimal_keeps_the_row_bytes() {
        let row = Bytes::from_static(b"12.34");
        let Ok(Value::Decimal(d)) = decode(row.clone(), ColumnType::NewDecimal, 0, 63) else {
            panic!("not a decimal");
        };
        assert_eq!(d.0.as_ptr(), row.as_ptr());
    }

    #[test]
    fn malformed_decimals() {
        let too_many = "1".repeat(66);
        let too_many_frac = format!("0.{}", "1".repeat(66));
        let too_many_leading = format!("{}1", "0".repeat(65));
        for ty in [ColumnType::NewDecimal, ColumnType::Decimal] {
            for raw in [
                "",
                "-",
                ".",
                "-.",
                "1.",
                "1..2",
                "1.2.3",
                "+1",
                "1e5",
                "abc",
                "12a",
                " 1",
                "--1",
                "1-",
                "NaN",
                too_many.as_str(),
                too_many_frac.as_str(),
                too_many_leading.as_str(),
            ] {
                bad(raw.as_bytes(), ty, 0);
            }
        }
    }

    #[test]
    fn dates() {
        for ty in [ColumnType::Date, ColumnType::NewDate] {
            assert_eq!(ok("2024-02-29", ty, 0), Value::Date(date(2024, 2, 29)));
            assert_eq!(ok("0000-00-00", ty, 0), Value::Date(date(0, 0, 0)));
            assert_eq!(ok("1000-01-01", ty, 0), Value::Date(date(1000, 1, 1)));
            assert_eq!(ok("9999-12-31", ty, 0), Value::Date(date(9999, 12, 31)));
            assert_eq!(ok("2024-00-15", ty, 0), Value::Date(date(2024, 0, 15)));
            // ALLOW_INVALID_DATES lets the server store this.
            assert_eq!(ok("2004-02-31", ty, 0), Value::Date(date(2004, 2, 31)));
        }
    }

    #[test]
    fn malformed_dates() {
        for ty in [ColumnType::Date, ColumnType::NewDate] {
            for raw in [
                "",
                "2024",
                "2024-01",
                "2024-01-0",
                "2024-01-011",
                "2024-13-01",
                "2024-01-32",
                "2024/01/01",
                "24-01-01",
                "20240101",
                "2024-1-01",
                "abcd-ef-gh",
                "-024-01-01",
                "2024-01-01 00:00:00",
                "2024-0a-01",
                "2024-01-+1",
            ] {
                bad(raw.as_bytes(), ty, 0);
            }
            bad(b"2024-01-\xff1", ty, 0);
        }
    }

    const DATETIME_TYPES: [ColumnType; 4] = [
        ColumnType::DateTime,
        ColumnType::DateTime2,
        ColumnType::Timestamp,
        ColumnType::Timestamp2,
    ];

    #[test]
    fn datetimes() {
        let d = date(2024, 5, 17);
        let cases: &[(&str, DateTime)] = &[
            ("2024-05-17 13:45:09", datetime(d, 13, 45, 9, 0)),
            ("2024-05-17 13:45:09.5", datetime(d, 13, 45, 9, 500_000)),
            ("2024-05-17 13:45:09.12", datetime(d, 13, 45, 9, 120_000)),
            ("2024-05-17 13:45:09.123", datetime(d, 13, 45, 9, 123_000)),
            ("2024-05-17 13:45:09.000001", datetime(d, 13, 45, 9, 1)),
            (
                "2024-05-17 23:59:59.999999",
                datetime(d, 23, 59, 59, 999_999),
            ),
            ("2024-05-17 00:00:00.000000", datetime(d, 0, 0, 0, 0)),
            ("2024-05-17", datetime(d, 0, 0, 0, 0)),
            ("0000-00-00 00:00:00", DateTime::default()),
            ("0000-00-00 00:00:00.000000", DateTime::default()),
            (
                "9999-12-31 23:59:59.999999",
                datetime(date(9999, 12, 31), 23, 59, 59, 999_999),
            ),
        ];
        for ty in DATETIME_TYPES {
            for &(raw, want) in cases {
                assert_eq!(ok(raw, ty, 0), Value::DateTime(want), "{raw} as {ty:?}");
            }
        }
    }

    #[test]
    fn malformed_datetimes() {
        for ty in DATETIME_TYPES {
            for raw in [
                "",
                "2024-05-17 ",
                "2024-05-17T13:45:09",
                "2024-05-17 13:45",
                "2024-05-17 13:45:9",
                "2024-05-17 24:00:00",
                "2024-05-17 13:60:00",
                "2024-05-17 13:45:60",
                "2024-05-17 13:45:09.",
                "2024-05-17 13:45:09.1234567",
                "2024-05-17 13:45:09,5",
                "2024-05-17 13:45:09.5a",
                "2024-05-17 13:45:09 ",
                "2024-05-17 13-45-09",
                "2024-13-17 13:45:09",
                "2024-05-32 13:45:09",
                "2024-05-17  13:45:09",
                "garbage garbage garb",
            ] {
                bad(raw.as_bytes(), ty, 0);
            }
        }
    }

    #[test]
    fn times() {
        let cases: &[(&str, Time)] = &[
            ("00:00:00", Time::default()),
            ("-00:00:00", Time::default()),
            ("-00:00:00.000000", Time::default()),
            ("12:34:56", time(false, 12, 34, 56, 0)),
            ("1:02:03", time(false, 1, 2, 3, 0)),
            ("-00:00:01", time(true, 0, 0, 1, 0)),
            ("-00:00:00.5", time(true, 0, 0, 0, 500_000)),
            ("838:59:59", time(false, 838, 59, 59, 0)),
            ("-838:59:59", time(true, 838, 59, 59, 0)),
            ("838:59:59.000000", time(false, 838, 59, 59, 0)),
            ("838:59:59.999999", time(false, 838, 59, 59, 999_999)),
            ("-838:59:59.999999", time(true, 838, 59, 59, 999_999)),
            ("100:00:00.001", time(false, 100, 0, 0, 1000)),
        ];
        for ty in [ColumnType::Time, ColumnType::Time2] {
            for &(raw, want) in cases {
                assert_eq!(ok(raw, ty, 0), Value::Time(want), "{raw} as {ty:?}");
            }
        }
    }

    #[test]
    fn malformed_times() {
        for ty in [ColumnType::Time, ColumnType::Time2] {
            for raw in [
                "",
                "-",
                ":",
                "::",
                "839:00:00",
                "999:59:59",
                "-839:00:00",
                "1000:00:00",
                "0838:59:59",
                "12:60:00",
                "12:00:60",
                "12:00",
                "12:0:00",
                "12:00:0",
                "12:00:00.",
                "12:00:00.1234567",
                "12:00:00 ",
                "--12:00:00",
                "+12:00:00",
                "1 12:00:00",
                "ab:cd:ef",
                "12:00:00:00",
                "12-00-00",
            ] {
                bad(raw.as_bytes(), ty, 0);
            }
        }
    }

    #[test]
    fn bits() {
        assert_eq!(dec(b"\x00", ColumnType::Bit, UNSIGNED), Ok(Value::Bit(0)));
        assert_eq!(dec(b"\x01", ColumnType::Bit, UNSIGNED), Ok(Value::Bit(1)));
        assert_eq!(dec(b"\x01\x02", ColumnType::Bit, 0), Ok(Value::Bit(0x0102)));
        assert_eq!(
            dec(&[0xff; 8], ColumnType::Bit, 0),
            Ok(Value::Bit(u64::MAX))
        );
        assert_eq!(
            dec(b"\x80\x00\x00\x00\x00\x00\x00\x01", ColumnType::Bit, 0),
            Ok(Value::Bit((1 << 63) | 1))
        );
        bad(b"", ColumnType::Bit, 0);
        bad(&[0; 9], ColumnType::Bit, 0);
    }

    #[test]
    fn json_null_and_bytes() {
        assert_eq!(
            ok(r#"{"a": [1, 2]}"#, ColumnType::Json, 0),
            Value::Json(Bytes::from_static(br#"{"a": [1, 2]}"#))
        );
        assert_eq!(ok("", ColumnType::Null, 0), Value::Null);
        for ty in [
            ColumnType::VarChar,
            ColumnType::VarString,
            ColumnType::String,
            ColumnType::TinyBlob,
            ColumnType::MediumBlob,
            ColumnType::LongBlob,
            ColumnType::Blob,
            ColumnType::Enum,
            ColumnType::Set,
            ColumnType::Geometry,
            ColumnType::Vector,
            ColumnType::TypedArray,
        ] {
            for raw in [&b""[..], b"hello", b"\x00\xff\xfe", b"12"] {
                assert_eq!(
                    dec(raw, ty, 0),
                    Ok(Value::Bytes(Bytes::copy_from_slice(raw))),
                    "{ty:?}"
                );
            }
        }
    }

    #[test]
    fn bytes_are_not_copied() {
        let row = Bytes::from_static(b"some text");
        let Ok(Value::Bytes(b)) = decode(row.clone(), ColumnType::VarString, 0, 45) else {
            panic!("not bytes");
        };
        assert_eq!(b.as_ptr(), row.as_ptr());
    }
}
