//! Conversions between values and `time` types (feature `time`).
//!
//! As with `chrono`, zero dates (`0000-00-00`) fail with the reason `"zero date"` and impossible
//! or partial zero dates with `"invalid date"`, also into an `Option`: read such columns as
//! [`Date`] / [`DateTime`] (or [`Value`]) to see them.

use time::{Month, OffsetDateTime, PrimitiveDateTime};

use super::convert::{
    date_of, datetime_of, fail, time_of, INVALID_DATE, NEGATIVE_TIME, OUT_OF_RANGE,
};
use super::{Date, DateTime, FromValue, FromValueError, Time, Value};

const ZERO_DATE: &str = "zero date";

fn to_date(d: Date) -> Result<time::Date, &'static str> {
    if d.is_zero() {
        return Err(ZERO_DATE);
    }
    let month = Month::try_from(d.month).map_err(|_| INVALID_DATE)?;
    time::Date::from_calendar_date(i32::from(d.year), month, d.day).map_err(|_| INVALID_DATE)
}

fn to_datetime(d: DateTime) -> Result<PrimitiveDateTime, &'static str> {
    let date = to_date(d.date)?;
    let time = time::Time::from_hms_micro(d.hour, d.minute, d.second, d.micros)
        .map_err(|_| INVALID_DATE)?;
    Ok(PrimitiveDateTime::new(date, time))
}

/// From a `Date` (or date text); zero and impossible dates fail.
impl FromValue for time::Date {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        date_of(&value)
            .and_then(to_date)
            .or_else(|reason| fail(value, "time::Date", reason))
    }
}

/// From a `DateTime` or `Date` (or their text); zero and impossible dates fail.
impl FromValue for PrimitiveDateTime {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        datetime_of(&value)
            .and_then(to_datetime)
            .or_else(|reason| fail(value, "PrimitiveDateTime", reason))
    }
}

/// From a `DateTime` or `Date` taken to be in UTC (MySQL stores no time zone with DATETIME, and
/// sends TIMESTAMP in the session's `time_zone`: set it to `+00:00` for this to be right).
impl FromValue for OffsetDateTime {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        datetime_of(&value)
            .and_then(to_datetime)
            .map(PrimitiveDateTime::assume_utc)
            .or_else(|reason| fail(value, "OffsetDateTime", reason))
    }
}

/// From a `Time` between `00:00:00` and `23:59:59.999999` (a time of day); other TIME values are
/// durations and fail with `"out of range"` (or `"negative time"`).
impl FromValue for time::Time {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        let time = time_of(&value).and_then(|t| {
            if t.negative {
                return Err(NEGATIVE_TIME);
            }
            let hours = u8::try_from(t.hours).map_err(|_| OUT_OF_RANGE)?;
            time::Time::from_hms_micro(hours, t.minutes, t.seconds, t.micros)
                .map_err(|_| OUT_OF_RANGE)
        });
        time.or_else(|reason| fail(value, "time::Time", reason))
    }
}

/// From a `Time`, signed.
impl FromValue for time::Duration {
    fn from_value(value: Value) -> Result<Self, FromValueError> {
        time_of(&value)
            .map(|t| time::Duration::microseconds(t.to_micros()))
            .or_else(|reason| fail(value, "time::Duration", reason))
    }
}

/// The MySQL date of a `time` date, if its year is within 0..=9999.
fn date_from_time(d: time::Date) -> Option<Date> {
    Some(Date {
        year: u16::try_from(d.year()).ok().filter(|&y| y <= 9999)?,
        month: u8::from(d.month()),
        day: d.day(),
    })
}

fn datetime_from_time(d: PrimitiveDateTime) -> Option<DateTime> {
    DateTime::new(
        date_from_time(d.date())?,
        d.hour(),
        d.minute(),
        d.second(),
        d.microsecond(),
    )
}

/// [`Value::Date`]; a year outside 0..=9999 (which no DATE holds) becomes the `time` crate's
/// text of the date in [`Value::Bytes`] for the server to reject.
impl From<time::Date> for Value {
    fn from(d: time::Date) -> Self {
        match date_from_time(d) {
            Some(d) => Value::Date(d),
            None => Value::Bytes(d.to_string().into()),
        }
    }
}

/// [`Value::DateTime`], truncated to microseconds; a year outside 0..=9999 becomes the `time`
/// crate's text of the datetime in [`Value::Bytes`] for the server to reject.
impl From<PrimitiveDateTime> for Value {
    fn from(d: PrimitiveDateTime) -> Self {
        match datetime_from_time(d) {
            Some(d) => Value::DateTime(d),
            None => Value::Bytes(d.to_string().into()),
        }
    }
}

/// The date and time in UTC, as `From<PrimitiveDateTime>`.
impl From<OffsetDateTime> for Value {
    fn from(d: OffsetDateTime) -> Self {
        let utc = d.to_offset(time::UtcOffset::UTC);
        Value::from(PrimitiveDateTime::new(utc.date(), utc.time()))
    }
}

/// [`Value::Time`], truncated to microseconds.
impl From<time::Time> for Value {
    fn from(t: time::Time) -> Self {
        Value::Time(Time {
            negative: false,
            hours: u32::from(t.hour()),
            minutes: t.minute(),
            seconds: t.second(),
            micros: t.microsecond(),
        })
    }
}

/// [`Value::Time`], truncated to microseconds (towards zero); a duration beyond ±838:59:59.999999
/// becomes its `[-]h:mm:ss.ffffff` text in [`Value::Bytes`] for the server to judge.
impl From<time::Duration> for Value {
    fn from(d: time::Duration) -> Self {
        let time = i64::try_from(d.whole_microseconds())
            .ok()
            .and_then(Time::from_micros);
        match time {
            Some(t) => Value::Time(t),
            None => {
                let sign = if d.is_negative() { "-" } else { "" };
                let secs = d.whole_seconds().unsigned_abs();
                let text = format!(
                    "{sign}{}:{:02}:{:02}.{:06}",
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60,
                    d.subsec_microseconds().unsigned_abs()
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

    fn ymd(y: i32, m: u8, d: u8) -> time::Date {
        time::Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
    }

    fn tv(negative: bool, hours: u32, minutes: u8, seconds: u8, micros: u32) -> Value {
        Value::Time(Time {
            negative,
            hours,
            minutes,
            seconds,
            micros,
        })
    }

    #[test]
    fn dates() {
        assert_eq!(
            time::Date::from_value(date(2024, 2, 29)),
            Ok(ymd(2024, 2, 29))
        );
        assert_eq!(time::Date::from_value(date(0, 1, 1)), Ok(ymd(0, 1, 1)));
        assert_eq!(Value::from(ymd(2024, 2, 29)), date(2024, 2, 29));
        let zero = time::Date::from_value(date(0, 0, 0)).unwrap_err();
        assert_eq!((zero.reason, zero.value), ("zero date", date(0, 0, 0)));
        assert_eq!(
            Option::<time::Date>::from_value(date(0, 0, 0))
                .unwrap_err()
                .reason,
            "zero date"
        );
        assert_eq!(Option::<time::Date>::from_value(Value::Null), Ok(None));
        for bad in [date(2024, 0, 1), date(2024, 4, 31), date(2024, 1, 0)] {
            assert_eq!(
                time::Date::from_value(bad).unwrap_err().reason,
                "invalid date"
            );
        }
        assert!(matches!(Value::from(ymd(-5, 1, 1)), Value::Bytes(_)));
    }

    #[test]
    fn datetimes() {
        let v = Value::DateTime(DateTime {
            date: Date {
                year: 9999,
                month: 12,
                day: 31,
            },
            hour: 23,
            minute: 59,
            second: 59,
            micros: 999_999,
        });
        let want = PrimitiveDateTime::new(
            ymd(9999, 12, 31),
            time::Time::from_hms_micro(23, 59, 59, 999_999).unwrap(),
        );
        assert_eq!(PrimitiveDateTime::from_value(v.clone()), Ok(want));
        assert_eq!(OffsetDateTime::from_value(v.clone()), Ok(want.assume_utc()));
        assert_eq!(Value::from(want), v);
        let offset = want
            .assume_utc()
            .to_offset(time::UtcOffset::from_hms(-5, 0, 0).unwrap());
        assert_eq!(Value::from(offset), v);
        assert_eq!(
            PrimitiveDateTime::from_value(Value::DateTime(DateTime::ZERO))
                .unwrap_err()
                .reason,
            "zero date"
        );
    }

    #[test]
    fn times() {
        assert_eq!(
            time::Time::from_value(tv(false, 23, 59, 59, 999_999)),
            Ok(time::Time::from_hms_micro(23, 59, 59, 999_999).unwrap())
        );
        assert_eq!(
            time::Time::from_value(tv(false, 24, 0, 0, 0))
                .unwrap_err()
                .reason,
            "out of range"
        );
        assert_eq!(
            time::Time::from_value(tv(true, 0, 0, 1, 0))
                .unwrap_err()
                .reason,
            "negative time"
        );
        assert_eq!(
            time::Duration::from_value(tv(true, 838, 59, 59, 999_999)),
            Ok(-time::Duration::microseconds(3_020_399_999_999))
        );
        assert_eq!(
            Value::from(time::Duration::microseconds(-3_020_399_999_999)),
            tv(true, 838, 59, 59, 999_999)
        );
        assert_eq!(
            Value::from(time::Duration::hours(-839)),
            Value::from("-839:00:00.000000")
        );
        assert_eq!(
            Value::from(time::Time::from_hms_nano(1, 2, 3, 999_999_999).unwrap()),
            tv(false, 1, 2, 3, 999_999)
        );
    }
}
