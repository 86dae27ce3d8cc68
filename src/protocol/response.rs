//! Generic response packets: OK, ERR and EOF (legacy and `CLIENT_DEPRECATE_EOF` forms).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_response_packets.html>
use super::buf::ParseBuf;
use super::constants::capabilities::{
    CLIENT_PROTOCOL_41, CLIENT_SESSION_TRACK, CLIENT_TRANSACTIONS,
};
use super::constants::status::SERVER_SESSION_STATE_CHANGED;
use super::constants::MAX_PAYLOAD_LEN;
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
        let mut p = ParseBuf::new(payload);
        match p.u8("OK header")? {
            0x00 | 0xFE => {}
            _ => return Err(ProtocolError::Unexpected("not an OK packet")),
        }
        let affected_rows = p
            .lenenc_int("OK affected rows")?
            .ok_or(ProtocolError::Malformed("NULL affected rows in OK packet"))?;
        let last_insert_id = p
            .lenenc_int("OK last insert id")?
            .ok_or(ProtocolError::Malformed("NULL last insert id in OK packet"))?;
        let mut ok = OkPacket {
            affected_rows,
            last_insert_id,
            ..OkPacket::default()
        };
        if capabilities & CLIENT_PROTOCOL_41 != 0 {
            ok.status = p.u16("OK status flags")?;
            ok.warnings = p.u16("OK warnings")?;
        } else if capabilities & CLIENT_TRANSACTIONS != 0 {
            ok.status = p.u16("OK status flags")?;
        }
        if capabilities & CLIENT_SESSION_TRACK != 0 {
            // The server leaves out the info when it is empty and no state changed.
            if !p.is_empty() {
                let info = p
                    .lenenc_bytes("OK info")?
                    .ok_or(ProtocolError::Malformed("NULL info in OK packet"))?;
                ok.info = String::from_utf8_lossy(info).into_owned();
            }
            if ok.status & SERVER_SESSION_STATE_CHANGED != 0 && !p.is_empty() {
                let state = p
                    .lenenc_bytes("OK session state")?
                    .ok_or(ProtocolError::Malformed("NULL session state in OK packet"))?;
                ok.session_state = state.to_vec();
            }
        } else {
            ok.info = String::from_utf8_lossy(p.rest()).into_owned();
        }
        Ok(ok)
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

impl std::fmt::Display for ErrPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ERROR {} ({}): {}",
            self.code, self.sql_state, self.message
        )
    }
}

impl ErrPacket {
    /// Parses an ERR packet. (MariaDB progress reports, code 0xFFFF, are `Unexpected`.)
    ///
    /// The `#` SQLSTATE marker is recognised whatever the capabilities: servers send ERR packets
    /// before the capabilities are negotiated, with or without it.
    pub fn parse(payload: &[u8], capabilities: u32) -> Result<Self, ProtocolError> {
        let _ = capabilities;
        let mut p = ParseBuf::new(payload);
        if p.u8("ERR header")? != 0xFF {
            return Err(ProtocolError::Unexpected("not an ERR packet"));
        }
        let code = p.u16("ERR code")?;
        if code == 0xFFFF {
            return Err(ProtocolError::Unexpected("progress report"));
        }
        let sql_state = if p.peek() == Some(b'#') {
            let state = p.bytes(6, "ERR SQLSTATE")?.get(1..).unwrap_or_default();
            String::from_utf8_lossy(state).into_owned()
        } else {
            "HY000".to_owned()
        };
        let message = String::from_utf8_lossy(p.rest()).into_owned();
        Ok(ErrPacket {
            code,
            sql_state,
            message,
        })
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
        if !is_eof(payload, false) {
            return Err(ProtocolError::Unexpected("not an EOF packet"));
        }
        let mut p = ParseBuf::new(payload);
        p.u8("EOF header")?;
        let warnings = p.u16("EOF warnings")?;
        let status = p.u16("EOF status flags")?;
        Ok(EofPacket { warnings, status })
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
    payload.first() == Some(&0xFE)
        && (payload.len() < 9 || (deprecate_eof && payload.len() < MAX_PAYLOAD_LEN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::constants::capabilities::*;
    use crate::protocol::constants::status::*;

    const CAPS41: u32 = CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS;

    #[test]
    fn ok_plain() {
        // OK after an INSERT: 1 row, last id 5, autocommit, 0 warnings.
        let ok = OkPacket::parse(&[0x00, 0x01, 0x05, 0x02, 0x00, 0x00, 0x00], CAPS41).unwrap();
        assert_eq!(ok.affected_rows, 1);
        assert_eq!(ok.last_insert_id, 5);
        assert_eq!(ok.status, SERVER_STATUS_AUTOCOMMIT);
        assert_eq!(ok.warnings, 0);
        assert_eq!(ok.info, "");
        assert!(ok.session_state.is_empty());
    }

    #[test]
    fn ok_with_info_without_session_track() {
        let mut p = vec![0x00, 0x03, 0x00, 0x22, 0x00, 0x01, 0x00];
        p.extend_from_slice(b"Records: 3  Duplicates: 0  Warnings: 1");
        let ok = OkPacket::parse(&p, CAPS41).unwrap();
        assert_eq!(ok.affected_rows, 3);
        assert_eq!(ok.status, 0x22);
        assert_eq!(ok.warnings, 1);
        assert_eq!(ok.info, "Records: 3  Duplicates: 0  Warnings: 1");
    }

    #[test]
    fn ok_large_lenenc_values() {
        let p = [
            0x00, 0xFC, 0x00, 0x01, 0xFD, 0x01, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
        ];
        let ok = OkPacket::parse(&p, CAPS41).unwrap();
        assert_eq!(ok.affected_rows, 256);
        assert_eq!(ok.last_insert_id, 0x01_0001);
    }

    #[test]
    fn ok_with_session_track() {
        let caps = CAPS41 | CLIENT_SESSION_TRACK;
        // USE test: info empty, session state = schema change tracker entry.
        let state = [0x01, 0x05, 0x04, b't', b'e', b's', b't'];
        let mut p = vec![0x00, 0x00, 0x00];
        p.extend_from_slice(
            &(SERVER_STATUS_AUTOCOMMIT | SERVER_SESSION_STATE_CHANGED).to_le_bytes(),
        );
        p.extend_from_slice(&[0x00, 0x00]);
        p.push(0x00); // empty info
        p.push(state.len() as u8);
        p.extend_from_slice(&state);
        let ok = OkPacket::parse(&p, caps).unwrap();
        assert_eq!(ok.info, "");
        assert_eq!(ok.session_state, state);

        // Info present, no state change.
        let mut p = vec![0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02];
        p.extend_from_slice(b"hi");
        let ok = OkPacket::parse(&p, caps).unwrap();
        assert_eq!(ok.info, "hi");
        assert!(ok.session_state.is_empty());

        // Info omitted entirely.
        let ok = OkPacket::parse(&[0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00], caps).unwrap();
        assert_eq!(ok.info, "");
    }

    #[test]
    fn ok_as_eof() {
        // 0xFE header under CLIENT_DEPRECATE_EOF, with more results.
        let p = [0xFE, 0x00, 0x00, 0x0A, 0x00, 0x02, 0x00];
        let ok = OkPacket::parse(&p, CAPS41 | CLIENT_DEPRECATE_EOF).unwrap();
        assert_eq!(
            ok.status,
            SERVER_STATUS_AUTOCOMMIT | SERVER_MORE_RESULTS_EXISTS
        );
        assert_eq!(ok.warnings, 2);
        assert!(is_eof(&p, true));
        assert!(is_eof(&p, false));
    }

    #[test]
    fn ok_malformed() {
        let caps = CAPS41 | CLIENT_SESSION_TRACK;
        assert_eq!(
            OkPacket::parse(&[], caps),
            Err(ProtocolError::Truncated("OK header"))
        );
        assert!(matches!(
            OkPacket::parse(&[0x01, 0, 0, 0, 0, 0, 0], caps),
            Err(ProtocolError::Unexpected(_))
        ));
        assert_eq!(
            OkPacket::parse(&[0x00], caps),
            Err(ProtocolError::Truncated("OK affected rows"))
        );
        assert_eq!(
            OkPacket::parse(&[0x00, 0xFC, 0x01], caps),
            Err(ProtocolError::Truncated("OK affected rows"))
        );
        assert!(matches!(
            OkPacket::parse(&[0x00, 0xFB, 0x00], caps),
            Err(ProtocolError::Malformed(_))
        ));
        assert!(matches!(
            OkPacket::parse(&[0x00, 0xFF, 0x00], caps),
            Err(ProtocolError::Malformed(_))
        ));
        assert_eq!(
            OkPacket::parse(&[0x00, 0x00, 0x00, 0x02], caps),
            Err(ProtocolError::Truncated("OK status flags"))
        );
        assert_eq!(
            OkPacket::parse(&[0x00, 0x00, 0x00, 0x02, 0x00, 0x00], caps),
            Err(ProtocolError::Truncated("OK warnings"))
        );
        // Info length past the end.
        assert_eq!(
            OkPacket::parse(
                &[0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x10, b'a'],
                caps
            ),
            Err(ProtocolError::Truncated("OK info"))
        );
        // Session state length past the end.
        assert_eq!(
            OkPacket::parse(
                &[0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xFC, 0xFF, 0xFF, 1],
                caps
            ),
            Err(ProtocolError::Truncated("OK session state"))
        );
    }

    #[test]
    fn err_with_sql_state() {
        let mut p = vec![0xFF, 0x28, 0x04, b'#'];
        p.extend_from_slice(b"42000You have an error in your SQL syntax");
        let err = ErrPacket::parse(&p, CAPS41).unwrap();
        assert_eq!(err.code, 1064);
        assert_eq!(err.sql_state, "42000");
        assert_eq!(err.message, "You have an error in your SQL syntax");
        assert_eq!(
            err.to_string(),
            "ERROR 1064 (42000): You have an error in your SQL syntax"
        );
    }

    #[test]
    fn err_without_marker() {
        // "Too many connections" sent before the handshake, without SQLSTATE.
        let mut p = vec![0xFF, 0x10, 0x04];
        p.extend_from_slice(b"Too many connections");
        let err = ErrPacket::parse(&p, 0).unwrap();
        assert_eq!(err.code, 1040);
        assert_eq!(err.sql_state, "HY000");
        assert_eq!(err.message, "Too many connections");
        assert!(is_err(&p));
    }

    #[test]
    fn err_malformed() {
        assert_eq!(
            ErrPacket::parse(&[], 0),
            Err(ProtocolError::Truncated("ERR header"))
        );
        assert_eq!(
            ErrPacket::parse(&[0xFF, 0x01], 0),
            Err(ProtocolError::Truncated("ERR code"))
        );
        assert_eq!(
            ErrPacket::parse(&[0xFF, 0x01, 0x00, b'#', b'4'], CAPS41),
            Err(ProtocolError::Truncated("ERR SQLSTATE"))
        );
        assert!(matches!(
            ErrPacket::parse(&[0x00, 0x01, 0x00], 0),
            Err(ProtocolError::Unexpected(_))
        ));
        // MariaDB progress report.
        let p = [
            0xFF, 0xFF, 0xFF, 0x01, 0x01, 0x02, 0x10, 0x27, 0x00, 0x00, 0x00,
        ];
        assert_eq!(
            ErrPacket::parse(&p, CAPS41),
            Err(ProtocolError::Unexpected("progress report"))
        );
        // Empty message is fine.
        let err = ErrPacket::parse(
            &[0xFF, 0x01, 0x00, b'#', b'H', b'Y', b'0', b'0', b'0'],
            CAPS41,
        )
        .unwrap();
        assert_eq!(err.message, "");
    }

    #[test]
    fn eof() {
        let eof = EofPacket::parse(&[0xFE, 0x01, 0x00, 0x22, 0x00]).unwrap();
        assert_eq!(
            eof,
            EofPacket {
                warnings: 1,
                status: 0x22
            }
        );
        assert_eq!(
            EofPacket::parse(&[0xFE, 0x00]),
            Err(ProtocolError::Truncated("EOF warnings"))
        );
        assert_eq!(
            EofPacket::parse(&[0xFE, 0x00, 0x00, 0x02]),
            Err(ProtocolError::Truncated("EOF status flags"))
        );
        assert!(matches!(
            EofPacket::parse(&[0x00, 0, 0, 0, 0]),
            Err(ProtocolError::Unexpected(_))
        ));
        assert!(matches!(
            EofPacket::parse(&[0xFE; 9]),
            Err(ProtocolError::Unexpected(_))
        ));
        assert!(matches!(
            EofPacket::parse(&[]),
            Err(ProtocolError::Unexpected(_))
        ));
    }

    #[test]
    fn eof_detection() {
        assert!(!is_eof(&[], true));
        assert!(is_eof(&[0xFE], false));
        assert!(is_eof(&[0xFE; 8], false));
        assert!(!is_eof(&[0xFE; 9], false));
        assert!(is_eof(&[0xFE; 9], true));
        assert!(!is_eof(&[0x00; 5], true));
        let long = vec![0xFE; MAX_PAYLOAD_LEN];
        assert!(!is_eof(&long, true));
        assert!(is_eof(&long[..MAX_PAYLOAD_LEN - 1], true));
        assert!(is_ok(&[0x00]));
        assert!(!is_ok(&[0xFE]));
        assert!(!is_err(&[]));
    }
}
