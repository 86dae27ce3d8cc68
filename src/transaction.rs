//! Transactions: a [`Transaction`] owns its connection until it ends.
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::actor::channel::{answer, collect_as, ReplyTx};
use crate::actor::command::{CmdOpts, Command};
use crate::actor::connection::{call, submit};
use crate::actor::messages::{Exec, Execute, Prepare, Query, QueryMulti, QueryStream, Release};
use crate::client::{at_most_one, exactly_one, Client};
use crate::error::Result;
use crate::from_row::FromRow;
use crate::params::Params;
use crate::row::{ExecResult, QueryResult, Row};
use crate::statement::Statement;
use crate::stream::RowStream;

static NEXT_TXN: AtomicU64 = AtomicU64::new(1);

/// Transaction isolation levels (`SET TRANSACTION ISOLATION LEVEL ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IsolationLevel {
    /// `READ UNCOMMITTED`.
    ReadUncommitted,
    /// `READ COMMITTED`.
    ReadCommitted,
    /// `REPEATABLE READ` (the InnoDB default).
    RepeatableRead,
    /// `SERIALIZABLE`.
    Serializable,
}

impl IsolationLevel {
    fn sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }
}

/// How to start a transaction: isolation level, read-only, consistent snapshot.
///
/// ```
/// use actix_mysql::{IsolationLevel, TransactionOpts};
///
/// let opts = TransactionOpts::new()
///     .with_isolation(IsolationLevel::Serializable)
///     .with_read_only(true);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionOpts {
    isolation: Option<IsolationLevel>,
    read_only: bool,
    consistent_snapshot: bool,
}

impl TransactionOpts {
    /// Defaults: the session's isolation level, read-write, no consistent snapshot.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the isolation level of this transaction only.
    pub fn with_isolation(mut self, level: IsolationLevel) -> Self {
        self.isolation = Some(level);
        self
    }
    /// `START TRANSACTION READ ONLY`.
    pub fn with_read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }
    /// `START TRANSACTION WITH CONSISTENT SNAPSHOT`.
    pub fn with_consistent_snapshot(mut self, on: bool) -> Self {
        self.consistent_snapshot = on;
        self
    }

    fn start_sql(&self) -> String {
        let mut parts = Vec::new();
        if self.consistent_snapshot {
            parts.push("WITH CONSISTENT SNAPSHOT");
        }
        if self.read_only {
            parts.push("READ ONLY");
        }
        if parts.is_empty() {
            "START TRANSACTION".to_string()
        } else {
            format!("START TRANSACTION {}", parts.join(", "))
        }
    }
}

/// An open transaction (or, when made with [`Transaction::begin`], a savepoint inside one).
///
/// While it is open, its connection runs only its statements: commands other callers send to
/// the same [`Client`] wait in order (within their `queue_timeout`) and run after it ends.
///
/// # Behavior
///
/// - **End**: [`commit`](Self::commit) or [`rollback`](Self::rollback). Dropped without either,
///   it is rolled back.
/// - **Lost connection**: the server rolls the transaction back. The statement in flight and
///   any later statement fail with [`ErrorKind::TransactionAborted`](crate::ErrorKind::TransactionAborted)
///   and are never sent on the new connection. A `COMMIT` whose reply was lost fails with
///   [`ErrorKind::ConnectionLost`](crate::ErrorKind::ConnectionLost): its outcome is unknown.
/// - **Nesting**: [`begin`](Self::begin) makes a savepoint; committing it releases the
///   savepoint, rolling it back (or dropping it) rolls back to it.
///
/// ```no_run
/// # async fn demo(client: actix_mysql::Client) -> Result<(), actix_mysql::Error> {
/// let mut tx = client.begin().await?;
/// tx.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1").await?;
/// {
///     let sp = tx.begin().await?; // SAVEPOINT
///     sp.execute("INSERT INTO audit (note) VALUES ('transfer')").await?;
///     sp.commit().await?; // RELEASE SAVEPOINT
/// }
/// tx.execute("UPDATE accounts SET balance = balance + 10 WHERE id = 2").await?;
/// tx.commit().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Transaction<'a> {
    client: Client,
    id: u64,
    /// `None` for the transaction itself, the savepoint name for a nested one.
    savepoint: Option<String>,
    depth: u32,
    done: bool,
    _parent: PhantomData<&'a mut ()>,
}

impl Client {
    /// Starts a transaction with default options.
    ///
    /// # Errors
    ///
    /// When the server refuses `START TRANSACTION` or cannot be reached.
    pub async fn begin(&self) -> Result<Transaction<'static>> {
        self.begin_with(TransactionOpts::default()).await
    }

    /// Starts a transaction with the given isolation level and characteristics.
    ///
    /// # Errors
    ///
    /// When the server refuses a statement or cannot be reached.
    pub async fn begin_with(&self, opts: TransactionOpts) -> Result<Transaction<'static>> {
        let id = NEXT_TXN.fetch_add(1, Ordering::Relaxed);
        // The handle exists before the claim is even queued: if this future is dropped at any
        // point, dropping `tx` rolls back and gives the connection back. (A claim whose
        // caller is gone by the time it comes up is not taken at all.)
        let tx = Transaction {
            client: self.clone(),
            id,
            savepoint: None,
            depth: 0,
            done: false,
            _parent: PhantomData,
        };
        let claim = (Command::Claim(id), CmdOpts::in_txn(id));
        call(self.addr(), claim, ReplyTx::Unit).await?;
        if let Some(level) = opts.isolation {
            tx.execute(format!("SET TRANSACTION ISOLATION LEVEL {}", level.sql()))
                .await?;
        }
        tx.execute(opts.start_sql()).await?;
        Ok(tx)
    }
}

impl Transaction<'_> {
    fn tag<M>(&self, msg: M, f: impl FnOnce(M, Option<u64>, bool) -> M) -> M {
        f(msg, Some(self.id), false)
    }

    /// Runs a query in the transaction and returns the rows of its first result set.
    ///
    /// # Errors
    ///
    /// As [`Client::query`], plus
    /// [`ErrorKind::TransactionAborted`](crate::ErrorKind::TransactionAborted) after a lost
    /// connection.
    pub async fn query(&self, sql: impl Into<String>) -> Result<Vec<Row>> {
        let msg = self.tag(Query::new(sql), Query::in_txn);
        call(self.client.addr(), msg.into_command(), ReplyTx::Rows).await
    }

    /// Runs a query and converts every row with [`FromRow`].
    ///
    /// # Errors
    ///
    /// As [`Transaction::query`], plus conversion errors.
    pub async fn query_as<T: FromRow + Send + 'static>(
        &self,
        sql: impl Into<String>,
    ) -> Result<Vec<T>> {
        let msg = self.tag(Query::new(sql), Query::in_txn);
        call(self.client.addr(), msg.into_command(), collect_as::<T>).await
    }

    /// Runs a query that must return exactly one row.
    ///
    /// # Errors
    ///
    /// As [`Client::query_one`].
    pub async fn query_one(&self, sql: impl Into<String>) -> Result<Row> {
        exactly_one(self.query(sql).await?)
    }

    /// Runs a query that returns at most one row.
    ///
    /// # Errors
    ///
    /// As [`Client::query_opt`].
    pub async fn query_opt(&self, sql: impl Into<String>) -> Result<Option<Row>> {
        at_most_one(self.query(sql).await?)
    }

    /// Runs a query and returns every result.
    ///
    /// # Errors
    ///
    /// As [`Transaction::query`].
    pub async fn query_multi(&self, sql: impl Into<String>) -> Result<Vec<QueryResult>> {
        let msg = self.tag(QueryMulti::new(sql), QueryMulti::in_txn);
        call(self.client.addr(), msg.into_command(), ReplyTx::Results).await
    }

    /// Runs a statement without rows in the transaction.
    ///
    /// # Errors
    ///
    /// As [`Transaction::query`].
    pub async fn execute(&self, sql: impl Into<String>) -> Result<ExecResult> {
        let msg = self.tag(Execute::new(sql), Execute::in_txn);
        call(self.client.addr(), msg.into_command(), ReplyTx::Exec).await
    }

    /// As [`Client::query_with`], in the transaction.
    ///
    /// # Errors
    ///
    /// As [`Client::query_with`].
    pub async fn query_with(
        &self,
        sql: impl Into<String>,
        params: impl Params,
    ) -> Result<Vec<Row>> {
        let msg = self.tag(Query::new(sql).bind(params), Query::in_txn);
        call(self.client.addr(), msg.into_command(), ReplyTx::Rows).await
    }

    /// As [`Client::query_multi_with`], in the transaction.
    ///
    /// # Errors
    ///
    /// As [`Client::query_multi_with`].
    pub async fn query_multi_with(
        &self,
        sql: impl Into<String>,
        params: impl Params,
    ) -> Result<Vec<QueryResult>> {
        let msg = self.tag(QueryMulti::new(sql).bind(params), QueryMulti::in_txn);
        call(self.client.addr(), msg.into_command(), ReplyTx::Results).await
    }

    /// As [`Client::execute_with`], in the transaction.
    ///
    /// # Errors
    ///
    /// As [`Client::execute_with`].
    pub async fn execute_with(
        &self,
        sql: impl Into<String>,
        params: impl Params,
    ) -> Result<ExecResult> {
        let msg = self.tag(Execute::new(sql).bind(params), Execute::in_txn);
        call(self.client.addr(), msg.into_command(), ReplyTx::Exec).await
    }

    /// As [`Client::query_stream`], in the transaction.
    ///
    /// # Errors
    ///
    /// As [`Client::query_stream`].
    pub async fn query_stream(&self, sql: impl Into<String>) -> Result<RowStream> {
        let msg = QueryStream::new(sql).in_txn(Some(self.id));
        self.client.addr().send(msg).await?
    }

    /// As [`Client::prepare`], in the transaction.
    ///
    /// # Errors
    ///
    /// As [`Client::prepare`].
    pub async fn prepare(&self, sql: impl Into<String>) -> Result<Statement> {
        let msg = Prepare::new(sql).in_txn(Some(self.id));
        call(self.client.addr(), msg.into_command(), ReplyTx::Prepared).await
    }

    /// As [`Client::exec`], in the transaction.
    ///
    /// # Errors
    ///
    /// As [`Client::exec`].
    pub async fn exec(&self, stmt: &Statement, params: impl Params) -> Result<Vec<Row>> {
        let msg = Exec::new(stmt, params).in_txn(Some(self.id));
        call(self.client.addr(), msg.into_command(), ReplyTx::Rows).await
    }

    /// As [`Client::exec_drop`], in the transaction.
    ///
    /// # Errors
    ///
    /// As [`Client::exec_drop`].
    pub async fn exec_drop(&self, stmt: &Statement, params: impl Params) -> Result<ExecResult> {
        let msg = Exec::new(stmt, params).in_txn(Some(self.id));
        call(self.client.addr(), msg.into_command(), ReplyTx::Exec).await
    }

    /// Creates a named savepoint (`SAVEPOINT name`).
    ///
    /// # Errors
    ///
    /// As [`Transaction::execute`].
    pub async fn savepoint(&self, name: &str) -> Result<()> {
        self.execute(format!("SAVEPOINT {}", quote_ident(name)))
            .await
            .map(drop)
    }

    /// Rolls back to a named savepoint (`ROLLBACK TO SAVEPOINT name`).
    ///
    /// # Errors
    ///
    /// As [`Transaction::execute`]; 1305 for an unknown savepoint.
    pub async fn rollback_to(&self, name: &str) -> Result<()> {
        self.execute(format!("ROLLBACK TO SAVEPOINT {}", quote_ident(name)))
            .await
            .map(drop)
    }

    /// Releases a named savepoint (`RELEASE SAVEPOINT name`).
    ///
    /// # Errors
    ///
    /// As [`Transaction::execute`]; 1305 for an unknown savepoint.
    pub async fn release_savepoint(&self, name: &str) -> Result<()> {
        self.execute(format!("RELEASE SAVEPOINT {}", quote_ident(name)))
            .await
            .map(drop)
    }

    /// Starts a nested transaction: a savepoint that [`commit`](Self::commit) releases and
    /// [`rollback`](Self::rollback) (or drop) rolls back to.
    ///
    /// # Errors
    ///
    /// As [`Transaction::execute`].
    pub async fn begin(&mut self) -> Result<Transaction<'_>> {
        let name = format!("actix_mysql_sp_{}", self.depth + 1);
        self.savepoint(&name).await?;
        Ok(Transaction {
            client: self.client.clone(),
            id: self.id,
            savepoint: Some(name),
            depth: self.depth + 1,
            done: false,
            _parent: PhantomData,
        })
    }

    /// Commits (for a nested transaction: releases its savepoint).
    ///
    /// # Errors
    ///
    /// The server's error (the transaction is over either way), or
    /// [`ErrorKind::ConnectionLost`](crate::ErrorKind::ConnectionLost) when the reply to
    /// `COMMIT` was lost: the outcome is unknown.
    pub async fn commit(mut self) -> Result<()> {
        self.done = true;
        match self.savepoint.take() {
            Some(sp) => self.release_savepoint(&sp).await,
            None => {
                let msg = Execute::new("COMMIT").in_txn(Some(self.id), true);
                self.end(msg).await
            }
        }
    }

    /// Rolls back (for a nested transaction: to its savepoint).
    ///
    /// # Errors
    ///
    /// When the server refuses or cannot be reached; the transaction is over either way.
    pub async fn rollback(mut self) -> Result<()> {
        self.done = true;
        match self.savepoint.take() {
            Some(sp) => self.rollback_to(&sp).await,
            None => {
                let msg = Execute::new("ROLLBACK").in_txn(Some(self.id), false);
                self.end(msg).await
            }
        }
    }
}

impl Transaction<'_> {
    /// Sends the statement that ends the transaction and, right behind it, the release of the
    /// connection, then waits for the statement's answer. Both are queued before the first
    /// await: a caller that drops this future still leaves the connection released.
    async fn end(&self, msg: Execute) -> Result<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        submit(self.client.addr(), msg.into_command(), ReplyTx::Exec(tx));
        let release = (Command::Release(self.id), CmdOpts::in_txn(self.id));
        let (released_tx, released) = tokio::sync::oneshot::channel();
        submit(self.client.addr(), release, ReplyTx::Unit(released_tx));
        let res = answer(rx).await;
        let released = answer(released).await;
        res?;
        released
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let addr = self.client.addr();
        match &self.savepoint {
            Some(sp) => addr.do_send(
                Execute::new(format!("ROLLBACK TO SAVEPOINT {}", quote_ident(sp)))
                    .in_txn(Some(self.id), false),
            ),
            None => {
                addr.do_send(Execute::new("ROLLBACK").in_txn(Some(self.id), false));
                addr.do_send(Release(self.id));
            }
        }
    }
}

/// Quotes an identifier with backticks.
fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}
