//! The actors: one [`Connection`] actor per server connection, run under an
//! [`actix::Supervisor`].
mod connect;
pub(crate) mod connection;
pub mod messages;
mod transport;

pub use connection::Connection;
