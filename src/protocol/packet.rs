//! Packet framing: a 3-byte little-endian payload length and a 1-byte sequence id; payloads of
//! 0xFFFFFF bytes or more are split, and a payload that is an exact multiple of 0xFFFFFF ends with
//! an empty packet.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html>
use bytes::{BufMut, BytesMut};

use super::constants::MAX_PAYLOAD_LEN;

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
        let [a, b, c, seq] = header;
        Self {
            len: u32::from_le_bytes([a, b, c, 0]) as usize,
            seq,
        }
    }
    /// The 4 header bytes (`len` must be at most 0xFFFFFF; higher bits are dropped).
    pub fn to_bytes(self) -> [u8; 4] {
        let [a, b, c, _] = (self.len as u32).to_le_bytes();
        [a, b, c, self.seq]
    }
}

/// Appends `payload` to `dst` as one or more packets, numbering them from `*seq` and advancing it.
pub fn write_packets(dst: &mut BytesMut, payload: &[u8], seq: &mut u8) {
    let chunks = payload.len() / MAX_PAYLOAD_LEN + 1;
    dst.reserve(payload.len() + chunks * HEADER_LEN);
    let mut rest = payload;
    loop {
        let n = rest.len().min(MAX_PAYLOAD_LEN);
        let (chunk, tail) = rest.split_at(n);
        dst.put_slice(&PacketHeader { len: n, seq: *seq }.to_bytes());
        dst.put_slice(chunk);
        *seq = seq.wrapping_add(1);
        rest = tail;
        if n < MAX_PAYLOAD_LEN {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parse() {
        assert_eq!(
            PacketHeader::parse([0x01, 0x00, 0x00, 0x00]),
            PacketHeader { len: 1, seq: 0 }
        );
        assert_eq!(
            PacketHeader::parse([0xFF, 0xFF, 0xFF, 0x07]),
            PacketHeader {
                len: 0xFF_FFFF,
                seq: 7
            }
        );
        assert_eq!(PacketHeader::parse([0x34, 0x12, 0x05, 0xFF]).len, 0x05_1234);
        let h = PacketHeader {
            len: 0x05_1234,
            seq: 9,
        };
        assert_eq!(PacketHeader::parse(h.to_bytes()), h);
    }

    #[test]
    fn small_payload() {
        let mut dst = BytesMut::new();
        let mut seq = 3;
        write_packets(&mut dst, b"\x03SELECT 1", &mut seq);
        assert_eq!(&dst[..], b"\x09\x00\x00\x03\x03SELECT 1");
        assert_eq!(seq, 4);
    }

    #[test]
    fn empty_payload_is_one_empty_packet() {
        let mut dst = BytesMut::new();
        let mut seq = 0;
        write_packets(&mut dst, b"", &mut seq);
        assert_eq!(&dst[..], &[0, 0, 0, 0]);
        assert_eq!(seq, 1);
    }

    fn headers(mut buf: &[u8]) -> Vec<PacketHeader> {
        let mut out = Vec::new();
        while !buf.is_empty() {
            let h = PacketHeader::parse([buf[0], buf[1], buf[2], buf[3]]);
            buf = &buf[HEADER_LEN + h.len..];
            out.push(h);
        }
        out
    }

    #[test]
    fn split_at_max_payload() {
        let cases = [
            (MAX_PAYLOAD_LEN - 1, vec![MAX_PAYLOAD_LEN - 1]),
            (MAX_PAYLOAD_LEN, vec![MAX_PAYLOAD_LEN, 0]),
            (MAX_PAYLOAD_LEN + 1, vec![MAX_PAYLOAD_LEN, 1]),
            (
                2 * MAX_PAYLOAD_LEN,
                vec![MAX_PAYLOAD_LEN, MAX_PAYLOAD_LEN, 0],
            ),
        ];
        for (len, want) in cases {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut dst = BytesMut::new();
            let mut seq = 0xFE;
            write_packets(&mut dst, &payload, &mut seq);
            let hs = headers(&dst);
            assert_eq!(hs.iter().map(|h| h.len).collect::<Vec<_>>(), want);
            // Sequence ids wrap at 255.
            let seqs: Vec<u8> = hs.iter().map(|h| h.seq).collect();
            let expect: Vec<u8> = (0..want.len())
                .map(|i| 0xFEu8.wrapping_add(i as u8))
                .collect();
            assert_eq!(seqs, expect);
            assert_eq!(seq, 0xFEu8.wrapping_add(want.len() as u8));
            // The payload is intact once the headers are removed.
            let mut joined = Vec::with_capacity(len);
            let mut rest = &dst[..];
            for h in &hs {
                joined.extend_from_slice(&rest[HEADER_LEN..HEADER_LEN + h.len]);
                rest = &rest[HEADER_LEN + h.len..];
            }
            assert!(joined == payload);
        }
    }

    #[test]
    fn seq_wraps() {
        let mut dst = BytesMut::new();
        let mut seq = 255;
        write_packets(&mut dst, b"x", &mut seq);
        assert_eq!(dst[3], 255);
        assert_eq!(seq, 0);
    }
}
