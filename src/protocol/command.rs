//! Command packets sent by the client (the payloads; framing is done by the codec).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase.html>
use bytes::{BufMut, BytesMut};

use super::constants::command::{
    COM_INIT_DB, COM_PING, COM_QUERY, COM_QUIT, COM_RESET_CONNECTION, COM_SET_OPTION,
};

/// `COM_SET_OPTION` argument: allow several statements per `COM_QUERY`.
pub const MYSQL_OPTION_MULTI_STATEMENTS_ON: u16 = 0;
/// `COM_SET_OPTION` argument: one statement per `COM_QUERY`.
pub const MYSQL_OPTION_MULTI_STATEMENTS_OFF: u16 = 1;

/// `COM_QUERY` with the SQL text.
pub fn com_query(dst: &mut BytesMut, sql: &str) {
    dst.reserve(1 + sql.len());
    dst.put_u8(COM_QUERY);
    dst.put_slice(sql.as_bytes());
}
/// `COM_INIT_DB` with the schema name.
pub fn com_init_db(dst: &mut BytesMut, db: &str) {
    dst.reserve(1 + db.len());
    dst.put_u8(COM_INIT_DB);
    dst.put_slice(db.as_bytes());
}
/// `COM_PING`.
pub fn com_ping(dst: &mut BytesMut) {
    dst.put_u8(COM_PING);
}
/// `COM_QUIT`.
pub fn com_quit(dst: &mut BytesMut) {
    dst.put_u8(COM_QUIT);
}
/// `COM_RESET_CONNECTION`.
pub fn com_reset_connection(dst: &mut BytesMut) {
    dst.put_u8(COM_RESET_CONNECTION);
}
/// `COM_SET_OPTION` with [`MYSQL_OPTION_MULTI_STATEMENTS_ON`] or
/// [`MYSQL_OPTION_MULTI_STATEMENTS_OFF`]. The server answers with EOF (or OK) or ERR.
pub fn com_set_option(dst: &mut BytesMut, option: u16) {
    dst.put_u8(COM_SET_OPTION);
    dst.put_u16_le(option);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
        let mut b = BytesMut::new();
        f(&mut b);
        b.to_vec()
    }

    #[test]
    fn payloads() {
        assert_eq!(enc(|b| com_query(b, "SELECT 1")), b"\x03SELECT 1");
        assert_eq!(enc(|b| com_query(b, "")), b"\x03");
        assert_eq!(
            enc(|b| com_query(b, "SELECT 'é'")),
            b"\x03SELECT '\xc3\xa9'"
        );
        assert_eq!(enc(|b| com_init_db(b, "test")), b"\x02test");
        assert_eq!(enc(com_ping), b"\x0e");
        assert_eq!(enc(com_quit), b"\x01");
        assert_eq!(enc(com_reset_connection), b"\x1f");
        assert_eq!(
            enc(|b| com_set_option(b, MYSQL_OPTION_MULTI_STATEMENTS_ON)),
            b"\x1b\x00\x00"
        );
        assert_eq!(
            enc(|b| com_set_option(b, MYSQL_OPTION_MULTI_STATEMENTS_OFF)),
            b"\x1b\x01\x00"
        );
    }

    #[test]
    fn appends() {
        let mut b = BytesMut::from(&b"xx"[..]);
        com_ping(&mut b);
        assert_eq!(&b[..], b"xx\x0e");
    }
}
