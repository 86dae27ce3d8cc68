//! An asynchronous MySQL/MariaDB client built as supervised actix actors.
//!
//! Each connection is an actor ([`Connection`]) started under an `actix::Supervisor`. Talk to
//! it through a [`Client`] (cheap to clone, `async` methods) or send it the [`messages`]
//! directly from other actors; share connections with a [`Pool`]. Connections open lazily,
//! close when idle, reconnect with backoff and send queued commands again; a command whose
//! outcome is unknown is resent only when declared retry-safe.
//!
//! ```no_run
//! use actix_mysql::{messages::Query, Client, Opts};
//!
//! #[actix::main]
//! async fn main() -> Result<(), actix_mysql::Error> {
//!     let db = Client::new(Opts::from_url("mysql://app:secret@127.0.0.1:3306/shop")?);
//!     // A method ...
//!     let res = db.execute_with("INSERT INTO orders (item) VALUES (?)", ("tea",)).await?;
//!     // ... or the same as a message, as an actor handler would send it.
//!     let rows = db
//!         .addr()
//!         .send(Query::new("SELECT item FROM orders WHERE id = ?").bind((res.insert_id,)))
//!         .await??;
//!     println!("{}", rows[0].get::<String>("item"));
//!     Ok(())
//! }
//! ```
//!
//! # Cargo features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `derive` | yes | `#[derive(FromRow)]` |
//! | `chrono`, `time` | no | conversions for their date and time types |
//! | `rust_decimal` | no | conversions for `rust_decimal::Decimal` |
//! | `serde_json` | no | conversions for `serde_json::Value` |
//! | `actix-web` | no | `impl actix_web::ResponseError for Error`: 409 for a duplicate key, 404 when `query_one` finds no row, 400 for values the table refuses, 503 when the database is unreachable, 500 otherwise, with a JSON body that never contains SQL or credentials |
//!
//! # Guides
//!
//! The repository's `docs/` directory: `configuration.md` (every option and URL parameter),
//! `actix.md` (messages in `ResponseFuture`/`ResponseActFuture` handlers, sharing a client,
//! actix-web), `pooling.md`, `transactions.md`, `reliability.md`, `benchmarks.md`,
//! `migrating-from-txmysql.md`; and the examples `quickstart`, `actix_web_app` and
//! `supervised_backend`.
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod actor;
pub mod blocking;
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
    MESSAGE_MATCHED_ERROR_CODES,
};
pub use params::Params;
pub use pool::{Pool, PoolOpts, PoolStats, PooledConn};
pub use protocol::resultset::Column;
pub use protocol::value::{Date, DateTime, Decimal, FromValue, FromValueError, Time, Value};
pub use row::{ColumnIndex, ExecResult, QueryResult, Row};
pub use statement::Statement;
pub use stream::RowStream;
pub use transaction::{IsolationLevel, Transaction, TransactionOpts};
