//! Connection phase: the server greeting (Handshake V10) and the client's HandshakeResponse41.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html>
// CONTRACT STUB: implemented by the protocol work.
use bytes::BytesMut;

use super::ProtocolError;

/// The server greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Always 10.
    pub protocol_version: u8,
    /// e.g. `5.5.5-10.11.6-MariaDB-0+deb12u1` or `9.1.0`.
    pub server_version: String,
    /// Server thread id of this connection.
    pub connection_id: u32,
    /// The 20-byte scramble (both parts joined, trailing NUL removed).
    pub scramble: Vec<u8>,
    /// Server capabilities (lower and upper 16 bits joined).
    pub capabilities: u32,
    /// MariaDB extended capabilities (0 for MySQL).
    pub mariadb_capabilities: u32,
    /// Server default collation id.
    pub collation: u8,
    /// Server status flags.
    pub status: u16,
    /// Name of the server's default auth plugin (empty when not sent).
    pub auth_plugin: String,
}

impl Handshake {
    /// Parses the greeting. An ERR packet here (e.g. "too many connections") must be detected by
    /// the caller first; this returns `UnsupportedProtocolVersion` for anything but version 10.
    pub fn parse(payload: &[u8]) -> Result<Self, ProtocolError> {
        todo!("{payload:?}")
    }
    /// True when the server is MariaDB.
    pub fn is_mariadb(&self) -> bool {
        todo!()
    }
}

/// HandshakeResponse41.
#[derive(Debug, Clone)]
pub struct HandshakeResponse<'a> {
    /// Client capabilities (already intersected with the server's).
    pub capabilities: u32,
    /// Largest packet the client will send/accept.
    pub max_packet_size: u32,
    /// Collation id for the connection.
    pub collation: u8,
    /// User name.
    pub username: &'a str,
    /// Auth plugin response (scrambled password).
    pub auth_response: &'a [u8],
    /// Schema to use (sent when `CLIENT_CONNECT_WITH_DB` is set).
    pub database: Option<&'a str>,
    /// Name of the auth plugin the response was computed for.
    pub auth_plugin: &'a str,
    /// Connection attributes (sent when `CLIENT_CONNECT_ATTRS` is set).
    pub connect_attrs: &'a [(&'a str, &'a str)],
}

impl HandshakeResponse<'_> {
    /// Appends the payload to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        todo!("{dst:?}")
    }
}
