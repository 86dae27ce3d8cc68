//! Prepared statements: the `COM_STMT_*` commands and the response to `COM_STMT_PREPARE`.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase_ps.html>
//!
//! The response to `COM_STMT_EXECUTE` has the structure of a text-protocol response with binary
//! rows: it is decoded by [`TextResultDecoder::new_binary`](super::resultset::TextResultDecoder::new_binary).
//! `COM_STMT_CLOSE` and `COM_STMT_SEND_LONG_DATA` have no response; `COM_STMT_RESET` is answered
//! with OK or ERR.
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use super::buf::ParseBuf;
use super::constants::capabilities::CLIENT_DEPRECATE_EOF;
use super::constants::command::{
    COM_STMT_CLOSE, COM_STMT_EXECUTE, COM_STMT_PREPARE, COM_STMT_RESET, COM_STMT_SEND_LONG_DATA,
};
use super::response::{is_eof, is_err, EofPacket, ErrPacket};
use super::resultset::{Column, MAX_COLUMNS};
use super::value::binary::{encode_param, param_null_bitmap_len};
use super::value::Value;
use super::ProtocolError;

/// `COM_STMT_EXECUTE` flag: no cursor, the whole result is sent.
pub const CURSOR_TYPE_NO_CURSOR: u8 = 0x00;

/// Column definitions preallocated at most for one prepare response (the counts come from the
/// peer).
const PREALLOCATE_DEFINITIONS: usize = 64;

/// `COM_STMT_PREPARE` with the SQL text.
pub fn com_stmt_prepare(dst: &mut BytesMut, sql: &str) {
    dst.reserve(1 + sql.len());
    dst.put_u8(COM_STMT_PREPARE);
    dst.put_slice(sql.as_bytes());
}

/// The number of parameters given to a statement differs from its number of placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the statement has {expected} parameters, {got} were given")]
pub struct ParamCountMismatch {
    /// Number of placeholders of the statement.
    pub expected: usize,
    /// Number of values given.
    pub got: usize,
}

/// `COM_STMT_EXECUTE` of `statement_id` (no cursor, one iteration) with `params` in the binary
/// protocol; `param_columns` is the statement's parameter count from its prepare response.
///
/// Every parameter is sent with its type (new-params-bound flag set); the types are chosen by
/// [`encode_param`].
///
/// # Errors
///
/// [`ParamCountMismatch`] if `params.len() != param_columns`; nothing is written then.
pub fn com_stmt_execute(
    dst: &mut BytesMut,
    statement_id: u32,
    params: &[Value],
    param_columns: usize,
) -> Result<(), ParamCountMismatch> {
    com_stmt_execute_with_long_data(dst, statement_id, params, param_columns, &[])
}

/// Like [`com_stmt_execute`], for a statement whose parameters at the indexes where
/// `long_data` is true were sent before with [`com_stmt_send_long_data`]: their types are sent,
/// their values are not.
///
/// # Errors
///
/// [`ParamCountMismatch`] if `params.len() != param_columns`; nothing is written then.
pub fn com_stmt_execute_with_long_data(
    dst: &mut BytesMut,
    statement_id: u32,
    params: &[Value],
    param_columns: usize,
    long_data: &[bool],
) -> Result<(), ParamCountMismatch> {
    if params.len() != param_columns {
        return Err(ParamCountMismatch {
            expected: param_columns,
            got: params.len(),
        });
    }
    dst.reserve(10 + params.len() * 11);
    dst.put_u8(COM_STMT_EXECUTE);
    dst.put_u32_le(statement_id);
    dst.put_u8(CURSOR_TYPE_NO_CURSOR);
    dst.put_u32_le(1);
    if params.is_empty() {
        return Ok(());
    }
    // The NULL bitmap and the types are written as zeros first and filled in while the values
    // are appended after them: no buffer of their own.
    let bitmap_at = dst.len();
    dst.put_bytes(0, param_null_bitmap_len(params.len()));
    dst.put_u8(1);
    let types_at = dst.len();
    dst.put_bytes(0, params.len() * 2);
    for (i, value) in params.iter().enumerate() {
        if value.is_null() {
            if let Some(byte) = dst.get_mut(bitmap_at + i / 8) {
                *byte |= 1 << (i % 8);
            }
        }
        let (ty, unsigned) = if long_data.get(i).copied().unwrap_or(false) {
            // Only the type: the value went as long data (always bytes or JSON text).
            let probe = match value {
                Value::Json(_) => Value::Json(bytes::Bytes::new()),
                _ => Value::Bytes(bytes::Bytes::new()),
            };
            encode_param(&probe, &mut BytesMut::new())
        } else {
            encode_param(value, dst)
        };
        if let Some(t) = dst.get_mut(types_at + 2 * i..types_at + 2 * i + 2) {
            t[0] = ty as u8;
            t[1] = if unsigned { 0x80 } else { 0x00 };
        }
    }
    Ok(())
}

/// `COM_STMT_CLOSE`: deallocates the statement (the server does not answer).
pub fn com_stmt_close(dst: &mut BytesMut, statement_id: u32) {
    dst.put_u8(COM_STMT_CLOSE);
    dst.put_u32_le(statement_id);
}

/// `COM_STMT_RESET`: discards long data sent for the statement and closes its cursor (answered
/// with OK or ERR).
pub fn com_stmt_reset(dst: &mut BytesMut, statement_id: u32) {
    dst.put_u8(COM_STMT_RESET);
    dst.put_u32_le(statement_id);
}

/// `COM_STMT_SEND_LONG_DATA`: appends `data` to parameter `param_index` (0-based) of the
/// statement, for the next execution (the server does not answer).
pub fn com_stmt_send_long_data(
    dst: &mut BytesMut,
    statement_id: u32,
    param_index: u16,
    data: &[u8],
) {
    dst.reserve(7 + data.len());
    dst.put_u8(COM_STMT_SEND_LONG_DATA);
    dst.put_u32_le(statement_id);
    dst.put_u16_le(param_index);
    dst.put_slice(data);
}

/// The first packet of a successful prepare response (`COM_STMT_PREPARE_OK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrepareOk {
    /// The statement's id, for the other `COM_STMT_*` commands.
    pub statement_id: u32,
    /// Number of columns of its result (0 for a statement without result set).
    pub num_columns: u16,
    /// Number of parameters (`?` placeholders).
    pub num_params: u16,
    /// Number of warnings (0 when the server left the field out).
    pub warnings: u16,
}

impl PrepareOk {
    /// Parses a `COM_STMT_PREPARE_OK` packet. The warning count (and anything after it) may be
    /// absent.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::Unexpected`] if the header is not `0x00`, [`ProtocolError::Truncated`] if
    /// a field before the filler is missing, [`ProtocolError::Malformed`] for a column count
    /// beyond [`MAX_COLUMNS`].
    pub fn parse(payload: &[u8]) -> Result<Self, ProtocolError> {
        let mut p = ParseBuf::new(payload);
        if p.u8("prepare OK header")? != 0x00 {
            return Err(ProtocolError::Unexpected("not a prepare OK packet"));
        }
        let statement_id = p.u32("prepare OK statement id")?;
        let num_columns = p.u16("prepare OK column count")?;
        let num_params = p.u16("prepare OK parameter count")?;
        if u64::from(num_columns) > MAX_COLUMNS {
            return Err(ProtocolError::Malformed("column count out of range"));
        }
        // Filler and warning count are missing from the shortest form.
        let warnings = if p.remaining() >= 3 {
            p.u8("prepare OK filler")?;
            p.u16("prepare OK warnings")?
        } else {
            0
        };
        Ok(PrepareOk {
            statement_id,
            num_columns,
            num_params,
            warnings,
        })
    }
}

/// A prepared statement as described by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The statement's id.
    pub statement_id: u32,
    /// One definition per parameter (servers describe them loosely: mostly type and charset).
    pub params: Vec<Column>,
    /// The columns of its result (empty for a statement without result set).
    pub columns: Arc<[Column]>,
    /// Number of warnings from the prepare.
    pub warnings: u16,
}

/// What a prepare response came to.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PrepareEvent {
    /// The statement is prepared.
    Done(Prepared),
    /// The server refused to prepare it.
    Err(ErrPacket),
}

#[derive(Debug)]
enum State {
    Start,
    Params {
        ok: PrepareOk,
        remaining: usize,
        params: Vec<Column>,
    },
    ParamsEof {
        ok: PrepareOk,
        params: Vec<Column>,
    },
    Columns {
        ok: PrepareOk,
        params: Vec<Column>,
        remaining: usize,
        columns: Vec<Column>,
    },
    ColumnsEof {
        ok: PrepareOk,
        params: Vec<Column>,
        columns: Vec<Column>,
    },
    Done,
}

/// A state machine over the packets of a `COM_STMT_PREPARE` response.
///
/// Feed each packet payload to [`PrepareDecoder::feed`]; it returns `Ok(None)` until the
/// response is complete, then [`PrepareEvent::Done`] (or [`PrepareEvent::Err`] if the first
/// packet is ERR), after which [`PrepareDecoder::is_done`] is true.
///
/// The response is `COM_STMT_PREPARE_OK`, then `num_params` parameter definitions and
/// `num_columns` column definitions, each group followed by a legacy EOF packet unless
/// `CLIENT_DEPRECATE_EOF` was negotiated (and absent when the group is empty).
#[derive(Debug)]
pub struct PrepareDecoder {
    capabilities: u32,
    state: State,
}

impl PrepareDecoder {
    /// A decoder for a prepare response under the negotiated capabilities.
    pub fn new(capabilities: u32) -> Self {
        Self {
            capabilities,
            state: State::Start,
        }
    }

    /// True when the whole response has been read.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn deprecate_eof(&self) -> bool {
        self.capabilities & CLIENT_DEPRECATE_EOF != 0
    }

    /// Feeds the next packet payload.
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] for a malformed packet, or one that has no place here (including any
    /// packet after the end of the response).
    pub fn feed(&mut self, payload: Bytes) -> Result<Option<PrepareEvent>, ProtocolError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Start => {
                if is_err(&payload) {
                    let err = ErrPacket::parse(&payload, self.capabilities)?;
                    return Ok(Some(PrepareEvent::Err(err)));
                }
                let ok = PrepareOk::parse(&payload)?;
                let remaining = usize::from(ok.num_params);
                let params = Vec::with_capacity(remaining.min(PREALLOCATE_DEFINITIONS));
                Ok(self.after_params(ok, remaining, params))
            }
            State::Params {
                ok,
                remaining,
                mut params,
            } => {
                params.push(Column::parse(&payload)?);
                Ok(self.after_params(ok, remaining.saturating_sub(1), params))
            }
            State::ParamsEof { ok, params } => {
                expect_eof(&payload, "expected EOF after parameter definitions")?;
                Ok(self.columns_start(ok, params))
            }
            State::Columns {
                ok,
                params,
                remaining,
                mut columns,
            } => {
                columns.push(Column::parse(&payload)?);
                Ok(self.after_columns(ok, params, remaining.saturating_sub(1), columns))
            }
            State::ColumnsEof {
                ok,
                params,
                columns,
            } => {
                expect_eof(&payload, "expected EOF after column definitions")?;
                Ok(Some(done(ok, params, columns)))
            }
            State::Done => Err(ProtocolError::Unexpected(
                "packet after the end of the prepare response",
            )),
        }
    }

    fn after_params(
        &mut self,
        ok: PrepareOk,
        remaining: usize,
        params: Vec<Column>,
    ) -> Option<PrepareEvent> {
        if remaining > 0 {
            self.state = State::Params {
                ok,
                remaining,
                params,
            };
            None
        } else if !params.is_empty() && !self.deprecate_eof() {
            self.state = State::ParamsEof { ok, params };
            None
        } else {
            self.columns_start(ok, params)
        }
    }

    fn columns_start(&mut self, ok: PrepareOk, params: Vec<Column>) -> Option<PrepareEvent> {
        let remaining = usize::from(ok.num_columns);
        let columns = Vec::with_capacity(remaining.min(PREALLOCATE_DEFINITIONS));
        self.after_columns(ok, params, remaining, columns)
    }

    fn after_columns(
        &mut self,
        ok: PrepareOk,
        params: Vec<Column>,
        remaining: usize,
        columns: Vec<Column>,
    ) -> Option<PrepareEvent> {
        if remaining > 0 {
            self.state = State::Columns {
                ok,
                params,
                remaining,
                columns,
            };
            None
        } else if !columns.is_empty() && !self.deprecate_eof() {
            self.state = State::ColumnsEof {
                ok,
                params,
                columns,
            };
            None
        } else {
            Some(done(ok, params, columns))
        }
    }
}

fn expect_eof(payload: &[u8], what: &'static str) -> Result<(), ProtocolError> {
    if !is_eof(payload, false) {
        return Err(ProtocolError::Unexpected(what));
    }
    EofPacket::parse(payload).map(drop)
}

fn done(ok: PrepareOk, params: Vec<Column>, columns: Vec<Column>) -> PrepareEvent {
    PrepareEvent::Done(Prepared {
        statement_id: ok.statement_id,
        params,
        columns: columns.into(),
        warnings: ok.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::buf::put_lenenc_bytes;
    use crate::protocol::constants::capabilities::*;
    use crate::protocol::constants::ColumnType;
    use crate::protocol::value::{Date, Decimal, Time};

    const CAPS_EOF: u32 = CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS;
    const CAPS_NO_EOF: u32 = CAPS_EOF | CLIENT_DEPRECATE_EOF;

    fn enc(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
        let mut b = BytesMut::new();
        f(&mut b);
        b.to_vec()
    }

    #[test]
    fn simple_commands() {
        assert_eq!(enc(|b| com_stmt_prepare(b, "SELECT ?")), b"\x16SELECT ?");
        assert_eq!(enc(|b| com_stmt_close(b, 0x0102_0304)), [0x19, 4, 3, 2, 1]);
        assert_eq!(enc(|b| com_stmt_reset(b, 7)), [0x1a, 7, 0, 0, 0]);
        assert_eq!(
            enc(|b| com_stmt_send_long_data(b, 7, 0x0102, b"data")),
            b"\x18\x07\x00\x00\x00\x02\x01data"
        );
    }

    #[test]
    fn execute_without_params() {
        let mut b = BytesMut::new();
        com_stmt_execute(&mut b, 1, &[], 0).unwrap();
        assert_eq!(&b[..], [0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn execute_with_params() {
        let params = [
            Value::Int(-2),
            Value::Null,
            Value::from("ab"),
            Value::UInt(3),
            Value::Null,
            Value::Double(1.5),
            Value::Date(Date::new(2024, 1, 2).unwrap()),
            Value::Time(Time::new(false, 1, 2, 3, 0).unwrap()),
            Value::Null,
            Value::Decimal("1.50".parse::<Decimal>().unwrap()),
        ];
        let mut b = BytesMut::new();
        com_stmt_execute(&mut b, 0x11, &params, 10).unwrap();
        let mut want = vec![0x17, 0x11, 0, 0, 0, 0, 1, 0, 0, 0];
        // NULL bitmap: params 1, 4 and 8.
        want.extend([0b0001_0010, 0b0000_0001]);
        want.push(1);
        want.extend([
            0x08, 0x00, 0x06, 0x00, 0xfd, 0x00, 0x08, 0x80, 0x06, 0x00, 0x05, 0x00, 0x0a, 0x00,
            0x0b, 0x00, 0x06, 0x00, 0xf6, 0x00,
        ]);
        want.extend((-2i64).to_le_bytes());
        want.extend(b"\x02ab");
        want.extend(3u64.to_le_bytes());
        want.extend(1.5f64.to_le_bytes());
        want.extend([4, 0xE8, 0x07, 1, 2]);
        want.extend([8, 0, 0, 0, 0, 0, 1, 2, 3]);
        want.extend(b"\x041.50");
        assert_eq!(&b[..], &want[..]);
    }

    #[test]
    fn execute_param_count_mismatch() {
        let mut b = BytesMut::from(&b"x"[..]);
        assert_eq!(
            com_stmt_execute(&mut b, 1, &[Value::Int(1)], 2),
            Err(ParamCountMismatch {
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            com_stmt_execute(&mut b, 1, &[Value::Int(1)], 0),
            Err(ParamCountMismatch {
                expected: 0,
                got: 1
            })
        );
        assert_eq!(&b[..], b"x");
        assert_eq!(
            ParamCountMismatch {
                expected: 2,
                got: 1
            }
            .to_string(),
            "the statement has 2 parameters, 1 were given"
        );
    }

    fn prepare_ok(id: u32, columns: u16, params: u16, warnings: Option<u16>) -> Bytes {
        let mut b = BytesMut::new();
        b.put_u8(0);
        b.put_u32_le(id);
        b.put_u16_le(columns);
        b.put_u16_le(params);
        if let Some(w) = warnings {
            b.put_u8(0);
            b.put_u16_le(w);
        }
        b.freeze()
    }

    fn coldef(name: &str, ty: ColumnType) -> Bytes {
        let mut b = BytesMut::new();
        for s in ["def", "", "", "", name, ""] {
            put_lenenc_bytes(&mut b, s.as_bytes());
        }
        b.put_u8(0x0C);
        b.put_u16_le(63);
        b.put_u32_le(0);
        b.put_u8(ty as u8);
        b.put_u16_le(0x80);
        b.put_u8(0);
        b.put_u16_le(0);
        b.freeze()
    }

    fn eof() -> Bytes {
        Bytes::from_static(&[0xFE, 0, 0, 2, 0])
    }

    fn run(caps: u32, packets: Vec<Bytes>) -> Prepared {
        let mut dec = PrepareDecoder::new(caps);
        let n = packets.len();
        for (i, p) in packets.into_iter().enumerate() {
            assert!(!dec.is_done());
            match dec.feed(p).unwrap() {
                None => assert!(i + 1 < n, "no event after the last packet"),
                Some(PrepareEvent::Done(prepared)) => {
                    assert_eq!(i + 1, n, "done before the last packet");
                    assert!(dec.is_done());
                    assert!(dec.feed(eof()).is_err());
                    return prepared;
                }
                Some(other) => panic!("{other:?}"),
            }
        }
        panic!("not done")
    }

    #[test]
    fn prepare_ok_forms() {
        assert_eq!(
            PrepareOk::parse(&prepare_ok(5, 2, 3, Some(1))),
            Ok(PrepareOk {
                statement_id: 5,
                num_columns: 2,
                num_params: 3,
                warnings: 1
            })
        );
        // Without filler and warnings, or with the filler only.
        for short in [prepare_ok(5, 2, 3, None), {
            let mut b = BytesMut::from(&prepare_ok(5, 2, 3, None)[..]);
            b.put_u8(0);
            b.freeze()
        }] {
            assert_eq!(PrepareOk::parse(&short).map(|ok| ok.warnings), Ok(0));
        }
        // With a trailing metadata-follows byte.
        let mut b = BytesMut::from(&prepare_ok(5, 2, 3, Some(4))[..]);
        b.put_u8(1);
        assert_eq!(PrepareOk::parse(&b).map(|ok| ok.warnings), Ok(4));
        let full = prepare_ok(5, 2, 3, None);
        for n in 0..full.len() {
            assert!(
                matches!(
                    PrepareOk::parse(&full[..n]),
                    Err(ProtocolError::Truncated(_))
                ),
                "{n}"
            );
        }
        assert_eq!(
            PrepareOk::parse(&[1, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(ProtocolError::Unexpected("not a prepare OK packet"))
        );
        assert_eq!(
            PrepareOk::parse(&prepare_ok(1, 4097, 0, None)),
            Err(ProtocolError::Malformed("column count out of range"))
        );
    }

    #[test]
    fn prepare_with_params_and_columns_legacy_eof() {
        let p = run(
            CAPS_EOF,
            vec![
                prepare_ok(9, 2, 1, Some(0)),
                coldef("?", ColumnType::VarString),
                eof(),
                coldef("a", ColumnType::Long),
                coldef("b", ColumnType::Blob),
                eof(),
            ],
        );
        assert_eq!(p.statement_id, 9);
        assert_eq!(p.params.len(), 1);
        assert_eq!(p.params[0].name, "?");
        assert_eq!(p.columns.len(), 2);
        assert_eq!(p.columns[1].column_type, ColumnType::Blob);
        assert_eq!(p.warnings, 0);
    }

    #[test]
    fn prepare_with_params_and_columns_deprecate_eof() {
        let p = run(
            CAPS_NO_EOF,
            vec![
                prepare_ok(9, 2, 1, Some(3)),
                coldef("?", ColumnType::VarString),
                coldef("a", ColumnType::Long),
                coldef("b", ColumnType::Blob),
            ],
        );
        assert_eq!(p.params.len(), 1);
        assert_eq!(p.columns.len(), 2);
        assert_eq!(p.warnings, 3);
    }

    #[test]
    fn prepare_without_params_or_columns() {
        for caps in [CAPS_EOF, CAPS_NO_EOF] {
            let p = run(caps, vec![prepare_ok(1, 0, 0, Some(0))]);
            assert!(p.params.is_empty() && p.columns.is_empty());
            // Columns only.
            let mut packets = vec![prepare_ok(2, 1, 0, None), coldef("a", ColumnType::Long)];
            if caps == CAPS_EOF {
                packets.push(eof());
            }
            let p = run(caps, packets);
            assert!(p.params.is_empty());
            assert_eq!(p.columns.len(), 1);
            // Params only.
            let mut packets = vec![
                prepare_ok(3, 0, 2, None),
                coldef("?", ColumnType::VarString),
                coldef("?", ColumnType::VarString),
            ];
            if caps == CAPS_EOF {
                packets.push(eof());
            }
            let p = run(caps, packets);
            assert_eq!(p.params.len(), 2);
            assert!(p.columns.is_empty());
        }
    }

    fn unhex(s: &str) -> Bytes {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>()
            .into()
    }

    /// `SELECT ? + 1 AS x, CAST(? AS CHAR) AS s` prepared on MariaDB 10.11 and MySQL 9.7
    /// (`CLIENT_DEPRECATE_EOF` negotiated).
    #[test]
    fn captured_prepare_responses() {
        let mariadb = [
            "000500000002000200000000",
            "03646566000000013f000c3f0000000000068000000000",
            "03646566000000013f000c3f0000000000068000000000",
            "036465660000000178000c3f0011000000058000000000",
            "036465660000000173000c2d0000000000fd0000000000",
        ];
        let mysql = [
            "003700000002000200000000",
            "03646566000000013f000c3f0015000000088000000000",
            "03646566000000013f000c2d00fcff0000fd00001f0000",
            "036465660000000178000c3f0016000000088000000000",
            "036465660000000173000c2d00fcff0000fd00001f0000",
        ];
        for (packets, id, param_types, x_type) in [
            (
                mariadb,
                5,
                [ColumnType::Null, ColumnType::Null],
                ColumnType::Double,
            ),
            (
                mysql,
                0x37,
                [ColumnType::LongLong, ColumnType::VarString],
                ColumnType::LongLong,
            ),
        ] {
            let p = run(CAPS_NO_EOF, packets.iter().map(|h| unhex(h)).collect());
            assert_eq!(p.statement_id, id);
            assert_eq!(p.warnings, 0);
            let types: Vec<ColumnType> = p.params.iter().map(|c| c.column_type).collect();
            assert_eq!(types, param_types);
            assert_eq!(p.params[0].name, "?");
            assert_eq!(p.columns.len(), 2);
            assert_eq!(p.columns[0].name, "x");
            assert_eq!(p.columns[0].column_type, x_type);
            assert_eq!(p.columns[1].name, "s");
            assert_eq!(p.columns[1].column_type, ColumnType::VarString);
        }
    }

    /// The same statement executed with 41 and "hi" on MySQL 9.7 (MariaDB sends the same rows),
    /// with `NO_BACKSLASH_ESCAPES` in the session's sql_mode.
    #[test]
    fn captured_execute_response() {
        use crate::protocol::constants::status::*;
        use crate::protocol::resultset::{QueryEvent, TextResultDecoder};
        let mut dec = TextResultDecoder::new_binary(CAPS_NO_EOF);
        let mut events = Vec::new();
        for packet in [
            "02",
            "036465660000000178000c3f0016000000088000000000",
            "036465660000000173000c2d00fcff0000fd00001f0000",
            "00002a00000000000000026869",
            "fe000002020000",
        ] {
            events.extend(dec.feed(unhex(packet)).unwrap());
        }
        assert!(dec.is_done());
        assert_eq!(events.len(), 3);
        assert!(
            matches!(&events[0], QueryEvent::Columns(c) if c[0].column_type == ColumnType::LongLong)
        );
        assert_eq!(
            events[1],
            QueryEvent::Row(vec![Value::Int(42), Value::from("hi")])
        );
        assert_eq!(
            events[2],
            QueryEvent::ResultSetEnd {
                status: SERVER_STATUS_AUTOCOMMIT | SERVER_STATUS_NO_BACKSLASH_ESCAPES,
                warnings: 0
            }
        );
    }

    #[test]
    fn prepare_error() {
        let mut dec = PrepareDecoder::new(CAPS_EOF);
        let ev = dec
            .feed(Bytes::from_static(
                b"\xff\x28\x04#42000You have an error in your SQL syntax",
            ))
            .unwrap();
        let Some(PrepareEvent::Err(err)) = ev else {
            panic!("{ev:?}")
        };
        assert_eq!(err.code, 1064);
        assert_eq!(err.sql_state, "42000");
        assert!(dec.is_done());
        assert!(dec.feed(eof()).is_err());
    }

    #[test]
    fn malformed_prepare_responses() {
        let mut dec = PrepareDecoder::new(CAPS_EOF);
        assert!(dec.feed(Bytes::new()).is_err());
        // A column definition where the EOF should be.
        let mut dec = PrepareDecoder::new(CAPS_EOF);
        dec.feed(prepare_ok(1, 1, 1, None)).unwrap();
        dec.feed(coldef("?", ColumnType::VarString)).unwrap();
        assert_eq!(
            dec.feed(coldef("a", ColumnType::Long)),
            Err(ProtocolError::Unexpected(
                "expected EOF after parameter definitions"
            ))
        );
        // An EOF where a definition should be.
        let mut dec = PrepareDecoder::new(CAPS_EOF);
        dec.feed(prepare_ok(1, 1, 1, None)).unwrap();
        assert!(dec.feed(eof()).is_err());
        // An ERR after the OK is not a definition.
        let mut dec = PrepareDecoder::new(CAPS_NO_EOF);
        dec.feed(prepare_ok(1, 1, 0, None)).unwrap();
        assert!(dec.feed(Bytes::from_static(b"\xff\x28\x04boom")).is_err());
    }

    proptest::proptest! {
        /// A valid prepare OK followed by arbitrary packets never panics.
        #[test]
        fn arbitrary_definitions_never_panic(
            deprecate in proptest::prelude::any::<bool>(),
            columns in 0u16..4,
            params in 0u16..4,
            packets in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..32), 0..10),
        ) {
            let mut dec = PrepareDecoder::new(if deprecate { CAPS_NO_EOF } else { CAPS_EOF });
            let first = dec.feed(prepare_ok(1, columns, params, Some(0)));
            proptest::prop_assert!(first.is_ok());
            for p in packets {
                if dec.feed(Bytes::from(p)).is_err() {
                    break;
                }
            }
        }
    }
}
