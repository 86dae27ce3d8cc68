//! Text-protocol result sets: column count, column definitions, rows, and the end of each result
//! (with `SERVER_MORE_RESULTS_EXISTS` for multi-result responses).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response.html>
// CONTRACT STUB: implemented by the protocol work.
use std::sync::Arc;

use bytes::Bytes;

use super::constants::ColumnType;
use super::response::{ErrPacket, OkPacket};
use super::value::Value;
use super::ProtocolError;

/// A column definition (Protocol::ColumnDefinition41).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Schema name.
    pub schema: String,
    /// Table alias.
    pub table: String,
    /// Physical table name.
    pub org_table: String,
    /// Column alias.
    pub name: String,
    /// Physical column name.
    pub org_name: String,
    /// Character set / collation id (63 = binary).
    pub charset: u16,
    /// Maximum display length.
    pub column_length: u32,
    /// Column type.
    pub column_type: ColumnType,
    /// Column flags ([`super::constants::column_flags`]).
    pub flags: u16,
    /// Number of decimals.
    pub decimals: u8,
}

impl Column {
    /// Parses a ColumnDefinition41 payload.
    pub fn parse(payload: &[u8]) -> Result<Self, ProtocolError> {
        todo!("{payload:?}")
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

/// A state machine that turns the packets of a COM_QUERY response into [`QueryEvent`]s.
///
/// Feed every packet payload received after the command to [`TextResultDecoder::feed`]; it
/// returns `Ok(None)` for packets that carry no event of their own (column definitions before the
/// last, a legacy EOF after the definitions). After `Err`, or after the end of a result with no
/// `SERVER_MORE_RESULTS_EXISTS`, [`TextResultDecoder::is_done`] is true.
#[derive(Debug)]
pub struct TextResultDecoder {
    _private: (),
}

impl TextResultDecoder {
    /// A decoder for a response under the negotiated capabilities.
    pub fn new(capabilities: u32) -> Self {
        todo!("{capabilities}")
    }
    /// Feeds the next packet payload.
    pub fn feed(&mut self, payload: Bytes) -> Result<Option<QueryEvent>, ProtocolError> {
        todo!("{payload:?}")
    }
    /// True when the whole response has been read.
    pub fn is_done(&self) -> bool {
        todo!()
    }
}
