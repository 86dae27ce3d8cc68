//! Text-protocol result sets: column count, column definitions, rows, and the end of each result
//! (with `SERVER_MORE_RESULTS_EXISTS` for multi-result responses). The response to
//! `COM_STMT_EXECUTE` has the same structure with binary rows
//! ([`TextResultDecoder::new_binary`]).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response.html>
use std::sync::Arc;

use bytes::Bytes;

use super::buf::{lenenc_slice, ParseBuf};
use super::constants::capabilities::{CLIENT_DEPRECATE_EOF, CLIENT_OPTIONAL_RESULTSET_METADATA};
use super::constants::status::SERVER_MORE_RESULTS_EXISTS;
use super::response::{is_eof, is_err, EofPacket, ErrPacket, OkPacket};
use super::value::binary::decode_binary_row;
use super::value::{self, Value};
use super::ProtocolError;

pub use super::column::{Column, MAX_COLUMNS};

/// Decodes one text-protocol row against its columns, slicing values out of `payload` without
/// copying.
pub fn decode_row(payload: &Bytes, columns: &[Column]) -> Result<Vec<Value>, ProtocolError> {
    let mut values = Vec::with_capacity(columns.len());
    let mut pos = 0;
    for col in columns {
        if pos >= payload.len() {
            return Err(ProtocolError::Truncated("row value"));
        }
        let value = match lenenc_slice(payload, &mut pos)? {
            None => Value::Null,
            Some(raw) => value::decode_text(raw, col.column_type, col.flags, col.charset)?,
        };
        values.push(value);
    }
    if pos != payload.len() {
        return Err(ProtocolError::ColumnCountMismatch {
            columns: columns.len(),
        });
    }
    Ok(values)
}

/// Column definitions whose raw bytes are preallocated at most when a result set starts (the
/// count comes from the peer).
const PREALLOCATE_COLUMNS: usize = 64;

/// Column sets remembered per thread.
const COLUMN_CACHE_ENTRIES: usize = 32;
/// Largest column set (bytes of its definition packets) that is remembered.
const COLUMN_CACHE_MAX_BYTES: usize = 16 * 1024;

/// The column sets of recent result sets on this thread, keyed by the bytes of their definition
/// packets.
///
/// A statement run again (a prepared statement above all: the server sends its column
/// definitions with every execution) sends byte-identical definitions; parsing them again would
/// allocate five strings per column per execution. Identical bytes parse to identical columns,
/// so a hit hands out the same `Arc<[Column]>`. Connection actors of one arbiter share the
/// thread and so the cache; it holds at most [`COLUMN_CACHE_ENTRIES`] sets of at most
/// [`COLUMN_CACHE_MAX_BYTES`] each, most recently used first.
struct ColumnSetCache {
    entries: Vec<CachedColumnSet>,
}

/// The definition packets of a column set and the columns they parse to.
type CachedColumnSet = (Box<[u8]>, Arc<[Column]>);

thread_local! {
    static COLUMN_SETS: std::cell::RefCell<ColumnSetCache> =
        const { std::cell::RefCell::new(ColumnSetCache { entries: Vec::new() }) };
}

impl ColumnSetCache {
    /// The columns of `raw` (definition packets, each preceded by its length as `u32` LE),
    /// from the cache or parsed.
    fn columns(raw: Vec<u8>) -> Result<Arc<[Column]>, ProtocolError> {
        let hit = COLUMN_SETS.with(|c| {
            let mut c = c.borrow_mut();
            let i = c.entries.iter().position(|(k, _)| **k == *raw)?;
            if i > 0 {
                let e = c.entries.remove(i);
                c.entries.insert(0, e);
            }
            c.entries.first().map(|(_, cols)| cols.clone())
        });
        if let Some(columns) = hit {
            return Ok(columns);
        }
        let mut columns = Vec::new();
        let mut rest = raw.as_slice();
        while let Some((len, tail)) = rest.split_first_chunk::<4>() {
            let len = u32::from_le_bytes(*len) as usize;
            let (payload, tail) = tail
                .split_at_checked(len)
                .ok_or(ProtocolError::Truncated("column definition"))?;
            columns.push(Column::parse(payload)?);
            rest = tail;
        }
        let columns: Arc<[Column]> = columns.into();
        if raw.len() <= COLUMN_CACHE_MAX_BYTES {
            COLUMN_SETS.with(|c| {
                let mut c = c.borrow_mut();
                c.entries.truncate(COLUMN_CACHE_ENTRIES - 1);
                c.entries
                    .insert(0, (raw.into_boxed_slice(), columns.clone()));
            });
        }
        Ok(columns)
    }
}

/// What one packet of a text-protocol response meant.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum QueryEvent {
    /// A statement that returned no result set finished (one per statement of a multi-statement
    /// query). `more_results()` is in `status`.
    Ok(OkPacket),
    /// A result set starts; all its column definitions have been read.
    Columns(Arc<[Column]>),
    /// One row of the current result set, decoded per column type.
    Row(Vec<Value>),
    /// The current result set ended (EOF or OK-as-EOF), with its status flags and warning count.
    ResultSetEnd {
        /// Server status flags.
        status: u16,
        /// Number of warnings.
        warnings: u16,
    },
    /// The server reported an error; this ends the response.
    Err(ErrPacket),
    /// The server asks for a local file (`LOAD DATA LOCAL INFILE`), with the file name.
    LocalInfile(Vec<u8>),
}

#[derive(Debug)]
enum State {
    /// The first packet of a (possibly further) response.
    Start,
    /// Column definitions: `remaining` more to read; those read so far are kept as bytes
    /// (see [`ColumnSetCache`]).
    Columns { remaining: usize, raw: Vec<u8> },
    /// The legacy EOF packet that ends the column definitions.
    ColumnsEof(Arc<[Column]>),
    /// Rows until EOF/OK or ERR.
    Rows(Arc<[Column]>),
    /// After a `LOCAL INFILE` request: the OK or ERR that follows the client's reply.
    InfileResult,
    /// The response has been read completely.
    Done,
}

/// A state machine that turns the packets of a COM_QUERY response into [`QueryEvent`]s.
///
/// Feed every packet payload received after the command to [`TextResultDecoder::feed`]; it
/// returns `Ok(None)` for packets that carry no event of their own (column definitions before the
/// last, a legacy EOF after the definitions). After `Err`, or after the end of a result with no
/// `SERVER_MORE_RESULTS_EXISTS`, [`TextResultDecoder::is_done`] is true.
///
/// After [`QueryEvent::LocalInfile`], the caller sends the file (or an empty packet) and keeps
/// feeding: the server's OK or ERR follows.
#[derive(Debug)]
pub struct TextResultDecoder {
    capabilities: u32,
    binary: bool,
    state: State,
    /// `MARIADB_CLIENT_CACHE_METADATA` is in effect: a "metadata follows" byte comes after
    /// each column count.
    metadata_cache: bool,
    /// The column definitions to use when the server leaves them out.
    cached_columns: Option<Arc<[Column]>>,
}

impl TextResultDecoder {
    /// A decoder for a response under the negotiated capabilities.
    pub fn new(capabilities: u32) -> Self {
        Self {
            capabilities,
            binary: false,
            state: State::Start,
            metadata_cache: false,
            cached_columns: None,
        }
    }

    /// The same decoder for a connection where MariaDB's `MARIADB_CLIENT_CACHE_METADATA` is
    /// in effect: each column count is followed by a "metadata follows" byte, and when it is 0
    /// the result's columns are `columns` (those of the prepared statement, as last received).
    /// A result without metadata and without `columns` of the same count is a protocol error.
    pub fn with_metadata_cache(mut self, columns: Option<Arc<[Column]>>) -> Self {
        self.metadata_cache = true;
        self.cached_columns = columns;
        self
    }

    /// Replaces the column definitions used when the server leaves them out (they may have
    /// changed since the decoder was made, e.g. by the reply to an execution before it).
    pub fn set_cached_columns(&mut self, columns: Arc<[Column]>) {
        self.cached_columns = Some(columns);
    }

    /// A decoder for the response to `COM_STMT_EXECUTE`: the same packets as a COM_QUERY
    /// response, with rows in the binary protocol
    /// ([`decode_binary_row`]).
    pub fn new_binary(capabilities: u32) -> Self {
        Self {
            binary: true,
            ..Self::new(capabilities)
        }
    }

    fn deprecate_eof(&self) -> bool {
        self.capabilities & CLIENT_DEPRECATE_EOF != 0
    }

    /// Feeds the next packet payload.
    pub fn feed(&mut self, payload: Bytes) -> Result<Option<QueryEvent>, ProtocolError> {
        if is_err(&payload) && !matches!(self.state, State::Done) {
            let err = ErrPacket::parse(&payload, self.capabilities)?;
            self.state = State::Done;
            return Ok(Some(QueryEvent::Err(err)));
        }
        match std::mem::replace(&mut self.state, State::Done) {
            State::Start => self.start(&payload),
            State::InfileResult => match payload.first() {
                Some(0x00) => self.ok(&payload),
                _ => Err(ProtocolError::Unexpected(
                    "expected OK after LOCAL INFILE data",
                )),
            },
            State::Columns { remaining, mut raw } => {
                raw.extend_from_slice(&(payload.len() as u32).to_le_bytes());
                raw.extend_from_slice(&payload);
                let remaining = remaining.saturating_sub(1);
                if remaining > 0 {
                    self.state = State::Columns { remaining, raw };
                    return Ok(None);
                }
                let columns = ColumnSetCache::columns(raw)?;
                self.state = if self.deprecate_eof() {
                    State::Rows(columns.clone())
                } else {
                    State::ColumnsEof(columns.clone())
                };
                Ok(Some(QueryEvent::Columns(columns)))
            }
            State::ColumnsEof(columns) => {
                if !is_eof(&payload, false) {
                    return Err(ProtocolError::Unexpected(
                        "expected EOF after column definitions",
                    ));
                }
                EofPacket::parse(&payload)?;
                self.state = State::Rows(columns);
                Ok(None)
            }
            State::Rows(columns) => {
                if is_eof(&payload, self.deprecate_eof()) {
                    let (status, warnings) = if self.deprecate_eof() {
                        let ok = OkPacket::parse(&payload, self.capabilities)?;
                        (ok.status, ok.warnings)
                    } else {
                        let eof = EofPacket::parse(&payload)?;
                        (eof.status, eof.warnings)
                    };
                    if status & SERVER_MORE_RESULTS_EXISTS != 0 {
                        self.state = State::Start;
                    }
                    return Ok(Some(QueryEvent::ResultSetEnd { status, warnings }));
                }
                let row = if self.binary {
                    decode_binary_row(&payload, &columns)?
                } else {
                    decode_row(&payload, &columns)?
                };
                self.state = State::Rows(columns);
                Ok(Some(QueryEvent::Row(row)))
            }
            State::Done => Err(ProtocolError::Unexpected(
                "packet after the end of the response",
            )),
        }
    }

    fn ok(&mut self, payload: &[u8]) -> Result<Option<QueryEvent>, ProtocolError> {
        let ok = OkPacket::parse(payload, self.capabilities)?;
        if ok.status & SERVER_MORE_RESULTS_EXISTS != 0 {
            self.state = State::Start;
        }
        Ok(Some(QueryEvent::Ok(ok)))
    }

    fn start(&mut self, payload: &[u8]) -> Result<Option<QueryEvent>, ProtocolError> {
        match payload.first() {
            None => Err(ProtocolError::Truncated("query response")),
            Some(0x00) => self.ok(payload),
            Some(0xFB) => {
                self.state = State::InfileResult;
                Ok(Some(QueryEvent::LocalInfile(
                    payload.get(1..).unwrap_or_default().to_vec(),
                )))
            }
            Some(_) => {
                let mut p = ParseBuf::new(payload);
                let count = p
                    .lenenc_int("column count")?
                    .ok_or(ProtocolError::Malformed("NULL column count"))?;
                if count == 0 || count > MAX_COLUMNS {
                    return Err(ProtocolError::Malformed("column count out of range"));
                }
                if self.capabilities & CLIENT_OPTIONAL_RESULTSET_METADATA != 0
                    && p.u8("metadata follows")? == 0
                {
                    return Err(ProtocolError::Unexpected("result set without metadata"));
                }
                let count = count as usize;
                if self.metadata_cache && p.u8("metadata follows")? == 0 {
                    // The statement's columns, unchanged since the client last received them.
                    let columns = match &self.cached_columns {
                        Some(c) if c.len() == count => c.clone(),
                        _ => {
                            return Err(ProtocolError::Unexpected(
                                "result set without metadata for unknown columns",
                            ))
                        }
                    };
                    // No definitions, so no EOF after them either.
                    self.state = State::Rows(columns.clone());
                    return Ok(Some(QueryEvent::Columns(columns)));
                }
                self.state = State::Columns {
                    remaining: count,
                    raw: Vec::with_capacity(count.min(PREALLOCATE_COLUMNS) * 64),
                };
                Ok(None)
            }
        }
    }

    /// True when the whole response has been read.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::buf::{put_lenenc_bytes, put_lenenc_int};
    use crate::protocol::constants::capabilities::*;
    use crate::protocol::constants::column_flags::*;
    use crate::protocol::constants::status::*;
    use crate::protocol::constants::ColumnType;
    use bytes::{BufMut, BytesMut};

    const CAPS_EOF: u32 = CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS;
    const CAPS_NO_EOF: u32 = CAPS_EOF | CLIENT_DEPRECATE_EOF;

    fn coldef(name: &str, ty: u8, flags: u16, charset: u16) -> Bytes {
        let mut b = BytesMut::new();
        for s in ["def", "test", "t", "t_phys", name, name] {
            put_lenenc_bytes(&mut b, s.as_bytes());
        }
        b.put_u8(0x0C);
        b.put_u16_le(charset);
        b.put_u32_le(11);
        b.put_u8(ty);
        b.put_u16_le(flags);
        b.put_u8(0);
        b.put_u16_le(0);
        b.freeze()
    }

    fn count(n: u64) -> Bytes {
        let mut b = BytesMut::new();
        put_lenenc_int(&mut b, n);
        b.freeze()
    }

    fn row(values: &[Option<&[u8]>]) -> Bytes {
        let mut b = BytesMut::new();
        for v in values {
            match v {
                Some(v) => put_lenenc_bytes(&mut b, v),
                None => b.put_u8(0xFB),
            }
        }
        b.freeze()
    }

    fn eof(status: u16) -> Bytes {
        let mut b = BytesMut::from(&[0xFE, 0x00, 0x00][..]);
        b.put_u16_le(status);
        b.freeze()
    }

    fn ok_eof(status: u16, warnings: u16) -> Bytes {
        let mut b = BytesMut::from(&[0xFE, 0x00, 0x00][..]);
        b.put_u16_le(status);
        b.put_u16_le(warnings);
        b.freeze()
    }

    fn ok(affected: u8, status: u16) -> Bytes {
        let mut b = BytesMut::from(&[0x00, affected, 0x00][..]);
        b.put_u16_le(status);
        b.put_u16_le(0);
        b.freeze()
    }

    fn err() -> Bytes {
        Bytes::from_static(b"\xff\x7a\x04#42S02Table 'test.nope' doesn't exist")
    }

    fn two_columns() -> Vec<Bytes> {
        vec![
            count(2),
            coldef("id", 0x03, NOT_NULL | PRI_KEY | NUM, 63),
            coldef("name", 0xFD, 0, 45),
        ]
    }

    fn run(caps: u32, packets: Vec<Bytes>) -> (Vec<QueryEvent>, TextResultDecoder) {
        let mut dec = TextResultDecoder::new(caps);
        let mut events = Vec::new();
        for p in packets {
            assert!(!dec.is_done());
            if let Some(e) = dec.feed(p).unwrap() {
                events.push(e);
            }
        }
        (events, dec)
    }

    fn bytes(s: &str) -> Value {
        Value::Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn column_definition() {
        let col = Column::parse(&coldef("id", 0x03, NOT_NULL | PRI_KEY, 63)).unwrap();
        assert_eq!(col.schema, "test");
        assert_eq!(col.table, "t");
        assert_eq!(col.org_table, "t_phys");
        assert_eq!(col.name, "id");
        assert_eq!(col.org_name, "id");
        assert_eq!(col.charset, 63);
        assert_eq!(col.column_length, 11);
        assert_eq!(col.column_type, ColumnType::Long);
        assert_eq!(col.flags, NOT_NULL | PRI_KEY);
        assert_eq!(col.decimals, 0);
    }

    #[test]
    fn column_definition_malformed() {
        let good = coldef("id", 0x03, 0, 63);
        for n in 0..good.len() - 2 {
            assert!(
                matches!(Column::parse(&good[..n]), Err(ProtocolError::Truncated(_))),
                "{n}"
            );
        }
        // Missing filler is tolerated only if the block says so; a short block is malformed.
        let mut short = good[..good.len() - 13].to_vec();
        short.push(0x05);
        short.extend_from_slice(&[0; 5]);
        assert!(matches!(
            Column::parse(&short),
            Err(ProtocolError::Malformed(_))
        ));
        // Unknown type byte.
        let bad_type = coldef("id", 0x42, 0, 63);
        assert_eq!(
            Column::parse(&bad_type),
            Err(ProtocolError::Malformed("unknown column type"))
        );
        // A name length far past the end.
        let mut b = BytesMut::new();
        put_lenenc_bytes(&mut b, b"def");
        b.extend_from_slice(&[0xFD, 0xFF, 0xFF, 0xFF, b'x']);
        assert_eq!(
            Column::parse(&b),
            Err(ProtocolError::Truncated("column schema"))
        );
        // NULL where a string is required.
        assert!(matches!(
            Column::parse(&[0xFB]),
            Err(ProtocolError::Malformed(_))
        ));
    }

    #[test]
    fn result_set_with_legacy_eof() {
        let mut packets = two_columns();
        packets.push(eof(SERVER_STATUS_AUTOCOMMIT));
        packets.push(row(&[Some(b"1"), Some(b"alice")]));
        packets.push(row(&[Some(b"2"), None]));
        packets.push(eof(SERVER_STATUS_AUTOCOMMIT));
        let (events, dec) = run(CAPS_EOF, packets);
        assert!(dec.is_done());
        assert_eq!(events.len(), 4);
        let QueryEvent::Columns(cols) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(cols.len(), 2);
        assert_eq!(cols[1].name, "name");
        assert_eq!(
            events[1],
            QueryEvent::Row(vec![Value::Int(1), bytes("alice")])
        );
        assert_eq!(events[2], QueryEvent::Row(vec![Value::Int(2), Value::Null]));
        assert_eq!(
            events[3],
            QueryEvent::ResultSetEnd {
                status: SERVER_STATUS_AUTOCOMMIT,
                warnings: 0
            }
        );
    }

    /// A binary row of a BIGINT column and a VARCHAR column.
    fn binary_row(id: Option<i64>, name: Option<&[u8]>) -> Bytes {
        let mut b = BytesMut::new();
        b.put_u8(0x00);
        let mut bitmap = 0u8;
        if id.is_none() {
            bitmap |= 1 << 2;
        }
        if name.is_none() {
            bitmap |= 1 << 3;
        }
        b.put_u8(bitmap);
        if let Some(id) = id {
            b.put_i64_le(id);
        }
        if let Some(name) = name {
            put_lenenc_bytes(&mut b, name);
        }
        b.freeze()
    }

    fn binary_columns() -> Vec<Bytes> {
        vec![
            count(2),
            coldef("id", 0x08, NOT_NULL | PRI_KEY | NUM, 63),
            coldef("name", 0xFD, 0, 45),
        ]
    }

    fn run_binary(caps: u32, packets: Vec<Bytes>) -> (Vec<QueryEvent>, TextResultDecoder) {
        let mut dec = TextResultDecoder::new_binary(caps);
        let mut events = Vec::new();
        for p in packets {
            assert!(!dec.is_done());
            if let Some(e) = dec.feed(p).unwrap() {
                events.push(e);
            }
        }
        (events, dec)
    }

    /// A column count followed by MariaDB's "metadata follows" byte.
    fn count_with_flag(n: u64, follows: bool) -> Bytes {
        let mut b = BytesMut::new();
        put_lenenc_int(&mut b, n);
        b.put_u8(u8::from(follows));
        b.freeze()
    }

    #[test]
    fn cached_metadata_is_used_when_the_server_leaves_it_out() {
        for caps in [CAPS_EOF, CAPS_NO_EOF] {
            // First execution: the definitions follow (and, without DEPRECATE_EOF, their EOF).
            let mut packets = vec![count_with_flag(2, true)];
            packets.extend(binary_columns().into_iter().skip(1));
            if caps == CAPS_EOF {
                packets.push(eof(SERVER_STATUS_AUTOCOMMIT));
            }
            packets.push(binary_row(Some(7), Some(b"x")));
            packets.push(ok_eof(SERVER_STATUS_AUTOCOMMIT, 0));
            let mut dec = TextResultDecoder::new_binary(caps).with_metadata_cache(None);
            let mut columns = None;
            for p in packets {
                if let Some(QueryEvent::Columns(c)) = dec.feed(p).unwrap() {
                    columns = Some(c);
                }
            }
            assert!(dec.is_done());
            let columns = columns.expect("columns");
            assert_eq!(columns[1].name, "name");

            // Next execution: no definitions and no EOF; the cached ones describe the row.
            let mut dec = TextResultDecoder::new_binary(caps).with_metadata_cache(None);
            dec.set_cached_columns(columns.clone());
            let events: Vec<_> = [
                count_with_flag(2, false),
                binary_row(Some(-1), None),
                ok_eof(SERVER_STATUS_AUTOCOMMIT, 0),
            ]
            .into_iter()
            .filter_map(|p| dec.feed(p).unwrap())
            .collect();
            assert!(dec.is_done());
            assert!(matches!(&events[0], QueryEvent::Columns(c) if Arc::ptr_eq(c, &columns)));
            assert_eq!(
                events[1],
                QueryEvent::Row(vec![Value::Int(-1), Value::Null])
            );

            // Left out, but nothing (or something else) is cached: refused, not guessed.
            let mut dec = TextResultDecoder::new_binary(caps).with_metadata_cache(None);
            assert!(dec.feed(count_with_flag(2, false)).is_err());
            let mut dec = TextResultDecoder::new_binary(caps)
                .with_metadata_cache(Some(columns[..1].to_vec().into()));
            assert!(dec.feed(count_with_flag(2, false)).is_err());
            // The flag byte itself missing.
            let mut dec = TextResultDecoder::new_binary(caps).with_metadata_cache(None);
            assert!(dec.feed(count(2)).is_err());
        }
    }

    #[test]
    fn binary_result_sets_in_both_eof_styles() {
        for (caps, end) in [
            (CAPS_EOF, eof(SERVER_STATUS_AUTOCOMMIT)),
            (CAPS_NO_EOF, ok_eof(SERVER_STATUS_AUTOCOMMIT, 0)),
        ] {
            let mut packets = binary_columns();
            if caps == CAPS_EOF {
                packets.push(eof(SERVER_STATUS_AUTOCOMMIT));
            }
            packets.push(binary_row(Some(1), Some(b"alice")));
            packets.push(binary_row(Some(-2), None));
            packets.push(binary_row(None, Some(b"")));
            // A row that happens to be long and full of 0xFE bytes is still a row.
            packets.push(binary_row(Some(-2), Some(&[0xFE; 300])));
            packets.push(end);
            let (events, dec) = run_binary(caps, packets);
            assert!(dec.is_done());
            assert_eq!(events.len(), 6, "{events:?}");
            assert!(matches!(&events[0], QueryEvent::Columns(c) if c.len() == 2));
            assert_eq!(
                events[1],
                QueryEvent::Row(vec![Value::Int(1), bytes("alice")])
            );
            assert_eq!(
                events[2],
                QueryEvent::Row(vec![Value::Int(-2), Value::Null])
            );
            assert_eq!(events[3], QueryEvent::Row(vec![Value::Null, bytes("")]));
            assert_eq!(
                events[4],
                QueryEvent::Row(vec![
                    Value::Int(-2),
                    Value::Bytes(Bytes::from(vec![0xFE; 300]))
                ])
            );
            assert_eq!(
                events[5],
                QueryEvent::ResultSetEnd {
                    status: SERVER_STATUS_AUTOCOMMIT,
                    warnings: 0
                }
            );
        }
    }

    #[test]
    fn binary_response_without_result_set_and_with_error() {
        for caps in [CAPS_EOF, CAPS_NO_EOF] {
            let (events, dec) = run_binary(caps, vec![ok(1, SERVER_STATUS_AUTOCOMMIT)]);
            assert!(dec.is_done());
            assert!(matches!(&events[..], [QueryEvent::Ok(ok)] if ok.affected_rows == 1));
            // An error in the middle of the rows.
            let mut packets = binary_columns();
            if caps == CAPS_EOF {
                packets.push(eof(0));
            }
            packets.push(binary_row(Some(1), None));
            packets.push(err());
            let (events, dec) = run_binary(caps, packets);
            assert!(dec.is_done());
            assert!(matches!(events.last(), Some(QueryEvent::Err(e)) if e.code == 1146));
        }
        // A text row is not a binary row.
        let mut dec = TextResultDecoder::new_binary(CAPS_NO_EOF);
        for p in binary_columns() {
            dec.feed(p).unwrap();
        }
        assert!(dec.feed(row(&[Some(b"1"), Some(b"x")])).is_err());
    }

    #[test]
    fn binary_multi_results() {
        // A stored procedure call: a result set with SERVER_MORE_RESULTS_EXISTS, then the OK.
        let mut packets = binary_columns();
        packets.push(binary_row(Some(5), Some(b"e")));
        packets.push(ok_eof(SERVER_MORE_RESULTS_EXISTS | SERVER_PS_OUT_PARAMS, 0));
        packets.push(ok(0, SERVER_STATUS_AUTOCOMMIT));
        let (events, dec) = run_binary(CAPS_NO_EOF, packets);
        assert!(dec.is_done());
        assert_eq!(events.len(), 4);
        assert_eq!(events[1], QueryEvent::Row(vec![Value::Int(5), bytes("e")]));
        assert!(matches!(events[3], QueryEvent::Ok(_)));
    }

    #[test]
    fn result_set_with_ok_as_eof() {
        let mut packets = two_columns();
        packets.push(row(&[Some(b"7"), Some(b"bob")]));
        packets.push(ok_eof(SERVER_STATUS_AUTOCOMMIT, 3));
        let (events, dec) = run(CAPS_NO_EOF, packets);
        assert!(dec.is_done());
        assert!(matches!(&events[0], QueryEvent::Columns(c) if c.len() == 2));
        assert_eq!(
            events[1],
            QueryEvent::Row(vec![Value::Int(7), bytes("bob")])
        );
        assert_eq!(
            events[2],
            QueryEvent::ResultSetEnd {
                status: SERVER_STATUS_AUTOCOMMIT,
                warnings: 3
            }
        );
    }

    #[test]
    fn empty_result_set() {
        for (caps, end) in [(CAPS_EOF, eof(2)), (CAPS_NO_EOF, ok_eof(2, 0))] {
            let mut packets = vec![count(1), coldef("x", 0xFD, 0, 45)];
            if caps == CAPS_EOF {
                packets.push(eof(2));
            }
            packets.push(end);
            let (events, dec) = run(caps, packets);
            assert!(dec.is_done());
            assert_eq!(events.len(), 2);
            assert_eq!(
                events[1],
                QueryEvent::ResultSetEnd {
                    status: 2,
                    warnings: 0
                }
            );
        }
    }

    #[test]
    fn ok_response() {
        let (events, dec) = run(CAPS_NO_EOF, vec![ok(3, SERVER_STATUS_AUTOCOMMIT)]);
        assert!(dec.is_done());
        assert!(matches!(&events[0], QueryEvent::Ok(ok) if ok.affected_rows == 3));
    }

    #[test]
    fn multi_result() {
        // CALL p(): a result set, then the final OK; or "SELECT 1; UPDATE ...; SELECT 2".
        let more = SERVER_STATUS_AUTOCOMMIT | SERVER_MORE_RESULTS_EXISTS;
        let packets = vec![
            count(1),
            coldef("1", 0x08, NOT_NULL | NUM, 63),
            row(&[Some(b"1")]),
            ok_eof(more, 0),
            ok(5, more),
            count(1),
            coldef("2", 0x08, NOT_NULL | NUM, 63),
            row(&[Some(b"2")]),
            ok_eof(SERVER_STATUS_AUTOCOMMIT, 0),
        ];
        let (events, dec) = run(CAPS_NO_EOF, packets);
        assert!(dec.is_done());
        assert_eq!(events.len(), 7);
        assert_eq!(
            events[2],
            QueryEvent::ResultSetEnd {
                status: more,
                warnings: 0
            }
        );
        assert!(matches!(&events[3], QueryEvent::Ok(ok) if ok.affected_rows == 5));
        assert_eq!(events[5], QueryEvent::Row(vec![Value::Int(2)]));

        // The same with legacy EOFs.
        let packets = vec![
            count(1),
            coldef("1", 0x08, NOT_NULL | NUM, 63),
            eof(2),
            row(&[Some(b"1")]),
            eof(more),
            ok(0, 2),
        ];
        let (events, dec) = run(CAPS_EOF, packets);
        assert!(dec.is_done());
        assert_eq!(events.len(), 4);
    }

    #[test]
    fn error_responses() {
        // ERR instead of a result.
        let (events, dec) = run(CAPS_EOF, vec![err()]);
        assert!(dec.is_done());
        let QueryEvent::Err(e) = &events[0] else {
            panic!()
        };
        assert_eq!(e.code, 1146);
        assert_eq!(e.sql_state, "42S02");
        // ERR in the middle of the rows (e.g. a killed query).
        let mut packets = two_columns();
        packets.push(row(&[Some(b"1"), Some(b"a")]));
        packets.push(Bytes::from_static(
            b"\xff\x25\x05#70100Query execution was interrupted",
        ));
        let (events, dec) = run(CAPS_NO_EOF, packets);
        assert!(dec.is_done());
        assert!(matches!(&events[2], QueryEvent::Err(e) if e.code == 1317));
        // ERR for the second statement of a multi-statement query.
        let more = SERVER_STATUS_AUTOCOMMIT | SERVER_MORE_RESULTS_EXISTS;
        let (events, dec) = run(CAPS_NO_EOF, vec![ok(1, more), err()]);
        assert!(dec.is_done());
        assert_eq!(events.len(), 2);
        // Nothing is accepted after the end.
        let mut dec = dec;
        assert!(matches!(
            dec.feed(ok(0, 2)),
            Err(ProtocolError::Unexpected(_))
        ));
        assert!(matches!(dec.feed(err()), Err(ProtocolError::Unexpected(_))));
    }

    #[test]
    fn local_infile() {
        let mut dec = TextResultDecoder::new(CAPS_NO_EOF);
        let ev = dec.feed(Bytes::from_static(b"\xfb/tmp/data.csv")).unwrap();
        assert_eq!(ev, Some(QueryEvent::LocalInfile(b"/tmp/data.csv".to_vec())));
        assert!(!dec.is_done());
        let ev = dec.feed(ok(10, 2)).unwrap();
        assert!(matches!(ev, Some(QueryEvent::Ok(ok)) if ok.affected_rows == 10));
        assert!(dec.is_done());
        // Refused by the server after the client's reply.
        let mut dec = TextResultDecoder::new(CAPS_NO_EOF);
        dec.feed(Bytes::from_static(b"\xfbfile")).unwrap();
        assert!(matches!(dec.feed(err()).unwrap(), Some(QueryEvent::Err(_))));
        assert!(dec.is_done());
        // Anything else is unexpected.
        let mut dec = TextResultDecoder::new(CAPS_NO_EOF);
        dec.feed(Bytes::from_static(b"\xfbfile")).unwrap();
        assert!(matches!(
            dec.feed(count(1)),
            Err(ProtocolError::Unexpected(_))
        ));
    }

    #[test]
    fn row_starting_with_0xfe_is_a_row() {
        // A value of 2^24 bytes or more starts with 0xFE (8-byte length); only a long packet can
        // carry it, so a short 0xFE packet is an EOF and a long one is a row. Here: a 9+ byte row
        // starting with 0xFE under legacy EOF.
        let cols = vec![count(1), coldef("b", 0xFC, BLOB | BINARY, 63), eof(2)];
        let mut dec = TextResultDecoder::new(CAPS_EOF);
        for p in cols {
            dec.feed(p).unwrap();
        }
        let mut r = BytesMut::new();
        r.put_u8(0xFE);
        r.put_u64_le(3);
        r.extend_from_slice(b"abc");
        let ev = dec.feed(r.freeze()).unwrap();
        assert_eq!(ev, Some(QueryEvent::Row(vec![bytes("abc")])));
        assert_eq!(
            dec.feed(eof(2)).unwrap(),
            Some(QueryEvent::ResultSetEnd {
                status: 2,
                warnings: 0
            })
        );
    }

    #[test]
    fn zero_copy_values() {
        let cols = [Column::parse(&coldef("s", 0xFD, 0, 45)).unwrap()];
        let payload = row(&[Some(b"hello")]);
        let values = decode_row(&payload, &cols).unwrap();
        let Value::Bytes(b) = &values[0] else {
            panic!()
        };
        assert_eq!(b.as_ptr(), payload[1..].as_ptr());
    }

    #[test]
    fn malformed_rows() {
        let cols: Vec<Column> = [coldef("a", 0xFD, 0, 45), coldef("b", 0xFD, 0, 45)]
            .iter()
            .map(|c| Column::parse(c).unwrap())
            .collect();
        // Fewer values than columns.
        assert_eq!(
            decode_row(&row(&[Some(b"x")]), &cols),
            Err(ProtocolError::Truncated("row value"))
        );
        // More bytes than columns.
        assert_eq!(
            decode_row(&row(&[Some(b"x"), None, Some(b"y")]), &cols),
            Err(ProtocolError::ColumnCountMismatch { columns: 2 })
        );
        // A length past the end.
        assert_eq!(
            decode_row(&Bytes::from_static(b"\x01x\x09abc"), &cols),
            Err(ProtocolError::Truncated("length-encoded string"))
        );
        assert!(matches!(
            decode_row(&Bytes::from_static(b"\xff"), &cols),
            Err(ProtocolError::Malformed(_))
        ));
        // An invalid value for the column type is reported by the value decoder.
        let int_col = [Column::parse(&coldef("i", 0x03, 0, 63)).unwrap()];
        assert!(matches!(
            decode_row(&row(&[Some(b"12x")]), &int_col),
            Err(ProtocolError::InvalidValue { .. })
        ));
    }

    #[test]
    fn malformed_responses() {
        let mut dec = TextResultDecoder::new(CAPS_EOF);
        assert_eq!(
            dec.feed(Bytes::new()),
            Err(ProtocolError::Truncated("query response"))
        );
        for bad in [
            Bytes::from_static(&[0xFC, 0, 0]),
            count(4097),
            count(1 << 40),
        ] {
            let mut dec = TextResultDecoder::new(CAPS_EOF);
            assert_eq!(
                dec.feed(bad),
                Err(ProtocolError::Malformed("column count out of range"))
            );
        }
        let mut dec = TextResultDecoder::new(CAPS_EOF);
        assert!(dec.feed(count(4096)).unwrap().is_none());
        let mut dec = TextResultDecoder::new(CAPS_EOF);
        assert!(matches!(
            dec.feed(Bytes::from_static(b"\xfc\x01")),
            Err(ProtocolError::Truncated(_))
        ));
        // A row where the EOF after the definitions should be.
        let mut dec = TextResultDecoder::new(CAPS_EOF);
        dec.feed(count(1)).unwrap();
        dec.feed(coldef("a", 0xFD, 0, 45)).unwrap();
        assert!(matches!(
            dec.feed(row(&[Some(b"x")])),
            Err(ProtocolError::Unexpected(_))
        ));
        // A truncated column definition.
        let mut dec = TextResultDecoder::new(CAPS_EOF);
        dec.feed(count(1)).unwrap();
        assert!(matches!(
            dec.feed(Bytes::from_static(b"\x03de")),
            Err(ProtocolError::Truncated(_))
        ));
        // A truncated final OK.
        let mut dec = TextResultDecoder::new(CAPS_NO_EOF);
        dec.feed(count(1)).unwrap();
        dec.feed(coldef("a", 0xFD, 0, 45)).unwrap();
        assert!(matches!(
            dec.feed(Bytes::from_static(b"\xfe\x00\x00\x02")),
            Err(ProtocolError::Truncated(_))
        ));
    }

    #[test]
    fn repeated_column_sets_are_shared() {
        let first = || {
            let (events, _) = run(CAPS_NO_EOF, two_columns());
            match &events[0] {
                QueryEvent::Columns(c) => c.clone(),
                e => panic!("{e:?}"),
            }
        };
        let (a, b) = (first(), first());
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a[1].name, "name");
        let mut other = two_columns();
        other[2] = coldef("other", 0xFD, 0, 45);
        let (events, _) = run(CAPS_NO_EOF, other);
        match &events[0] {
            QueryEvent::Columns(c) => {
                assert!(!Arc::ptr_eq(&a, c));
                assert_eq!(c[1].name, "other");
                assert_eq!(c[0], a[0]);
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn optional_metadata() {
        let caps = CAPS_NO_EOF | CLIENT_OPTIONAL_RESULTSET_METADATA;
        let mut dec = TextResultDecoder::new(caps);
        assert!(dec
            .feed(Bytes::from_static(&[0x01, 0x01]))
            .unwrap()
            .is_none());
        assert!(matches!(
            dec.feed(coldef("a", 0xFD, 0, 45)).unwrap(),
            Some(QueryEvent::Columns(_))
        ));
        let mut dec = TextResultDecoder::new(caps);
        assert!(matches!(
            dec.feed(Bytes::from_static(&[0x01, 0x00])),
            Err(ProtocolError::Unexpected(_))
        ));
    }

    #[test]
    fn never_panics_on_arbitrary_packets() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(
                &(
                    any::<bool>(),
                    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..24), 1..8),
                ),
                |(deprecate, packets)| {
                    let mut dec =
                        TextResultDecoder::new(if deprecate { CAPS_NO_EOF } else { CAPS_EOF });
                    for p in packets {
                        if dec.feed(Bytes::from(p)).is_err() {
                            break;
                        }
                    }
                    Ok(())
                },
            )
            .unwrap();
    }
}
