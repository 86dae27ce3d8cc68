//! Binary-protocol values: rows of a `COM_STMT_EXECUTE` result and the parameters it sends.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_binary_resultset.html>
//!
//! A binary row starts with a `0x00` header and a NULL bitmap whose first two bits are unused;
//! every non-NULL value follows in column order. Integers and floating point numbers are
//! fixed-size little-endian, dates and times carry a length byte (0 for zero values, then more
//! fields as needed), and everything else (DECIMAL, strings, blobs, BIT, JSON, ...) is a
//! length-encoded string in the same form as in the text protocol.

use bytes::{BufMut, Bytes, BytesMut};

use super::{text, Date, DateTime, Time, Value};
use crate::protocol::buf::{lenenc_slice, put_lenenc_bytes, ParseBuf};
use crate::protocol::column::Column;
use crate::protocol::constants::{column_flags, ColumnType};
use crate::protocol::ProtocolError;

const WHAT: &str = "binary row value";

/// Length of the NULL bitmap of a binary row with `columns` columns (the first two bits are
/// reserved).
pub fn row_null_bitmap_len(columns: usize) -> usize {
    (columns + 2).div_ceil(8)
}

/// Length of the NULL bitmap of `COM_STMT_EXECUTE` with `params` parameters.
pub fn param_null_bitmap_len(params: usize) -> usize {
    params.div_ceil(8)
}

/// Decodes one binary-protocol row (the payload of a row packet of a `COM_STMT_EXECUTE`
/// response) against its columns.
///
/// Strings, blobs, JSON and DECIMAL values are sliced out of `payload` without copying. The
/// resulting [`Value`]s are the same as those of [`super::decode_text`] for the same column
/// types.
///
/// # Errors
///
/// * [`ProtocolError::Unexpected`] if the header is not `0x00`;
/// * [`ProtocolError::Truncated`] if the payload ends before a value;
/// * [`ProtocolError::InvalidValue`] for a value that is not well-formed for its column type
///   (a date with month 13, a TIME length byte other than 0, 8 and 12, ...);
/// * [`ProtocolError::ColumnCountMismatch`] if bytes are left after the last column.
pub fn decode_binary_row(payload: &Bytes, columns: &[Column]) -> Result<Vec<Value>, ProtocolError> {
    let mut header = ParseBuf::new(payload);
    if header.u8("binary row header")? != 0x00 {
        return Err(ProtocolError::Unexpected("binary row without 0x00 header"));
    }
    let bitmap = header.bytes(row_null_bitmap_len(columns.len()), "binary row NULL bitmap")?;
    let mut pos = header.position();
    let mut values = Vec::with_capacity(columns.len());
    for (i, col) in columns.iter().enumerate() {
        let bit = i + 2;
        let is_null = bitmap
            .get(bit / 8)
            .is_some_and(|byte| byte & (1 << (bit % 8)) != 0);
        if is_null {
            values.push(Value::Null);
            continue;
        }
        values.push(decode_value(payload, &mut pos, col)?);
    }
    if pos != payload.len() {
        return Err(ProtocolError::ColumnCountMismatch {
            columns: columns.len(),
        });
    }
    Ok(values)
}

/// Decodes the non-NULL value of `col` at `*pos`, advancing `*pos`.
fn decode_value(payload: &Bytes, pos: &mut usize, col: &Column) -> Result<Value, ProtocolError> {
    use ColumnType as T;
    let ty = col.column_type;
    let unsigned = col.flags & column_flags::UNSIGNED != 0;
    let rest = payload.get(*pos..).ok_or(ProtocolError::Truncated(WHAT))?;
    let mut p = ParseBuf::new(rest);
    let value = match ty {
        T::Null => Value::Null,
        T::Tiny => {
            let n = p.u8(WHAT)?;
            int(unsigned, u64::from(n), i64::from(n as i8))
        }
        T::Short => {
            let n = p.u16(WHAT)?;
            int(unsigned, u64::from(n), i64::from(n as i16))
        }
        T::Year => Value::Year(p.u16(WHAT)?),
        T::Int24 | T::Long => {
            let n = p.u32(WHAT)?;
            // INT24 is sent in four bytes, sign-extended by the server.
            int(unsigned, u64::from(n), i64::from(n as i32))
        }
        T::LongLong => {
            let n = p.u64(WHAT)?;
            int(unsigned, n, n as i64)
        }
        T::Float => Value::Float(f32::from_le_bytes(p.u32(WHAT)?.to_le_bytes())),
        T::Double => Value::Double(f64::from_le_bytes(p.u64(WHAT)?.to_le_bytes())),
        T::Date | T::NewDate => {
            let dt = binary_datetime(&mut p, ty)?;
            if dt.hour != 0 || dt.minute != 0 || dt.second != 0 || dt.micros != 0 {
                return Err(ProtocolError::InvalidValue { column_type: ty });
            }
            Value::Date(dt.date)
        }
        T::DateTime | T::DateTime2 | T::Timestamp | T::Timestamp2 => {
            Value::DateTime(binary_datetime(&mut p, ty)?)
        }
        T::Time | T::Time2 => Value::Time(binary_time(&mut p, ty)?),
        _ => {
            // Everything else is a length-encoded string in its text form.
            let raw = lenenc_slice(payload, pos)?.ok_or(ProtocolError::Malformed(
                "NULL marker in a binary row value",
            ))?;
            return text::decode(raw, ty, col.flags, col.charset);
        }
    };
    *pos += p.position();
    Ok(value)
}

fn int(unsigned: bool, as_unsigned: u64, as_signed: i64) -> Value {
    if unsigned {
        Value::UInt(as_unsigned)
    } else {
        Value::Int(as_signed)
    }
}

/// Reads a length byte (0, 4, 7 or 11) and the date and time fields it announces.
fn binary_datetime(p: &mut ParseBuf<'_>, ty: ColumnType) -> Result<DateTime, ProtocolError> {
    let invalid = ProtocolError::InvalidValue { column_type: ty };
    let len = p.u8(WHAT)?;
    if !matches!(len, 0 | 4 | 7 | 11) {
        return Err(invalid);
    }
    let mut fields = ParseBuf::new(p.bytes(usize::from(len), WHAT)?);
    if len == 0 {
        return Ok(DateTime::ZERO);
    }
    let date = Date {
        year: fields.u16(WHAT)?,
        month: fields.u8(WHAT)?,
        day: fields.u8(WHAT)?,
    };
    if date.year > 9999 || date.month > 12 || date.day > 31 {
        return Err(invalid);
    }
    let (hour, minute, second) = if len >= 7 {
        (fields.u8(WHAT)?, fields.u8(WHAT)?, fields.u8(WHAT)?)
    } else {
        (0, 0, 0)
    };
    let micros = if len == 11 { fields.u32(WHAT)? } else { 0 };
    DateTime::new(date, hour, minute, second, micros).ok_or(invalid)
}

/// Reads a length byte (0, 8 or 12) and the TIME fields it announces.
fn binary_time(p: &mut ParseBuf<'_>, ty: ColumnType) -> Result<Time, ProtocolError> {
    let invalid = ProtocolError::InvalidValue { column_type: ty };
    let len = p.u8(WHAT)?;
    if !matches!(len, 0 | 8 | 12) {
        return Err(invalid);
    }
    let mut fields = ParseBuf::new(p.bytes(usize::from(len), WHAT)?);
    if len == 0 {
        return Ok(Time::default());
    }
    let negative = match fields.u8(WHAT)? {
        0 => false,
        1 => true,
        _ => return Err(invalid),
    };
    let days = fields.u32(WHAT)?;
    let hour = fields.u8(WHAT)?;
    let minutes = fields.u8(WHAT)?;
    let seconds = fields.u8(WHAT)?;
    let micros = if len == 12 { fields.u32(WHAT)? } else { 0 };
    if hour > 23 {
        return Err(invalid);
    }
    let hours = days
        .checked_mul(24)
        .and_then(|h| h.checked_add(u32::from(hour)))
        .ok_or(invalid.clone())?;
    Time::new(negative, hours, minutes, seconds, micros).ok_or(invalid)
}

/// Appends the binary form of a non-NULL parameter to `dst` and returns the type to announce
/// for it in `COM_STMT_EXECUTE` (with `true` for the unsigned flag).
///
/// [`Value::Null`] writes nothing and returns [`ColumnType::Null`]; the caller also sets its bit
/// in the NULL bitmap.
///
/// | value | announced type | bytes |
/// |---|---|---|
/// | [`Value::Int`] / [`Value::UInt`] | LONGLONG (unsigned for `UInt`) | 8 |
/// | [`Value::Float`] / [`Value::Double`] | FLOAT / DOUBLE | 4 / 8 |
/// | [`Value::Decimal`] | NEWDECIMAL | length-encoded text |
/// | [`Value::Bytes`], [`Value::Json`] | VAR_STRING | length-encoded |
/// | [`Value::Bit`] | LONGLONG unsigned | 8 |
/// | [`Value::Year`] | SHORT unsigned | 2 |
/// | [`Value::Date`], [`Value::DateTime`], [`Value::Time`] | DATE, DATETIME, TIME | length byte and fields |
pub fn encode_param(value: &Value, dst: &mut BytesMut) -> (ColumnType, bool) {
    match value {
        Value::Null => (ColumnType::Null, false),
        Value::Int(n) => {
            dst.put_i64_le(*n);
            (ColumnType::LongLong, false)
        }
        Value::UInt(n) | Value::Bit(n) => {
            dst.put_u64_le(*n);
            (ColumnType::LongLong, true)
        }
        Value::Float(f) => {
            dst.put_f32_le(*f);
            (ColumnType::Float, false)
        }
        Value::Double(d) => {
            dst.put_f64_le(*d);
            (ColumnType::Double, false)
        }
        Value::Decimal(d) => {
            put_lenenc_bytes(dst, d.as_bytes());
            (ColumnType::NewDecimal, false)
        }
        Value::Bytes(b) | Value::Json(b) => {
            put_lenenc_bytes(dst, b);
            (ColumnType::VarString, false)
        }
        Value::Year(y) => {
            dst.put_u16_le(*y);
            (ColumnType::Short, true)
        }
        Value::Date(d) => {
            put_datetime(dst, &DateTime::from_date(*d));
            (ColumnType::Date, false)
        }
        Value::DateTime(dt) => {
            put_datetime(dst, dt);
            (ColumnType::DateTime, false)
        }
        Value::Time(t) => {
            put_time(dst, t);
            (ColumnType::Time, false)
        }
    }
}

/// The shortest binary DATETIME form (length 0, 4, 7 or 11).
fn put_datetime(dst: &mut BytesMut, dt: &DateTime) {
    let len = if dt.micros != 0 {
        11
    } else if dt.hour != 0 || dt.minute != 0 || dt.second != 0 {
        7
    } else if !dt.date.is_zero() {
        4
    } else {
        0
    };
    dst.put_u8(len);
    if len >= 4 {
        dst.put_u16_le(dt.date.year);
        dst.put_u8(dt.date.month);
        dst.put_u8(dt.date.day);
    }
    if len >= 7 {
        dst.put_u8(dt.hour);
        dst.put_u8(dt.minute);
        dst.put_u8(dt.second);
    }
    if len == 11 {
        dst.put_u32_le(dt.micros);
    }
}

/// The shortest binary TIME form (length 0, 8 or 12).
fn put_time(dst: &mut BytesMut, t: &Time) {
    if t.is_zero() {
        dst.put_u8(0);
        return;
    }
    let len = if t.micros != 0 { 12 } else { 8 };
    dst.put_u8(len);
    dst.put_u8(u8::from(t.negative));
    dst.put_u32_le(t.hours / 24);
    // `hours % 24` is below 24.
    dst.put_u8((t.hours % 24) as u8);
    dst.put_u8(t.minutes);
    dst.put_u8(t.seconds);
    if len == 12 {
        dst.put_u32_le(t.micros);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::column_flags::UNSIGNED;
    use crate::protocol::value::Decimal;
    use proptest::prelude::*;

    fn col(ty: ColumnType, flags: u16) -> Column {
        Column {
            schema: String::new(),
            table: String::new(),
            org_table: String::new(),
            name: "c".into(),
            org_name: "c".into(),
            charset: 63,
            column_length: 0,
            column_type: ty,
            flags,
            decimals: 0,
        }
    }

    /// A binary row: header, bitmap for `values.len()` columns, then the encoded values.
    fn row(values: &[Option<&[u8]>]) -> Bytes {
        let mut b = BytesMut::new();
        b.put_u8(0);
        let mut bitmap = vec![0u8; row_null_bitmap_len(values.len())];
        for (i, v) in values.iter().enumerate() {
            if v.is_none() {
                bitmap[(i + 2) / 8] |= 1 << ((i + 2) % 8);
            }
        }
        b.put_slice(&bitmap);
        for v in values.iter().flatten() {
            b.put_slice(v);
        }
        b.freeze()
    }

    fn one(ty: ColumnType, flags: u16, raw: &[u8]) -> Result<Value, ProtocolError> {
        decode_binary_row(&row(&[Some(raw)]), &[col(ty, flags)]).map(|mut v| v.remove(0))
    }

    fn date(year: u16, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn bitmap_lengths() {
        assert_eq!(row_null_bitmap_len(0), 1);
        assert_eq!(row_null_bitmap_len(6), 1);
        assert_eq!(row_null_bitmap_len(7), 2);
        assert_eq!(row_null_bitmap_len(14), 2);
        assert_eq!(row_null_bitmap_len(15), 3);
        assert_eq!(param_null_bitmap_len(0), 0);
        assert_eq!(param_null_bitmap_len(1), 1);
        assert_eq!(param_null_bitmap_len(8), 1);
        assert_eq!(param_null_bitmap_len(9), 2);
    }

    #[test]
    fn integers() {
        use ColumnType as T;
        assert_eq!(one(T::Tiny, 0, &[0xFF]), Ok(Value::Int(-1)));
        assert_eq!(one(T::Tiny, UNSIGNED, &[0xFF]), Ok(Value::UInt(255)));
        assert_eq!(one(T::Short, 0, &[0x00, 0x80]), Ok(Value::Int(-32768)));
        assert_eq!(
            one(T::Short, UNSIGNED, &[0x00, 0x80]),
            Ok(Value::UInt(32768))
        );
        assert_eq!(one(T::Year, UNSIGNED, &[0xE8, 0x07]), Ok(Value::Year(2024)));
        assert_eq!(
            one(T::Int24, 0, &[0xFF, 0xFF, 0x7F, 0x00]),
            Ok(Value::Int(8_388_607))
        );
        assert_eq!(
            one(T::Int24, 0, &[0x00, 0x00, 0x80, 0xFF]),
            Ok(Value::Int(-8_388_608))
        );
        assert_eq!(
            one(T::Long, 0, &[0xFE, 0xFF, 0xFF, 0xFF]),
            Ok(Value::Int(-2))
        );
        assert_eq!(
            one(T::Long, UNSIGNED, &[0xFF, 0xFF, 0xFF, 0xFF]),
            Ok(Value::UInt(u64::from(u32::MAX)))
        );
        assert_eq!(
            one(T::LongLong, 0, &i64::MIN.to_le_bytes()),
            Ok(Value::Int(i64::MIN))
        );
        assert_eq!(
            one(T::LongLong, UNSIGNED, &u64::MAX.to_le_bytes()),
            Ok(Value::UInt(u64::MAX))
        );
        for (ty, len) in [
            (T::Tiny, 1),
            (T::Short, 2),
            (T::Year, 2),
            (T::Int24, 4),
            (T::Long, 4),
            (T::LongLong, 8),
            (T::Float, 4),
            (T::Double, 8),
        ] {
            assert_eq!(
                one(ty, 0, &vec![0; len - 1]),
                Err(ProtocolError::Truncated(WHAT)),
                "{ty:?}"
            );
            assert_eq!(
                one(ty, 0, &vec![0; len + 1]),
                Err(ProtocolError::ColumnCountMismatch { columns: 1 }),
                "{ty:?}"
            );
        }
    }

    #[test]
    fn floats() {
        assert_eq!(
            one(ColumnType::Float, 0, &1.5f32.to_le_bytes()),
            Ok(Value::Float(1.5))
        );
        assert_eq!(
            one(ColumnType::Double, 0, &(-2.25f64).to_le_bytes()),
            Ok(Value::Double(-2.25))
        );
    }

    #[test]
    fn dates_and_datetimes() {
        use ColumnType as T;
        assert_eq!(one(T::Date, 0, &[0]), Ok(Value::Date(Date::ZERO)));
        assert_eq!(
            one(T::Date, 0, &[4, 0xE8, 0x07, 2, 29]),
            Ok(Value::Date(date(2024, 2, 29)))
        );
        let d = date(2024, 5, 17);
        for ty in [T::DateTime, T::Timestamp, T::DateTime2, T::Timestamp2] {
            assert_eq!(one(ty, 0, &[0]), Ok(Value::DateTime(DateTime::ZERO)));
            assert_eq!(
                one(ty, 0, &[4, 0xE8, 0x07, 5, 17]),
                Ok(Value::DateTime(DateTime::from_date(d)))
            );
            assert_eq!(
                one(ty, 0, &[7, 0xE8, 0x07, 5, 17, 13, 45, 9]),
                Ok(Value::DateTime(DateTime::new(d, 13, 45, 9, 0).unwrap()))
            );
            assert_eq!(
                one(
                    ty,
                    0,
                    &[11, 0xE8, 0x07, 5, 17, 13, 45, 9, 0x3F, 0x42, 0x0F, 0]
                ),
                Ok(Value::DateTime(
                    DateTime::new(d, 13, 45, 9, 999_999).unwrap()
                ))
            );
        }
        let invalid = |ty| Err(ProtocolError::InvalidValue { column_type: ty });
        for raw in [
            &[1u8, 0][..],
            &[5, 0xE8, 0x07, 5, 17, 1],
            &[4, 0xE8, 0x07, 13, 17],
            &[4, 0xE8, 0x07, 5, 32],
            &[4, 0x10, 0x27, 1, 1],
            &[7, 0xE8, 0x07, 5, 17, 24, 0, 0],
            &[7, 0xE8, 0x07, 5, 17, 0, 60, 0],
            &[7, 0xE8, 0x07, 5, 17, 0, 0, 60],
            &[11, 0xE8, 0x07, 5, 17, 0, 0, 0, 0x40, 0x42, 0x0F, 0],
        ] {
            assert_eq!(one(T::DateTime, 0, raw), invalid(T::DateTime), "{raw:?}");
        }
        // A DATE column with a time part.
        assert_eq!(
            one(T::Date, 0, &[7, 0xE8, 0x07, 5, 17, 1, 0, 0]),
            invalid(T::Date)
        );
        assert_eq!(
            one(T::DateTime, 0, &[7, 0xE8, 0x07, 5]),
            Err(ProtocolError::Truncated(WHAT))
        );
        assert_eq!(
            one(T::DateTime, 0, &[]),
            Err(ProtocolError::Truncated(WHAT))
        );
    }

    #[test]
    fn times() {
        use ColumnType as T;
        assert_eq!(one(T::Time, 0, &[0]), Ok(Value::Time(Time::default())));
        assert_eq!(
            one(T::Time, 0, &[8, 1, 34, 0, 0, 0, 22, 59, 59]),
            Ok(Value::Time(Time::new(true, 838, 59, 59, 0).unwrap()))
        );
        assert_eq!(
            one(T::Time2, 0, &[12, 0, 1, 0, 0, 0, 2, 3, 4, 5, 0, 0, 0]),
            Ok(Value::Time(Time::new(false, 26, 3, 4, 5).unwrap()))
        );
        let invalid = Err(ProtocolError::InvalidValue {
            column_type: T::Time,
        });
        for raw in [
            &[4u8, 0, 0, 0, 0][..],
            &[8, 2, 0, 0, 0, 0, 1, 0, 0],
            &[8, 0, 35, 0, 0, 0, 0, 0, 0],
            &[8, 0, 0, 0, 0, 0, 24, 0, 0],
            &[8, 0, 0, 0, 0, 0, 0, 60, 0],
            &[8, 0, 0, 0, 0, 0, 0, 0, 60],
            &[8, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0],
            &[12, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x42, 0x0F, 0],
        ] {
            assert_eq!(one(T::Time, 0, raw), invalid, "{raw:?}");
        }
    }

    #[test]
    fn length_encoded_types() {
        use ColumnType as T;
        assert_eq!(
            one(T::NewDecimal, 0, b"\x06-12.50"),
            Ok(Value::Decimal("-12.50".parse().unwrap()))
        );
        assert_eq!(
            one(T::Decimal, 0, b"\x0212"),
            Ok(Value::Decimal("12".parse().unwrap()))
        );
        assert_eq!(
            one(T::NewDecimal, 0, b"\x021x"),
            Err(ProtocolError::InvalidValue {
                column_type: T::NewDecimal
            })
        );
        assert_eq!(
            one(T::Bit, UNSIGNED, b"\x02\x01\x02"),
            Ok(Value::Bit(0x0102))
        );
        assert_eq!(
            one(T::Json, 0, b"\x02{}"),
            Ok(Value::Json(Bytes::from_static(b"{}")))
        );
        for ty in [
            T::VarChar,
            T::VarString,
            T::String,
            T::TinyBlob,
            T::MediumBlob,
            T::LongBlob,
            T::Blob,
            T::Enum,
            T::Set,
            T::Geometry,
            T::Vector,
            T::TypedArray,
        ] {
            assert_eq!(
                one(ty, 0, b"\x03a\x00\xff"),
                Ok(Value::Bytes(Bytes::from_static(b"a\x00\xff"))),
                "{ty:?}"
            );
            assert_eq!(
                one(ty, 0, b"\x04abc"),
                Err(ProtocolError::Truncated("length-encoded string"))
            );
            assert!(matches!(
                one(ty, 0, b"\xfb"),
                Err(ProtocolError::Malformed(_))
            ));
        }
    }

    #[test]
    fn strings_are_not_copied() {
        let payload = row(&[Some(b"\x05hello")]);
        let values = decode_binary_row(&payload, &[col(ColumnType::Blob, 0)]).unwrap();
        let Value::Bytes(b) = &values[0] else {
            panic!("not bytes")
        };
        assert_eq!(b.as_ptr(), payload[3..].as_ptr());
    }

    #[test]
    fn nulls_and_bitmap() {
        // Nine columns: the bitmap has two bytes; NULLs at 0, 5, 6 and 8.
        let cols: Vec<Column> = (0..9).map(|_| col(ColumnType::Tiny, 0)).collect();
        let raw: Vec<Option<&[u8]>> = (0..9u8)
            .map(|i| (![0, 5, 6, 8].contains(&i)).then_some(&[7u8][..]))
            .collect();
        let payload = row(&raw);
        assert_eq!(&payload[1..3], &[0b1000_0100, 0b0000_0101]);
        let values = decode_binary_row(&payload, &cols).unwrap();
        for (i, v) in values.iter().enumerate() {
            if [0, 5, 6, 8].contains(&i) {
                assert_eq!(v, &Value::Null, "{i}");
            } else {
                assert_eq!(v, &Value::Int(7), "{i}");
            }
        }
        // A NULL-typed column is always NULL.
        assert_eq!(
            decode_binary_row(&row(&[None]), &[col(ColumnType::Null, 0)]),
            Ok(vec![Value::Null])
        );
        assert_eq!(decode_binary_row(&row(&[]), &[]), Ok(vec![]));
    }

    #[test]
    fn malformed_rows() {
        let cols = [col(ColumnType::Long, 0), col(ColumnType::Blob, 0)];
        assert_eq!(
            decode_binary_row(&Bytes::new(), &cols),
            Err(ProtocolError::Truncated("binary row header"))
        );
        assert_eq!(
            decode_binary_row(&Bytes::from_static(&[1, 0]), &cols),
            Err(ProtocolError::Unexpected("binary row without 0x00 header"))
        );
        assert_eq!(
            decode_binary_row(&Bytes::from_static(&[0]), &cols),
            Err(ProtocolError::Truncated("binary row NULL bitmap"))
        );
        assert_eq!(
            decode_binary_row(&Bytes::from_static(&[0, 0, 1, 0, 0, 0]), &cols),
            Err(ProtocolError::Truncated("length-encoded string"))
        );
        assert_eq!(
            decode_binary_row(&Bytes::from_static(&[0, 0, 1, 0, 0, 0, 0, 9]), &cols),
            Err(ProtocolError::ColumnCountMismatch { columns: 2 })
        );
    }

    fn sample_values() -> Vec<Value> {
        let d = date(2024, 2, 29);
        vec![
            Value::Int(-5),
            Value::Int(i64::MIN),
            Value::UInt(u64::MAX),
            Value::Float(-1.25),
            Value::Double(std::f64::consts::PI),
            Value::Decimal(
                "-12345678901234567890.123456789"
                    .parse::<Decimal>()
                    .unwrap(),
            ),
            Value::Bytes(Bytes::from_static(b"")),
            Value::Bytes(Bytes::from(vec![0xAB; 300])),
            Value::Json(Bytes::from_static(b"{\"a\":1}")),
            Value::Bit(0x0102_0304),
            Value::Year(2155),
            Value::Date(d),
            Value::Date(Date::ZERO),
            Value::DateTime(DateTime::ZERO),
            Value::DateTime(DateTime::from_date(d)),
            Value::DateTime(DateTime::new(d, 1, 2, 3, 0).unwrap()),
            Value::DateTime(DateTime::new(d, 0, 0, 0, 7).unwrap()),
            Value::Time(Time::default()),
            Value::Time(Time::MAX),
            Value::Time(Time::MIN),
            Value::Time(Time::new(true, 25, 0, 1, 0).unwrap()),
        ]
    }

    /// The column a server would describe for a parameter encoded as `ty`.
    fn column_for(value: &Value, ty: ColumnType, unsigned: bool) -> Column {
        let ty = match (value, ty) {
            (Value::Bit(_), _) => ColumnType::Bit,
            (Value::Year(_), _) => ColumnType::Year,
            (Value::Json(_), _) => ColumnType::Json,
            (_, ty) => ty,
        };
        col(ty, if unsigned { UNSIGNED } else { 0 })
    }

    /// How the server would send back a value that was sent as a parameter: the same bytes,
    /// except BIT, which comes back as a length-encoded big-endian string.
    fn as_result(value: &Value, encoded: &[u8]) -> Vec<u8> {
        match value {
            Value::Bit(n) => {
                let mut b = BytesMut::new();
                put_lenenc_bytes(&mut b, &n.to_be_bytes());
                b.to_vec()
            }
            _ => encoded.to_vec(),
        }
    }

    #[test]
    fn param_types() {
        use ColumnType as T;
        let want = [
            (T::LongLong, false),
            (T::LongLong, false),
            (T::LongLong, true),
            (T::Float, false),
            (T::Double, false),
            (T::NewDecimal, false),
            (T::VarString, false),
            (T::VarString, false),
            (T::VarString, false),
            (T::LongLong, true),
            (T::Short, true),
            (T::Date, false),
            (T::Date, false),
            (T::DateTime, false),
            (T::DateTime, false),
            (T::DateTime, false),
            (T::DateTime, false),
            (T::Time, false),
            (T::Time, false),
            (T::Time, false),
            (T::Time, false),
        ];
        for (v, want) in sample_values().iter().zip(want) {
            let mut b = BytesMut::new();
            assert_eq!(encode_param(v, &mut b), want, "{v:?}");
        }
        let mut b = BytesMut::new();
        assert_eq!(encode_param(&Value::Null, &mut b), (T::Null, false));
        assert!(b.is_empty());
        let mut b = BytesMut::new();
        encode_param(&Value::Date(date(2024, 2, 29)), &mut b);
        assert_eq!(&b[..], &[4, 0xE8, 0x07, 2, 29]);
        let mut b = BytesMut::new();
        encode_param(&Value::Time(Time::new(true, 26, 3, 4, 5).unwrap()), &mut b);
        assert_eq!(&b[..], &[12, 1, 1, 0, 0, 0, 2, 3, 4, 5, 0, 0, 0]);
    }

    #[test]
    fn params_round_trip_through_a_row() {
        let values = sample_values();
        let mut cols = Vec::new();
        let mut body = Vec::new();
        for v in &values {
            let mut b = BytesMut::new();
            let (ty, unsigned) = encode_param(v, &mut b);
            cols.push(column_for(v, ty, unsigned));
            body.push(as_result(v, &b));
        }
        let raw: Vec<Option<&[u8]>> = body.iter().map(|b| Some(&b[..])).collect();
        let decoded = decode_binary_row(&row(&raw), &cols).unwrap();
        assert_eq!(decoded, values);
    }

    proptest! {
        #[test]
        fn arbitrary_rows_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..48),
            types in proptest::collection::vec(any::<u8>(), 0..6),
            flags in any::<u16>(),
        ) {
            let cols: Vec<Column> = types
                .iter()
                .filter_map(|&t| ColumnType::from_u8(t))
                .map(|t| col(t, flags))
                .collect();
            let mut payload = vec![0u8];
            payload.extend(data);
            let _ = decode_binary_row(&Bytes::from(payload), &cols);
        }

        #[test]
        fn datetime_round_trip(
            year in 0u16..=9999, month in 0u8..=12, day in 0u8..=31,
            hour in 0u8..24, minute in 0u8..60, second in 0u8..60,
            micros in prop_oneof![Just(0u32), 0u32..1_000_000],
        ) {
            let dt = DateTime { date: date(year, month, day), hour, minute, second, micros };
            let mut b = BytesMut::new();
            encode_param(&Value::DateTime(dt), &mut b);
            prop_assert_eq!(
                one(ColumnType::DateTime, 0, &b),
                Ok(Value::DateTime(dt))
            );
        }

        #[test]
        fn time_round_trip(micros in -Time::MAX.to_micros()..=Time::MAX.to_micros()) {
            let t = Time::from_micros(micros).unwrap();
            let mut b = BytesMut::new();
            encode_param(&Value::Time(t), &mut b);
            prop_assert_eq!(one(ColumnType::Time, 0, &b), Ok(Value::Time(t)));
        }

        #[test]
        fn number_round_trip(i in any::<i64>(), u in any::<u64>(), d in any::<f64>()) {
            for (v, ty, flags) in [
                (Value::Int(i), ColumnType::LongLong, 0),
                (Value::UInt(u), ColumnType::LongLong, UNSIGNED),
            ] {
                let mut b = BytesMut::new();
                encode_param(&v, &mut b);
                prop_assert_eq!(one(ty, flags, &b), Ok(v));
            }
            let mut b = BytesMut::new();
            encode_param(&Value::Double(d), &mut b);
            let got = one(ColumnType::Double, 0, &b);
            prop_assert!(matches!(got, Ok(Value::Double(g)) if g.to_bits() == d.to_bits()));
        }
    }
}
