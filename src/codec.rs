//! A `tokio_util::codec` framing MySQL packets, built on [`crate::protocol::packet`].
//!
//! The decoder reassembles payloads split over several packets, checks sequence ids, and refuses
//! a packet larger than `max_allowed_packet` from its header alone, before reserving memory.
use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::protocol::constants::MAX_PAYLOAD_LEN;
use crate::protocol::packet::{write_packets, PacketHeader, HEADER_LEN};
use crate::protocol::ProtocolError;

/// Error of the packet codec: the transport failed, or the peer broke the framing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// Reading or writing the transport failed.
    #[error("i/o error")]
    Io(#[from] std::io::Error),
    /// The bytes received are not valid packets.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// Packet codec with sequence-id tracking. One instance serves both directions of a connection:
/// the sequence id is shared by the client's and the server's packets of one exchange.
#[derive(Debug)]
pub struct PacketCodec {
    max_allowed_packet: usize,
    seq: u8,
    /// The packets of a split payload received so far (each 0xFFFFFF bytes long).
    partial: BytesMut,
}

impl PacketCodec {
    /// A codec that refuses payloads larger than `max_allowed_packet`.
    pub fn new(max_allowed_packet: usize) -> Self {
        Self {
            max_allowed_packet,
            seq: 0,
            partial: BytesMut::new(),
        }
    }
    /// Starts a new exchange: the next packet (sent or received) has sequence id 0.
    pub fn reset_seq(&mut self) {
        self.seq = 0;
    }
    /// The sequence id the next packet must carry.
    pub fn seq(&self) -> u8 {
        self.seq
    }
    /// Sets the sequence id the next packet (sent or received) must carry.
    pub fn set_seq(&mut self, seq: u8) {
        self.seq = seq;
    }
    /// The configured bound.
    pub fn max_allowed_packet(&self) -> usize {
        self.max_allowed_packet
    }
    /// Changes the bound on received payloads (e.g. to the server's `max_allowed_packet`).
    pub fn set_max_allowed_packet(&mut self, n: usize) {
        self.max_allowed_packet = n;
    }
}

impl Decoder for PacketCodec {
    type Item = Bytes;
    type Error = CodecError;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, CodecError> {
        loop {
            let Some(&[a, b, c, s]) = src.get(..HEADER_LEN) else {
                return Ok(None);
            };
            let header = PacketHeader::parse([a, b, c, s]);
            if header.seq != self.seq {
                return Err(ProtocolError::OutOfOrder {
                    expected: self.seq,
                    got: header.seq,
                }
                .into());
            }
            let max = self.max_allowed_packet;
            if header.len > max {
                return Err(ProtocolError::PacketTooLarge {
                    len: header.len,
                    max,
                }
                .into());
            }
            let total = self.partial.len().saturating_add(header.len);
            if total > max {
                return Err(ProtocolError::PacketTooLarge { len: total, max }.into());
            }
            let frame_len = HEADER_LEN + header.len;
            if src.len() < frame_len {
                src.reserve(frame_len - src.len());
                return Ok(None);
            }
            src.advance(HEADER_LEN);
            let chunk = src.split_to(header.len);
            self.seq = self.seq.wrapping_add(1);
            if header.len == MAX_PAYLOAD_LEN {
                if self.partial.is_empty() {
                    self.partial = chunk;
                } else {
                    self.partial.extend_from_slice(&chunk);
                }
                continue;
            }
            if self.partial.is_empty() {
                return Ok(Some(chunk.freeze()));
            }
            self.partial.extend_from_slice(&chunk);
            return Ok(Some(std::mem::take(&mut self.partial).freeze()));
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, CodecError> {
        match self.decode(src)? {
            Some(payload) => Ok(Some(payload)),
            None if src.is_empty() && self.partial.is_empty() => Ok(None),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed in the middle of a packet",
            )
            .into()),
        }
    }
}

impl Encoder<&[u8]> for PacketCodec {
    type Error = CodecError;
    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), CodecError> {
        write_packets(dst, payload, &mut self.seq);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payloads: &[&[u8]], first_seq: u8) -> BytesMut {
        let mut dst = BytesMut::new();
        let mut seq = first_seq;
        for p in payloads {
            write_packets(&mut dst, p, &mut seq);
        }
        dst
    }

    fn drain(codec: &mut PacketCodec, src: &mut BytesMut, out: &mut Vec<Bytes>) {
        while let Some(p) = codec.decode(src).unwrap() {
            out.push(p);
        }
    }

    const PAYLOADS: &[&[u8]] = &[
        b"\x0aserver greeting",
        b"",
        b"\x00\x00\x00\x02\x00\x00\x00",
        b"x",
    ];

    #[test]
    fn whole_stream_at_once() {
        let mut src = frame(PAYLOADS, 0);
        let mut codec = PacketCodec::new(1024);
        let mut out = Vec::new();
        drain(&mut codec, &mut src, &mut out);
        assert_eq!(out, PAYLOADS);
        assert!(src.is_empty());
        assert_eq!(codec.seq(), 4);
    }

    #[test]
    fn split_at_every_byte_boundary() {
        let stream = frame(PAYLOADS, 0);
        for cut in 0..=stream.len() {
            let mut codec = PacketCodec::new(1024);
            let mut src = BytesMut::new();
            let mut out = Vec::new();
            src.extend_from_slice(&stream[..cut]);
            drain(&mut codec, &mut src, &mut out);
            src.extend_from_slice(&stream[cut..]);
            drain(&mut codec, &mut src, &mut out);
            assert_eq!(out, PAYLOADS, "cut at {cut}");
            assert!(src.is_empty());
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let stream = frame(PAYLOADS, 0);
        let mut codec = PacketCodec::new(1024);
        let mut src = BytesMut::new();
        let mut out = Vec::new();
        for &b in stream.iter() {
            src.extend_from_slice(&[b]);
            drain(&mut codec, &mut src, &mut out);
        }
        assert_eq!(out, PAYLOADS);
    }

    #[test]
    fn truncated_input_is_pending() {
        let stream = frame(&[b"hello"], 0);
        let mut codec = PacketCodec::new(1024);
        for n in 0..stream.len() {
            let mut src = BytesMut::from(&stream[..n]);
            assert_eq!(codec.decode(&mut src).unwrap(), None);
            assert_eq!(codec.seq(), 0);
            assert_eq!(src.len(), n);
        }
    }

    #[test]
    fn out_of_order_sequence_id() {
        let mut src = frame(&[b"a"], 3);
        let mut codec = PacketCodec::new(1024);
        match codec.decode(&mut src) {
            Err(CodecError::Protocol(ProtocolError::OutOfOrder {
                expected: 0,
                got: 3,
            })) => {}
            other => panic!("{other:?}"),
        }
        // The same packet is accepted when the counter matches.
        codec.set_seq(3);
        assert_eq!(codec.decode(&mut src).unwrap().as_deref(), Some(&b"a"[..]));
        assert_eq!(codec.seq(), 4);
    }

    #[test]
    fn oversized_header_rejected_before_allocation() {
        let mut codec = PacketCodec::new(1000);
        let mut src = BytesMut::from(&[0xE9, 0x03, 0x00, 0x00][..]); // claims 1001 bytes
        let cap = src.capacity();
        match codec.decode(&mut src) {
            Err(CodecError::Protocol(ProtocolError::PacketTooLarge {
                len: 1001,
                max: 1000,
            })) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(src.capacity(), cap);
        // A 16 MiB claim with a small bound.
        let mut src = BytesMut::from(&[0xFF, 0xFF, 0xFF, 0x00][..]);
        assert!(matches!(
            codec.decode(&mut src),
            Err(CodecError::Protocol(ProtocolError::PacketTooLarge { .. }))
        ));
        assert!(src.capacity() < 1000);
    }

    #[test]
    fn reserve_only_what_the_header_claims() {
        let mut codec = PacketCodec::new(1 << 20);
        let mut src = BytesMut::from(&[0x00, 0x10, 0x00, 0x00][..]); // 4096 bytes claimed
        assert_eq!(codec.decode(&mut src).unwrap(), None);
        assert!(src.capacity() >= 4096 + HEADER_LEN);
        assert!(src.capacity() < 64 * 1024);
    }

    #[test]
    fn running_total_of_split_payload_is_bounded() {
        let max = MAX_PAYLOAD_LEN + 10;
        let mut codec = PacketCodec::new(max);
        let payload = vec![7u8; MAX_PAYLOAD_LEN + 11];
        let mut src = frame(&[&payload], 0);
        let second_header_at = HEADER_LEN + MAX_PAYLOAD_LEN;
        let mut first = src.split_to(second_header_at + 2);
        assert_eq!(codec.decode(&mut first).unwrap(), None);
        assert_eq!(codec.seq(), 1);
        first.extend_from_slice(&src[..2]);
        match codec.decode(&mut first) {
            Err(CodecError::Protocol(ProtocolError::PacketTooLarge { len, max: m })) => {
                assert_eq!(len, MAX_PAYLOAD_LEN + 11);
                assert_eq!(m, max);
            }
            other => panic!("{other:?}"),
        }
        // One byte less fits.
        let mut codec = PacketCodec::new(max);
        let mut src = frame(&[&payload[..max]], 0);
        assert_eq!(codec.decode(&mut src).unwrap().map(|b| b.len()), Some(max));
    }

    #[test]
    fn large_payload_round_trip() {
        let len = 20 * 1024 * 1024;
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut client = PacketCodec::new(64 << 20);
        let mut wire = BytesMut::new();
        client.encode(&payload[..], &mut wire).unwrap();
        client.encode(&b"next"[..], &mut wire).unwrap();
        assert_eq!(client.seq(), 3);
        assert_eq!(
            wire.len(),
            len + 2 * HEADER_LEN + b"next".len() + HEADER_LEN
        );
        assert_eq!(&wire[..4], &[0xFF, 0xFF, 0xFF, 0x00]);

        let mut server = PacketCodec::new(64 << 20);
        let mut src = BytesMut::new();
        let mut out = Vec::new();
        for chunk in wire.chunks(3 * 1024 * 1024 + 17) {
            src.extend_from_slice(chunk);
            drain(&mut server, &mut src, &mut out);
        }
        assert_eq!(out.len(), 2);
        assert!(out[0] == payload);
        assert_eq!(&out[1][..], b"next");
        assert_eq!(server.seq(), 3);
    }

    #[test]
    fn exact_multiple_of_max_payload_round_trip() {
        let payload = vec![1u8; MAX_PAYLOAD_LEN];
        let mut codec = PacketCodec::new(64 << 20);
        let mut wire = BytesMut::new();
        codec.encode(&payload[..], &mut wire).unwrap();
        assert_eq!(wire.len(), MAX_PAYLOAD_LEN + 2 * HEADER_LEN);
        codec.reset_seq();
        let out = codec.decode(&mut wire).unwrap().unwrap();
        assert_eq!(out.len(), MAX_PAYLOAD_LEN);
        assert!(wire.is_empty());
    }

    #[test]
    fn shared_sequence_between_directions() {
        let mut codec = PacketCodec::new(1024);
        // Greeting from the server with seq 0, our response gets seq 1, the server answers with 2.
        let mut src = frame(&[b"greeting"], 0);
        codec.decode(&mut src).unwrap().unwrap();
        let mut out = BytesMut::new();
        codec.encode(&b"response"[..], &mut out).unwrap();
        assert_eq!(out[3], 1);
        let mut src = frame(&[b"\x00ok"], 2);
        assert!(codec.decode(&mut src).unwrap().is_some());
        // A new command starts at 0.
        codec.reset_seq();
        let mut out = BytesMut::new();
        codec.encode(&b"\x0e"[..], &mut out).unwrap();
        assert_eq!(&out[..], &[1, 0, 0, 0, 0x0e]);
        assert_eq!(codec.seq(), 1);
    }

    #[test]
    fn sequence_wraps_while_decoding() {
        let mut codec = PacketCodec::new(1024);
        codec.set_seq(255);
        let mut src = frame(&[b"a", b"b"], 255);
        assert!(codec.decode(&mut src).unwrap().is_some());
        assert_eq!(codec.seq(), 0);
        assert!(codec.decode(&mut src).unwrap().is_some());
    }

    #[test]
    fn eof_in_the_middle_of_a_packet() {
        let mut codec = PacketCodec::new(1024);
        let mut src = BytesMut::new();
        assert!(codec.decode_eof(&mut src).unwrap().is_none());
        let mut src = frame(&[b"abc"], 0);
        assert_eq!(
            codec.decode_eof(&mut src).unwrap().as_deref(),
            Some(&b"abc"[..])
        );
        let mut src = BytesMut::from(&frame(&[b"abc"], 1)[..5]);
        assert!(matches!(codec.decode_eof(&mut src), Err(CodecError::Io(_))));
        // Closed right after the first packet of a split payload.
        let mut codec = PacketCodec::new(64 << 20);
        let mut src = frame(&[&vec![0u8; MAX_PAYLOAD_LEN + 1]], 0);
        src.truncate(HEADER_LEN + MAX_PAYLOAD_LEN);
        assert!(matches!(codec.decode_eof(&mut src), Err(CodecError::Io(_))));
    }

    #[test]
    fn setters() {
        let mut codec = PacketCodec::new(10);
        codec.set_max_allowed_packet(20);
        assert_eq!(codec.max_allowed_packet(), 20);
        let mut src = frame(&[&[0u8; 15]], 0);
        assert_eq!(codec.decode(&mut src).unwrap().map(|b| b.len()), Some(15));
    }
}
