//! An asynchronous MySQL/MariaDB client built as supervised actix actors.
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod actor;
mod client;
pub mod codec;
mod error;
mod from_row;
mod opts;
mod params;
mod pool;
pub mod protocol;
mod row;
mod statement;
mod stream;
mod tls;
mod transaction;
#[cfg(feature = "actix-web")]
mod web;

#[cfg(feature = "derive")]
pub use actix_mysql_derive::FromRow;
pub use actor::messages;
pub use actor::Connection;
pub use client::Client;
pub use error::{Error, ErrorKind, Result, ServerError};
pub use from_row::FromRow;
pub use opts::{
    Opts, ReconnectPolicy, SslMode, DEFAULT_TEMPORARY_ERROR_CODES, DEFAULT_TEMPORARY_ERROR_STRINGS,
};
pub use params::Params;
pub use pool::{Pool, PoolOpts, PoolStats, PooledConn};
pub use protocol::resultset::Column;
pub use protocol::value::{Date, DateTime, Decimal, FromValue, FromValueError, Time, Value};
pub use row::{ColumnIndex, ExecResult, QueryResult, Row};
pub use statement::Statement;
pub use stream::RowStream;
pub use transaction::{IsolationLevel, Transaction, TransactionOpts};
