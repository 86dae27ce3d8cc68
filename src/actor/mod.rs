//! The actors: one [`Connection`] actor per server connection, run under an
//! [`actix::Supervisor`], over a sans-IO [engine](engine) that decides what the connection does.
//!
//! Layers, lowest first: `command`, `reply`, `stmt_cache`, `session` and `escaping` (the engine's model),
//! `engine` (the state machine), `channel` (callers that answer over channels), `connect`
//! and `transport` (opening a socket and the handshake), `connection` (the actor).
pub(crate) mod channel;
pub(crate) mod command;
mod connect;
pub(crate) mod connection;
pub(crate) mod engine;
mod escaping;
pub mod messages;
pub(crate) mod reply;
mod session;
#[cfg(test)]
mod sim;
mod stmt_cache;
mod transport;

pub use connection::Connection;
