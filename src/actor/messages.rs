//! The messages a [`Connection`](super::Connection) actor handles.
//!
//! Each message answers with a `Result<_, Error>`, so inside actix handlers the reply composes
//! with `?`:
//!
//! ```no_run
//! use actix::prelude::*;
//! use actix_mysql::{Client, Opts, messages::Query};
//!
//! # async fn demo() -> Result<(), actix_mysql::Error> {
//! let client = Client::new(Opts::from_url("mysql://root@127.0.0.1/")?);
//! let rows = client.addr().send(Query::new("SELECT 1")).await??;
//! assert_eq!(rows[0].get::<i64>(0), 1);
//! # Ok(())
//! # }
//! ```
use actix::Message;

use super::command::CmdOpts;
use crate::error::Result;
use crate::params::Params;
use crate::protocol::value::Value;
use crate::row::{ExecResult, QueryResult, Row};
use crate::statement::Statement;

/// Defines a text-protocol SQL message: the same builder (`new`, `bind`, `retry_safe`,
/// `timeout`) with a different reply.
macro_rules! sql_message {
    ($(#[$doc:meta])* $name:ident => $reply:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            pub(crate) sql: String,
            pub(crate) params: Option<Vec<Value>>,
            pub(crate) retry_safe: bool,
            pub(crate) timeout: Option<std::time::Duration>,
            pub(crate) txn: Option<u64>,
            pub(crate) ends_txn: bool,
        }

        impl $name {
            /// A message with the given SQL.
            pub fn new(sql: impl Into<String>) -> Self {
                $name {
                    sql: sql.into(),
                    params: None,
                    retry_safe: false,
                    timeout: None,
                    txn: None,
                    ends_txn: false,
                }
            }

            /// Binds parameters to the `?` placeholders: they are interpolated into the SQL as
            /// escaped literals, following the session's character set and
            /// `NO_BACKSLASH_ESCAPES`.
            pub fn bind(mut self, params: impl Params) -> Self {
                self.params = Some(params.into_values());
                self
            }

            /// Declares the statement safe to send again when the connection is lost after it
            /// was written and before its reply arrived (e.g. a read-only `SELECT`, or an
            /// idempotent write). By default such a statement fails with
            /// [`ErrorKind::ConnectionLost`](crate::ErrorKind::ConnectionLost) instead.
            pub fn retry_safe(mut self, safe: bool) -> Self {
                self.retry_safe = safe;
                self
            }

            /// Bounds the statement's run time once it is sent (overrides the client's
            /// `query_timeout`). When it passes, the statement is killed on the server with
            /// `KILL QUERY` from a second connection and fails with
            /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout); the connection stays usable.
            pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
                self.timeout = Some(timeout);
                self
            }

            pub(crate) fn in_txn(mut self, txn: Option<u64>, ends_txn: bool) -> Self {
                self.txn = txn;
                self.ends_txn = ends_txn;
                self
            }

            pub(crate) fn cmd_opts(&self) -> CmdOpts {
                CmdOpts {
                    retry_safe: self.retry_safe,
                    timeout: self.timeout,
                    txn: self.txn,
                    ends_txn: self.ends_txn,
                }
            }
        }

        impl Message for $name {
            type Result = $reply;
        }
    };
}

sql_message! {
    /// Runs a text-protocol query and returns the rows of its first result set.
    Query => Result<Vec<Row>>
}

sql_message! {
    /// Runs a text-protocol query and returns every result it produced (several for a
    /// multi-statement query or a stored procedure `CALL`).
    QueryMulti => Result<Vec<QueryResult>>
}

sql_message! {
    /// Runs a statement that returns no rows (INSERT, UPDATE, DDL, ...) and returns its outcome.
    Execute => Result<ExecResult>
}

/// Changes the default database (`COM_INIT_DB`). The choice is remembered and restored when
/// the connection is reopened.
#[derive(Debug, Clone)]
pub struct SelectDb {
    pub(crate) db: String,
}

impl SelectDb {
    /// Selects `db`.
    pub fn new(db: impl Into<String>) -> Self {
        SelectDb { db: db.into() }
    }
}

impl Message for SelectDb {
    type Result = Result<()>;
}

/// Checks that the server answers (`COM_PING`), connecting first if needed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ping;

impl Message for Ping {
    type Result = Result<()>;
}

/// Resets the session (`COM_RESET_CONNECTION`): rolls back, drops temporary tables, clears
/// user variables and session settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResetConnection;

impl Message for ResetConnection {
    type Result = Result<()>;
}

/// Closes the connection once the commands already queued are done (`COM_QUIT`); commands
/// sent afterwards fail with [`ErrorKind::Closed`](crate::ErrorKind::Closed). Answers when the
/// connection is closed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Close;

impl Message for Close {
    type Result = Result<()>;
}

/// Returns the actor's [`ConnectionState`], its counters and the number of queued commands.
#[derive(Debug, Clone, Copy, Default)]
pub struct GetState;

impl Message for GetState {
    type Result = (ConnectionState, ConnectionStats, usize);
}

pub use super::engine::{ConnectionState, ConnectionStats};

/// Returns facts about the current connection (or `None` while it is not open).
#[derive(Debug, Clone, Copy, Default)]
pub struct GetInfo;

/// Facts about an open connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The server's id for this connection (as in `SHOW PROCESSLIST`, usable with `KILL`).
    pub connection_id: u32,
    /// The server's version string.
    pub server_version: String,
    /// True for MariaDB.
    pub is_mariadb: bool,
    /// Status flags of the last reply.
    pub status: u16,
    /// The session's `character_set_client` as the client knows it, or `None` while it is not
    /// known (it is read again before a string is interpolated).
    pub character_set: Option<String>,
    /// `NO_BACKSLASH_ESCAPES` is in the session's `sql_mode`.
    pub no_backslash_escapes: bool,
}

impl Message for GetInfo {
    type Result = Option<ConnectionInfo>;
}

/// Prepares a statement (`COM_STMT_PREPARE`) and caches it on the connection.
#[derive(Debug, Clone)]
pub struct Prepare {
    pub(crate) sql: String,
    pub(crate) txn: Option<u64>,
}

impl Prepare {
    /// Prepares `sql`.
    pub fn new(sql: impl Into<String>) -> Self {
        Prepare {
            sql: sql.into(),
            txn: None,
        }
    }

    pub(crate) fn in_txn(mut self, txn: Option<u64>) -> Self {
        self.txn = txn;
        self
    }
}

impl Message for Prepare {
    type Result = Result<Statement>;
}

/// Runs a prepared statement (`COM_STMT_EXECUTE`, binary protocol) and returns every result.
/// The statement is prepared on this connection first if it is not in its cache.
#[derive(Debug, Clone)]
pub struct Exec {
    pub(crate) sql: std::sync::Arc<str>,
    pub(crate) params: Vec<Value>,
    pub(crate) retry_safe: bool,
    pub(crate) timeout: Option<std::time::Duration>,
    pub(crate) txn: Option<u64>,
}

impl Exec {
    /// Runs `stmt` with `params`.
    pub fn new(stmt: &Statement, params: impl Params) -> Self {
        Exec {
            sql: stmt.sql.clone(),
            params: params.into_values(),
            retry_safe: false,
            timeout: None,
            txn: None,
        }
    }

    /// See [`Query::retry_safe`].
    pub fn retry_safe(mut self, safe: bool) -> Self {
        self.retry_safe = safe;
        self
    }

    /// See [`Query::timeout`].
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub(crate) fn in_txn(mut self, txn: Option<u64>) -> Self {
        self.txn = txn;
        self
    }
}

impl Message for Exec {
    type Result = Result<Vec<crate::row::QueryResult>>;
}

/// Removes a statement from the connection's cache and frees it on the server
/// (`COM_STMT_CLOSE`).
#[derive(Debug, Clone)]
pub struct CloseStatement {
    pub(crate) sql: std::sync::Arc<str>,
}

impl CloseStatement {
    /// Closes `stmt`.
    pub fn new(stmt: &Statement) -> Self {
        CloseStatement {
            sql: stmt.sql.clone(),
        }
    }
}

impl Message for CloseStatement {
    type Result = Result<()>;
}

/// Resets a prepared statement on the server (`COM_STMT_RESET`): discards long data sent for
/// it and closes its cursor.
#[derive(Debug, Clone)]
pub struct ResetStatement {
    pub(crate) sql: std::sync::Arc<str>,
}

impl ResetStatement {
    /// Resets `stmt`.
    pub fn new(stmt: &Statement) -> Self {
        ResetStatement {
            sql: stmt.sql.clone(),
        }
    }
}

impl Message for ResetStatement {
    type Result = Result<()>;
}

/// Runs a text-protocol query and streams its rows (first result set) through a bounded
/// channel: the connection stops reading from the server while the consumer is behind.
#[derive(Debug, Clone)]
pub struct QueryStream {
    pub(crate) sql: String,
    pub(crate) params: Option<Vec<Value>>,
    pub(crate) capacity: usize,
    pub(crate) txn: Option<u64>,
}

impl QueryStream {
    /// Streams the rows of `sql`.
    pub fn new(sql: impl Into<String>) -> Self {
        QueryStream {
            sql: sql.into(),
            params: None,
            capacity: 64,
            txn: None,
        }
    }

    /// See [`Query::bind`].
    pub fn bind(mut self, params: impl Params) -> Self {
        self.params = Some(params.into_values());
        self
    }

    /// Rows buffered between the connection and the consumer (default 64).
    pub fn capacity(mut self, rows: usize) -> Self {
        self.capacity = rows.max(1);
        self
    }

    pub(crate) fn in_txn(mut self, txn: Option<u64>) -> Self {
        self.txn = txn;
        self
    }
}

impl Message for QueryStream {
    type Result = Result<crate::stream::RowStream>;
}

/// Internal: gives the connection to a transaction (queued like any command).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claim(pub(crate) u64);

impl Message for Claim {
    type Result = Result<()>;
}

/// Internal: the transaction ended; the connection serves everyone again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Release(pub(crate) u64);

impl Message for Release {
    type Result = Result<()>;
}
