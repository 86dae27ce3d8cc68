//! Command packets sent by the client (the payloads; framing is done by the codec).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase.html>
// CONTRACT STUB: implemented by the protocol work.
use bytes::BytesMut;

/// `COM_QUERY` with the SQL text.
pub fn com_query(dst: &mut BytesMut, sql: &str) {
    todo!("{dst:?}{sql}")
}
/// `COM_INIT_DB` with the schema name.
pub fn com_init_db(dst: &mut BytesMut, db: &str) {
    todo!("{dst:?}{db}")
}
/// `COM_PING`.
pub fn com_ping(dst: &mut BytesMut) {
    todo!("{dst:?}")
}
/// `COM_QUIT`.
pub fn com_quit(dst: &mut BytesMut) {
    todo!("{dst:?}")
}
/// `COM_RESET_CONNECTION`.
pub fn com_reset_connection(dst: &mut BytesMut) {
    todo!("{dst:?}")
}
