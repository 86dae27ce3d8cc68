use crate::protocol::constants::ColumnType;

/// A violation of the wire protocol by the peer, or bytes that cannot be decoded.
///
/// Any of these leaves the connection in an unknown state: the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The packet ended before a field could be read.
    #[error("unexpected end of packet while reading {0}")]
    Truncated(&'static str),
    /// A packet (or a reassembled multi-packet payload) is larger than allowed.
    #[error("packet of {len} bytes exceeds max_allowed_packet ({max} bytes)")]
    PacketTooLarge {
        /// Length the peer claimed (or the running total of a split payload).
        len: usize,
        /// The configured bound.
        max: usize,
    },
    /// A packet arrived with an unexpected sequence id.
    #[error("packets out of order: expected sequence id {expected}, got {got}")]
    OutOfOrder {
        /// The sequence id we expected.
        expected: u8,
        /// The sequence id the packet carried.
        got: u8,
    },
    /// A field holds a value the protocol does not allow.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
    /// A packet arrived that is not valid in the current protocol state.
    #[error("unexpected packet: {0}")]
    Unexpected(&'static str),
    /// The server greeting uses a protocol version other than 10.
    #[error("unsupported protocol version {0}")]
    UnsupportedProtocolVersion(u8),
    /// The server does not offer a capability this client requires.
    #[error("server lacks required capability {0}")]
    MissingCapability(&'static str),
    /// A column value could not be decoded according to its column type.
    #[error("invalid {column_type:?} value in result row")]
    InvalidValue {
        /// The column type the value claimed to have.
        column_type: ColumnType,
    },
    /// A row held a different number of values than the result set has columns.
    #[error("row has more values than the {columns} columns of its result set")]
    ColumnCountMismatch {
        /// Number of columns announced.
        columns: usize,
    },
}
