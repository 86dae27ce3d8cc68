//! Conversions between values and `chrono` types (feature `chrono`).
//!
//! MySQL dates may be zero (`0000-00-00`) or have zero parts, which no `chrono` type represents:
//! converting one fails with the reason `"zero date"` (or `"invalid date"` for a partial zero or
//! impossible date such as `2024-02-31`), also into `Option<NaiveDate>` — only NULL becomes
//! `None`. Read such columns as [`Date`] / [`DateTime`] (or [`Value`]) to see them.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc};

use super::convert::{
    date_of, datetime_of, fail, time_of, INVALID_DATE, NEGATIVE_TIME, OUT_OF_RANGE,
};
use super::{Date, DateTime, FromValue, FromValueError, Time, Value};

const ZERO_DATE: &str = "zero date";

fn naive_date(d: Date) -> Result<NaiveDate, &'static str> {
    if d.is_zero() {
        return Err(ZERO_DATE);
    }
    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        .ok_or(INVALID_DATE)
}

fn naive_datetime(d: DateTime) -> Result<NaiveDateTime, &'static str> {
    let date = naive_date(d.date)?;
    let time = NaiveTime::from_hms_micro_opt(
        u32::from(d.hour),
        u32::from(d.minute),
        u32::from(d.second),
        d.micros,
    )
    .ok_or(INVALID_DATE)?;
    Ok(date.and_time(time))
}

/// From a `Date` (or date text); zero and impossible dates fail.
impl FromValue for NaiveDate {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        date_of(&value)
            .and_then(naive_date)
            .or_else(|reason| fail(value, "NaiveDate", reason))
    }
}

/// From a `DateTime` or `Date` (or their text); zero and impossible dates fail.
impl FromValue for NaiveDateTime {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        datetime_of(&value)
            .and_then(naive_datetime)
            .or_else(|reason| fail(value, "NaiveDateTime", reason))
    }
}

/// From a `DateTime` or `Date` taken to be in UTC (MySQL stores no time zone with DATETIME, and
/// sends TIMESTAMP in the session's `time_zone`: set it to `+00:00` for this to be right).
impl FromValue for chrono::DateTime<Utc> {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        datetime_of(&value)
            .and_then(naive_datetime)
            .map(|d| d.and_utc())
            .or_else(|reason| fail(value, "DateTime<Utc>", reason))
    }
}

/// From a `Time` between `00:00:00` and `23:59:59.999999` (a time of day); other TIME values are
/// durations and fail with `"out of range"` (or `"negative time"`).
impl FromValue for NaiveTime {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        let time = time_of(&value).and_then(|t| {
            if t.negative {
                return Err(NEGATIVE_TIME);
            }
            NaiveTime::from_hms_micro_opt(
                t.hours,
                u32::from(t.minutes),
                u32::from(t.seconds),
                t.micros,
            )
            .ok_or(OUT_OF_RANGE)
        });
        time.or_else(|reason| fail(value, "NaiveTime", reason))
    }
}

/// From a `Time`, signed (`chrono::Duration` is the same type).
impl FromValue for TimeDelta {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        time_of(&value)
            .map(|t| TimeDelta::microseconds(t.to_micros()))
            .or_else(|reason| fail(value, "TimeDelta", reason))
    }
}

/// The MySQL date of a `chrono` date, if its year is within 0..=9999.
fn date_from_chrono(d: NaiveDate) -> Option<Date> {
    Some(Date {
        year: u16::try_from(d.year()).ok().filter(|&y| y <= 9999)?,
        month: u8::try_from(d.month()).ok()?,
        day: u8::try_from(d.day()).ok()?,
    })
}

/// Sub-second part of a `chrono` time in microseconds, truncated (a leap second's extra second
/// is clamped to `.999999`).
fn micros_of(t: NaiveTime) -> u32 {
    (t.nanosecond() / 1000).min(999_999)
}

fn datetime_from_chrono(d: NaiveDateTime) -> Option<DateTime> {
    DateTime::new(
        date_from_chrono(d.date())?,
        u8::try_from(d.hour()).ok()?,
        u8::try_from(d.minute()).ok()?,
        u8::try_from(d.second()).ok()?,
        micros_of(d.time()),
    )
}

/// [`Value::Date`]; a year outside 0..=9999 (which no DATE holds) becomes chrono's text of the
/// date in [`Value::Bytes`] for the server to reject.
impl From<NaiveDate> for Value {
    fn from(d: NaiveDate) -> Self {
        match date_from_chrono(d) {
            Some(d) => Value::Date(d),
            None => Value::Bytes(d.to_string().into()),
        }
    }
}

/// [`Value::DateTime`], truncated to microseconds; a year outside 0..=9999 becomes chrono's text
/// of the datetime in [`Value::Bytes`] for the server to reject.
impl From<NaiveDateTime> for Value {
    fn from(d: NaiveDateTime) -> Self {
        match datetime_from_chrono(d) {
            Some(d) => Value::DateTime(d),
            None => Value::Bytes(d.to_string().into()),
        }
    }
}

/// The UTC date and time, as [`From<NaiveDateTime>`](#impl-From<NaiveDateTime>-for-Value).
impl From<chrono::DateTime<Utc>> for Value {
    fn from(d: chrono::DateTime<Utc>) -> Self {
        Value::from(d.naive_utc())
    }
}

/// [`Value::Time`], truncated to microseconds.
impl From<NaiveTime> for Value {
    fn from(t: NaiveTime) -> Self {
        Value::Time(Time {
            negative: false,
            hours: t.hour(),
            minutes: u8::try_from(t.minute()).unwrap_or(0),
            seconds: u8::try_from(t.second()).unwrap_or(0),
            micros: micros_of(t),
        })
    }
}

/// [`Value::Time`], truncated to microseconds (towards zero); a duration beyond ±838:59:59.999999
/// becomes its `[-]h:mm:ss.ffffff` text in [`Value::Bytes`] for the server to judge.
impl From<TimeDelta> for Value {
    fn from(d: TimeDelta) -> Self {
        let micros = d.num_microseconds();
        match micros.and_then(Time::from_micros) {
            Some(t) => Value::Time(t),
            None => {
                let sign = if d < TimeDelta::zero() { "-" } else { "" };
                let d = d.abs();
                let secs = d.num_seconds();
                let text = format!(
                    "{sign}{}:{:02}:{:02}.{:06}",
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60,
                    d.subsec_nanos() / 1000
                );
                Value::Bytes(text.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: u16, m: u8, d: u8) -> Value {
        Value::Date(Date {
            year: y,
            month: m,
            day: d,
        })
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dates() {
        assert_eq!(
            NaiveDate::from_value(date(2024, 2, 29)),
            Ok(ymd(2024, 2, 29))
        );
        assert_eq!(
            NaiveDate::from_value(Value::from("1000-01-01")),
            Ok(ymd(1000, 1, 1))
        );
        let zero = NaiveDate::from_value(date(0, 0, 0)).unwrap_err();
        assert_eq!(zero.reason, "zero date");
        assert_eq!(zero.value, date(0, 0, 0));
        assert_eq!(
            Option::<NaiveDate>::from_value(date(0, 0, 0))
                .unwrap_err()
                .reason,
            "zero date"
        );
        assert_eq!(Option::<NaiveDate>::from_value(Value::Null), Ok(None));
        for bad in [date(2024, 0, 1), date(2024, 2, 30), date(2023, 2, 29)] {
            assert_eq!(
                NaiveDate::from_value(bad).unwrap_err().reason,
                "invalid date"
            );
        }
        assert_eq!(
            NaiveDate::from_value(Value::Null).unwrap_err().reason,
            "unexpected NULL"
        );
        assert_eq!(
            NaiveDate::from_value(Value::Int(1)).unwrap_err().reason,
            "type mismatch"
        );
    }

    #[test]
    fn datetimes() {
        let v = Value::DateTime(DateTime {
            date: Date {
                year: 2024,
                month: 5,
                day: 17,
            },
            hour: 13,
            minute: 45,
            second: 9,
            micros: 123_456,
        });
        let want = ymd(2024, 5, 17)
            .and_hms_micro_opt(13, 45, 9, 123_456)
            .unwrap();
        assert_eq!(NaiveDateTime::from_value(v.clone()), Ok(want));
        assert_eq!(
            chrono::DateTime::<Utc>::from_value(v.clone()),
            Ok(want.and_utc())
        );
        assert_eq!(Value::from(want), v);
        assert_eq!(Value::from(want.and_utc()), v);
        assert_eq!(
            NaiveDateTime::from_value(date(2024, 5, 17)),
            Ok(ymd(2024, 5, 17).and_hms_opt(0, 0, 0).unwrap())
        );
        assert_eq!(
            NaiveDateTime::from_value(Value::DateTime(DateTime::ZERO))
                .unwrap_err()
                .reason,
            "zero date"
        );
        assert_eq!(
            chrono::DateTime::<Utc>::from_value(Value::DateTime(DateTime::ZERO))
                .unwrap_err()
                .reason,
            "zero date"
        );
    }

    #[test]
    fn times() {
        let t = |negative, hours, minutes, seconds, micros| {
            Value::Time(Time {
                negative,
                hours,
                minutes,
                seconds,
                micros,
            })
        };
        assert_eq!(
            NaiveTime::from_value(t(false, 23, 59, 59, 999_999)),
            Ok(NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap())
        );
        assert_eq!(
            NaiveTime::from_value(t(false, 24, 0, 0, 0))
                .unwrap_err()
                .reason,
            "out of range"
        );
        assert_eq!(
            NaiveTime::from_value(t(true, 1, 0, 0, 0))
                .unwrap_err()
                .reason,
            "negative time"
        );
        assert_eq!(
            TimeDelta::from_value(t(true, 838, 59, 59, 0)),
            Ok(-TimeDelta::seconds(838 * 3600 + 59 * 60 + 59))
        );
        assert_eq!(
            TimeDelta::from_value(t(false, 0, 0, 0, 1)),
            Ok(TimeDelta::microseconds(1))
        );
        assert_eq!(
            Value::from(-TimeDelta::seconds(838 * 3600 + 59 * 60 + 59)),
            t(true, 838, 59, 59, 0)
        );
        assert_eq!(
            Value::from(TimeDelta::nanoseconds(1_999)),
            t(false, 0, 0, 0, 1)
        );
        assert_eq!(
            Value::from(TimeDelta::hours(839)),
            Value::from("839:00:00.000000")
        );
        assert_eq!(
            Value::from(-TimeDelta::hours(1000) - TimeDelta::microseconds(5)),
            Value::from("-1000:00:00.000005")
        );
        assert_eq!(
            Value::from(NaiveTime::from_hms_nano_opt(1, 2, 3, 4_000_999).unwrap()),
            t(false, 1, 2, 3, 4_000)
        );
    }

    #[test]
    fn out_of_range_years_become_text() {
        let d = NaiveDate::from_ymd_opt(10000, 1, 1).unwrap();
        assert_eq!(Value::from(d), Value::from("+10000-01-01"));
        let d = NaiveDate::from_ymd_opt(-1, 1, 1).unwrap();
        assert!(matches!(Value::from(d), Value::Bytes(_)));
        assert_eq!(
            Value::from(NaiveDate::from_ymd_opt(0, 1, 1).unwrap()),
            date(0, 1, 1)
        );
    }
}
