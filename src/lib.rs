//! An asynchronous MySQL/MariaDB client built as supervised actix actors.
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod actor;
mod client;
pub mod codec;
mod error;
mod opts;
pub mod protocol;
mod row;
mod tls;

pub use actor::messages;
pub use actor::Connection;
pub use client::Client;
pub use error::{Error, ErrorKind, Result, ServerError};
pub use opts::{
    Opts, ReconnectPolicy, SslMode, DEFAULT_TEMPORARY_ERROR_CODES, DEFAULT_TEMPORARY_ERROR_STRINGS,
};
pub use protocol::resultset::Column;
pub use protocol::value::{Date, DateTime, Decimal, FromValue, FromValueError, Time, Value};
pub use row::{ColumnIndex, ExecResult, QueryResult, Row};
