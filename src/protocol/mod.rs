//! Sans-IO implementation of the MySQL/MariaDB client/server protocol.
//!
//! Everything here is a pure function (or a state machine fed with bytes) on byte buffers: no
//! sockets, no runtime, no clocks. The async layers ([`crate::codec`] and the connection actor)
//! only move bytes in and out of these types.
//!
//! Specification: <https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html> and
//! <https://mariadb.com/kb/en/clientserver-protocol/>.
#![cfg_attr(
    not(test),
    deny(clippy::panic, clippy::unwrap_used, clippy::expect_used)
)]

pub mod auth;
pub mod buf;
pub mod column;
pub mod command;
pub mod constants;
mod error;
pub mod handshake;
pub mod packet;
pub mod response;
pub mod resultset;
pub mod session;
pub mod statement;
pub mod value;

pub use error::ProtocolError;
