//! Bounded readers and writers for the protocol's basic data types.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_data_types.html>
// CONTRACT STUB: implemented by the protocol work.
use bytes::{Bytes, BytesMut};

use super::ProtocolError;

/// A cursor over a packet payload; every read checks the remaining length first.
#[derive(Debug, Clone)]
pub struct ParseBuf<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> ParseBuf<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    /// Current offset from the start of the buffer.
    pub fn position(&self) -> usize {
        self.pos
    }
    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    /// Reads a `u8`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, ProtocolError> {
        todo!("{what}")
    }
    /// Reads a little-endian `u16`.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, ProtocolError> {
        todo!("{what}")
    }
    /// Reads a little-endian 3-byte integer.
    pub fn u24(&mut self, what: &'static str) -> Result<u32, ProtocolError> {
        todo!("{what}")
    }
    /// Reads a little-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, ProtocolError> {
        todo!("{what}")
    }
    /// Reads a little-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, ProtocolError> {
        todo!("{what}")
    }
    /// Reads a length-encoded integer. `Ok(None)` is the NULL marker `0xFB`.
    pub fn lenenc_int(&mut self, what: &'static str) -> Result<Option<u64>, ProtocolError> {
        todo!("{what}")
    }
    /// Reads `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        todo!("{n}{what}")
    }
    /// Reads a length-encoded string; `Ok(None)` for NULL. The length is checked against what is left.
    pub fn lenenc_bytes(&mut self, what: &'static str) -> Result<Option<&'a [u8]>, ProtocolError> {
        todo!("{what}")
    }
    /// Reads a NUL-terminated string (the NUL is consumed, not returned).
    pub fn null_terminated(&mut self, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        todo!("{what}")
    }
    /// Reads everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        todo!()
    }
}

/// Appends a length-encoded integer.
pub fn put_lenenc_int(dst: &mut BytesMut, v: u64) {
    todo!("{dst:?}{v}")
}

/// Appends a length-encoded string.
pub fn put_lenenc_bytes(dst: &mut BytesMut, v: &[u8]) {
    todo!("{dst:?}{v:?}")
}

/// Zero-copy slice of a length-encoded string inside `payload`, starting at `*pos`;
/// advances `*pos`. `Ok(None)` for NULL.
pub fn lenenc_slice(payload: &Bytes, pos: &mut usize) -> Result<Option<Bytes>, ProtocolError> {
    todo!("{payload:?}{pos}")
}
