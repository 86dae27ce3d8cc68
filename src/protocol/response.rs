//! Generic response packets: OK, ERR and EOF (legacy and `CLIENT_DEPRECATE_EOF` forms).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_response_packets.html>
// CONTRACT STUB: implemented by the protocol work.
use super::ProtocolError;

/// An OK packet (header 0x00, or 0xFE when it replaces EOF under `CLIENT_DEPRECATE_EOF`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OkPacket {
    /// Rows affected (or found, with `CLIENT_FOUND_ROWS`).
    pub affected_rows: u64,
    /// `LAST_INSERT_ID()` of the statement.
    pub last_insert_id: u64,
    /// Server status flags ([`super::constants::status`]).
    pub status: u16,
    /// Number of warnings.
    pub warnings: u16,
    /// Human readable info, e.g. `Records: 3  Duplicates: 0  Warnings: 0`.
    pub info: String,
    /// Raw session state change data (`CLIENT_SESSION_TRACK`), empty when absent.
    pub session_state: Vec<u8>,
}

impl OkPacket {
    /// Parses an OK packet (either header byte) given the negotiated capabilities.
    pub fn parse(payload: &[u8], capabilities: u32) -> Result<Self, ProtocolError> {
        todo!("{payload:?}{capabilities}")
    }
}

/// An ERR packet (header 0xFF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrPacket {
    /// Server error code, e.g. 1064.
    pub code: u16,
    /// Five-character SQLSTATE, `HY000` when the server sent none.
    pub sql_state: String,
    /// The server's message.
    pub message: String,
}

impl ErrPacket {
    /// Parses an ERR packet. (MariaDB progress reports, code 0xFFFF, are `Unexpected`.)
    pub fn parse(payload: &[u8], capabilities: u32) -> Result<Self, ProtocolError> {
        todo!("{payload:?}{capabilities}")
    }
}

/// A legacy EOF packet (header 0xFE, payload shorter than 9 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EofPacket {
    /// Number of warnings.
    pub warnings: u16,
    /// Server status flags.
    pub status: u16,
}

impl EofPacket {
    /// Parses a legacy EOF packet.
    pub fn parse(payload: &[u8]) -> Result<Self, ProtocolError> {
        todo!("{payload:?}")
    }
}

/// True for an ERR packet.
pub fn is_err(payload: &[u8]) -> bool {
    payload.first() == Some(&0xFF)
}
/// True for an OK packet with header 0x00.
pub fn is_ok(payload: &[u8]) -> bool {
    payload.first() == Some(&0x00)
}
/// True for a packet that ends a row stream: 0xFE with fewer than 9 bytes (legacy EOF), or 0xFE with
/// fewer than 0xFFFFFF bytes under `CLIENT_DEPRECATE_EOF` (an OK packet).
pub fn is_eof(payload: &[u8], deprecate_eof: bool) -> bool {
    todo!("{payload:?}{deprecate_eof}")
}
