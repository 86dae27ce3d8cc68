//! The public handle to a connection actor.
use actix::{Addr, Supervisor};

use crate::actor::channel::{collect_as, ReplyTx};
use crate::actor::connection::call;
use crate::actor::messages::{
    Close, CloseStatement, ConnectionInfo, ConnectionState, ConnectionStats, Exec, Execute,
    GetInfo, GetState, Ping, Prepare, Query, QueryMulti, QueryStream, ResetConnection,
    ResetStatement, SelectDb,
};
use crate::actor::Connection;
use crate::error::{Error, Result};
use crate::from_row::FromRow;
use crate::opts::Opts;
use crate::params::Params;
use crate::row::{ExecResult, QueryResult, Row};
use crate::statement::Statement;
use crate::stream::RowStream;

/// A cheap, cloneable handle to one supervised connection actor.
///
/// Every clone talks to the same connection; commands run one at a time, in the order they
/// arrive.
///
/// # Behavior
///
/// - **Lazy connect**: creating a client does no I/O; the first command connects.
/// - **Ordering**: commands from all clones are queued in arrival order.
/// - **Cancellation**: dropping a command's future before it was sent removes it from the
///   queue; after it was sent, the connection still reads the whole reply, so the next command
///   is not affected.
/// - **Lost connection**: a command that was sent but not answered fails with
///   [`ErrorKind::ConnectionLost`](crate::ErrorKind::ConnectionLost)
///   ([`Error::may_have_executed`] is true), unless it was declared retry-safe; the supervisor
///   restarts the actor, and queued commands run on a new connection.
/// - **Idle close**: with an `idle_timeout`, a connection with nothing to do says `COM_QUIT`
///   and closes; the actor stays, and the next command reconnects. A connection the server
///   closes while idle (`wait_timeout`, `KILL`) is noticed at once and reopened on demand.
/// - **Reconnect**: failed connects are retried with exponential backoff and jitter
///   ([`ReconnectPolicy`](crate::ReconnectPolicy)) while commands are queued; a command waits at
///   most `queue_timeout`. Server errors listed as temporary in the options reopen the
///   connection and send the command again.
/// - **Transactions**: when the connection is lost inside a transaction, the transaction's
///   commands fail with [`ErrorKind::TransactionAborted`](crate::ErrorKind::TransactionAborted)
///   and are never sent on the new connection.
/// - **Database**: the database from the options is selected at connect; [`Client::select_db`]
///   is remembered and selected again when the connection is reopened.
///
/// ```no_run
/// use actix_mysql::{Client, Opts};
///
/// #[actix::main]
/// async fn main() -> Result<(), actix_mysql::Error> {
///     let client = Client::new(Opts::from_url("mysql://root:secret@127.0.0.1:3306/test")?);
///     client.execute("CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, name TEXT)").await?;
///     let res = client.execute("INSERT INTO t VALUES (1, 'one')").await?;
///     assert_eq!(res.affected_rows, 1);
///     for row in client.query("SELECT id, name FROM t").await? {
///         let id: i32 = row.get("id");
///         let name: String = row.get("name");
///         println!("{id} {name}");
///     }
///     Ok(())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    addr: Addr<Connection>,
}

impl Client {
    /// Starts a supervised connection actor on the current arbiter. No I/O happens until the
    /// first command.
    ///
    /// # Panics
    ///
    /// Outside a running actix system (e.g. not inside `#[actix::main]` or an actix-web server).
    pub fn new(opts: Opts) -> Self {
        let addr = Supervisor::start(move |_| Connection::new(opts));
        Client { addr }
    }

    /// Parses `url` (see [`Opts::from_url`]) and starts a client.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for an invalid URL.
    pub fn from_url(url: &str) -> Result<Self> {
        Ok(Client::new(Opts::from_url(url)?))
    }

    /// The address of the connection actor, for sending the [`messages`](crate::messages)
    /// directly from other actors.
    pub fn addr(&self) -> &Addr<Connection> {
        &self.addr
    }

    /// Runs a query and returns the rows of its first result set (empty for a statement that
    /// returns none).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Server`](crate::ErrorKind::Server) with the server's code, SQLSTATE,
    /// message and this SQL when the server refuses the statement; the connection stays usable.
    /// Connection failures as described in [Behavior](Client#behavior).
    pub async fn query(&self, sql: impl Into<String>) -> Result<Vec<Row>> {
        call(&self.addr, Query::new(sql).into_command(), ReplyTx::Rows).await
    }

    /// Runs a query that is safe to send again if the connection is lost before its reply
    /// arrives (for reads and idempotent statements).
    ///
    /// # Errors
    ///
    /// As [`Client::query`], except that a lost connection re-sends the query.
    pub async fn query_retry_safe(&self, sql: impl Into<String>) -> Result<Vec<Row>> {
        let msg = Query::new(sql).retry_safe(true);
        call(&self.addr, msg.into_command(), ReplyTx::Rows).await
    }

    /// Runs a query and returns its first row, if any.
    ///
    /// # Errors
    ///
    /// As [`Client::query`].
    pub async fn query_first(&self, sql: impl Into<String>) -> Result<Option<Row>> {
        Ok(self.query(sql).await?.into_iter().next())
    }

    /// Runs a query with `?` placeholders bound to `params` (client-side: the values are
    /// escaped into the SQL following the session's character set and `NO_BACKSLASH_ESCAPES`;
    /// bytes that are not UTF-8 go as hex literals).
    ///
    /// ```no_run
    /// # async fn demo(client: actix_mysql::Client) -> Result<(), actix_mysql::Error> {
    /// let rows = client
    ///     .query_with("SELECT id FROM users WHERE name = ? AND age > ?", ("O'Brien", 30))
    ///     .await?;
    /// # let _ = rows;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::query`], plus [`ErrorKind::Usage`](crate::ErrorKind::Usage) when the
    /// number of parameters does not match the placeholders, or when the session's character
    /// set makes backslash escaping unsafe (gbk, big5, sjis, cp932): use a prepared statement.
    pub async fn query_with(
        &self,
        sql: impl Into<String>,
        params: impl Params,
    ) -> Result<Vec<Row>> {
        let msg = Query::new(sql).bind(params);
        call(&self.addr, msg.into_command(), ReplyTx::Rows).await
    }

    /// Runs a query with `?` placeholders bound to `params` (see [`Client::query_with`]) and
    /// returns every result.
    ///
    /// # Errors
    ///
    /// As [`Client::query_with`].
    pub async fn query_multi_with(
        &self,
        sql: impl Into<String>,
        params: impl Params,
    ) -> Result<Vec<QueryResult>> {
        let msg = QueryMulti::new(sql).bind(params);
        call(&self.addr, msg.into_command(), ReplyTx::Results).await
    }

    /// Runs a statement without rows with `?` placeholders bound to `params` (see
    /// [`Client::query_with`]).
    ///
    /// # Errors
    ///
    /// As [`Client::query_with`].
    pub async fn execute_with(
        &self,
        sql: impl Into<String>,
        params: impl Params,
    ) -> Result<ExecResult> {
        let msg = Execute::new(sql).bind(params);
        call(&self.addr, msg.into_command(), ReplyTx::Exec).await
    }

    /// Streams the rows of a query: see [`RowStream`]. The connection reads from the server
    /// only as fast as the stream is consumed.
    ///
    /// # Errors
    ///
    /// At once when the command is refused (queue full, client closed); errors of the query
    /// itself arrive as the last item of the stream.
    pub async fn query_stream(&self, sql: impl Into<String>) -> Result<RowStream> {
        self.addr.send(QueryStream::new(sql)).await?
    }

    /// Prepares a statement on the server (and caches it on this connection).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Server`](crate::ErrorKind::Server) for invalid SQL.
    pub async fn prepare(&self, sql: impl Into<String>) -> Result<Statement> {
        call(
            &self.addr,
            Prepare::new(sql).into_command(),
            ReplyTx::Prepared,
        )
        .await
    }

    /// Runs a prepared statement with `params` (binary protocol) and returns the rows of its
    /// first result set. Prepares it first on this connection if needed (after a reconnect, or
    /// when it was evicted from the cache).
    ///
    /// # Errors
    ///
    /// As [`Client::query`], plus [`ErrorKind::Usage`](crate::ErrorKind::Usage) for a wrong
    /// number of parameters.
    pub async fn exec(&self, stmt: &Statement, params: impl Params) -> Result<Vec<Row>> {
        let msg = Exec::new(stmt, params);
        call(&self.addr, msg.into_command(), ReplyTx::Rows).await
    }

    /// Runs a prepared statement without rows (INSERT, UPDATE, ...) and returns its outcome.
    ///
    /// # Errors
    ///
    /// As [`Client::exec`].
    pub async fn exec_drop(&self, stmt: &Statement, params: impl Params) -> Result<ExecResult> {
        let msg = Exec::new(stmt, params);
        call(&self.addr, msg.into_command(), ReplyTx::Exec).await
    }

    /// Runs a prepared statement and converts every row with [`FromRow`].
    ///
    /// # Errors
    ///
    /// As [`Client::exec`], plus conversion errors.
    pub async fn exec_as<T: FromRow + Send + 'static>(
        &self,
        stmt: &Statement,
        params: impl Params,
    ) -> Result<Vec<T>> {
        let msg = Exec::new(stmt, params);
        call(&self.addr, msg.into_command(), collect_as::<T>).await
    }

    /// Resets a prepared statement on the server (`COM_STMT_RESET`: discards long data sent
    /// for it and closes its cursor). Statements are not reset between executions otherwise;
    /// parameters larger than 8 MiB are sent as long data automatically.
    ///
    /// # Errors
    ///
    /// When the server refuses or cannot be reached.
    pub async fn reset_statement(&self, stmt: &Statement) -> Result<()> {
        self.addr.send(ResetStatement::new(stmt)).await?
    }

    /// Closes a prepared statement on this connection (`COM_STMT_CLOSE`) and drops it from
    /// the cache. Using the handle again prepares it again.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed) when the client is closed.
    pub async fn close_statement(&self, stmt: &Statement) -> Result<()> {
        self.addr.send(CloseStatement::new(stmt)).await?
    }

    /// Runs a query and converts every row with [`FromRow`] (tuples, or a
    /// `#[derive(FromRow)]` struct).
    ///
    /// # Errors
    ///
    /// As [`Client::query`], plus [`ErrorKind::Decode`](crate::ErrorKind::Decode) naming the
    /// column when a value does not convert.
    pub async fn query_as<T: FromRow + Send + 'static>(
        &self,
        sql: impl Into<String>,
    ) -> Result<Vec<T>> {
        call(&self.addr, Query::new(sql).into_command(), collect_as::<T>).await
    }

    /// Runs a query that must return exactly one row.
    ///
    /// # Errors
    ///
    /// As [`Client::query`], plus [`ErrorKind::RowCount`](crate::ErrorKind::RowCount) when it
    /// returns no row ([`Error::is_no_row`]) or more than one.
    pub async fn query_one(&self, sql: impl Into<String>) -> Result<Row> {
        exactly_one(self.query(sql).await?)
    }

    /// Runs a query that returns at most one row.
    ///
    /// # Errors
    ///
    /// As [`Client::query`], plus [`ErrorKind::RowCount`](crate::ErrorKind::RowCount) when it
    /// returns more than one row.
    pub async fn query_opt(&self, sql: impl Into<String>) -> Result<Option<Row>> {
        at_most_one(self.query(sql).await?)
    }

    /// Runs a query and returns every result (several for a stored procedure `CALL`).
    ///
    /// # Errors
    ///
    /// As [`Client::query`]; an error in a later statement fails the whole call.
    pub async fn query_multi(&self, sql: impl Into<String>) -> Result<Vec<QueryResult>> {
        call(
            &self.addr,
            QueryMulti::new(sql).into_command(),
            ReplyTx::Results,
        )
        .await
    }

    /// Runs a statement without rows and returns its outcome: affected rows, insert id, info
    /// message, warning count and server status.
    ///
    /// # Errors
    ///
    /// As [`Client::query`].
    pub async fn execute(&self, sql: impl Into<String>) -> Result<ExecResult> {
        call(&self.addr, Execute::new(sql).into_command(), ReplyTx::Exec).await
    }

    /// Changes the default database; remembered across reconnects.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Server`](crate::ErrorKind::Server) (1049) for an unknown database.
    pub async fn select_db(&self, db: impl Into<String>) -> Result<()> {
        self.addr.send(SelectDb::new(db)).await?
    }

    /// Checks that the server answers, connecting first if needed.
    ///
    /// # Errors
    ///
    /// When the server cannot be reached.
    pub async fn ping(&self) -> Result<()> {
        self.addr.send(Ping).await?
    }

    /// Resets the session state on the server (`COM_RESET_CONNECTION`: rolls back, drops
    /// temporary tables, clears user and session variables), then selects the database from
    /// the options again and runs the init statements, so the session is as freshly connected.
    ///
    /// # Errors
    ///
    /// When the server refuses or cannot be reached.
    pub async fn reset_connection(&self) -> Result<()> {
        self.addr.send(ResetConnection).await?
    }

    /// Closes the connection once the commands already queued are done (`COM_QUIT`). Commands
    /// sent afterwards, through any clone, fail with
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed). Dropping every clone also closes the
    /// connection, once its queue is drained.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed) when the actor is already gone.
    pub async fn close(&self) -> Result<()> {
        self.addr.send(Close).await?
    }

    /// What the connection is doing (for health checks), its counters, and how many commands
    /// are queued.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed) when the actor is gone.
    pub async fn state(&self) -> Result<(ConnectionState, ConnectionStats, usize)> {
        self.addr.send(GetState).await.map_err(Error::from)
    }

    /// Facts about the open connection (server connection id, version), or `None` while it is
    /// closed.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed) when the actor is gone.
    pub async fn connection_info(&self) -> Result<Option<ConnectionInfo>> {
        self.addr.send(GetInfo).await.map_err(Error::from)
    }
}

pub(crate) fn exactly_one(rows: Vec<Row>) -> Result<Row> {
    match at_most_one(rows)? {
        Some(row) => Ok(row),
        None => Err(Error::row_count(0)),
    }
}

pub(crate) fn at_most_one(rows: Vec<Row>) -> Result<Option<Row>> {
    let n = rows.len();
    if n > 1 {
        return Err(Error::row_count(n));
    }
    Ok(rows.into_iter().next())
}
