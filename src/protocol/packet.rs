//! Packet framing: a 3-byte little-endian payload length and a 1-byte sequence id; payloads of
//! 0xFFFFFF bytes or more are split, and a payload that is an exact multiple of 0xFFFFFF ends with
//! an empty packet.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html>
// CONTRACT STUB: implemented by the protocol work.
use bytes::BytesMut;

/// Length of a packet header.
pub const HEADER_LEN: usize = 4;

/// A parsed packet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketHeader {
    /// Payload length of this packet (at most 0xFFFFFF).
    pub len: usize,
    /// Sequence id.
    pub seq: u8,
}

impl PacketHeader {
    /// Parses the 4 header bytes.
    pub fn parse(header: [u8; 4]) -> Self {
        todo!("{header:?}")
    }
}

/// Appends `payload` to `dst` as one or more packets, numbering them from `*seq` and advancing it.
pub fn write_packets(dst: &mut BytesMut, payload: &[u8], seq: &mut u8) {
    todo!("{dst:?}{payload:?}{seq}")
}
