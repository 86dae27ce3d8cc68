//! A blocking, DB-API-like interface for code that does not run in an async runtime.
//!
//! [`Connection`] and [`Cursor`] follow the shape of Python's DB-API 2.0 (PEP 249): connect,
//! get a cursor, `execute` with parameters, `fetchone` / `fetchmany` / `fetchall`, then
//! `commit` or `rollback`.
//!
//! ```no_run
//! use actix_mysql::blocking::Connection;
//!
//! fn main() -> Result<(), actix_mysql::Error> {
//!     let conn = Connection::connect("mysql://app:secret@127.0.0.1:3306/shop")?;
//!     let mut cur = conn.cursor()?;
//!     cur.execute("INSERT INTO items (name, price) VALUES (?, ?)", ("pen", 1.5))?;
//!     println!("new id {:?}", cur.lastrowid());
//!     conn.commit()?;
//!
//!     cur.execute("SELECT id, name FROM items WHERE price < ?", (10,))?;
//!     for row in &mut cur {
//!         let row = row?;
//!         let (id, name): (u64, String) = (row.get(0), row.get(1));
//!         println!("{id} {name}");
//!     }
//!     conn.close()
//! }
//! ```
//!
//! # How it runs
//!
//! The first blocking call starts one actix system on a background thread
//! (`actix-mysql-blocking`), shared by every blocking connection of the process and kept until
//! the process exits. Each [`Connection`] owns a [`Client`] whose supervised
//! connection actor runs there, with the same reconnect, timeout and transaction behavior as
//! the async API. A blocking call sends its command to that system and waits for the answer on
//! a channel, at most for the connection's [`timeout`](Connection::set_timeout).
//!
//! One shared system rather than one per connection: a thread per connection costs a stack and
//! a runtime each, while one connection actor needs very little CPU of its own; the actors
//! of all blocking connections run concurrently on the one thread.
//!
//! # Inside an async runtime
//!
//! Every blocking call checks first that it is not made on a thread of a Tokio runtime (an
//! actix system, an actix-web worker, `#[tokio::main]`, including Tokio's `spawn_blocking`
//! threads, which keep the runtime's context) and fails with
//! [`ErrorKind::Usage`] there instead of stalling the runtime or
//! deadlocking. Use the async [`Client`] in async code, or a thread of your own
//! (`std::thread::spawn`). Dropping a connection or cursor never blocks and is allowed
//! anywhere.
//!
//! # Transactions
//!
//! As in the DB-API, autocommit is **off** by default: the connection starts a transaction
//! (`START TRANSACTION`, at the [isolation level](Connection::set_isolation_level) chosen)
//! before the first statement,
//! and [`commit`](Connection::commit) or [`rollback`](Connection::rollback) ends it; the next
//! statement starts the next one. Closing or dropping the connection rolls back what was not
//! committed. [`set_autocommit(true)`](Connection::set_autocommit) runs every statement on its
//! own instead.
//!
//! - **Implicit ends**: a statement that makes the server commit on its own (DDL such as
//!   `CREATE TABLE`, or a `COMMIT` / `ROLLBACK` sent as SQL) ends the transaction here too;
//!   the next statement starts a new one.
//! - **Aborted**: when the connection is lost (also while the transaction is idle: `KILL`,
//!   `wait_timeout`), a deadlock (1213) rolls the transaction back, or a call times out
//!   inside it, the server's transaction is gone. Every later statement
//!   fails with [`ErrorKind::TransactionAborted`] until
//!   [`rollback`](Connection::rollback) (which then succeeds) or
//!   [`commit`](Connection::commit) (which fails with that kind) acknowledges it, so that no
//!   later statement is committed without the earlier ones.
//!
//! # Parameters
//!
//! `?` placeholders, with any [`Params`](crate::Params): a tuple, an array, a `Vec<Value>` or
//! [`params!`](crate::params!), bound as by [`Client::query_with`]:
//! the connection writes them into the SQL text as escaped literals, following the session's
//! character set and `NO_BACKSLASH_ESCAPES`, so `?` works in every statement, including ones
//! the server cannot prepare. A count of parameters that does not match the placeholders
//! fails with [`ErrorKind::Usage`].
mod cursor;
mod runtime;
mod txn;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use cursor::{ColumnDescription, Cursor};

use crate::actor::messages::QueryMulti;
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::opts::Opts;
use crate::protocol::constants::status;
use crate::protocol::value::Value;
use crate::row::QueryResult;
use crate::transaction::IsolationLevel;
use txn::Txn;

/// How long a blocking call waits for its answer unless
/// [`Connection::set_timeout`] says otherwise: 5 minutes.
///
/// The connection's own bounds ([`Opts::with_connect_timeout`], [`Opts::with_queue_timeout`],
/// [`Opts::with_query_timeout`]) apply as in the async API; this one only guarantees that a
/// call returns.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// What [`Connection::connect`] accepts: a `mysql://` URL (see [`Opts::from_url`]) or [`Opts`].
pub trait IntoOpts {
    /// The connection options.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] for an invalid URL.
    fn into_opts(self) -> Result<Opts>;
}

impl IntoOpts for Opts {
    fn into_opts(self) -> Result<Opts> {
        Ok(self)
    }
}

impl IntoOpts for &str {
    fn into_opts(self) -> Result<Opts> {
        Opts::from_url(self)
    }
}

impl IntoOpts for String {
    fn into_opts(self) -> Result<Opts> {
        Opts::from_url(&self)
    }
}

impl IntoOpts for &String {
    fn into_opts(self) -> Result<Opts> {
        Opts::from_url(self)
    }
}

/// A blocking connection, shaped like a DB-API 2.0 connection.
///
/// Cheap to clone: clones and the [`Cursor`]s made from it share one server connection, and
/// calls from several threads run one at a time. The connection is closed by
/// [`close`](Self::close), or when the last clone and cursor are dropped (rolling back what
/// was not committed).
///
/// See the [module documentation](self) for the runtime and the transaction rules.
///
/// ```no_run
/// use actix_mysql::blocking::Connection;
///
/// # fn main() -> Result<(), actix_mysql::Error> {
/// let conn = Connection::connect("mysql://app:secret@127.0.0.1:3306/bank")?;
/// let mut cur = conn.cursor()?;
/// cur.execute("UPDATE accounts SET balance = balance - ? WHERE id = ?", (10, 1))?;
/// cur.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", (10, 2))?;
/// conn.commit()?; // both or neither
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Connection {
    shared: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// `None` once closed.
    client: Option<Client>,
    autocommit: bool,
    tx: Tx,
    isolation: Option<IsolationLevel>,
    timeout: Option<Duration>,
}

/// The implicit transaction of a connection with autocommit off.
#[derive(Debug)]
enum Tx {
    /// None open; the next statement starts one.
    Idle,
    Open(Txn),
    /// The server's transaction is gone; statements fail until `rollback` or `commit`.
    Aborted,
}

impl Connection {
    /// Connects: starts a connection actor on the background runtime (starting that first if
    /// needed) and waits until the server has accepted the login.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] for an invalid URL; what connecting
    /// fails with ([`ErrorKind::Io`],
    /// [`ErrorKind::Auth`], [`ErrorKind::Timeout`],
    /// ...); [`ErrorKind::Usage`] inside an async runtime.
    pub fn connect(opts: impl IntoOpts) -> Result<Connection> {
        runtime::check_blocking_allowed()?;
        let opts = opts.into_opts()?;
        let client = runtime::block_on(Some(DEFAULT_TIMEOUT), move || async move {
            let client = Client::new(opts);
            client.ping().await.map(|()| client)
        })??;
        Ok(Connection {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    client: Some(client),
                    autocommit: false,
                    tx: Tx::Idle,
                    isolation: None,
                    timeout: Some(DEFAULT_TIMEOUT),
                }),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// A new cursor on this connection.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`] after [`close`](Self::close).
    pub fn cursor(&self) -> Result<Cursor> {
        self.lock().client()?;
        Ok(Cursor::new(self.shared.clone()))
    }

    /// Commits the current transaction; nothing to do when none is open (or in autocommit
    /// mode).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TransactionAborted`] when the
    /// transaction was aborted (see [Transactions](self#transactions); it is over now);
    /// [`ErrorKind::ConnectionLost`] or
    /// [`ErrorKind::Timeout`] when the answer to `COMMIT` did not
    /// arrive: its outcome is unknown; [`ErrorKind::Closed`] after
    /// [`close`](Self::close).
    pub fn commit(&self) -> Result<()> {
        let mut st = self.lock();
        st.client()?;
        match std::mem::replace(&mut st.tx, Tx::Idle) {
            Tx::Idle => Ok(()),
            Tx::Aborted => Err(aborted()),
            Tx::Open(tx) => runtime::block_on(st.timeout, move || tx.commit())?,
        }
    }

    /// Rolls back the current transaction; nothing to do when none is open. After an aborted
    /// transaction, acknowledges the abort and succeeds.
    ///
    /// # Errors
    ///
    /// When the server cannot be reached (the server rolls back on its own when the
    /// connection ends); [`ErrorKind::Closed`] after
    /// [`close`](Self::close).
    pub fn rollback(&self) -> Result<()> {
        let mut st = self.lock();
        st.client()?;
        match std::mem::replace(&mut st.tx, Tx::Idle) {
            Tx::Idle | Tx::Aborted => Ok(()),
            Tx::Open(tx) => match runtime::block_on(st.timeout, move || tx.rollback())? {
                Err(e) if e.kind() == ErrorKind::TransactionAborted => Ok(()),
                other => other,
            },
        }
    }

    /// Whether every statement runs on its own (`true`) or in the connection's transaction
    /// (`false`, the default).
    pub fn autocommit(&self) -> bool {
        self.lock().autocommit
    }

    /// Turns autocommit on or off. Turning it on commits the open transaction first (as
    /// `SET autocommit = 1` does on the server).
    ///
    /// # Errors
    ///
    /// As [`commit`](Self::commit), when turning it on; the mode changes either way.
    pub fn set_autocommit(&self, on: bool) -> Result<()> {
        let res = if on { self.commit() } else { Ok(()) };
        self.lock().autocommit = on;
        res
    }

    /// The isolation level of the implicit transactions (`SET TRANSACTION ISOLATION LEVEL`
    /// before each `START TRANSACTION`); `None`, the default, keeps the session's. Applies
    /// from the next transaction on.
    pub fn set_isolation_level(&self, level: Option<IsolationLevel>) {
        self.lock().isolation = level;
    }

    /// How long a blocking call waits for its answer; `None` waits as long as it takes.
    /// Default: [`DEFAULT_TIMEOUT`].
    ///
    /// A call that times out fails with [`ErrorKind::Timeout`]; its
    /// statement may still run. Inside a transaction, the transaction is aborted (and rolled
    /// back once that statement is done).
    pub fn set_timeout(&self, timeout: Option<Duration>) {
        self.lock().timeout = timeout;
    }

    /// The timeout of blocking calls.
    pub fn timeout(&self) -> Option<Duration> {
        self.lock().timeout
    }

    /// Checks that the server answers (reconnecting when the connection was closed while
    /// idle). Inside a transaction, the check is a statement of the transaction (`DO 1`).
    ///
    /// # Errors
    ///
    /// When the server cannot be reached; [`ErrorKind::Closed`]
    /// after [`close`](Self::close).
    pub fn ping(&self) -> Result<()> {
        let mut st = self.lock();
        let client = st.client()?.clone();
        match st.tx {
            Tx::Open(_) => st.run("DO 1".to_string(), Vec::new()).map(drop),
            Tx::Idle | Tx::Aborted => {
                runtime::block_on(st.timeout, move || async move { client.ping().await })?
            }
        }
    }

    /// Closes the connection: rolls back what was not committed and says goodbye to the
    /// server. Every later call, on this connection, its clones and its cursors, fails with
    /// [`ErrorKind::Closed`]; closing again does nothing.
    ///
    /// # Errors
    ///
    /// When the blocking call itself fails (timeout, inside an async runtime); the connection
    /// counts as closed either way.
    pub fn close(&self) -> Result<()> {
        runtime::check_blocking_allowed()?;
        let mut st = self.lock();
        let Some(client) = st.client.take() else {
            return Ok(());
        };
        let tx = std::mem::replace(&mut st.tx, Tx::Idle);
        runtime::block_on(st.timeout, move || async move {
            if let Tx::Open(tx) = tx {
                // The server rolls back on its own when the connection ends.
                let _ = tx.rollback().await;
            }
            match client.close().await {
                Err(e) if e.kind() == ErrorKind::Closed => Ok(()),
                other => other,
            }
        })?
    }

    /// True after [`close`](Self::close).
    pub fn is_closed(&self) -> bool {
        self.lock().client.is_none()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the state half-changed: every change
        // is a single assignment.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails with [`ErrorKind::Closed`] once the connection is closed.
    pub(crate) fn check_open(&self) -> Result<()> {
        self.lock().client().map(drop)
    }

    /// Runs one statement, in the connection's transaction unless autocommit is on, and
    /// returns every result it produced.
    pub(crate) fn run(&self, sql: &str, params: Vec<Value>) -> Result<Vec<QueryResult>> {
        self.lock().run(sql.to_string(), params)
    }
}

impl State {
    fn client(&self) -> Result<&Client> {
        self.client
            .as_ref()
            .ok_or_else(|| Error::closed().with_detail("the connection was closed"))
    }

    fn run(&mut self, sql: String, params: Vec<Value>) -> Result<Vec<QueryResult>> {
        let client = self.client()?.clone();
        let timeout = self.timeout;
        if self.autocommit {
            return runtime::block_on(timeout, move || async move {
                client
                    .addr()
                    .send(QueryMulti::new(sql).bind(params))
                    .await?
            })?;
        }
        let tx = match std::mem::replace(&mut self.tx, Tx::Idle) {
            Tx::Aborted => {
                self.tx = Tx::Aborted;
                return Err(aborted());
            }
            Tx::Open(tx) => tx,
            Tx::Idle => {
                let isolation = self.isolation;
                runtime::block_on(timeout, move || Txn::begin(client, isolation))??
            }
        };
        let answer = runtime::block_on(timeout, move || async move {
            let res = tx.query_multi_with(sql, params).await;
            (tx, res)
        });
        match answer {
            // The transaction was moved into the call that is still running; it rolls back
            // when dropped there.
            Err(e) => {
                self.tx = Tx::Aborted;
                Err(e)
            }
            Ok((tx, Err(e))) => {
                if ends_transaction(&e) {
                    drop(tx);
                    self.tx = Tx::Aborted;
                } else {
                    self.tx = Tx::Open(tx);
                }
                Err(e)
            }
            Ok((tx, Ok(results))) => {
                // The server reports in each OK whether a transaction is still open; after an
                // implicit commit (DDL, COMMIT as SQL) it is not.
                let still_open = results
                    .iter()
                    .rev()
                    .find_map(|r| match r {
                        QueryResult::Exec(e) => {
                            Some(e.server_status & status::SERVER_STATUS_IN_TRANS != 0)
                        }
                        _ => None,
                    })
                    .unwrap_or(true);
                if still_open {
                    self.tx = Tx::Open(tx);
                } else {
                    // Its ROLLBACK is a no-op now; it gives the connection back.
                    drop(tx);
                }
                Ok(results)
            }
        }
    }
}

/// Errors after which the server's transaction is gone.
fn ends_transaction(e: &Error) -> bool {
    const ER_LOCK_DEADLOCK: u16 = 1213;
    matches!(
        e.kind(),
        ErrorKind::TransactionAborted | ErrorKind::ConnectionLost | ErrorKind::Timeout
    ) || e.code() == Some(ER_LOCK_DEADLOCK)
}

fn aborted() -> Error {
    Error::transaction_aborted(false).with_detail(
        "the transaction was aborted (connection lost, deadlock or timeout); \
         call rollback() to start over",
    )
}
