//! A pool of supervised connections: least-loaded dispatch and exclusive leases.
//!
//! See `docs/pooling.md` for the design and the failure semantics.
mod lease;
mod opts;

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix::ArbiterHandle;
use tokio::sync::{oneshot, Notify};

use crate::actor::messages::{ConnectionInfo, ConnectionState, ConnectionStats};
use crate::client::Client;
use crate::client::{at_most_one, exactly_one};
use crate::error::{Error, ErrorKind, Result};
use crate::from_row::FromRow;
use crate::opts::Opts;
use crate::params::Params;
use crate::row::{ExecResult, QueryResult, Row};
use crate::statement::Statement;

pub use lease::PooledConn;
pub use opts::PoolOpts;

/// A pool of connections to one server, shared by cloning.
///
/// Each connection is a supervised actor behind a [`Client`], so every connection of the pool
/// connects lazily, reconnects with backoff and redelivers queued commands on its own. The pool
/// decides which connection a command goes to, and lends connections out exclusively.
///
/// - **Dispatch** ([`query`](Pool::query), [`query_first`](Pool::query_first),
///   [`query_multi`](Pool::query_multi), [`execute`](Pool::execute), [`ping`](Pool::ping)):
///   the command goes to the connection with the fewest outstanding commands that is not
///   leased, preferring one whose socket is open. A new connection is added (up to
///   [`max_size`](PoolOpts::with_max_size)) when every existing one is busy. Use it for
///   independent statements that need no session state.
/// - **Leases** ([`get`](Pool::get)): a [`PooledConn`] is one connection for the caller alone
///   (a transaction, session variables, `LAST_INSERT_ID()`, temporary tables). It derefs to
///   [`Client`]. When it is dropped, its session is reset before anyone else gets it.
///
/// A pool is `Send + Sync` and cheap to clone: create it once (inside the actix system, e.g. in
/// `main` before starting the HTTP server) and hand clones to every worker. Its connection
/// actors live on the arbiter where the pool was created; commands reach them from any
/// thread.
///
/// ```no_run
/// use actix_mysql::{Opts, Pool, PoolOpts};
///
/// #[actix::main]
/// async fn main() -> Result<(), actix_mysql::Error> {
///     let pool = Pool::from_url("mysql://app:secret@127.0.0.1/shop?pool_max=16")?;
///     let n: i64 = pool.query_first("SELECT COUNT(*) FROM orders").await?.unwrap().get(0);
///
///     let conn = pool.get().await?;
///     conn.execute("SET @seen = 1").await?;
///     let rows = conn.query("SELECT @seen").await?;
///     drop(conn); // reset, then available again
///
///     pool.close(std::time::Duration::from_secs(5)).await?;
///     # let _ = (n, rows);
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("opts", &self.inner.opts)
            .field("pool_opts", &self.inner.pool_opts)
            .finish_non_exhaustive()
    }
}

/// A snapshot of a pool, from [`Pool::stats`].
///
/// `size == idle + busy + closed + connecting`: every connection is in exactly one of these
/// states. `leased` and `returning` count connections by what the pool does with them.
/// Counters (`connects`, ...) include connections that were replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PoolStats {
    /// Connections the pool has created (its current size; at most `max_size`).
    pub size: usize,
    /// Connections with an open socket and nothing to do.
    pub idle: usize,
    /// Connections with an open socket running commands.
    pub busy: usize,
    /// Connections without a socket (not opened yet, or closed while idle); the next command
    /// opens them.
    pub closed: usize,
    /// Connections opening a socket or waiting to retry.
    pub connecting: usize,
    /// Connections leased out with [`Pool::get`].
    pub leased: usize,
    /// Connections being reset or replaced after a lease ended, or replaced for their age.
    pub returning: usize,
    /// Callers waiting for a connection.
    pub waiters: usize,
    /// Dispatched commands not answered yet.
    pub in_flight: usize,
    /// Commands queued inside the connections.
    pub queued: usize,
    /// Sockets opened.
    pub connects: u64,
    /// Sockets opened again after a failure.
    pub reconnects: u64,
    /// Failed connect attempts.
    pub connect_failures: u64,
    /// Sockets closed by the idle timeout.
    pub idle_closes: u64,
    /// Commands sent again after a reconnect.
    pub redelivered: u64,
    /// Commands that failed with a timeout inside a connection.
    pub timeouts: u64,
    /// Commands written while an earlier reply was awaited (pipelining).
    pub pipelined: u64,
    /// Callers that gave up waiting for a connection (`wait_timeout`).
    pub wait_timeouts: u64,
    /// Callers refused because `max_waiters` were already waiting.
    pub refused: u64,
    /// Leases handed out.
    pub leases: u64,
    /// Connections replaced (failed reset or health check, `max_lifetime`).
    pub replaced: u64,
}

/// What the pool is doing with a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Available for dispatch and leases.
    Free,
    /// Lent out.
    Leased,
    /// Being reset or replaced; serves nobody.
    Returning,
}

/// Per-connection facts updated without the pool lock.
#[derive(Debug, Default)]
struct SlotShared {
    /// Dispatched commands not answered yet.
    load: AtomicUsize,
    /// Milliseconds since the pool's epoch when the connection last finished work.
    last_used: AtomicU64,
    /// Whether the last command left the socket open (an estimate: the idle timeout or the
    /// server may have closed it since).
    open: AtomicBool,
}

struct Slot {
    client: Client,
    status: Status,
    created: Instant,
    shared: Arc<SlotShared>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WaitKind {
    Dispatch,
    Lease,
}

struct Waiter {
    id: u64,
    kind: WaitKind,
    tx: oneshot::Sender<Result<Grant>>,
}

/// A connection given to a caller: for one dispatched command (with its load guard) or as a
/// lease.
struct Grant {
    slot: usize,
    client: Client,
    guard: Option<LoadGuard>,
    /// For a lease: returns the connection if the grant is dropped unclaimed.
    lease: Option<PooledConn>,
}

#[derive(Default)]
struct Totals {
    connects: u64,
    reconnects: u64,
    connect_failures: u64,
    idle_closes: u64,
    redelivered: u64,
    timeouts: u64,
    pipelined: u64,
}

impl Totals {
    fn add(&mut self, s: &ConnectionStats) {
        self.connects += s.connects;
        self.reconnects += s.reconnects;
        self.connect_failures += s.connect_failures;
        self.idle_closes += s.idle_closes;
        self.redelivered += s.redelivered;
        self.timeouts += s.timeouts;
        self.pipelined += s.pipelined;
    }
}

struct State {
    slots: Vec<Slot>,
    /// Connection actors created with the pool and not used yet (growing takes one), so that
    /// every actor lives on the pool's arbiter whichever thread grows the pool.
    spares: Vec<Client>,
    waiters: VecDeque<Waiter>,
    next_waiter: u64,
    closed: bool,
    /// Counters of connections that were replaced.
    retired: Totals,
}

pub(crate) struct Inner {
    opts: Opts,
    pool_opts: PoolOpts,
    home: ArbiterHandle,
    epoch: Instant,
    state: Mutex<State>,
    /// Dispatched commands not answered yet, over all connections.
    in_flight: AtomicUsize,
    /// Woken when work finishes (for `close`).
    drained: Notify,
    wait_timeouts: AtomicU64,
    refused: AtomicU64,
    leases: AtomicU64,
    replaced: AtomicU64,
}

/// Counts one dispatched command against its connection until dropped.
struct LoadGuard {
    shared: Arc<SlotShared>,
    inner: Arc<Inner>,
}

impl LoadGuard {
    fn new(inner: &Arc<Inner>, shared: &Arc<SlotShared>) -> Self {
        shared.load.fetch_add(1, Ordering::AcqRel);
        inner.in_flight.fetch_add(1, Ordering::AcqRel);
        LoadGuard {
            shared: shared.clone(),
            inner: inner.clone(),
        }
    }

    fn finish<T>(&self, result: &Result<T>) {
        let open = match result {
            Ok(_) => true,
            Err(e) => !e.is_fatal() && e.kind() != ErrorKind::Closed,
        };
        self.shared.open.store(open, Ordering::Release);
        self.shared
            .last_used
            .store(self.inner.now_ms(), Ordering::Release);
    }
}

impl Drop for LoadGuard {
    fn drop(&mut self) {
        self.shared.load.fetch_sub(1, Ordering::AcqRel);
        if self.inner.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.inner.drained.notify_waiters();
        }
    }
}

/// Removes a waiter that gave up from the queue.
struct WaiterGuard<'a> {
    inner: &'a Inner,
    id: u64,
    done: bool,
}

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            let mut st = self.inner.lock();
            st.waiters.retain(|w| w.id != self.id);
        }
    }
}

impl Pool {
    /// Creates a pool. No connection is opened unless `pool_opts` asks for `min_idle`; those
    /// are opened (with a ping each) in the background.
    ///
    /// The pool's [`idle_timeout`](PoolOpts::with_idle_timeout) replaces the one in `opts`.
    ///
    /// # Panics
    ///
    /// Outside a running actix system, like [`Client::new`].
    pub fn new(opts: Opts, pool_opts: PoolOpts) -> Pool {
        let opts = opts.with_idle_timeout(pool_opts.idle_timeout());
        let spares = (0..pool_opts.max_size())
            .map(|_| Client::new(opts.clone()))
            .rev()
            .collect();
        let inner = Arc::new(Inner {
            home: actix::Arbiter::current(),
            epoch: Instant::now(),
            state: Mutex::new(State {
                slots: Vec::new(),
                spares,
                waiters: VecDeque::new(),
                next_waiter: 0,
                closed: false,
                retired: Totals::default(),
            }),
            in_flight: AtomicUsize::new(0),
            drained: Notify::new(),
            wait_timeouts: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            leases: AtomicU64::new(0),
            replaced: AtomicU64::new(0),
            opts,
            pool_opts,
        });
        {
            let mut st = inner.lock();
            for _ in 0..inner.pool_opts.min_idle() {
                let idx = inner.grow(&mut st);
                let guard = LoadGuard::new(&inner, &st.slots[idx].shared);
                let client = st.slots[idx].client.clone();
                actix::spawn(async move {
                    let res = client.ping().await;
                    guard.finish(&res);
                    if let Err(e) = res {
                        tracing::warn!(error = %e, "pool: eager connection failed");
                    }
                });
            }
        }
        Pool { inner }
    }

    /// Parses a `mysql://` URL with pool parameters: the `pool_*` parameters (see
    /// [`PoolOpts`]) configure the pool, the rest the connections (see
    /// [`Opts::from_url`]).
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), actix_mysql::Error> {
    /// let pool = actix_mysql::Pool::from_url(
    ///     "mysql://app:secret@db:3306/shop?pool_min=2&pool_max=32&pool_wait_timeout=2s&connect_timeout=3s",
    /// )?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for an invalid URL or parameter.
    ///
    /// # Panics
    ///
    /// Outside a running actix system.
    pub fn from_url(url: &str) -> Result<Pool> {
        let (pool_opts, rest) = PoolOpts::split_url(url)?;
        Ok(Pool::new(Opts::from_url(&rest)?, pool_opts))
    }

    /// The pool's options.
    pub fn pool_opts(&self) -> &PoolOpts {
        &self.inner.pool_opts
    }

    /// The options every connection uses.
    pub fn opts(&self) -> &Opts {
        &self.inner.opts
    }

    /// Runs a query on the least-loaded connection and returns the rows of its first result
    /// set. See [`Client::query`].
    ///
    /// # Errors
    ///
    /// As [`Client::query`]; [`ErrorKind::Closed`] after [`close`](Pool::close);
    /// [`ErrorKind::Timeout`] / [`ErrorKind::QueueFull`] when every connection is leased and
    /// the wait is too long / too many callers wait.
    pub async fn query(&self, sql: impl Into<String>) -> Result<Vec<Row>> {
        let sql = sql.into();
        self.dispatch(move |c| async move { c.query(sql).await })
            .await
    }

    /// Like [`query`](Pool::query) for a statement that may be sent again when its
    /// connection is lost before the reply arrived. See [`Client::query_retry_safe`].
    ///
    /// # Errors
    ///
    /// As [`Pool::query`].
    pub async fn query_retry_safe(&self, sql: impl Into<String>) -> Result<Vec<Row>> {
        let sql = sql.into();
        self.dispatch(move |c| async move { c.query_retry_safe(sql).await })
            .await
    }

    /// Runs a query on the least-loaded connection and returns its first row, if any.
    ///
    /// # Errors
    ///
    /// As [`Pool::query`].
    pub async fn query_first(&self, sql: impl Into<String>) -> Result<Option<Row>> {
        Ok(self.query(sql).await?.into_iter().next())
    }

    /// Runs a query on the least-loaded connection and returns every result. See
    /// [`Client::query_multi`].
    ///
    /// # Errors
    ///
    /// As [`Pool::query`].
    pub async fn query_multi(&self, sql: impl Into<String>) -> Result<Vec<QueryResult>> {
        let sql = sql.into();
        self.dispatch(move |c| async move { c.query_multi(sql).await })
            .await
    }

    /// Runs a statement without rows on the least-loaded connection. See
    /// [`Client::execute`].
    ///
    /// # Errors
    ///
    /// As [`Pool::query`].
    pub async fn execute(&self, sql: impl Into<String>) -> Result<ExecResult> {
        let sql = sql.into();
        self.dispatch(move |c| async move { c.execute(sql).await })
            .await
    }

    /// As [`Client::query_with`], on the least-loaded connection.
    ///
    /// # Errors
    ///
    /// As [`Pool::query`] and [`Client::query_with`].
    pub async fn query_with(
        &self,
        sql: impl Into<String>,
        params: impl Params,
    ) -> Result<Vec<Row>> {
        let (sql, params) = (sql.into(), params.into_values());
        self.dispatch(move |c| async move { c.query_with(sql, params).await })
            .await
    }

    /// As [`Client::execute_with`], on the least-loaded connection.
    ///
    /// # Errors
    ///
    /// As [`Pool::query`] and [`Client::execute_with`].
    pub async fn execute_with(
        &self,
        sql: impl Into<String>,
        params: impl Params,
    ) -> Result<ExecResult> {
        let (sql, params) = (sql.into(), params.into_values());
        self.dispatch(move |c| async move { c.execute_with(sql, params).await })
            .await
    }

    /// As [`Client::query_as`], on the least-loaded connection.
    ///
    /// # Errors
    ///
    /// As [`Pool::query`], plus conversion errors.
    pub async fn query_as<T: FromRow + Send + 'static>(
        &self,
        sql: impl Into<String>,
    ) -> Result<Vec<T>> {
        let sql = sql.into();
        self.dispatch(move |c| async move { c.query_as(sql).await })
            .await
    }

    /// As [`Client::query_one`], on the least-loaded connection.
    ///
    /// # Errors
    ///
    /// As [`Client::query_one`].
    pub async fn query_one(&self, sql: impl Into<String>) -> Result<Row> {
        exactly_one(self.query(sql).await?)
    }

    /// As [`Client::query_opt`], on the least-loaded connection.
    ///
    /// # Errors
    ///
    /// As [`Client::query_opt`].
    pub async fn query_opt(&self, sql: impl Into<String>) -> Result<Option<Row>> {
        at_most_one(self.query(sql).await?)
    }

    /// Prepares a statement (on the least-loaded connection). The handle works on every
    /// connection of the pool: each prepares it in its own cache on first use.
    ///
    /// # Errors
    ///
    /// As [`Client::prepare`].
    pub async fn prepare(&self, sql: impl Into<String>) -> Result<Statement> {
        let sql = sql.into();
        self.dispatch(move |c| async move { c.prepare(sql).await })
            .await
    }

    /// As [`Client::exec`], on the least-loaded connection.
    ///
    /// # Errors
    ///
    /// As [`Client::exec`].
    pub async fn exec(&self, stmt: &Statement, params: impl Params) -> Result<Vec<Row>> {
        let (stmt, params) = (stmt.clone(), params.into_values());
        self.dispatch(move |c| async move { c.exec(&stmt, params).await })
            .await
    }

    /// As [`Client::exec_as`], on the least-loaded connection.
    ///
    /// # Errors
    ///
    /// As [`Client::exec_as`].
    pub async fn exec_as<T: FromRow + Send + 'static>(
        &self,
        stmt: &Statement,
        params: impl Params,
    ) -> Result<Vec<T>> {
        let (stmt, params) = (stmt.clone(), params.into_values());
        self.dispatch(move |c| async move { c.exec_as(&stmt, params).await })
            .await
    }

    /// As [`Client::exec_drop`], on the least-loaded connection.
    ///
    /// # Errors
    ///
    /// As [`Client::exec`].
    pub async fn exec_drop(&self, stmt: &Statement, params: impl Params) -> Result<ExecResult> {
        let (stmt, params) = (stmt.clone(), params.into_values());
        self.dispatch(move |c| async move { c.exec_drop(&stmt, params).await })
            .await
    }

    /// Pings the server over the least-loaded connection (opening one if needed).
    ///
    /// # Errors
    ///
    /// As [`Pool::query`].
    pub async fn ping(&self) -> Result<()> {
        self.dispatch(|c| async move { c.ping().await }).await
    }

    /// Runs `f` with the client of the least-loaded non-leased connection, counting the work
    /// against that connection until `f` finishes or is dropped.
    async fn dispatch<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let grant = self.inner.acquire(WaitKind::Dispatch).await?;
        let guard = grant.guard;
        let res = f(grant.client).await;
        if let Some(g) = &guard {
            g.finish(&res);
        }
        res
    }

    /// Leases one connection for the caller alone until the returned [`PooledConn`] is
    /// dropped. Commands dispatched through the pool do not use it meanwhile.
    ///
    /// Waits (first come, first served) while every connection is leased and the pool is at
    /// `max_size`. A connection unused for longer than
    /// [`health_check`](PoolOpts::with_health_check) is pinged first.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::Timeout`] after [`wait_timeout`](PoolOpts::with_wait_timeout).
    /// - [`ErrorKind::QueueFull`] at once when [`max_waiters`](PoolOpts::with_max_waiters)
    ///   callers already wait.
    /// - [`ErrorKind::Closed`] after [`close`](Pool::close).
    /// - The ping's error when the health check fails (the connection is replaced).
    pub async fn get(&self) -> Result<PooledConn> {
        let grant = self.inner.acquire(WaitKind::Lease).await?;
        self.inner.leases.fetch_add(1, Ordering::Relaxed);
        let shared = self
            .inner
            .lock()
            .slots
            .get(grant.slot)
            .map(|s| s.shared.clone());
        let Some(mut conn) = grant.lease else {
            return Err(Error::closed());
        };
        if let (Some(after), Some(shared)) = (self.inner.pool_opts.health_check(), shared) {
            let unused = self
                .inner
                .now_ms()
                .saturating_sub(shared.last_used.load(Ordering::Acquire));
            if unused > after.as_millis() as u64 {
                let bound = self.inner.pool_opts.wait_timeout();
                let res = match tokio::time::timeout(bound, conn.ping()).await {
                    Ok(res) => res,
                    Err(_) => Err(Error::timeout(format!(
                        "the health check ping took longer than {bound:?}"
                    ))),
                };
                if let Err(e) = res {
                    tracing::warn!(error = %e, "pool: health check failed");
                    conn.mark_broken();
                    return Err(e);
                }
            }
        }
        Ok(conn)
    }

    /// Counts connections by state and sums their counters.
    pub async fn stats(&self) -> PoolStats {
        let (clients, mut stats) = {
            let st = self.inner.lock();
            let mut s = PoolStats {
                size: st.slots.len(),
                waiters: st.waiters.len(),
                connects: st.retired.connects,
                reconnects: st.retired.reconnects,
                connect_failures: st.retired.connect_failures,
                idle_closes: st.retired.idle_closes,
                redelivered: st.retired.redelivered,
                timeouts: st.retired.timeouts,
                pipelined: st.retired.pipelined,
                ..PoolStats::default()
            };
            for slot in &st.slots {
                match slot.status {
                    Status::Free => {}
                    Status::Leased => s.leased += 1,
                    Status::Returning => s.returning += 1,
                }
            }
            let clients: Vec<Client> = st.slots.iter().map(|s| s.client.clone()).collect();
            (clients, s)
        };
        stats.in_flight = self.inner.in_flight.load(Ordering::Acquire);
        stats.wait_timeouts = self.inner.wait_timeouts.load(Ordering::Relaxed);
        stats.refused = self.inner.refused.load(Ordering::Relaxed);
        stats.leases = self.inner.leases.load(Ordering::Relaxed);
        stats.replaced = self.inner.replaced.load(Ordering::Relaxed);
        let states = futures_util::future::join_all(clients.iter().map(|c| c.state())).await;
        for state in states {
            let Ok((state, counters, queued)) = state else {
                stats.closed += 1;
                continue;
            };
            match state {
                ConnectionState::Idle => stats.idle += 1,
                ConnectionState::Busy => stats.busy += 1,
                ConnectionState::Closed => stats.closed += 1,
                ConnectionState::Connecting | ConnectionState::Backoff { .. } => {
                    stats.connecting += 1
                }
            }
            stats.queued += queued;
            stats.connects += counters.connects;
            stats.reconnects += counters.reconnects;
            stats.connect_failures += counters.connect_failures;
            stats.idle_closes += counters.idle_closes;
            stats.redelivered += counters.redelivered;
            stats.timeouts += counters.timeouts;
            stats.pipelined += counters.pipelined;
        }
        stats
    }

    /// Facts about each connection of the pool, in creation order (`None` for one without an
    /// open socket): e.g. the server's connection ids, for `SHOW PROCESSLIST` or `KILL`.
    pub async fn connection_infos(&self) -> Vec<Option<ConnectionInfo>> {
        let clients: Vec<Client> = self
            .inner
            .lock()
            .slots
            .iter()
            .map(|s| s.client.clone())
            .collect();
        futures_util::future::join_all(clients.iter().map(|c| c.connection_info()))
            .await
            .into_iter()
            .map(|r| r.ok().flatten())
            .collect()
    }

    /// True after [`close`](Pool::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.lock().closed
    }

    /// Closes the pool gracefully.
    ///
    /// New calls fail with [`ErrorKind::Closed`] from now on, and so do callers waiting for a
    /// connection. Then it waits, at most `timeout`, until every dispatched command has its
    /// answer and every lease has been returned, and closes the connections (`COM_QUIT`
    /// after what they have queued), so nothing is cut while a reply is on its way.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Timeout`] when work was still outstanding after `timeout`; the pool is
    /// closed anyway and the remaining connections are let go when that work ends.
    pub async fn close(&self, timeout: Duration) -> Result<()> {
        let waiters = {
            let mut st = self.inner.lock();
            st.closed = true;
            std::mem::take(&mut st.waiters)
        };
        for w in waiters {
            let _ =
                w.tx.send(Err(Error::closed().with_detail("the pool was closed")));
        }
        let deadline = tokio::time::Instant::now() + timeout;
        let drained = loop {
            let notified = self.inner.drained.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.inner.is_drained() {
                break true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                break self.inner.is_drained();
            }
        };
        let (slots, spares) = {
            let mut st = self.inner.lock();
            (
                std::mem::take(&mut st.slots),
                std::mem::take(&mut st.spares),
            )
        };
        drop(spares);
        for slot in slots {
            // Leases still out are let go when they are returned.
            if slot.status == Status::Free {
                self.inner.spawn_home(async move {
                    retire(slot.client).await;
                });
            }
        }
        if drained {
            Ok(())
        } else {
            Err(Error::timeout(
                "the pool was closed with commands or leases still outstanding",
            ))
        }
    }
}

impl Drop for Inner {
    /// The last handle is gone (no lease or dispatched command is left): let the connections
    /// go, as `close` does.
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        for slot in std::mem::take(&mut st.slots) {
            if !self.home.spawn(async move {
                retire(slot.client).await;
            }) {
                break;
            }
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn is_drained(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
            && self.lock().slots.iter().all(|s| s.status == Status::Free)
    }

    fn spawn_home(&self, fut: impl Future<Output = ()> + Send + 'static) {
        if !self.home.spawn(fut) {
            tracing::warn!("pool: the arbiter that owns the connections is gone");
        }
    }

    /// Adds a connection (from the spares); the caller checked that there is room.
    fn grow(&self, st: &mut State) -> usize {
        let client = st
            .spares
            .pop()
            .unwrap_or_else(|| Client::new(self.opts.clone()));
        st.slots.push(Slot {
            client,
            status: Status::Free,
            created: Instant::now(),
            shared: Arc::new(SlotShared {
                last_used: AtomicU64::new(self.now_ms()),
                ..SlotShared::default()
            }),
        });
        tracing::debug!(size = st.slots.len(), "pool: new connection");
        st.slots.len() - 1
    }

    fn can_grow(&self, st: &State) -> bool {
        st.slots.len() < self.pool_opts.max_size()
    }

    fn expired(&self, slot: &Slot, now: Instant) -> bool {
        self.pool_opts
            .max_lifetime()
            .is_some_and(|max| now.duration_since(slot.created) >= max)
    }

    fn likely_open(&self, shared: &SlotShared, now_ms: u64) -> bool {
        if !shared.open.load(Ordering::Acquire) {
            return false;
        }
        match self.pool_opts.idle_timeout() {
            None => true,
            Some(t) => {
                now_ms.saturating_sub(shared.last_used.load(Ordering::Acquire))
                    < t.as_millis() as u64
            }
        }
    }

    /// Picks a free connection: the least loaded, open before closed, lowest index first (so
    /// that light load stays on few connections and the others can close when idle). Adds a
    /// connection when none is free of load and there is room. Old idle connections are sent
    /// for replacement on the way.
    fn pick(self: &Arc<Self>, st: &mut State) -> Option<usize> {
        let now = Instant::now();
        let now_ms = self.now_ms();
        let mut best: Option<(usize, bool, usize)> = None;
        for idx in 0..st.slots.len() {
            let slot = &st.slots[idx];
            if slot.status != Status::Free {
                continue;
            }
            let load = slot.shared.load.load(Ordering::Acquire);
            if load == 0 && self.expired(slot, now) {
                tracing::debug!(slot = idx, "pool: connection reached max_lifetime");
                self.replace(st, idx);
                continue;
            }
            let closed = !self.likely_open(&slot.shared, now_ms);
            if best.is_none_or(|(l, c, _)| (load, closed) < (l, c)) {
                best = Some((load, closed, idx));
            }
        }
        match best {
            Some((0, _, idx)) => Some(idx),
            _ if self.can_grow(st) => Some(self.grow(st)),
            Some((_, _, idx)) => Some(idx),
            None => None,
        }
    }

    fn grant(self: &Arc<Self>, st: &mut State, idx: usize, kind: WaitKind) -> Grant {
        let slot = &mut st.slots[idx];
        let (guard, lease) = match kind {
            WaitKind::Dispatch => (Some(LoadGuard::new(self, &slot.shared)), None),
            WaitKind::Lease => {
                slot.status = Status::Leased;
                let conn = PooledConn::new(self.clone(), idx, slot.client.clone());
                (None, Some(conn))
            }
        };
        Grant {
            slot: idx,
            client: slot.client.clone(),
            guard,
            lease,
        }
    }

    /// A connection for one dispatched command or a lease, waiting in line when needed.
    async fn acquire(self: &Arc<Self>, kind: WaitKind) -> Result<Grant> {
        let (mut rx, id) = {
            let mut st = self.lock();
            if st.closed {
                return Err(Error::closed().with_detail("the pool is closed"));
            }
            // Leases queue behind earlier waiters; dispatch only waits when nothing is free.
            if kind == WaitKind::Dispatch || st.waiters.is_empty() {
                if let Some(idx) = self.pick(&mut st) {
                    return Ok(self.grant(&mut st, idx, kind));
                }
            }
            if st.waiters.len() >= self.pool_opts.max_waiters() {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return Err(Error::new(ErrorKind::QueueFull).with_detail(format!(
                    "{} callers are already waiting for a pooled connection",
                    st.waiters.len()
                )));
            }
            let (tx, rx) = oneshot::channel();
            let id = st.next_waiter;
            st.next_waiter += 1;
            st.waiters.push_back(Waiter { id, kind, tx });
            (rx, id)
        };
        let mut guard = WaiterGuard {
            inner: self,
            id,
            done: false,
        };
        let waited = tokio::time::timeout(self.pool_opts.wait_timeout(), &mut rx).await;
        guard.done = true;
        match waited {
            Ok(Ok(grant)) => grant,
            Ok(Err(_)) => Err(Error::closed().with_detail("the pool is closed")),
            Err(_) => {
                let mut st = self.lock();
                let before = st.waiters.len();
                st.waiters.retain(|w| w.id != id);
                if st.waiters.len() < before {
                    drop(st);
                    self.wait_timeouts.fetch_add(1, Ordering::Relaxed);
                    return Err(Error::timeout(format!(
                        "no pooled connection became available within {:?}",
                        self.pool_opts.wait_timeout()
                    )));
                }
                drop(st);
                // Handed over just as the wait ended: take it.
                match rx.try_recv() {
                    Ok(grant) => grant,
                    Err(_) => Err(Error::closed().with_detail("the pool is closed")),
                }
            }
        }
    }

    /// Makes a connection free again and hands it on, first come first served: dispatch
    /// waiters share it, the first lease waiter takes it.
    fn release(self: &Arc<Self>, st: &mut State, idx: usize) {
        if idx >= st.slots.len() {
            return;
        }
        st.slots[idx].status = Status::Free;
        while let Some(w) = st.waiters.pop_front() {
            if w.tx.is_closed() {
                continue;
            }
            let grant = self.grant(st, idx, w.kind);
            let kind = w.kind;
            if let Err(Ok(mut grant)) = w.tx.send(Ok(grant)) {
                // The waiter is gone: undo without re-entering the lock.
                if let Some(conn) = grant.lease.as_mut() {
                    conn.disarm();
                    st.slots[idx].status = Status::Free;
                }
                drop(grant);
                continue;
            }
            if kind == WaitKind::Lease {
                break;
            }
        }
        self.drained.notify_waiters();
    }

    /// Takes a lease back: resets (or replaces) it in the background, then hands it on.
    fn return_lease(self: &Arc<Self>, idx: usize, client: Client, broken: bool) {
        let mut st = self.lock();
        let Some(slot) = st.slots.get_mut(idx) else {
            // The pool was closed and let its connections go: this one goes now.
            drop(st);
            self.spawn_home(async move {
                retire(client).await;
            });
            return;
        };
        slot.shared
            .last_used
            .store(self.now_ms(), Ordering::Release);
        let expired = self.expired(slot, Instant::now());
        if broken || expired {
            self.replace(&mut st, idx);
            return;
        }
        if !self.pool_opts.reset_on_return() {
            slot.shared.open.store(true, Ordering::Release);
            self.release(&mut st, idx);
            return;
        }
        slot.status = Status::Returning;
        let client = slot.client.clone();
        drop(st);
        let inner = self.clone();
        self.spawn_home(async move {
            match client.reset_connection().await {
                Ok(()) => {
                    let mut st = inner.lock();
                    if let Some(slot) = st.slots.get(idx) {
                        slot.shared.open.store(true, Ordering::Release);
                    }
                    inner.release(&mut st, idx);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "pool: reset failed, replacing the connection");
                    let mut st = inner.lock();
                    inner.replace(&mut st, idx);
                }
            }
        });
    }

    /// Replaces a connection that serves nobody: a new actor takes its place once the old
    /// socket is closed (so the server never sees more than `max_size` connections), then it
    /// is handed on.
    fn replace(self: &Arc<Self>, st: &mut State, idx: usize) {
        let Some(slot) = st.slots.get_mut(idx) else {
            return;
        };
        slot.status = Status::Returning;
        let old = slot.client.clone();
        let inner = self.clone();
        self.replaced.fetch_add(1, Ordering::Relaxed);
        self.spawn_home(async move {
            let counters = retire(old).await;
            let mut st = inner.lock();
            if let Some(c) = counters {
                st.retired.add(&c);
            }
            if st.closed && st.slots.is_empty() {
                inner.drained.notify_waiters();
                return;
            }
            let new = Client::new(inner.opts.clone());
            if let Some(slot) = st.slots.get_mut(idx) {
                slot.client = new;
                slot.created = Instant::now();
                slot.shared.open.store(false, Ordering::Release);
                slot.shared
                    .last_used
                    .store(inner.now_ms(), Ordering::Release);
            }
            inner.release(&mut st, idx);
        });
    }
}

/// Lets a connection go: it finishes what is queued, says `COM_QUIT` and closes. Returns the
/// connection's counters.
async fn retire(client: Client) -> Option<ConnectionStats> {
    let stats = client.state().await.ok().map(|(_, stats, _)| stats);
    let _ = client.close().await;
    stats
}
