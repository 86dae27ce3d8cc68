//! Session state change information carried by OK packets under `CLIENT_SESSION_TRACK`.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html> and
//! <https://mariadb.com/kb/en/ok_packet/#session-change-type>.
use super::buf::ParseBuf;
use super::ProtocolError;

/// `SESSION_TRACK_SYSTEM_VARIABLES`: a system variable changed.
pub const SESSION_TRACK_SYSTEM_VARIABLES: u8 = 0;
/// `SESSION_TRACK_SCHEMA`: the default schema changed.
pub const SESSION_TRACK_SCHEMA: u8 = 1;
/// `SESSION_TRACK_STATE_CHANGE`: session state changed in a way not otherwise described.
pub const SESSION_TRACK_STATE_CHANGE: u8 = 2;

/// One change reported by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionChange {
    /// `SET [SESSION] name = value` (including `SET NAMES`, which sets the character set
    /// variables).
    SystemVariable {
        /// Variable name, e.g. `character_set_client`.
        name: String,
        /// New value as text.
        value: String,
    },
    /// `USE db` / `COM_INIT_DB`.
    Schema(String),
    /// Something else about the session changed (temporary tables, user variables, ...).
    StateChanged,
    /// A kind of change this client does not interpret (GTIDs, transaction state, ...).
    Other(u8),
}

/// Parses the session state information of an OK packet into changes.
pub fn parse_session_changes(data: &[u8]) -> Result<Vec<SessionChange>, ProtocolError> {
    let mut buf = ParseBuf::new(data);
    let mut changes = Vec::new();
    while !buf.is_empty() {
        let kind = buf.u8("session change type")?;
        let entry = buf.lenenc_bytes_non_null("session change data")?;
        let mut entry_buf = ParseBuf::new(entry);
        let change = match kind {
            SESSION_TRACK_SYSTEM_VARIABLES => {
                let name = entry_buf.lenenc_bytes_non_null("variable name")?;
                let value = entry_buf.lenenc_bytes_non_null("variable value")?;
                SessionChange::SystemVariable {
                    name: String::from_utf8_lossy(name).into_owned(),
                    value: String::from_utf8_lossy(value).into_owned(),
                }
            }
            SESSION_TRACK_SCHEMA => {
                let name = entry_buf.lenenc_bytes_non_null("schema name")?;
                SessionChange::Schema(String::from_utf8_lossy(name).into_owned())
            }
            SESSION_TRACK_STATE_CHANGE => SessionChange::StateChanged,
            other => SessionChange::Other(other),
        };
        changes.push(change);
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![kind, data.len() as u8];
        v.extend_from_slice(data);
        v
    }

    fn lenenc(s: &str) -> Vec<u8> {
        let mut v = vec![s.len() as u8];
        v.extend_from_slice(s.as_bytes());
        v
    }

    #[test]
    fn parses_schema_variables_and_state() {
        let mut data = entry(SESSION_TRACK_SCHEMA, &lenenc("shop"));
        let mut var = lenenc("character_set_client");
        var.extend(lenenc("latin1"));
        data.extend(entry(SESSION_TRACK_SYSTEM_VARIABLES, &var));
        data.extend(entry(SESSION_TRACK_STATE_CHANGE, b"\x011"));
        data.extend(entry(5, b"\x08________"));
        assert_eq!(
            parse_session_changes(&data).unwrap(),
            vec![
                SessionChange::Schema("shop".into()),
                SessionChange::SystemVariable {
                    name: "character_set_client".into(),
                    value: "latin1".into()
                },
                SessionChange::StateChanged,
                SessionChange::Other(5),
            ]
        );
    }

    #[test]
    fn truncated_data_is_an_error_not_a_panic() {
        let mut data = entry(SESSION_TRACK_SCHEMA, &lenenc("shop"));
        for cut in 1..data.len() {
            assert!(parse_session_changes(&data[..cut]).is_err(), "cut at {cut}");
        }
        // An entry length past the end.
        data.extend([SESSION_TRACK_SCHEMA, 200, 1, 2]);
        assert!(parse_session_changes(&data).is_err());
    }
}
