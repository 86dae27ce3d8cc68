//! Bounded readers and writers for the protocol's basic data types.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_data_types.html>
use bytes::{BufMut, Bytes, BytesMut};

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
        self.buf.len().saturating_sub(self.pos)
    }
    /// True when nothing is left to read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }
    /// The next byte without consuming it, `None` at the end.
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }
    /// Reads exactly `N` bytes as an array.
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], ProtocolError> {
        let s = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }
    /// Reads a `u8`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, ProtocolError> {
        let [b] = self.array::<1>(what)?;
        Ok(b)
    }
    /// Reads a little-endian `u16`.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, ProtocolError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    /// Reads a little-endian 3-byte integer.
    pub fn u24(&mut self, what: &'static str) -> Result<u32, ProtocolError> {
        let [a, b, c] = self.array::<3>(what)?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }
    /// Reads a little-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, ProtocolError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    /// Reads a little-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, ProtocolError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    /// Reads a length-encoded integer. `Ok(None)` is the NULL marker `0xFB`.
    pub fn lenenc_int(&mut self, what: &'static str) -> Result<Option<u64>, ProtocolError> {
        let first = self.u8(what)?;
        Ok(Some(match first {
            0x00..=0xFA => u64::from(first),
            0xFB => return Ok(None),
            0xFC => u64::from(self.u16(what)?),
            0xFD => u64::from(self.u24(what)?),
            0xFE => self.u64(what)?,
            0xFF => {
                return Err(ProtocolError::Malformed(
                    "length-encoded integer starts with 0xFF",
                ))
            }
        }))
    }
    /// Reads `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        if n > self.remaining() {
            return Err(ProtocolError::Truncated(what));
        }
        let end = self.pos + n;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(ProtocolError::Truncated(what))?;
        self.pos = end;
        Ok(s)
    }
    /// Reads a length-encoded string; `Ok(None)` for NULL. The length is checked against what is left.
    pub fn lenenc_bytes(&mut self, what: &'static str) -> Result<Option<&'a [u8]>, ProtocolError> {
        match self.lenenc_int(what)? {
            None => Ok(None),
            Some(len) => {
                let len = usize::try_from(len).map_err(|_| ProtocolError::Truncated(what))?;
                self.bytes(len, what).map(Some)
            }
        }
    }
    /// Reads a length-encoded string that must not be NULL.
    pub fn lenenc_bytes_non_null(&mut self, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        self.lenenc_bytes(what)?
            .ok_or(ProtocolError::Malformed(what))
    }
    /// Reads a NUL-terminated string (the NUL is consumed, not returned).
    pub fn null_terminated(&mut self, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let nul = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(ProtocolError::Truncated(what))?;
        let s = rest.get(..nul).ok_or(ProtocolError::Truncated(what))?;
        self.pos += nul + 1;
        Ok(s)
    }
    /// Reads everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        s
    }
}

/// Number of bytes [`put_lenenc_int`] writes for `v`.
pub fn lenenc_int_len(v: u64) -> usize {
    match v {
        0..=0xFA => 1,
        0xFB..=0xFFFF => 3,
        0x1_0000..=0xFF_FFFF => 4,
        _ => 9,
    }
}

/// Appends a length-encoded integer.
pub fn put_lenenc_int(dst: &mut BytesMut, v: u64) {
    let le = v.to_le_bytes();
    match lenenc_int_len(v) {
        1 => dst.put_u8(le[0]),
        3 => {
            dst.put_u8(0xFC);
            dst.put_slice(&le[..2]);
        }
        4 => {
            dst.put_u8(0xFD);
            dst.put_slice(&le[..3]);
        }
        _ => {
            dst.put_u8(0xFE);
            dst.put_slice(&le);
        }
    }
}

/// Appends a length-encoded string.
pub fn put_lenenc_bytes(dst: &mut BytesMut, v: &[u8]) {
    put_lenenc_int(dst, v.len() as u64);
    dst.put_slice(v);
}

/// Zero-copy slice of a length-encoded string inside `payload`, starting at `*pos`;
/// advances `*pos`. `Ok(None)` for NULL.
pub fn lenenc_slice(payload: &Bytes, pos: &mut usize) -> Result<Option<Bytes>, ProtocolError> {
    const WHAT: &str = "length-encoded string";
    let rest = payload.get(*pos..).ok_or(ProtocolError::Truncated(WHAT))?;
    let mut p = ParseBuf::new(rest);
    let Some(len) = p.lenenc_int(WHAT)? else {
        *pos += p.position();
        return Ok(None);
    };
    let len = usize::try_from(len).map_err(|_| ProtocolError::Truncated(WHAT))?;
    if len > p.remaining() {
        return Err(ProtocolError::Truncated(WHAT));
    }
    let start = *pos + p.position();
    let end = start + len;
    let out = payload.slice(start..end);
    *pos = end;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fixed_ints() {
        let data = [
            1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
        ];
        let mut p = ParseBuf::new(&data);
        assert_eq!(p.u8("a").unwrap(), 1);
        assert_eq!(p.u16("b").unwrap(), 0x0302);
        assert_eq!(p.u24("c").unwrap(), 0x06_0504);
        assert_eq!(p.u32("d").unwrap(), 0x0A09_0807);
        assert_eq!(p.u64("e").unwrap(), 0x1211_100F_0E0D_0C0B);
        assert_eq!(p.remaining(), 0);
        assert_eq!(p.u8("x"), Err(ProtocolError::Truncated("x")));
    }

    #[test]
    fn truncated_fixed_ints_do_not_advance() {
        let data = [1u8, 2, 3];
        let mut p = ParseBuf::new(&data);
        assert_eq!(p.u32("n"), Err(ProtocolError::Truncated("n")));
        assert_eq!(p.position(), 0);
        assert_eq!(p.u64("n"), Err(ProtocolError::Truncated("n")));
        assert_eq!(p.u24("n").unwrap(), 0x030201);
        assert_eq!(p.u16("n"), Err(ProtocolError::Truncated("n")));
        assert_eq!(p.bytes(1, "b"), Err(ProtocolError::Truncated("b")));
        assert_eq!(p.bytes(0, "b").unwrap(), &[] as &[u8]);
    }

    #[test]
    fn lenenc_int_forms() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (&[0x00], Some(0)),
            (&[0xFA], Some(250)),
            (&[0xFB], None),
            (&[0xFC, 0xFB, 0x00], Some(251)),
            (&[0xFC, 0xFF, 0xFF], Some(0xFFFF)),
            (&[0xFD, 0x00, 0x00, 0x01], Some(0x1_0000)),
            (
                &[0xFE, 1, 0, 0, 0, 0, 0, 0, 0x80],
                Some(0x8000_0000_0000_0001),
            ),
        ];
        for (bytes, want) in cases {
            let mut p = ParseBuf::new(bytes);
            assert_eq!(p.lenenc_int("n").unwrap(), *want, "{bytes:?}");
            assert_eq!(p.remaining(), 0);
        }
    }

    #[test]
    fn lenenc_int_invalid_and_truncated() {
        assert_eq!(
            ParseBuf::new(&[0xFF]).lenenc_int("n"),
            Err(ProtocolError::Malformed(
                "length-encoded integer starts with 0xFF"
            ))
        );
        for bytes in [
            &[][..],
            &[0xFC, 1],
            &[0xFD, 1, 2],
            &[0xFE, 1, 2, 3, 4, 5, 6, 7],
        ] {
            assert_eq!(
                ParseBuf::new(bytes).lenenc_int("n"),
                Err(ProtocolError::Truncated("n"))
            );
        }
    }

    #[test]
    fn lenenc_bytes_checks_length_before_slicing() {
        let mut p = ParseBuf::new(&[0x05, b'a', b'b']);
        assert_eq!(p.lenenc_bytes("s"), Err(ProtocolError::Truncated("s")));
        // A 64-bit length far past the end must not overflow or allocate.
        let mut p = ParseBuf::new(&[0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, b'a']);
        assert_eq!(p.lenenc_bytes("s"), Err(ProtocolError::Truncated("s")));
        let mut p = ParseBuf::new(&[0xFB, 0x02, b'h', b'i']);
        assert_eq!(p.lenenc_bytes("s").unwrap(), None);
        assert_eq!(p.lenenc_bytes("s").unwrap(), Some(&b"hi"[..]));
        assert_eq!(
            ParseBuf::new(&[0xFB]).lenenc_bytes_non_null("s"),
            Err(ProtocolError::Malformed("s"))
        );
    }

    #[test]
    fn null_terminated_and_rest() {
        let mut p = ParseBuf::new(b"abc\0\0tail");
        assert_eq!(p.null_terminated("s").unwrap(), b"abc");
        assert_eq!(p.null_terminated("s").unwrap(), b"");
        assert_eq!(p.peek(), Some(b't'));
        assert_eq!(
            p.clone().null_terminated("s"),
            Err(ProtocolError::Truncated("s"))
        );
        assert_eq!(p.rest(), b"tail");
        assert_eq!(p.rest(), b"");
        assert!(p.is_empty());
        assert_eq!(p.null_terminated("s"), Err(ProtocolError::Truncated("s")));
    }

    #[test]
    fn lenenc_slice_zero_copy() {
        let payload = Bytes::from_static(&[0x03, b'a', b'b', b'c', 0xFB, 0x00, 0x09, b'x']);
        let mut pos = 0;
        let s = lenenc_slice(&payload, &mut pos).unwrap().unwrap();
        assert_eq!(&s[..], b"abc");
        assert_eq!(s.as_ptr(), payload[1..].as_ptr());
        assert_eq!(pos, 4);
        assert_eq!(lenenc_slice(&payload, &mut pos).unwrap(), None);
        assert_eq!(pos, 5);
        assert_eq!(
            lenenc_slice(&payload, &mut pos).unwrap().unwrap(),
            Bytes::new()
        );
        assert_eq!(pos, 6);
        assert_eq!(
            lenenc_slice(&payload, &mut pos),
            Err(ProtocolError::Truncated("length-encoded string"))
        );
        assert_eq!(pos, 6);
        let mut past = 100;
        assert!(lenenc_slice(&payload, &mut past).is_err());
        let mut end = payload.len();
        assert!(lenenc_slice(&payload, &mut end).is_err());
    }

    #[test]
    fn writer_boundaries() {
        for (v, len) in [
            (0u64, 1),
            (250, 1),
            (251, 3),
            (0xFFFF, 3),
            (0x1_0000, 4),
            (0xFF_FFFF, 4),
            (0x100_0000, 9),
            (u64::MAX, 9),
        ] {
            let mut b = BytesMut::new();
            put_lenenc_int(&mut b, v);
            assert_eq!(b.len(), len, "{v}");
            assert_eq!(lenenc_int_len(v), len);
        }
    }

    proptest! {
        #[test]
        fn lenenc_int_round_trip(v in any::<u64>()) {
            let mut b = BytesMut::new();
            put_lenenc_int(&mut b, v);
            let mut p = ParseBuf::new(&b);
            prop_assert_eq!(p.lenenc_int("n").unwrap(), Some(v));
            prop_assert_eq!(p.remaining(), 0);
        }

        #[test]
        fn lenenc_bytes_round_trip(v in proptest::collection::vec(any::<u8>(), 0..70_000)) {
            let mut b = BytesMut::new();
            put_lenenc_bytes(&mut b, &v);
            put_lenenc_bytes(&mut b, b"after");
            let mut p = ParseBuf::new(&b);
            prop_assert_eq!(p.lenenc_bytes("s").unwrap(), Some(&v[..]));
            prop_assert_eq!(p.lenenc_bytes("s").unwrap(), Some(&b"after"[..]));
            let frozen = b.freeze();
            let mut pos = 0;
            prop_assert_eq!(lenenc_slice(&frozen, &mut pos).unwrap().unwrap(), Bytes::from(v));
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..32)) {
            let mut p = ParseBuf::new(&data);
            let _ = p.lenenc_bytes("s");
            let _ = p.null_terminated("s");
            let frozen = Bytes::from(data);
            let mut pos = 0;
            while lenenc_slice(&frozen, &mut pos).is_ok() && pos < frozen.len() {}
        }
    }
}
