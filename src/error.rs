//! The crate's error type.
//!
//! Every fallible operation returns [`Error`], an opaque type with a [`kind`](Error::kind), an
//! optional source, the server's structured error where there is one
//! ([`as_server_error`](Error::as_server_error)) and the SQL that failed
//! ([`query`](Error::query)).
use std::fmt;
use std::sync::Arc;

use crate::codec::CodecError;
use crate::protocol::auth::AuthError;
use crate::protocol::response::ErrPacket;
use crate::protocol::value::FromValueError;
use crate::protocol::ProtocolError;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading from or writing to the transport failed, or connecting to the server failed.
    Io,
    /// The server broke the wire protocol (malformed, oversized or out-of-order packets).
    Protocol,
    /// The server answered a statement with an error (syntax error, duplicate key, ...).
    Server,
    /// Authentication failed: refused by the server (e.g. 1045), an unsupported plugin, or a
    /// password that would have to travel over an insecure transport.
    Auth,
    /// A column value could not be converted to the requested Rust type.
    Decode,
    /// Invalid options or connection URL.
    Config,
    /// The API was used in a way that cannot work (unknown column, wrong parameter count, ...).
    Usage,
    /// The connection was lost while a command was in flight; see
    /// [`Error::may_have_executed`].
    ConnectionLost,
    /// An operation did not finish within its deadline (connect, queue wait, query).
    Timeout,
    /// The connection actor is gone (its system stopped) or the client was closed.
    Closed,
    /// A queue bound was reached; the request was refused without being queued.
    QueueFull,
    /// `query_one` found no row, or `query_one` / `query_opt` found more than one
    /// ([`Error::is_no_row`] tells which).
    RowCount,
    /// The connection was lost while a transaction was open: the transaction is gone (the
    /// server rolled it back) and the statement was not sent again.
    TransactionAborted,
    /// TLS could not be set up: the server does not offer it although the options require it,
    /// its certificate was refused, or the TLS files could not be loaded. The source is the
    /// underlying TLS error when there is one.
    Tls,
}

/// An error returned by the server, as carried by an ERR packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerError {
    /// The server's error number, e.g. 1064 (`ER_PARSE_ERROR`).
    pub code: u16,
    /// The five-character SQLSTATE, e.g. `42000`.
    pub sql_state: String,
    /// The server's message.
    pub message: String,
}

impl ServerError {
    /// The server's error number.
    pub fn code(&self) -> u16 {
        self.code
    }
    /// The SQLSTATE.
    pub fn sql_state(&self) -> &str {
        &self.sql_state
    }
    /// The server's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<ErrPacket> for ServerError {
    fn from(p: ErrPacket) -> Self {
        ServerError {
            code: p.code,
            sql_state: p.sql_state,
            message: p.message,
        }
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.sql_state, self.message)
    }
}

impl std::error::Error for ServerError {}

/// The error type of this crate.
///
/// Cloning is cheap enough for fanning one failure out to every waiting caller.
#[derive(Clone)]
pub struct Error(Box<Inner>);

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    detail: Option<String>,
    server: Option<ServerError>,
    query: Option<String>,
    may_have_executed: bool,
    rows_found: Option<usize>,
    /// A callback of the caller's own (a `FromRow` impl, a local infile handler) panicked
    /// while the connection ran it; the message is in `detail`.
    panicked: bool,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner {
            kind,
            detail: None,
            server: None,
            query: None,
            may_have_executed: false,
            rows_found: None,
            panicked: false,
            source: None,
        }))
    }

    /// Marks whether the command may have run on the server (it was written).
    pub(crate) fn with_may_have_executed(mut self, may: bool) -> Self {
        self.0.may_have_executed = may;
        self
    }

    /// A panic in a callback of the caller's (`what`) that the connection ran: the connection
    /// goes on, and the caller's own future panics again with the same message.
    pub(crate) fn user_panic(what: &str, payload: &(dyn std::any::Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        let mut e = Error::new(ErrorKind::Usage).with_detail(format!("{what} panicked: {message}"));
        e.0.panicked = true;
        e
    }

    /// Panics again with a panic a callback of the caller's raised inside the connection.
    pub(crate) fn resume_user_panic(self) -> Self {
        if self.0.panicked {
            std::panic::resume_unwind(Box::new(self.0.detail.clone().unwrap_or_default()));
        }
        self
    }

    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.0.source = Some(Arc::new(source));
        self
    }

    pub(crate) fn with_query(mut self, sql: impl Into<String>) -> Self {
        self.0.query = Some(sql.into());
        self
    }

    pub(crate) fn server(err: ErrPacket) -> Self {
        let mut e = Error::new(ErrorKind::Server);
        e.0.server = Some(err.into());
        e
    }

    pub(crate) fn auth_refused(err: ErrPacket) -> Self {
        let kind = match err.code {
            // ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR, ER_NOT_SUPPORTED_AUTH_MODE,
            // ER_ACCESS_DENIED_NO_PASSWORD_ERROR, ER_MUST_CHANGE_PASSWORD_LOGIN,
            // ER_ACCOUNT_HAS_BEEN_LOCKED.
            1044 | 1045 | 1251 | 1698 | 1862 | 3118 => ErrorKind::Auth,
            _ => ErrorKind::Server,
        };
        let mut e = Error::new(kind);
        e.0.server = Some(err.into());
        e
    }

    pub(crate) fn connection_lost(may_have_executed: bool) -> Self {
        let mut e = Error::new(ErrorKind::ConnectionLost);
        e.0.may_have_executed = may_have_executed;
        e
    }

    pub(crate) fn transaction_aborted(may_have_executed: bool) -> Self {
        let mut e = Error::new(ErrorKind::TransactionAborted);
        e.0.may_have_executed = may_have_executed;
        e
    }

    pub(crate) fn row_count(found: usize) -> Self {
        let mut e = Error::new(ErrorKind::RowCount);
        e.0.detail = Some(if found == 0 {
            "the query returned no row, one was expected".to_string()
        } else {
            format!("the query returned {found} rows, at most one was expected")
        });
        e.0.rows_found = Some(found);
        e
    }

    pub(crate) fn config(detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config).with_detail(detail)
    }

    pub(crate) fn tls(detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::Tls).with_detail(detail)
    }

    pub(crate) fn usage(detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::Usage).with_detail(detail)
    }

    pub(crate) fn timeout(detail: impl Into<String>) -> Self {
        Error::new(ErrorKind::Timeout).with_detail(detail)
    }

    pub(crate) fn closed() -> Self {
        Error::new(ErrorKind::Closed)
    }

    pub(crate) fn decode(column: &str, err: FromValueError) -> Self {
        Error::new(ErrorKind::Decode)
            .with_detail(format!("column {column:?}"))
            .with_source(err)
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The server's error, when the server reported one.
    pub fn as_server_error(&self) -> Option<&ServerError> {
        self.0.server.as_ref()
    }

    /// The server's error number, when the server reported one.
    pub fn code(&self) -> Option<u16> {
        self.0.server.as_ref().map(|s| s.code)
    }

    /// The SQLSTATE, when the server reported an error.
    pub fn sql_state(&self) -> Option<&str> {
        self.0.server.as_ref().map(|s| s.sql_state.as_str())
    }

    /// The SQL text of the statement that failed, when the error belongs to one.
    pub fn query(&self) -> Option<&str> {
        self.0.query.as_deref()
    }

    /// For [`ErrorKind::ConnectionLost`], [`ErrorKind::TransactionAborted`] and
    /// [`ErrorKind::Timeout`]: true when the command had been written to the server, so it may
    /// have been executed although no reply (or only an interruption) came back. False only
    /// for a command that never reached the server or that the server refused before running
    /// it.
    pub fn may_have_executed(&self) -> bool {
        self.0.may_have_executed
    }

    /// For [`ErrorKind::RowCount`]: true when the query returned no row (`query_one` on an
    /// empty result), e.g. to answer "not found".
    pub fn is_no_row(&self) -> bool {
        self.0.rows_found == Some(0)
    }

    /// True when the connection cannot be used after this error (it is closed and reopened).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::Io
                | ErrorKind::Protocol
                | ErrorKind::ConnectionLost
                | ErrorKind::TransactionAborted
        )
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.0.kind);
        if let Some(detail) = &self.0.detail {
            d.field("detail", detail);
        }
        if let Some(server) = &self.0.server {
            d.field("server", server);
        }
        if let Some(query) = &self.0.query {
            d.field("query", query);
        }
        if matches!(
            self.0.kind,
            ErrorKind::ConnectionLost | ErrorKind::TransactionAborted | ErrorKind::Timeout
        ) {
            d.field("may_have_executed", &self.0.may_have_executed);
        }
        if let Some(source) = &self.0.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.0.kind {
            ErrorKind::Io => "i/o error",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Server => "server error",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::Decode => "cannot decode value",
            ErrorKind::Config => "invalid configuration",
            ErrorKind::Usage => "invalid use",
            ErrorKind::ConnectionLost => "connection lost",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Closed => "client closed",
            ErrorKind::QueueFull => "queue full",
            ErrorKind::TransactionAborted => "transaction aborted",
            ErrorKind::RowCount => "unexpected number of rows",
            ErrorKind::Tls => "TLS error",
        };
        f.write_str(what)?;
        if let Some(server) = &self.0.server {
            write!(f, " {server}")?;
        }
        if let Some(detail) = &self.0.detail {
            write!(f, ": {detail}")?;
        }
        if self.0.kind == ErrorKind::Timeout && self.0.may_have_executed {
            f.write_str(" (the command was sent; it may have been executed)")?;
        }
        if self.0.kind == ErrorKind::ConnectionLost {
            if self.0.may_have_executed {
                f.write_str(" (the command was sent; it may have been executed)")?;
            } else {
                f.write_str(" (the command was not sent)")?;
            }
        }
        if let Some(query) = &self.0.query {
            const MAX: usize = 200;
            if query.len() > MAX {
                let mut end = MAX;
                while !query.is_char_boundary(end) {
                    end -= 1;
                }
                write!(f, " in query `{}...`", &query[..end])?;
            } else {
                write!(f, " in query `{query}`")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.source {
            Some(s) => Some(&**s as &(dyn std::error::Error + 'static)),
            None => self
                .0
                .server
                .as_ref()
                .map(|s| s as &(dyn std::error::Error + 'static)),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io).with_source(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::new(ErrorKind::Protocol).with_source(e)
    }
}

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::Io(e) => e.into(),
            CodecError::Protocol(e) => e.into(),
        }
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Protocol(p) => p.into(),
            other => Error::new(ErrorKind::Auth).with_source(other),
        }
    }
}

impl From<actix::MailboxError> for Error {
    fn from(e: actix::MailboxError) -> Self {
        match e {
            actix::MailboxError::Closed => Error::closed(),
            actix::MailboxError::Timeout => Error::timeout("mailbox"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn error_is_send_sync_static() {
        assert_send_sync::<Error>();
    }

    #[test]
    fn server_error_display_names_code_state_and_query() {
        let e = Error::server(ErrPacket {
            code: 1146,
            sql_state: "42S02".into(),
            message: "Table 'db.t' doesn't exist".into(),
        })
        .with_query("SELECT * FROM t");
        assert_eq!(e.kind(), ErrorKind::Server);
        assert_eq!(e.code(), Some(1146));
        assert_eq!(e.sql_state(), Some("42S02"));
        assert_eq!(
            e.to_string(),
            "server error 1146 (42S02): Table 'db.t' doesn't exist in query `SELECT * FROM t`"
        );
    }

    #[test]
    fn long_query_is_truncated_on_a_char_boundary() {
        let q = "é".repeat(300);
        let e = Error::usage("x").with_query(q.clone());
        let s = e.to_string();
        assert!(s.len() < 300);
        assert_eq!(e.query(), Some(q.as_str()));
    }

    #[test]
    fn access_denied_is_an_auth_error() {
        let e = Error::auth_refused(ErrPacket {
            code: 1045,
            sql_state: "28000".into(),
            message: "Access denied".into(),
        });
        assert_eq!(e.kind(), ErrorKind::Auth);
        let e = Error::auth_refused(ErrPacket {
            code: 1049,
            sql_state: "42000".into(),
            message: "Unknown database 'x'".into(),
        });
        assert_eq!(e.kind(), ErrorKind::Server);
    }
}
