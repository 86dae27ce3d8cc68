//! Connection phase: the server greeting (Handshake V10) and the client's HandshakeResponse41.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html>
use bytes::{BufMut, BytesMut};

use super::buf::{lenenc_int_len, put_lenenc_bytes, put_lenenc_int, ParseBuf};
use super::constants::capabilities::{
    CLIENT_CONNECT_ATTRS, CLIENT_CONNECT_WITH_DB, CLIENT_LONG_PASSWORD, CLIENT_PLUGIN_AUTH,
    CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA, CLIENT_SECURE_CONNECTION,
};
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
        let mut p = ParseBuf::new(payload);
        let protocol_version = p.u8("protocol version")?;
        if protocol_version != 10 {
            return Err(ProtocolError::UnsupportedProtocolVersion(protocol_version));
        }
        let server_version =
            String::from_utf8_lossy(p.null_terminated("server version")?).into_owned();
        let connection_id = p.u32("connection id")?;
        let mut scramble = p.bytes(8, "scramble")?.to_vec();
        p.u8("filler")?;
        let caps_lower = p.u16("capability flags")?;
        let mut hs = Handshake {
            protocol_version,
            server_version,
            connection_id,
            scramble: Vec::new(),
            capabilities: u32::from(caps_lower),
            mariadb_capabilities: 0,
            collation: 0,
            status: 0,
            auth_plugin: String::new(),
        };
        if p.is_empty() {
            hs.scramble = scramble;
            return Ok(hs);
        }
        hs.collation = p.u8("character set")?;
        hs.status = p.u16("status flags")?;
        let caps_upper = p.u16("capability flags")?;
        hs.capabilities |= u32::from(caps_upper) << 16;
        let auth_data_len = p.u8("auth data length")?;
        let reserved = p.bytes(10, "reserved")?;
        if hs.capabilities & CLIENT_LONG_PASSWORD == 0 {
            // MariaDB 10.2+ clears CLIENT_LONG_PASSWORD and puts extended capabilities here.
            if let Some(&[a, b, c, d]) = reserved.get(6..10) {
                hs.mariadb_capabilities = u32::from_le_bytes([a, b, c, d]);
            }
        }
        if hs.capabilities & CLIENT_SECURE_CONNECTION != 0 {
            let len = usize::from(auth_data_len).saturating_sub(8).max(13);
            let part2 = p.bytes(len, "scramble")?;
            scramble.extend_from_slice(part2);
            if scramble.last() == Some(&0) {
                scramble.pop();
            }
        }
        hs.scramble = scramble;
        if hs.capabilities & CLIENT_PLUGIN_AUTH != 0 {
            // Some servers end the packet without the final NUL.
            let name = match p.clone().null_terminated("auth plugin name") {
                Ok(name) => name,
                Err(_) => p.rest(),
            };
            hs.auth_plugin = String::from_utf8_lossy(name).into_owned();
        }
        Ok(hs)
    }
    /// True when the server is MariaDB.
    pub fn is_mariadb(&self) -> bool {
        self.server_version.contains("MariaDB")
    }
    /// The server's `(major, minor, patch)` version, without the `5.5.5-` prefix MariaDB 10.x
    /// sends; `None` when the version string does not start with three numbers.
    pub fn version(&self) -> Option<(u16, u16, u16)> {
        let v = self.server_version.as_str();
        let v = if self.is_mariadb() {
            v.strip_prefix("5.5.5-").unwrap_or(v)
        } else {
            v
        };
        let mut parts = v.splitn(3, '.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let rest = parts.next()?;
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let patch = rest.get(..end)?.parse().ok()?;
        Some((major, minor, patch))
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
    /// MariaDB extended capabilities (already intersected with the server's; 0 for MySQL).
    pub mariadb_capabilities: u32,
}

fn put_fixed_header(dst: &mut BytesMut, caps: u32, max_packet: u32, collation: u8, ext: u32) {
    dst.put_u32_le(caps);
    dst.put_u32_le(max_packet);
    dst.put_u8(collation);
    dst.put_bytes(0, 19);
    // MariaDB reads its extended capabilities from the last 4 filler bytes.
    dst.put_u32_le(ext);
}

fn put_null_terminated(dst: &mut BytesMut, s: &[u8]) {
    dst.put_slice(s);
    dst.put_u8(0);
}

impl HandshakeResponse<'_> {
    /// Appends the payload to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let caps = self.capabilities;
        put_fixed_header(
            dst,
            caps,
            self.max_packet_size,
            self.collation,
            self.mariadb_capabilities,
        );
        put_null_terminated(dst, self.username.as_bytes());
        if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            put_lenenc_bytes(dst, self.auth_response);
        } else if caps & CLIENT_SECURE_CONNECTION != 0 {
            // A one-byte length cannot describe more than 255 bytes.
            let len = self.auth_response.len().min(255);
            let data = self.auth_response.get(..len).unwrap_or_default();
            dst.put_u8(len as u8);
            dst.put_slice(data);
        } else {
            put_null_terminated(dst, self.auth_response);
        }
        if caps & CLIENT_CONNECT_WITH_DB != 0 {
            put_null_terminated(dst, self.database.unwrap_or_default().as_bytes());
        }
        if caps & CLIENT_PLUGIN_AUTH != 0 {
            put_null_terminated(dst, self.auth_plugin.as_bytes());
        }
        if caps & CLIENT_CONNECT_ATTRS != 0 {
            let lenenc_str_len = |s: &str| lenenc_int_len(s.len() as u64) + s.len();
            let total: usize = self
                .connect_attrs
                .iter()
                .map(|(k, v)| lenenc_str_len(k) + lenenc_str_len(v))
                .sum();
            put_lenenc_int(dst, total as u64);
            for (k, v) in self.connect_attrs {
                put_lenenc_bytes(dst, k.as_bytes());
                put_lenenc_bytes(dst, v.as_bytes());
            }
        }
    }
}

/// Appends an SSLRequest payload: the first 32 bytes of a HandshakeResponse41, sent before the
/// TLS handshake. `caps` must include `CLIENT_SSL`; `ext` are MariaDB's extended capabilities
/// (0 for MySQL).
pub fn ssl_request(dst: &mut BytesMut, caps: u32, max_packet: u32, collation: u8, ext: u32) {
    put_fixed_header(dst, caps, max_packet, collation, ext);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::capabilities::*;

    const SCRAMBLE: &[u8; 20] = b"abcdefgh0123456789AB";

    /// A greeting laid out as the spec describes.
    fn greeting(
        version: &str,
        caps: u32,
        ext_caps: u32,
        auth_len: u8,
        part2: &[u8],
        plugin: &[u8],
    ) -> Vec<u8> {
        let mut p = vec![10];
        p.extend_from_slice(version.as_bytes());
        p.push(0);
        p.extend_from_slice(&1234u32.to_le_bytes());
        p.extend_from_slice(&SCRAMBLE[..8]);
        p.push(0);
        p.extend_from_slice(&(caps as u16).to_le_bytes());
        p.push(45);
        p.extend_from_slice(&2u16.to_le_bytes());
        p.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
        p.push(auth_len);
        p.extend_from_slice(&[0; 6]);
        p.extend_from_slice(&ext_caps.to_le_bytes());
        p.extend_from_slice(part2);
        p.extend_from_slice(plugin);
        p
    }

    const MYSQL_CAPS: u32 = 0xDFFF_FFFF;
    const MARIADB_CAPS: u32 = 0xC1FF_F7FE; // CLIENT_LONG_PASSWORD cleared

    fn part2() -> Vec<u8> {
        let mut v = SCRAMBLE[8..].to_vec();
        v.push(0);
        v
    }

    #[test]
    fn mysql_9_greeting() {
        let p = greeting(
            "9.1.0",
            MYSQL_CAPS,
            0,
            21,
            &part2(),
            b"caching_sha2_password\0",
        );
        let hs = Handshake::parse(&p).unwrap();
        assert_eq!(hs.protocol_version, 10);
        assert_eq!(hs.server_version, "9.1.0");
        assert_eq!(hs.connection_id, 1234);
        assert_eq!(hs.scramble, SCRAMBLE);
        assert_eq!(hs.capabilities, MYSQL_CAPS);
        assert_eq!(hs.mariadb_capabilities, 0);
        assert_eq!(hs.collation, 45);
        assert_eq!(hs.status, 2);
        assert_eq!(hs.auth_plugin, "caching_sha2_password");
        assert!(!hs.is_mariadb());
        assert_eq!(hs.version(), Some((9, 1, 0)));
    }

    #[test]
    fn mariadb_10_greeting() {
        let p = greeting(
            "5.5.5-10.11.6-MariaDB-0+deb12u1",
            MARIADB_CAPS,
            0x1D,
            21,
            &part2(),
            b"mysql_native_password\0",
        );
        let hs = Handshake::parse(&p).unwrap();
        assert!(hs.is_mariadb());
        assert_eq!(hs.version(), Some((10, 11, 6)));
        assert_eq!(hs.mariadb_capabilities, 0x1D);
        assert_eq!(hs.scramble, SCRAMBLE);
        assert_eq!(hs.auth_plugin, "mysql_native_password");
    }

    #[test]
    fn mariadb_11_greeting_without_final_nul() {
        let p = greeting(
            "11.8.2-MariaDB-ubu2404",
            MARIADB_CAPS,
            0x0F,
            21,
            &part2(),
            b"mysql_native_password",
        );
        let hs = Handshake::parse(&p).unwrap();
        assert!(hs.is_mariadb());
        assert_eq!(hs.version(), Some((11, 8, 2)));
        assert_eq!(hs.auth_plugin, "mysql_native_password");
        assert_eq!(hs.mariadb_capabilities, 0x0F);
    }

    #[test]
    fn greeting_variants() {
        // auth data length 0 (no CLIENT_PLUGIN_AUTH): part2 is still 13 bytes.
        let caps = MYSQL_CAPS & !CLIENT_PLUGIN_AUTH;
        let hs = Handshake::parse(&greeting("8.0.40", caps, 0, 0, &part2(), b"")).unwrap();
        assert_eq!(hs.scramble, SCRAMBLE);
        assert_eq!(hs.auth_plugin, "");
        // Longer auth data (len - 8 > 13), no trailing NUL.
        let long: Vec<u8> = (0..20u8).map(|b| b + 1).collect();
        let hs = Handshake::parse(&greeting("8.0.40", MYSQL_CAPS, 0, 28, &long, b"x\0")).unwrap();
        assert_eq!(hs.scramble.len(), 28);
        assert_eq!(hs.auth_plugin, "x");
        // Extended capabilities are ignored when CLIENT_LONG_PASSWORD is set.
        let hs = Handshake::parse(&greeting("8.0.40", MYSQL_CAPS, 7, 21, &part2(), b"")).unwrap();
        assert_eq!(hs.mariadb_capabilities, 0);
        // A greeting that stops after the lower capabilities.
        let full = greeting("5.0.0", MYSQL_CAPS, 0, 21, &part2(), b"");
        let short_len = 1 + 6 + 4 + 8 + 1 + 2;
        let hs = Handshake::parse(&full[..short_len]).unwrap();
        assert_eq!(hs.scramble, &SCRAMBLE[..8]);
        assert_eq!(hs.capabilities, MYSQL_CAPS & 0xFFFF);
    }

    #[test]
    fn malformed_greetings() {
        assert_eq!(
            Handshake::parse(&[]),
            Err(ProtocolError::Truncated("protocol version"))
        );
        assert_eq!(
            Handshake::parse(&[9, b'x', 0]),
            Err(ProtocolError::UnsupportedProtocolVersion(9))
        );
        assert_eq!(
            Handshake::parse(&[0xFF, 0x10, 0x04]),
            Err(ProtocolError::UnsupportedProtocolVersion(0xFF))
        );
        assert_eq!(
            Handshake::parse(b"\x0a9.1.0"),
            Err(ProtocolError::Truncated("server version"))
        );
        let full = greeting(
            "9.1.0",
            MYSQL_CAPS,
            0,
            21,
            &part2(),
            b"caching_sha2_password\0",
        );
        // Every truncation either parses the short legacy form or fails with a typed error.
        for n in 0..full.len() {
            match Handshake::parse(&full[..n]) {
                Ok(hs) => assert!(n == 22 || n >= 22 + 1 + 2 + 2 + 1 + 10 + 13, "{n}: {hs:?}"),
                Err(ProtocolError::Truncated(_)) => {}
                Err(e) => panic!("{n}: {e:?}"),
            }
        }
        // Scramble part 2 shorter than announced.
        let p = greeting("9.1.0", MYSQL_CAPS, 0, 21, &SCRAMBLE[8..12], b"");
        assert_eq!(
            Handshake::parse(&p),
            Err(ProtocolError::Truncated("scramble"))
        );
    }

    #[test]
    fn version_edge_cases() {
        let mut hs =
            Handshake::parse(&greeting("9.1.0", MYSQL_CAPS, 0, 21, &part2(), b"")).unwrap();
        hs.server_version = "8.0.40-log".into();
        assert_eq!(hs.version(), Some((8, 0, 40)));
        hs.server_version = "garbage".into();
        assert_eq!(hs.version(), None);
        hs.server_version = "5.5.5-10.6.1-MariaDB".into();
        assert_eq!(hs.version(), Some((10, 6, 1)));
    }

    fn base_response<'a>(
        caps: u32,
        auth: &'a [u8],
        attrs: &'a [(&'a str, &'a str)],
    ) -> HandshakeResponse<'a> {
        HandshakeResponse {
            capabilities: caps,
            max_packet_size: 16 * 1024 * 1024,
            collation: 45,
            username: "root",
            auth_response: auth,
            database: Some("test"),
            auth_plugin: "mysql_native_password",
            connect_attrs: attrs,
            mariadb_capabilities: 0,
        }
    }

    #[test]
    fn response_full() {
        let caps = CLIENT_PROTOCOL_41
            | CLIENT_SECURE_CONNECTION
            | CLIENT_PLUGIN_AUTH
            | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | CLIENT_CONNECT_WITH_DB
            | CLIENT_CONNECT_ATTRS;
        let attrs = [("_client_name", "actix-mysql"), ("k", "")];
        let r = base_response(caps, &[0xAA; 20], &attrs);
        let mut dst = BytesMut::new();
        r.encode(&mut dst);
        let mut want = Vec::new();
        want.extend_from_slice(&caps.to_le_bytes());
        want.extend_from_slice(&(16u32 * 1024 * 1024).to_le_bytes());
        want.push(45);
        want.extend_from_slice(&[0; 23]);
        want.extend_from_slice(b"root\0");
        want.push(20);
        want.extend_from_slice(&[0xAA; 20]);
        want.extend_from_slice(b"test\0");
        want.extend_from_slice(b"mysql_native_password\0");
        want.push((1 + 12 + 1 + 11 + 1 + 1 + 1) as u8);
        want.push(12);
        want.extend_from_slice(b"_client_name");
        want.push(11);
        want.extend_from_slice(b"actix-mysql");
        want.extend_from_slice(&[1, b'k', 0]);
        assert_eq!(&dst[..], &want[..]);
    }

    #[test]
    fn response_minimal_forms() {
        // 1-byte length auth data, no db / plugin / attrs.
        let caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
        let mut dst = BytesMut::new();
        base_response(caps, b"xyz", &[]).encode(&mut dst);
        assert_eq!(&dst[32..], b"root\0\x03xyz");
        // Neither: NUL-terminated auth data.
        let mut dst = BytesMut::new();
        base_response(CLIENT_PROTOCOL_41, b"xyz", &[]).encode(&mut dst);
        assert_eq!(&dst[32..], b"root\0xyz\0");
        // Lenenc auth data longer than 250 bytes (e.g. RSA-encrypted).
        let long = [7u8; 256];
        let caps =
            CLIENT_PROTOCOL_41 | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_SECURE_CONNECTION;
        let mut dst = BytesMut::new();
        base_response(caps, &long, &[]).encode(&mut dst);
        assert_eq!(&dst[32..40], b"root\0\xFC\x00\x01");
        assert_eq!(dst.len(), 32 + 5 + 3 + 256);
        // Empty attributes still carry their (zero) length; database None is an empty string.
        let caps = CLIENT_PROTOCOL_41
            | CLIENT_SECURE_CONNECTION
            | CLIENT_CONNECT_ATTRS
            | CLIENT_CONNECT_WITH_DB;
        let mut r = base_response(caps, b"", &[]);
        r.database = None;
        let mut dst = BytesMut::new();
        r.encode(&mut dst);
        assert_eq!(&dst[32..], b"root\0\x00\0\x00");
    }

    #[test]
    fn ssl_request_layout() {
        let mut dst = BytesMut::new();
        let caps = CLIENT_PROTOCOL_41 | CLIENT_SSL;
        ssl_request(&mut dst, caps, 0x0100_0000, 45, 0);
        assert_eq!(dst.len(), 32);
        assert_eq!(&dst[..4], &caps.to_le_bytes());
        assert_eq!(&dst[4..8], &[0, 0, 0, 1]);
        assert_eq!(dst[8], 45);
        assert!(dst[9..].iter().all(|&b| b == 0));
        // It is the prefix of the full response.
        let mut full = BytesMut::new();
        let mut r = base_response(caps, b"", &[]);
        r.max_packet_size = 0x0100_0000;
        r.encode(&mut full);
        assert_eq!(&full[..32], &dst[..]);
    }

    #[test]
    fn mariadb_extended_capabilities_go_in_the_last_filler_bytes() {
        let caps = CLIENT_PROTOCOL_41 | CLIENT_SSL;
        let mut dst = BytesMut::new();
        ssl_request(&mut dst, caps, 0x0100_0000, 45, 0x10);
        assert!(dst[9..28].iter().all(|&b| b == 0));
        assert_eq!(&dst[28..32], &[0x10, 0, 0, 0]);
        let mut full = BytesMut::new();
        let mut r = base_response(caps, b"", &[]);
        r.max_packet_size = 0x0100_0000;
        r.mariadb_capabilities = 0x10;
        r.encode(&mut full);
        assert_eq!(&full[..32], &dst[..]);
    }
}
