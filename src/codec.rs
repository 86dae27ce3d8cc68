//! A `tokio_util::codec` framing MySQL packets, built on [`crate::protocol::packet`].
//!
//! The decoder reassembles payloads split over several packets, checks sequence ids, and refuses
//! a packet larger than `max_allowed_packet` from its header alone, before reserving memory.
// CONTRACT STUB: implemented by the protocol work.
use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

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
}

impl PacketCodec {
    /// A codec that refuses payloads larger than `max_allowed_packet`.
    pub fn new(max_allowed_packet: usize) -> Self {
        Self {
            max_allowed_packet,
            seq: 0,
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
    /// The configured bound.
    pub fn max_allowed_packet(&self) -> usize {
        self.max_allowed_packet
    }
}

impl Decoder for PacketCodec {
    type Item = Bytes;
    type Error = CodecError;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, CodecError> {
        todo!("{src:?}")
    }
}

impl Encoder<&[u8]> for PacketCodec {
    type Error = CodecError;
    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), CodecError> {
        todo!("{payload:?}{dst:?}")
    }
}
