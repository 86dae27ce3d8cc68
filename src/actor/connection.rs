//! The connection actor.
//!
//! One [`Connection`] owns one server connection. Messages are queued in arrival order in the
//! actor's own queue; an I/O driver (an [`ActorFuture`] spawned in the actor's context) writes the
//! next command when the previous reply is complete, reads and decodes the reply packets, and
//! answers the caller. Because the actor owns the socket and the decoder, a caller that drops
//! its future never leaves the connection out of step: the rest of its reply is still read.
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use tokio::time::{sleep_until, Instant, Sleep};

use actix::fut::ActorFuture;
use actix::prelude::*;
use bytes::{Bytes, BytesMut};
use futures_util::{Sink, Stream};
use tokio::sync::oneshot;

use super::connect::{connect, kill_query, Live};
use super::messages::*;
use crate::error::{Error, ErrorKind, Result};
use crate::from_row::FromRow;
use crate::opts::Opts;
use crate::protocol::command;
use crate::protocol::constants::status::{
    SERVER_SESSION_STATE_CHANGED, SERVER_STATUS_IN_TRANS, SERVER_STATUS_NO_BACKSLASH_ESCAPES,
};
use crate::protocol::response::{self, ErrPacket, OkPacket};
use crate::protocol::resultset::{Column, QueryEvent, TextResultDecoder};
use crate::protocol::session::{parse_session_changes, SessionChange};
use crate::protocol::statement::{self, PrepareDecoder, PrepareEvent};
use crate::protocol::value::escape::{interpolate, EscapeContext};
use crate::protocol::value::Value;
use crate::protocol::ProtocolError;
use crate::row::{ExecResult, QueryResult, Row};
use crate::statement::Statement;
use crate::stream::RowStream;
use tokio_util::sync::PollSender;

/// Packets handled in one turn of the driver before it yields to the actor's mailbox.
const PACKET_BUDGET: usize = 512;

/// A command waiting to be written.
#[derive(Debug)]
pub(crate) enum Command {
    Query(String),
    /// A query with `?` placeholders, interpolated when it is sent (the session's escaping
    /// rules are known then).
    QueryWith(String, Vec<Value>),
    Prepare(String),
    /// Runs a prepared statement, preparing it first when it is not cached.
    Exec(Arc<str>, Vec<Value>),
    /// Local: drops a statement from the cache and closes it on the server.
    CloseStmt(Arc<str>),
    /// `COM_STMT_RESET` of a cached statement (a no-op answered locally when not cached).
    ResetStmt(Arc<str>),
    InitDb(String),
    Ping,
    ResetConnection,
    /// Local, no I/O: from now on only this transaction's commands are sent.
    Claim(u64),
    /// Local, no I/O: the transaction ended; everyone's commands are sent again.
    Release(u64),
}

impl Command {
    fn sql(&self) -> Option<&str> {
        match self {
            Command::Query(sql) | Command::QueryWith(sql, _) | Command::Prepare(sql) => Some(sql),
            Command::Exec(sql, _) => Some(sql),
            _ => None,
        }
    }
}

/// The prepared statements of one connection, least recently used first out.
#[derive(Debug, Default)]
struct StmtCache {
    /// Keyed by SQL text, hashed with FxHash: the keys are the caller's own statements, and
    /// SipHash over the text was a visible share of a point select's cost.
    entries: rustc_hash::FxHashMap<Arc<str>, CachedStmt>,
    tick: u64,
}

#[derive(Debug)]
struct CachedStmt {
    id: u32,
    params: usize,
    /// Its result's columns as last received (a MariaDB server that caches metadata leaves
    /// them out of executions while they do not change).
    columns: Arc<[Column]>,
    last_used: u64,
}

impl StmtCache {
    fn get(&mut self, sql: &str) -> Option<&CachedStmt> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(sql).map(|e| {
            e.last_used = tick;
            &*e
        })
    }

    /// Inserts a statement; returns the ids of statements evicted to stay within `capacity`.
    fn insert(&mut self, sql: Arc<str>, stmt: CachedStmt, capacity: usize) -> Vec<u32> {
        self.tick += 1;
        let mut evicted = Vec::new();
        if let Some(old) = self.entries.insert(
            sql,
            CachedStmt {
                last_used: self.tick,
                ..stmt
            },
        ) {
            evicted.push(old.id);
        }
        while self.entries.len() > capacity.max(1) {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                evicted.push(e.id);
            }
        }
        evicted
    }

    fn remove(&mut self, sql: &str) -> Option<u32> {
        self.entries.remove(sql).map(|e| e.id)
    }

    fn clear(&mut self) {
        self.entries.clear();
    }
}

/// The decoded reply to a command.
#[derive(Debug)]
pub(crate) enum Reply {
    Results(Vec<QueryResult>),
    Ok(OkPacket),
    Prepared(Statement),
}

/// Where the reply to a command goes, already in the shape its caller asked for: the driver
/// answers the caller's own channel, with no task in between.
#[derive(Debug)]
pub(crate) enum ReplyTx {
    /// The rows of the first result set.
    Rows(oneshot::Sender<Result<Vec<Row>>>),
    /// Every result.
    Results(oneshot::Sender<Result<Vec<QueryResult>>>),
    /// The outcome of the last statement without rows.
    Exec(oneshot::Sender<Result<ExecResult>>),
    Unit(oneshot::Sender<Result<()>>),
    Prepared(oneshot::Sender<Result<Statement>>),
    /// The rows of the first result set, converted as they arrive.
    Typed(Box<dyn RowSink>),
}

impl std::fmt::Debug for dyn RowSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RowSink")
    }
}

/// Takes the rows of a command's first result set as they are decoded, so they are converted
/// while the server is still sending the rest.
pub(crate) trait RowSink: Send {
    fn row(&mut self, row: Row);
    /// The reply is complete (its first result set's rows were given to [`RowSink::row`]).
    fn finish(self: Box<Self>, result: Result<Reply>);
    fn is_closed(&self) -> bool;
    /// Forgets the rows taken so far: the command is sent again.
    fn reset(&mut self);
}

/// Collects rows converted with [`FromRow`]; the first conversion error is the answer.
struct CollectAs<T> {
    rows: Vec<T>,
    error: Option<Error>,
    tx: oneshot::Sender<Result<Vec<T>>>,
}

impl<T: FromRow + Send + 'static> RowSink for CollectAs<T> {
    fn row(&mut self, row: Row) {
        if self.error.is_none() {
            match T::from_row(row) {
                Ok(v) => self.rows.push(v),
                Err(e) => self.error = Some(e),
            }
        }
    }

    fn finish(self: Box<Self>, result: Result<Reply>) {
        let this = *self;
        let answer = match (result, this.error) {
            (Err(e), _) | (Ok(_), Some(e)) => Err(e),
            (Ok(_), None) => Ok(this.rows),
        };
        let _ = this.tx.send(answer);
    }

    fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    fn reset(&mut self) {
        self.rows.clear();
        self.error = None;
    }
}

/// A reply sender that converts the first result set's rows to `T` as they arrive.
pub(crate) fn collect_as<T: FromRow + Send + 'static>(
    tx: oneshot::Sender<Result<Vec<T>>>,
) -> ReplyTx {
    ReplyTx::Typed(Box::new(CollectAs {
        rows: Vec::new(),
        error: None,
        tx,
    }))
}

impl ReplyTx {
    fn send(self, result: Result<Reply>) {
        // A caller that gave up has dropped its receiver: nothing to tell.
        let _ = match self {
            ReplyTx::Rows(tx) => tx
                .send(result.map(|r| crate::client::first_rows(into_results(r))))
                .map_err(drop),
            ReplyTx::Results(tx) => tx.send(result.map(into_results)).map_err(drop),
            ReplyTx::Exec(tx) => tx
                .send(result.map(|r| crate::client::last_exec(into_results(r))))
                .map_err(drop),
            ReplyTx::Unit(tx) => tx.send(result.map(drop)).map_err(drop),
            ReplyTx::Prepared(tx) => tx
                .send(result.and_then(|r| match r {
                    Reply::Prepared(stmt) => Ok(stmt),
                    _ => Err(ProtocolError::Unexpected("reply to a prepare").into()),
                }))
                .map_err(drop),
            ReplyTx::Typed(sink) => {
                sink.finish(result);
                Ok(())
            }
        };
    }

    fn is_closed(&self) -> bool {
        match self {
            ReplyTx::Rows(tx) => tx.is_closed(),
            ReplyTx::Results(tx) => tx.is_closed(),
            ReplyTx::Exec(tx) => tx.is_closed(),
            ReplyTx::Unit(tx) => tx.is_closed(),
            ReplyTx::Prepared(tx) => tx.is_closed(),
            ReplyTx::Typed(sink) => sink.is_closed(),
        }
    }
}

/// Queues a command on the actor at `addr` and waits for its reply, converted by `reply_to`'s
/// variant. The reply comes straight from the connection's driver.
pub(crate) async fn call<T>(
    addr: &Addr<Connection>,
    (cmd, opts): (Command, CmdOpts),
    reply_to: fn(oneshot::Sender<Result<T>>) -> ReplyTx,
) -> Result<T> {
    let (tx, rx) = oneshot::channel();
    // Queued even when the mailbox is over capacity, like every command: the actor's own
    // queue bound (`max_queue`) applies. A stopped actor drops the message, and with it `tx`.
    addr.do_send(Submit {
        cmd,
        opts,
        tx: reply_to(tx),
    });
    answer(rx).await
}

/// The reply on `rx`; a dropped sender means the actor is gone.
async fn answer<T>(rx: oneshot::Receiver<Result<T>>) -> Result<T> {
    rx.await.unwrap_or_else(|_| Err(Error::closed()))
}

/// The message behind [`call`].
pub(crate) struct Submit {
    cmd: Command,
    opts: CmdOpts,
    tx: ReplyTx,
}

impl Message for Submit {
    type Result = ();
}

impl Handler<Submit> for Connection {
    type Result = ();

    fn handle(&mut self, msg: Submit, _ctx: &mut Self::Context) {
        self.submit(msg.cmd, msg.opts, msg.tx);
    }
}

#[derive(Debug)]
struct Pending {
    cmd: Command,
    tx: ReplyTx,
    retry_safe: bool,
    /// When it fails with a timeout if it is still queued.
    deadline: Instant,
    /// Run-time bound once sent.
    timeout: Option<Duration>,
    /// Queued while a transaction was open: it belongs to that transaction and must never run
    /// on a new connection.
    in_trans: bool,
    /// Times it was sent again after a temporary server error.
    retries: u32,
    /// Issued by the actor itself (its reply may have no receiver): never skipped.
    internal: bool,
    /// The transaction it belongs to.
    txn: Option<u64>,
    /// It ends its transaction (`COMMIT`): if its reply is lost the outcome is unknown.
    ends_txn: bool,
    /// Rows are streamed to this channel.
    stream: Option<tokio::sync::mpsc::Sender<Result<Row>>>,
}

/// How a command is to be handled, besides what it is.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CmdOpts {
    pub(crate) retry_safe: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) txn: Option<u64>,
    pub(crate) ends_txn: bool,
}

impl Pending {
    /// Answers with an error (also as the last item of its row stream, if it streams).
    fn fail(self, e: Error) {
        if let Some(rows) = &self.stream {
            let _ = rows.try_send(Err(e.clone()));
        }
        self.tx.send(Err(e));
    }
}

/// Session state set by the caller's own SQL and reported by the server (session tracking),
/// restored on a new connection.
#[derive(Debug, Default)]
struct TrackedSession {
    /// System variables in the order they were first set (`SET NAMES`, `SET time_zone`, ...).
    variables: Vec<(String, String)>,
    /// The server reported a change it does not describe (temporary tables, user variables):
    /// it cannot be restored.
    untracked_change: bool,
}

impl TrackedSession {
    fn apply(&mut self, change: SessionChange, current_db: &mut Option<String>) {
        match change {
            SessionChange::Schema(db) => *current_db = Some(db),
            SessionChange::SystemVariable { name, value } => {
                match self.variables.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 = value,
                    None => self.variables.push((name, value)),
                }
            }
            SessionChange::StateChanged => self.untracked_change = true,
            _ => {}
        }
    }

    /// The character set the server reads statements in (`character_set_client`).
    fn charset(&self) -> &str {
        self.variables
            .iter()
            .rev()
            .find(|(n, _)| n == "character_set_client")
            .map_or("utf8mb4", |(_, v)| v.as_str())
    }

    /// `SET SESSION` statements that restore the tracked variables.
    fn replay_statements(&self) -> Vec<String> {
        let assignments: Vec<String> = self
            .variables
            .iter()
            .filter_map(|(name, value)| {
                let name_ok = !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                // Values are replayed as plain quoted literals; anything needing escapes is
                // left out rather than guessed at.
                let value_ok = !value.contains(['\\', '\'', '\0']);
                if name_ok && value_ok {
                    Some(format!("{name} = '{value}'"))
                } else {
                    tracing::warn!(variable = %name, "session variable not restorable");
                    None
                }
            })
            .collect();
        if assignments.is_empty() {
            Vec::new()
        } else {
            vec![format!("SET SESSION {}", assignments.join(", "))]
        }
    }
}

/// A command written to the server whose reply is being read.
#[derive(Debug)]
struct InFlight {
    pending: Pending,
    decoder: ReplyDecoder,
    /// Its run-time bound passed; the statement is being killed.
    timed_out: bool,
    /// Commands may be written behind it before its reply is read.
    pipelinable: bool,
    /// The sequence id of its reply's first packet.
    reply_seq: u8,
}

#[derive(Debug)]
enum ReplyDecoder {
    /// COM_QUERY and COM_STMT_EXECUTE: result sets and OKs.
    Text {
        decoder: TextResultDecoder,
        results: Vec<QueryResult>,
        current: Option<(Arc<[Column]>, Vec<Row>)>,
        /// Set when a local file requested by the server could not be sent.
        infile_error: Option<Error>,
        /// Rows go here instead of `current` (streaming); `None` once the consumer is gone.
        stream: Option<PollSender<Result<Row>>>,
        /// The command streams (even after its consumer is gone).
        streaming: bool,
    },
    /// COM_STMT_PREPARE, possibly followed by the execution that needed it.
    Prepare {
        decoder: PrepareDecoder,
        then_execute: bool,
    },
    /// Commands answered by one OK or ERR packet.
    Simple,
}

impl ReplyDecoder {
    /// A decoder of result sets and OKs (text or binary rows), streaming its rows when
    /// `streaming`.
    fn results(
        decoder: TextResultDecoder,
        stream: Option<PollSender<Result<Row>>>,
        streaming: bool,
    ) -> Self {
        ReplyDecoder::Text {
            decoder,
            results: Vec::new(),
            current: None,
            infile_error: None,
            stream,
            streaming,
        }
    }
}

/// What the driver must do after a packet.
enum Next {
    Continue,
    /// Send this payload as the next packet of the current exchange.
    Send(Vec<u8>),
    /// Send these payloads, each as a new command (sequence id 0).
    SendCommands(Vec<BytesMut>),
    /// The connection is broken.
    Fail(Error),
    /// The server answered with an error that the options call temporary: reconnect and send
    /// the command again.
    Retry(Error),
}

/// What a connection actor is doing, for health checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// No connection is open (never opened, closed while idle, or closed by the server);
    /// the next command opens one.
    Closed,
    /// Opening a connection.
    Connecting,
    /// Waiting before the next reconnect attempt.
    Backoff {
        /// The attempt that comes next (1-based).
        attempt: u32,
    },
    /// Connected with nothing to do.
    Idle,
    /// Connected and running commands.
    Busy,
}

/// Counters of a connection actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Connections opened.
    pub connects: u64,
    /// Connections opened after a failure (a subset of `connects`).
    pub reconnects: u64,
    /// Failed connect attempts.
    pub connect_failures: u64,
    /// Connections closed by the idle timer.
    pub idle_closes: u64,
    /// Commands sent again after a reconnect.
    pub redelivered: u64,
    /// Commands that failed with a timeout.
    pub timeouts: u64,
    /// Reconnects after which session state the server had reported as changed (temporary
    /// tables, user variables; needs `session_track_state_change=ON`) could not be restored.
    pub session_state_lost: u64,
    /// Commands written while the reply to an earlier one was still awaited
    /// ([`Opts::with_pipeline_depth`](crate::Opts::with_pipeline_depth)).
    pub pipelined: u64,
}

/// The connection actor. Create it through [`Client`](crate::Client), which starts it under an
/// [`actix::Supervisor`].
pub struct Connection {
    opts: Arc<Opts>,
    live: Option<Live>,
    connecting: bool,
    queue: VecDeque<Pending>,
    in_flight: Option<InFlight>,
    /// Commands written behind `in_flight` (pipelining), in order; their replies come next.
    pipelined: VecDeque<InFlight>,
    /// The database in use: the one from the options, or the last `select_db`.
    current_db: Option<String>,
    waker: Option<Waker>,
    scratch: BytesMut,
    /// Failed connect attempts since the last success.
    attempt: u32,
    /// Set after a failure: a new connection is not a first connection.
    failed_before: bool,
    backoff: Option<Pin<Box<Sleep>>>,
    idle: Option<Pin<Box<Sleep>>>,
    /// Fires at the earliest queue deadline.
    queue_timer: Option<Pin<Box<Sleep>>>,
    /// Fires when the command in flight exceeds its run-time bound.
    query_timer: Option<Pin<Box<Sleep>>>,
    /// A `KILL QUERY` is on its way: send nothing until it is done.
    killing: bool,
    /// A reply was just completed: give the caller a turn to send its next command before
    /// reading the socket again (a read now would find nothing, at the cost of a system call).
    yield_after_reply: bool,
    /// Cleared when a reply finishes (or the exchange writes): the driver's read loop then
    /// goes back to its other duties before reading on.
    reply_progressed: bool,
    /// `Close` was received: refuse new commands, close once the queue is drained.
    closing: Option<Vec<ReplyTx>>,
    /// The transaction that owns the connection now.
    active_txn: Option<u64>,
    /// A transaction opened with raw SQL was lost while idle: the next statement fails.
    raw_txn_lost: bool,
    /// Transactions lost with their connection: their further commands fail at once.
    aborted_txns: std::collections::HashSet<u64>,
    session: TrackedSession,
    stmts: StmtCache,
    /// Statements to close on the server before the next command.
    stmts_to_close: Vec<u32>,
    stats: ConnectionStats,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("connected", &self.live.is_some())
            .field("connecting", &self.connecting)
            .field("queued", &self.queue.len())
            .field("in_flight", &self.in_flight.is_some())
            .field("current_db", &self.current_db)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection actor for these options; nothing is connected until the first message.
    pub fn new(opts: Opts) -> Self {
        let current_db = opts.db().map(str::to_owned);
        Connection {
            opts: Arc::new(opts),
            live: None,
            connecting: false,
            queue: VecDeque::new(),
            in_flight: None,
            pipelined: VecDeque::new(),
            current_db,
            waker: None,
            scratch: BytesMut::with_capacity(256),
            attempt: 0,
            failed_before: false,
            backoff: None,
            idle: None,
            queue_timer: None,
            query_timer: None,
            killing: false,
            yield_after_reply: false,
            reply_progressed: false,
            closing: None,
            active_txn: None,
            raw_txn_lost: false,
            aborted_txns: std::collections::HashSet::new(),
            session: TrackedSession::default(),
            stmts: StmtCache::default(),
            stmts_to_close: Vec::new(),
            stats: ConnectionStats::default(),
        }
    }

    fn state(&self) -> ConnectionState {
        match (&self.live, self.connecting, &self.backoff) {
            (Some(_), _, _) if self.in_flight.is_some() || !self.queue.is_empty() => {
                ConnectionState::Busy
            }
            (Some(_), _, _) => ConnectionState::Idle,
            (None, true, _) => ConnectionState::Connecting,
            (None, false, Some(_)) => ConnectionState::Backoff {
                attempt: self.attempt + 1,
            },
            (None, false, None) => ConnectionState::Closed,
        }
    }

    fn in_transaction(&self) -> bool {
        self.live
            .as_ref()
            .is_some_and(|l| l.status & SERVER_STATUS_IN_TRANS != 0)
    }

    /// Queues a command, or answers at once when it is refused.
    fn submit(&mut self, cmd: Command, o: CmdOpts, tx: ReplyTx) {
        match self.admit(&cmd, &o) {
            Ok(()) => self.push(cmd, o, tx, None),
            Err(e) => tx.send(Err(e)),
        }
    }

    /// Queues a command for a message handler, answering through a future.
    fn respond<T: 'static>(
        &mut self,
        (cmd, o): (Command, CmdOpts),
        reply_to: fn(oneshot::Sender<Result<T>>) -> ReplyTx,
    ) -> ResponseFuture<Result<T>> {
        let (tx, rx) = oneshot::channel();
        self.submit(cmd, o, reply_to(tx));
        Box::pin(answer(rx))
    }

    /// Queues a command whose rows go to `rows`; refusals come back at once.
    fn enqueue_streaming(
        &mut self,
        cmd: Command,
        o: CmdOpts,
        rows: tokio::sync::mpsc::Sender<Result<Row>>,
    ) -> Result<()> {
        self.admit(&cmd, &o)?;
        let (tx, _rx) = oneshot::channel();
        self.push(cmd, o, ReplyTx::Unit(tx), Some(rows));
        Ok(())
    }

    /// Whether a new command may be queued.
    fn admit(&self, cmd: &Command, o: &CmdOpts) -> Result<()> {
        if self.closing.is_some() && o.txn.is_none() {
            return Err(Error::closed());
        }
        if let Some(t) = o.txn {
            if self.aborted_txns.contains(&t) && !matches!(cmd, Command::Release(_)) {
                return Err(Error::transaction_aborted(false)
                    .with_detail("the connection was lost earlier in this transaction"));
            }
        }
        // The bound keeps new work out; it never refuses what lets queued work go on: the
        // open transaction's own statements (its COMMIT frees the connection), the release
        // of a transaction, and a session reset (a pool returning a lease).
        let unblocks = matches!(cmd, Command::Release(_) | Command::ResetConnection)
            || (o.txn.is_some() && o.txn == self.active_txn);
        if !unblocks && self.queue.len() >= self.opts.max_queue() {
            return Err(Error::new(ErrorKind::QueueFull).with_detail(format!(
                "{} commands are already queued on this connection",
                self.queue.len()
            )));
        }
        Ok(())
    }

    fn push(
        &mut self,
        cmd: Command,
        o: CmdOpts,
        tx: ReplyTx,
        stream: Option<tokio::sync::mpsc::Sender<Result<Row>>>,
    ) {
        let deadline = Instant::now() + self.opts.queue_timeout();
        let earlier = self
            .queue_timer
            .as_ref()
            .is_none_or(|t| deadline < t.deadline());
        if earlier {
            self.queue_timer = Some(Box::pin(sleep_until(deadline)));
        }
        self.queue.push_back(Pending {
            cmd,
            tx,
            retry_safe: o.retry_safe && o.txn.is_none(),
            deadline,
            timeout: o.timeout.or(self.opts.query_timeout()),
            in_trans: self.in_transaction() && self.active_txn.is_none(),
            retries: 0,
            internal: false,
            txn: o.txn,
            ends_txn: o.ends_txn,
            stream,
        });
        // No wake-up: handlers run in the actor's mailbox turn, and the driver is polled
        // right after it in the same turn.
    }

    /// Fails queued commands whose deadline passed; re-arms the timer for the next one.
    fn expire_queued(&mut self) {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for p in self.queue.drain(..) {
            if p.deadline <= now {
                self.stats.timeouts += 1;
                p.fail(Error::timeout(format!(
                    "waited longer than queue_timeout ({:?}) for the connection",
                    self.opts.queue_timeout()
                )));
            } else {
                next = Some(next.map_or(p.deadline, |n| n.min(p.deadline)));
                kept.push_back(p);
            }
        }
        self.queue = kept;
        self.queue_timer = next.map(|n| Box::pin(sleep_until(n)));
    }

    fn wake(&self) {
        if let Some(w) = &self.waker {
            w.wake_by_ref();
        }
    }

    fn start_connect(&mut self, ctx: &mut Context<Self>) {
        self.connecting = true;
        let opts = self.opts.clone();
        let db = self.current_db.clone();
        let replay = self.session.replay_statements();
        let attempt = self.attempt;
        tracing::debug!(attempt, "connecting");
        let fut = async move { connect(&opts, db.as_deref(), &replay).await };
        ctx.spawn(fut.into_actor(self).map(|res, act, _ctx| {
            act.connecting = false;
            match res {
                Ok(live) => {
                    act.stats.connects += 1;
                    if act.failed_before {
                        act.stats.reconnects += 1;
                        if std::mem::take(&mut act.session.untracked_change) {
                            act.stats.session_state_lost += 1;
                            tracing::warn!(
                                "reconnected: temporary tables, user variables and locks of the \
                                 previous session are gone"
                            );
                        }
                        tracing::info!(
                            connection_id = live.connection_id,
                            attempts = act.attempt + 1,
                            queued = act.queue.len(),
                            "reconnected"
                        );
                    } else {
                        tracing::debug!(connection_id = live.connection_id, "connected");
                    }
                    act.attempt = 0;
                    act.failed_before = false;
                    act.live = Some(live);
                }
                Err(e) => act.connect_failed(e),
            }
            act.wake();
        }));
    }

    fn connect_failed(&mut self, e: Error) {
        self.stats.connect_failures += 1;
        self.attempt += 1;
        let policy = self.opts.reconnect_policy();
        let temporary = match e.kind() {
            ErrorKind::Io | ErrorKind::Timeout | ErrorKind::ConnectionLost => true,
            ErrorKind::Server => e
                .as_server_error()
                .is_some_and(|s| self.opts.is_temporary_server_error(s.code, &s.message)),
            _ => false,
        };
        if temporary && self.attempt < policy.max_attempts && !self.queue.is_empty() {
            let delay = policy.delay(self.attempt, 0.5 + rand::random::<f64>() / 2.0);
            tracing::warn!(attempt = self.attempt, ?delay, error = %e, "connect failed, retrying");
            self.failed_before = true;
            self.backoff = Some(Box::pin(sleep_until(Instant::now() + delay)));
            return;
        }
        let err = if temporary {
            Error::timeout(format!("no connection after {} attempts", self.attempt)).with_source(e)
        } else {
            e
        };
        tracing::warn!(error = %err, queued = self.queue.len(), "connect failed");
        self.attempt = 0;
        for p in self.queue.drain(..) {
            p.fail(err.clone());
        }
        self.queue_timer = None;
    }

    /// The connection broke. The command in flight has an unknown outcome: fail it, or queue
    /// it again when it is safe (`requeue`: the server answered with a temporary error, so it
    /// did not run; or it was declared retry-safe). Inside a transaction nothing is sent again:
    /// the transaction's commands fail as aborted. Then stop, so the supervisor restarts the
    /// actor, which reconnects for what is still queued.
    fn fail_connection(&mut self, err: Error, requeue: bool, ctx: &mut Context<Self>) {
        let active = self.active_txn.take();
        // A transaction opened with raw SQL (no transaction handle).
        let raw_trans = self.in_transaction() && active.is_none();
        tracing::warn!(
            error = %err,
            in_transaction = raw_trans || active.is_some(),
            "connection failed"
        );
        if let Some(t) = active {
            self.aborted_txns.insert(t);
        }
        self.live = None;
        self.forget_statements();
        self.failed_before = true;
        self.query_timer = None;
        // The command being answered, then those written behind it. Only the first can have
        // been answered with the temporary error (`requeue`); the others were sent and may
        // have run.
        let written: Vec<(InFlight, bool)> = self
            .in_flight
            .take()
            .map(|inf| (inf, requeue))
            .into_iter()
            .chain(self.pipelined.drain(..).map(|inf| (inf, false)))
            .collect();
        let mut resend = Vec::new();
        for (inf, requeue) in written {
            let in_txn = raw_trans || inf.pending.txn.is_some();
            let retry = !in_txn
                && !inf.timed_out
                && (inf.pending.retry_safe || requeue)
                && inf.pending.retries < self.opts.reconnect_policy().max_attempts;
            if retry {
                let mut p = inf.pending;
                p.retries += 1;
                // Rows of the lost attempt (a temporary error can follow some rows).
                if let ReplyTx::Typed(sink) = &mut p.tx {
                    sink.reset();
                }
                self.stats.redelivered += 1;
                resend.push(p);
            } else {
                let mut e = if inf.pending.ends_txn {
                    Error::connection_lost(true).with_detail(
                        "the COMMIT was sent but its reply was lost: the transaction may or may not have been committed",
                    )
                } else if in_txn {
                    Error::transaction_aborted(!requeue)
                } else if inf.timed_out {
                    Error::timeout(
                        "the statement exceeded its time bound and the connection was lost",
                    )
                } else if requeue {
                    // A temporary error answered it, but it was retried too often.
                    err.clone()
                } else {
                    Error::connection_lost(true)
                };
                if !requeue {
                    e = e.with_source(err.clone());
                }
                if let Some(sql) = inf.pending.cmd.sql() {
                    e = e.with_query(sql);
                }
                inf.pending.fail(e);
            }
        }
        // Sent again first, in their order.
        for p in resend.into_iter().rev() {
            self.queue.push_front(p);
        }
        // Commands of the lost transaction never run on the new connection (its `Release`
        // stays queued to clean up).
        self.abort_queued(|p| {
            let of_active =
                active.is_some() && p.txn == active && !matches!(p.cmd, Command::Release(_));
            let of_raw = raw_trans && p.in_trans && p.txn.is_none();
            of_active || of_raw
        });
        if !self.queue.is_empty() {
            tracing::info!(
                queued = self.queue.len(),
                "commands will be sent on a new connection"
            );
        }
        ctx.stop();
    }

    /// Takes the next command and writes it (the sink is ready). Local commands are handled
    /// without I/O; commands whose caller gave up are skipped.
    fn send_next(&mut self) -> Result<()> {
        // The sequence id the reply being read expects next (writing resets it).
        let reading_seq = self.live.as_ref().map(|l| l.framed.codec().seq());
        let Some(pending) = self.next_pending() else {
            return Ok(());
        };
        let Some(mut pending) = self.take_local(pending) else {
            return Ok(());
        };
        let abandoned = match &pending.stream {
            Some(rows) => rows.is_closed(),
            None => pending.tx.is_closed() && !pending.internal,
        };
        if abandoned {
            // The caller gave up before the command was sent.
            return Ok(());
        }
        let Some(live) = self.live.as_mut() else {
            self.queue.push_front(pending);
            return Ok(());
        };
        let caps = live.capabilities;
        // Statements evicted from the cache: COM_STMT_CLOSE has no reply. (Evictions follow a
        // prepare, which nothing is pipelined with: nothing is in flight here.)
        for id in self.stmts_to_close.drain(..) {
            self.scratch.clear();
            statement::com_stmt_close(&mut self.scratch, id);
            live.framed.codec_mut().reset_seq();
            Pin::new(&mut live.framed).start_send(&self.scratch[..])?;
        }
        self.scratch.clear();
        let streaming = pending.stream.is_some();
        let rows_to = pending.stream.take().map(PollSender::new);
        let text = |decoder: TextResultDecoder, stream: Option<PollSender<Result<Row>>>| {
            ReplyDecoder::results(decoder, stream, streaming)
        };
        let refuse = |pending: Pending, e: Error| {
            let e = match pending.cmd.sql() {
                Some(sql) => e.with_query(sql),
                None => e,
            };
            if let Some(rows) = rows_to.as_ref().and_then(|r| r.get_ref()) {
                let _ = rows.try_send(Err(e.clone()));
            }
            pending.tx.send(Err(e));
        };
        let decoder = match &pending.cmd {
            Command::Query(sql) => {
                command::com_query(&mut self.scratch, sql);
                text(live.results_decoder(false, None), rows_to)
            }
            Command::QueryWith(sql, params) => {
                let ctx = EscapeContext {
                    no_backslash_escapes: live.status & SERVER_STATUS_NO_BACKSLASH_ESCAPES != 0,
                    charset: self.session.charset(),
                    hex_strings: false,
                };
                match interpolate(sql, params, &ctx) {
                    Ok(full) => {
                        command::com_query(&mut self.scratch, &full);
                        text(live.results_decoder(false, None), rows_to)
                    }
                    Err(e) => {
                        refuse(
                            pending,
                            Error::usage("cannot bind the parameters").with_source(e),
                        );
                        return Ok(());
                    }
                }
            }
            Command::Prepare(sql) => {
                statement::com_stmt_prepare(&mut self.scratch, sql);
                ReplyDecoder::Prepare {
                    decoder: PrepareDecoder::new(caps),
                    then_execute: false,
                }
            }
            Command::Exec(sql, params) => match self.stmts.get(sql) {
                Some(st) => match encode_exec(&mut self.scratch, st.id, params, st.params) {
                    Ok(long_data) => {
                        // Long data first, each a command of its own; then the execute.
                        for data in long_data {
                            live.framed.codec_mut().reset_seq();
                            Pin::new(&mut live.framed).start_send(&data[..])?;
                        }
                        let columns = Some(st.columns.clone());
                        text(live.results_decoder(true, columns), rows_to)
                    }
                    Err(e) => {
                        refuse(
                            pending,
                            Error::usage("wrong number of parameters").with_source(e),
                        );
                        return Ok(());
                    }
                },
                None => {
                    statement::com_stmt_prepare(&mut self.scratch, sql);
                    ReplyDecoder::Prepare {
                        decoder: PrepareDecoder::new(caps),
                        then_execute: true,
                    }
                }
            },
            Command::InitDb(db) => {
                command::com_init_db(&mut self.scratch, db);
                ReplyDecoder::Simple
            }
            Command::Ping => {
                command::com_ping(&mut self.scratch);
                ReplyDecoder::Simple
            }
            Command::ResetConnection => {
                command::com_reset_connection(&mut self.scratch);
                ReplyDecoder::Simple
            }
            Command::ResetStmt(sql) => match self.stmts.get(sql) {
                Some(st) => {
                    statement::com_stmt_reset(&mut self.scratch, st.id);
                    ReplyDecoder::Simple
                }
                None => {
                    // Not prepared on this connection: nothing to reset.
                    pending.tx.send(Ok(Reply::Ok(OkPacket::default())));
                    return Ok(());
                }
            },
            Command::Claim(_) | Command::Release(_) | Command::CloseStmt(_) => return Ok(()),
        };
        live.framed.codec_mut().reset_seq();
        let sent = Pin::new(&mut live.framed).start_send(&self.scratch[..]);
        let reply_seq = live.framed.codec().seq();
        let pipelinable = self.pipelinable(&pending);
        let inf = InFlight {
            pending,
            decoder,
            timed_out: false,
            pipelinable,
            reply_seq,
        };
        match (&self.in_flight, reading_seq) {
            (Some(_), Some(seq)) => {
                // Written behind the reply being read: that reply goes on where it was.
                if let Some(live) = self.live.as_mut() {
                    live.framed.codec_mut().set_seq(seq);
                }
                self.stats.pipelined += 1;
                self.pipelined.push_back(inf);
            }
            _ => {
                self.query_timer = inf
                    .pending
                    .timeout
                    .map(|t| Box::pin(sleep_until(Instant::now() + t)));
                self.in_flight = Some(inf);
            }
        }
        sent.map_err(Error::from)
    }

    /// Whether `p` may be written while other commands await their replies, and others
    /// written behind it.
    fn pipelinable(&self, p: &Pending) -> bool {
        if self.opts.pipeline_depth() < 2
            || p.stream.is_some()
            || p.timeout.is_some()
            || p.txn.is_some()
            || p.ends_txn
            || p.internal
            || p.in_trans
        {
            return false;
        }
        match &p.cmd {
            // A query's reply could ask for a local file: the bytes behind it would be taken
            // for the file.
            Command::Query(_) => !self.opts.local_infile_enabled(),
            Command::Ping => true,
            Command::Exec(sql, params) => {
                self.stmts.entries.contains_key(sql) && !params.iter().any(is_long_data)
            }
            _ => false,
        }
    }

    /// Whether the next queued command may be written before the replies in flight are read.
    fn can_pipeline(&self) -> bool {
        let Some(head) = &self.in_flight else {
            return true;
        };
        if !head.pipelinable
            || 1 + self.pipelined.len() >= self.opts.pipeline_depth()
            || head.timed_out
            || self.active_txn.is_some()
            || self.in_transaction()
            || self.pipelined.iter().any(|p| !p.pipelinable)
        {
            return false;
        }
        self.queue.front().is_some_and(|p| self.pipelinable(p))
    }

    /// Forgets the prepared statements: the server dropped them with its session.
    fn forget_statements(&mut self) {
        self.stmts.clear();
        self.stmts_to_close.clear();
    }

    /// The next command to send: the oldest one, or while a transaction owns the connection,
    /// the oldest one of that transaction.
    fn next_pending(&mut self) -> Option<Pending> {
        match self.active_txn {
            None => self.queue.pop_front(),
            Some(t) => {
                let i = self.queue.iter().position(|p| p.txn == Some(t))?;
                self.queue.remove(i)
            }
        }
    }

    /// Handles a command that needs no I/O, or one that cannot be sent; returns the command
    /// back when it is to be sent.
    fn take_local(&mut self, pending: Pending) -> Option<Pending> {
        match pending.cmd {
            Command::Claim(t) => {
                self.active_txn = Some(t);
                pending.tx.send(Ok(Reply::Ok(OkPacket::default())));
                None
            }
            Command::CloseStmt(ref sql) => {
                if let Some(id) = self.stmts.remove(sql) {
                    self.stmts_to_close.push(id);
                }
                pending.tx.send(Ok(Reply::Ok(OkPacket::default())));
                None
            }
            Command::Release(t) => {
                if self.active_txn == Some(t) {
                    self.active_txn = None;
                }
                self.aborted_txns.remove(&t);
                pending.tx.send(Ok(Reply::Ok(OkPacket::default())));
                None
            }
            _ => match pending.txn {
                None if self.raw_txn_lost && !pending.internal && is_rollback(&pending.cmd) => {
                    // The caller ends the lost transaction itself: the server already rolled
                    // it back, and a ROLLBACK on the new connection is harmless.
                    self.raw_txn_lost = false;
                    Some(pending)
                }
                None if self.raw_txn_lost && !pending.internal => {
                    self.raw_txn_lost = false;
                    pending.fail(Error::transaction_aborted(false).with_detail(
                        "the connection was lost while a transaction was open; \
                         the server rolled it back",
                    ));
                    None
                }
                Some(t) if self.aborted_txns.contains(&t) => {
                    pending.fail(
                        Error::transaction_aborted(false)
                            .with_detail("the connection was lost earlier in this transaction"),
                    );
                    None
                }
                Some(t) if self.active_txn != Some(t) => {
                    pending
                        .tx
                        .send(Err(Error::usage("the transaction has already ended")));
                    None
                }
                _ => Some(pending),
            },
        }
    }

    /// Closes a connection that has nothing in flight (the server closed it, or it is idle).
    fn drop_idle_connection(&mut self, why: &str) {
        self.forget_statements();
        let raw_trans = self.in_transaction() && self.active_txn.is_none();
        if let Some(live) = self.live.take() {
            tracing::info!(connection_id = live.connection_id, why, "connection closed");
        }
        // A transaction was open: the server rolled it back. Its next statements must not run
        // on a new connection as if nothing happened.
        if let Some(t) = self.active_txn.take() {
            self.aborted_txns.insert(t);
            self.abort_queued(|p| p.txn == Some(t) && !matches!(p.cmd, Command::Release(_)));
        } else if raw_trans {
            self.raw_txn_lost = true;
        }
    }

    /// Fails the queued commands of a lost transaction (those `lost` selects) as aborted; they
    /// never run on a new connection.
    fn abort_queued(&mut self, lost: impl Fn(&Pending) -> bool) {
        let (aborted, kept): (VecDeque<_>, VecDeque<_>) = self.queue.drain(..).partition(lost);
        self.queue = kept;
        for p in aborted {
            let mut e = Error::transaction_aborted(false);
            if let Some(sql) = p.cmd.sql() {
                e = e.with_query(sql);
            }
            p.fail(e);
        }
    }

    /// Closes an idle connection politely (`COM_QUIT`).
    fn close_idle(&mut self, task: &mut std::task::Context<'_>) {
        if self.live.is_some() {
            self.stats.idle_closes += 1;
        }
        self.quit(task, "idle connection closed");
    }

    /// Says `COM_QUIT` and drops the connection.
    fn quit(&mut self, task: &mut std::task::Context<'_>, why: &'static str) {
        self.forget_statements();
        if let Some(mut live) = self.live.take() {
            self.scratch.clear();
            command::com_quit(&mut self.scratch);
            live.framed.codec_mut().reset_seq();
            if Pin::new(&mut live.framed)
                .start_send(&self.scratch[..])
                .is_ok()
            {
                let _ = Pin::new(&mut live.framed).poll_flush(task);
            }
            tracing::info!(connection_id = live.connection_id, why);
        }
        self.idle = None;
    }

    fn finish(&mut self, result: Result<Reply>) {
        self.query_timer = None;
        let mut next = self.pipelined.pop_front();
        self.yield_after_reply = next.is_none();
        self.reply_progressed = false;
        if let Some(InFlight {
            pending:
                Pending {
                    cmd: Command::Exec(sql, _),
                    ..
                },
            decoder: ReplyDecoder::Text { decoder, .. },
            ..
        }) = next.as_mut()
        {
            // Written before the reply just read, which may have brought new column
            // definitions of its statement: its own reply may leave them out.
            if let Some(e) = self.stmts.entries.get(&**sql) {
                decoder.set_cached_columns(e.columns.clone());
            }
        }
        if let Some(live) = self.live.as_mut() {
            match &next {
                // The next reply is that of the command written behind this one.
                Some(n) => live.framed.codec_mut().set_seq(n.reply_seq),
                // Unsolicited packets (e.g. MySQL's 4031 before it closes an idle connection)
                // start a new exchange.
                None => live.framed.codec_mut().reset_seq(),
            }
        }
        if let Some(inf) = std::mem::replace(&mut self.in_flight, next) {
            let result = if inf.timed_out {
                self.stats.timeouts += 1;
                let mut e = Error::timeout(format!(
                    "the statement ran longer than its time bound ({:?}) and was killed",
                    inf.pending.timeout.unwrap_or_default()
                ));
                if let Err(server) = result {
                    e = e.with_source(server);
                }
                if let Some(sql) = inf.pending.cmd.sql() {
                    e = e.with_query(sql);
                }
                Err(e)
            } else {
                result
            };
            inf.pending.tx.send(result);
        }
    }

    /// `COM_RESET_CONNECTION` succeeded: the server dropped the session state. Forget what was
    /// tracked and put back what the options ask for (database, init statements) before any
    /// other command; the caller is answered when the last of these is done.
    fn restore_after_reset(&mut self) {
        self.session = TrackedSession::default();
        // The reset deallocated every prepared statement.
        self.forget_statements();
        let Some(inf) = self.in_flight.take() else {
            return;
        };
        if let Some(live) = self.live.as_mut() {
            live.framed.codec_mut().reset_seq();
        }
        self.query_timer = None;
        let mut steps: Vec<Command> = Vec::new();
        if let Some(db) = self.opts.db() {
            if self.current_db.as_deref() != Some(db) {
                steps.push(Command::InitDb(db.to_string()));
            }
        }
        steps.extend(self.opts.init_sql().iter().cloned().map(Command::Query));
        let Some(last) = steps.pop() else {
            inf.pending.tx.send(Ok(Reply::Ok(OkPacket::default())));
            return;
        };
        let template = inf.pending;
        let make = |cmd: Command, tx: ReplyTx| Pending {
            cmd,
            tx,
            retry_safe: true,
            deadline: template.deadline,
            timeout: None,
            in_trans: false,
            retries: 0,
            internal: true,
            txn: template.txn,
            ends_txn: false,
            stream: None,
        };
        self.queue.push_front(make(last, template.tx));
        for cmd in steps.into_iter().rev() {
            let (tx, _rx) = oneshot::channel();
            self.queue.push_front(make(cmd, ReplyTx::Unit(tx)));
        }
    }

    /// The command in flight ran past its bound: kill it from a second connection.
    fn start_kill(&mut self, ctx: &mut Context<Self>) {
        let (Some(live), Some(inf)) = (self.live.as_ref(), self.in_flight.as_mut()) else {
            return;
        };
        inf.timed_out = true;
        self.killing = true;
        let id = live.connection_id;
        let opts = self.opts.clone();
        tracing::info!(connection_id = id, "statement timed out, killing it");
        let fut = async move { kill_query(&opts, id).await };
        ctx.spawn(fut.into_actor(self).map(move |res, act, ctx| {
            act.killing = false;
            if let Err(e) = res {
                // The statement cannot be stopped: give the connection up instead.
                tracing::warn!(error = %e, "KILL QUERY failed");
                if act.in_flight.as_ref().is_some_and(|i| i.timed_out)
                    && act.live.as_ref().is_some_and(|l| l.connection_id == id)
                {
                    act.fail_connection(e, false, ctx);
                    return;
                }
            }
            act.wake();
        }));
    }

    /// Handles one packet of the reply in flight.
    fn on_packet(&mut self, payload: Bytes) -> Next {
        let Some(live) = self.live.as_mut() else {
            return Next::Continue;
        };
        let capabilities = live.capabilities;
        let Some(inf) = self.in_flight.as_mut() else {
            // Nothing was asked: the server speaks first only to say it is closing.
            if response::is_err(&payload) {
                match ErrPacket::parse(&payload, capabilities) {
                    Ok(err) => {
                        tracing::info!(code = err.code, message = %err.message, "server closed the idle connection")
                    }
                    Err(e) => tracing::warn!(error = %e, "malformed unsolicited packet"),
                }
                self.drop_idle_connection("server sent an error while idle");
                return Next::Continue;
            }
            return Next::Fail(
                ProtocolError::Unexpected("packet while no command was sent").into(),
            );
        };
        let sql = inf.pending.cmd.sql();
        match &mut inf.decoder {
            ReplyDecoder::Simple => {
                let result = if response::is_err(&payload) {
                    match ErrPacket::parse(&payload, capabilities) {
                        Ok(err) if self.opts.is_temporary_server_error(err.code, &err.message) => {
                            return Next::Retry(Error::server(err));
                        }
                        Ok(err) => Err(Error::server(err)),
                        Err(e) => return Next::Fail(e.into()),
                    }
                } else if response::is_ok(&payload) {
                    match OkPacket::parse(&payload, capabilities) {
                        Ok(ok) => {
                            live.status = ok.status;
                            track(&mut self.session, &mut self.current_db, &ok);
                            if let Command::InitDb(db) = &inf.pending.cmd {
                                // Remembered, so a reconnect selects it again.
                                self.current_db = Some(db.clone());
                            }
                            if matches!(inf.pending.cmd, Command::ResetConnection) {
                                self.restore_after_reset();
                                return Next::Continue;
                            }
                            Ok(Reply::Ok(ok))
                        }
                        Err(e) => return Next::Fail(e.into()),
                    }
                } else {
                    return Next::Fail(ProtocolError::Unexpected("expected OK or ERR").into());
                };
                self.finish(result);
                Next::Continue
            }
            ReplyDecoder::Prepare {
                decoder,
                then_execute,
            } => {
                let event = match decoder.feed(payload) {
                    Ok(Some(ev)) => ev,
                    Ok(None) => return Next::Continue,
                    Err(e) => return Next::Fail(e.into()),
                };
                let prepared = match event {
                    PrepareEvent::Done(p) => p,
                    PrepareEvent::Err(err) => {
                        if self.opts.is_temporary_server_error(err.code, &err.message) {
                            return Next::Retry(Error::server(err));
                        }
                        let mut e = Error::server(err);
                        if let Some(sql) = sql {
                            e = e.with_query(sql);
                        }
                        self.finish(Err(e));
                        return Next::Continue;
                    }
                    #[allow(unreachable_patterns)]
                    _ => return Next::Fail(ProtocolError::Unexpected("prepare response").into()),
                };
                let key: Arc<str> = match &inf.pending.cmd {
                    Command::Exec(sql, _) => sql.clone(),
                    other => Arc::from(other.sql().unwrap_or_default()),
                };
                let params = prepared.params.len();
                let evicted = self.stmts.insert(
                    key.clone(),
                    CachedStmt {
                        id: prepared.statement_id,
                        params,
                        columns: prepared.columns.clone(),
                        last_used: 0,
                    },
                    self.opts.stmt_cache_size(),
                );
                self.stmts_to_close.extend(evicted);
                if !*then_execute {
                    let stmt = Statement {
                        sql: key,
                        params,
                        columns: prepared.columns,
                    };
                    self.finish(Ok(Reply::Prepared(stmt)));
                    return Next::Continue;
                }
                let Command::Exec(_, values) = &inf.pending.cmd else {
                    return Next::Fail(ProtocolError::Unexpected("prepare response").into());
                };
                let mut execute = BytesMut::new();
                match encode_exec(&mut execute, prepared.statement_id, values, params) {
                    Ok(mut payloads) => {
                        payloads.push(execute);
                        inf.decoder = ReplyDecoder::results(
                            live.results_decoder(true, Some(prepared.columns.clone())),
                            None,
                            false,
                        );
                        Next::SendCommands(payloads)
                    }
                    Err(e) => {
                        let mut e = Error::usage("wrong number of parameters").with_source(e);
                        if let Some(sql) = sql {
                            e = e.with_query(sql);
                        }
                        self.finish(Err(e));
                        Next::Continue
                    }
                }
            }
            ReplyDecoder::Text {
                decoder,
                results,
                current,
                infile_error,
                stream,
                streaming,
            } => {
                let event = match decoder.feed(payload) {
                    Ok(ev) => ev,
                    Err(e) => return Next::Fail(e.into()),
                };
                let mut send = None;
                match event {
                    None => {}
                    Some(QueryEvent::Ok(ok)) => {
                        live.status = ok.status;
                        track(&mut self.session, &mut self.current_db, &ok);
                        results.push(QueryResult::Exec(ok.into()));
                    }
                    Some(QueryEvent::Columns(cols)) => {
                        if let Command::Exec(sql, _) = &inf.pending.cmd {
                            // New definitions of a statement's first result: remembered for
                            // executions that come without them.
                            if let Some(e) = self.stmts.entries.get_mut(sql) {
                                if first_result_set(results) && !Arc::ptr_eq(&e.columns, &cols) {
                                    e.columns = cols.clone();
                                }
                            }
                        }
                        *current = Some((cols, Vec::new()))
                    }
                    Some(QueryEvent::Row(values)) => match current {
                        Some((cols, rows)) => {
                            let row = Row::new(cols.clone(), values);
                            if let ReplyTx::Typed(sink) = &mut inf.pending.tx {
                                if first_result_set(results) {
                                    sink.row(row);
                                }
                            } else if !*streaming {
                                rows.push(row);
                            } else if let Some(s) = stream {
                                // A slot was reserved before this packet was read.
                                if s.send_item(Ok(row)).is_err() {
                                    *stream = None;
                                }
                            }
                        }
                        None => {
                            return Next::Fail(
                                ProtocolError::Unexpected("row before column definitions").into(),
                            )
                        }
                    },
                    Some(QueryEvent::ResultSetEnd { status, warnings }) => {
                        live.status = status;
                        if let Some((columns, rows)) = current.take() {
                            results.push(QueryResult::Rows {
                                columns,
                                rows,
                                warning_count: warnings,
                            });
                        }
                    }
                    Some(QueryEvent::Err(err)) => {
                        if self.opts.is_temporary_server_error(err.code, &err.message) {
                            return Next::Retry(Error::server(err));
                        }
                        let mut e = Error::server(err);
                        if let Some(sql) = sql {
                            e = e.with_query(sql);
                        }
                        stream_error(stream, &e);
                        self.finish(Err(e));
                        return Next::Continue;
                    }
                    Some(QueryEvent::LocalInfile(name)) => {
                        let name = String::from_utf8_lossy(&name).into_owned();
                        // The file's bytes, then an empty packet; an empty packet alone tells
                        // the server there is no file.
                        let data = match self.opts.local_infile(&name) {
                            Some(Ok(data)) => data,
                            Some(Err(e)) => {
                                *infile_error = Some(
                                    Error::usage(format!(
                                        "the local infile handler refused {name:?}"
                                    ))
                                    .with_source(e),
                                );
                                Vec::new()
                            }
                            None => {
                                *infile_error = Some(Error::usage(
                                    "the server asked for a local file (LOAD DATA LOCAL INFILE), which is disabled",
                                ));
                                Vec::new()
                            }
                        };
                        send = Some(data);
                    }
                    #[allow(unreachable_patterns)]
                    Some(_) => {}
                }
                if decoder.is_done() {
                    let results = std::mem::take(results);
                    let result = if let Some(mut e) = infile_error.take() {
                        if let Some(sql) = sql {
                            e = e.with_query(sql);
                        }
                        stream_error(stream, &e);
                        Err(e)
                    } else {
                        Ok(Reply::Results(results))
                    };
                    self.finish(result);
                }
                match send {
                    Some(data) => Next::Send(data),
                    None => Next::Continue,
                }
            }
        }
    }

    /// One turn of the I/O driver.
    fn drive(&mut self, ctx: &mut Context<Self>, task: &mut std::task::Context<'_>) -> Poll<()> {
        if !self
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(task.waker()))
        {
            self.waker = Some(task.waker().clone());
        }
        // Poll until pending: expiring re-arms the timer for the next deadline, and a timer
        // only wakes the driver once it has been polled.
        while self
            .queue_timer
            .as_mut()
            .is_some_and(|t| t.as_mut().poll(task).is_ready())
        {
            self.expire_queued();
        }
        let mut budget = PACKET_BUDGET;
        'outer: loop {
            let drained = self.queue.is_empty() && self.in_flight.is_none();
            if drained && (self.closing.is_some() || !ctx.connected()) {
                self.quit(task, "connection closed");
                for tx in self.closing.take().unwrap_or_default() {
                    tx.send(Ok(Reply::Ok(OkPacket::default())));
                }
                if !ctx.connected() {
                    // No handle is left: nobody can send again.
                    ctx.stop();
                    return Poll::Ready(());
                }
                self.closing = Some(Vec::new());
            }
            let Some(live) = self.live.as_mut() else {
                if self.queue.is_empty() || self.connecting {
                    return Poll::Pending;
                }
                if let Some(backoff) = self.backoff.as_mut() {
                    if backoff.as_mut().poll(task).is_pending() {
                        return Poll::Pending;
                    }
                    self.backoff = None;
                }
                self.start_connect(ctx);
                return Poll::Pending;
            };

            // Never idle-close inside a transaction.
            let idle = self.in_flight.is_none()
                && self.queue.is_empty()
                && self.active_txn.is_none()
                && live.status & SERVER_STATUS_IN_TRANS == 0;
            if !idle {
                self.idle = None;
            } else if let Some(timeout) = self.opts.idle_timeout() {
                let timer = self
                    .idle
                    .get_or_insert_with(|| Box::pin(sleep_until(Instant::now() + timeout)));
                if timer.as_mut().poll(task).is_ready() {
                    self.close_idle(task);
                    continue;
                }
            }

            // Write the next command once the previous reply is complete.
            let sendable = match self.active_txn {
                None => !self.queue.is_empty(),
                Some(t) => self.queue.iter().any(|p| p.txn == Some(t)),
            };
            if sendable && !self.killing && self.can_pipeline() {
                let Some(live) = self.live.as_mut() else {
                    continue;
                };
                match Pin::new(&mut live.framed).poll_ready(task) {
                    Poll::Ready(Ok(())) => {
                        if let Err(e) = self.send_next() {
                            self.fail_connection(e, false, ctx);
                            return Poll::Ready(());
                        }
                        continue;
                    }
                    Poll::Ready(Err(e)) => {
                        self.fail_connection(e.into(), false, ctx);
                        return Poll::Ready(());
                    }
                    Poll::Pending => {}
                }
            }

            let Some(live) = self.live.as_mut() else {
                continue;
            };
            if let Poll::Ready(Err(e)) = Pin::new(&mut live.framed).poll_flush(task) {
                self.fail_connection(e.into(), false, ctx);
                return Poll::Ready(());
            }

            if !self.killing
                && self
                    .query_timer
                    .as_mut()
                    .is_some_and(|t| t.as_mut().poll(task).is_ready())
            {
                self.query_timer = None;
                self.start_kill(ctx);
            }

            // A streamed result is read only when its consumer has room for a row.
            if let Some(InFlight {
                decoder:
                    ReplyDecoder::Text {
                        stream: stream @ Some(_),
                        ..
                    },
                ..
            }) = self.in_flight.as_mut()
            {
                if let Some(s) = stream.as_mut() {
                    match s.poll_reserve(task) {
                        Poll::Ready(Ok(())) => {}
                        // The consumer is gone: read and discard the rest.
                        Poll::Ready(Err(_)) => *stream = None,
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }

            // Packets of one reply are read in a tight loop; the checks above run again
            // when the reply is complete (or something else needs attention).
            loop {
                let Some(live) = self.live.as_mut() else {
                    continue 'outer;
                };
                if std::mem::take(&mut self.yield_after_reply)
                    && self.in_flight.is_none()
                    && live.framed.read_buffer().is_empty()
                {
                    // Polled again at once; by then the caller may have queued its next
                    // command, and the socket is read after that command is written. An idle
                    // connection still watches the socket from the next turn on.
                    task.waker().wake_by_ref();
                    return Poll::Pending;
                }
                match Pin::new(&mut live.framed).poll_next(task) {
                    Poll::Ready(Some(Ok(payload))) => match self.on_packet(payload) {
                        Next::Continue => {}
                        Next::Send(data) => {
                            if let Some(live) = self.live.as_mut() {
                                // A local file: its contents (when any), then the empty packet
                                // that ends it.
                                let mut sent = Ok(());
                                if !data.is_empty() {
                                    sent = Pin::new(&mut live.framed).start_send(&data[..]);
                                }
                                if sent.is_ok() {
                                    sent = Pin::new(&mut live.framed).start_send(&[][..]);
                                }
                                if let Err(e) = sent {
                                    self.fail_connection(e.into(), false, ctx);
                                    return Poll::Ready(());
                                }
                            }
                            self.reply_progressed = false;
                        }
                        Next::SendCommands(payloads) => {
                            if let Some(live) = self.live.as_mut() {
                                for data in payloads {
                                    live.framed.codec_mut().reset_seq();
                                    if let Err(e) = Pin::new(&mut live.framed).start_send(&data[..])
                                    {
                                        self.fail_connection(e.into(), false, ctx);
                                        return Poll::Ready(());
                                    }
                                }
                            }
                            self.reply_progressed = false;
                        }
                        Next::Fail(e) => {
                            self.fail_connection(e, false, ctx);
                            return Poll::Ready(());
                        }
                        Next::Retry(e) => {
                            self.fail_connection(e, true, ctx);
                            return Poll::Ready(());
                        }
                    },
                    Poll::Ready(Some(Err(e))) => {
                        self.fail_connection(e.into(), false, ctx);
                        return Poll::Ready(());
                    }
                    Poll::Ready(None) => {
                        if self.in_flight.is_none() {
                            self.drop_idle_connection("server closed the connection");
                            continue 'outer;
                        }
                        self.fail_connection(
                            Error::new(ErrorKind::Io)
                                .with_detail("the server closed the connection"),
                            false,
                            ctx,
                        );
                        return Poll::Ready(());
                    }
                    Poll::Pending => return Poll::Pending,
                }

                budget -= 1;
                if budget == 0 {
                    task.waker().wake_by_ref();
                    return Poll::Pending;
                }
                // Read on while the same reply is still coming in and nothing else waits: no
                // command finished (so nothing new can be written), no time bound runs, and
                // the rows do not go to a stream (which needs room before each row).
                let plain = std::mem::replace(&mut self.reply_progressed, true)
                    && self.query_timer.is_none()
                    && matches!(
                        &self.in_flight,
                        Some(InFlight {
                            decoder: ReplyDecoder::Text {
                                streaming: false,
                                ..
                            } | ReplyDecoder::Simple
                                | ReplyDecoder::Prepare { .. },
                            ..
                        })
                    );
                if !plain {
                    continue 'outer;
                }
            }
        }
    }
}

/// Whether the result set being read is the reply's first (no earlier one has ended).
fn first_result_set(results: &[QueryResult]) -> bool {
    !results
        .iter()
        .any(|r| matches!(r, QueryResult::Rows { .. }))
}

/// A plain `ROLLBACK` (or `ROLLBACK WORK`) in raw SQL; not `ROLLBACK TO SAVEPOINT`.
fn is_rollback(cmd: &Command) -> bool {
    let Command::Query(sql) = cmd else {
        return false;
    };
    let words: Vec<&str> = sql
        .trim()
        .trim_end_matches(';')
        .split_ascii_whitespace()
        .collect();
    match words.as_slice() {
        [w] => w.eq_ignore_ascii_case("rollback"),
        [w, work] => w.eq_ignore_ascii_case("rollback") && work.eq_ignore_ascii_case("work"),
        _ => false,
    }
}

/// Parameters larger than this go as `COM_STMT_SEND_LONG_DATA` before the execute.
const LONG_DATA_THRESHOLD: usize = 8 * 1024 * 1024;
/// Size of each long data chunk.
const LONG_DATA_CHUNK: usize = 4 * 1024 * 1024;

/// A parameter sent as `COM_STMT_SEND_LONG_DATA` before the execute.
fn is_long_data(v: &Value) -> bool {
    matches!(v, Value::Bytes(b) | Value::Json(b) if b.len() > LONG_DATA_THRESHOLD)
}

/// Encodes `COM_STMT_EXECUTE` into `execute` and returns the long data chunks (for large byte
/// parameters) to send before it, each a command of its own.
fn encode_exec(
    execute: &mut BytesMut,
    id: u32,
    params: &[Value],
    param_count: usize,
) -> std::result::Result<Vec<BytesMut>, statement::ParamCountMismatch> {
    if !params.iter().any(is_long_data) {
        statement::com_stmt_execute(execute, id, params, param_count)?;
        return Ok(Vec::new());
    }
    let long: Vec<bool> = params.iter().map(is_long_data).collect();
    let mut payloads = Vec::new();
    if params.len() == param_count {
        for (i, value) in params.iter().enumerate() {
            let (true, Value::Bytes(data) | Value::Json(data)) = (long[i], value) else {
                continue;
            };
            let index = u16::try_from(i).unwrap_or(u16::MAX);
            for chunk in data.chunks(LONG_DATA_CHUNK) {
                let mut buf = BytesMut::with_capacity(chunk.len() + 7);
                statement::com_stmt_send_long_data(&mut buf, id, index, chunk);
                payloads.push(buf);
            }
        }
    }
    statement::com_stmt_execute_with_long_data(execute, id, params, param_count, &long)?;
    Ok(payloads)
}

/// Delivers an error as the last item of a row stream, even when the consumer is behind.
fn stream_error(stream: &mut Option<PollSender<Result<Row>>>, e: &Error) {
    if let Some(tx) = stream.take().and_then(|s| s.get_ref().cloned()) {
        let e = e.clone();
        actix::spawn(async move {
            let _ = tx.send(Err(e)).await;
        });
    }
}

/// Records the session changes an OK packet reports.
fn track(session: &mut TrackedSession, current_db: &mut Option<String>, ok: &OkPacket) {
    if ok.status & SERVER_SESSION_STATE_CHANGED == 0 || ok.session_state.is_empty() {
        return;
    }
    match parse_session_changes(&ok.session_state) {
        Ok(changes) => {
            for change in changes {
                session.apply(change, current_db);
            }
        }
        Err(e) => tracing::warn!(error = %e, "unreadable session state change"),
    }
}

/// The I/O driver: polls the connection's socket on behalf of the actor.
struct Driver;

impl ActorFuture<Connection> for Driver {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut Connection,
        ctx: &mut Context<Connection>,
        task: &mut std::task::Context<'_>,
    ) -> Poll<()> {
        act.drive(ctx, task)
    }
}

impl Actor for Connection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.spawn(Driver);
    }
}

impl Supervised for Connection {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        tracing::debug!(queued = self.queue.len(), "connection actor restarting");
        self.live = None;
        self.forget_statements();
        self.in_flight = None;
        self.pipelined.clear();
        self.connecting = false;
        self.killing = false;
        self.waker = None;
        self.idle = None;
        self.query_timer = None;
        // Keep the queue deadlines running across the restart.
        if !self.queue.is_empty() {
            self.expire_queued();
        }
    }
}

fn into_results(reply: Reply) -> Vec<QueryResult> {
    match reply {
        Reply::Results(r) => r,
        Reply::Ok(ok) => vec![QueryResult::Exec(ok.into())],
        Reply::Prepared(_) => Vec::new(),
    }
}

/// The command behind a text-protocol message.
macro_rules! text_command {
    ($($name:ident),*) => {$(
        impl $name {
            pub(crate) fn into_command(self) -> (Command, CmdOpts) {
                let o = self.cmd_opts();
                let cmd = match self.params {
                    Some(params) => Command::QueryWith(self.sql, params),
                    None => Command::Query(self.sql),
                };
                (cmd, o)
            }
        }
    )*};
}

text_command!(Query, QueryMulti, Execute);

impl Exec {
    pub(crate) fn into_command(self) -> (Command, CmdOpts) {
        let o = CmdOpts {
            retry_safe: self.retry_safe,
            timeout: self.timeout,
            txn: self.txn,
            ends_txn: false,
        };
        (Command::Exec(self.sql, self.params), o)
    }
}

impl Prepare {
    pub(crate) fn into_command(self) -> (Command, CmdOpts) {
        let o = CmdOpts {
            retry_safe: self.txn.is_none(),
            txn: self.txn,
            ..CmdOpts::default()
        };
        (Command::Prepare(self.sql), o)
    }
}

/// A command that is safe to send again on a new connection.
fn idempotent(cmd: Command) -> (Command, CmdOpts) {
    let o = CmdOpts {
        retry_safe: true,
        ..CmdOpts::default()
    };
    (cmd, o)
}

impl Handler<Query> for Connection {
    type Result = ResponseFuture<Result<Vec<Row>>>;

    fn handle(&mut self, msg: Query, _ctx: &mut Self::Context) -> Self::Result {
        self.respond(msg.into_command(), ReplyTx::Rows)
    }
}

impl Handler<QueryMulti> for Connection {
    type Result = ResponseFuture<Result<Vec<QueryResult>>>;

    fn handle(&mut self, msg: QueryMulti, _ctx: &mut Self::Context) -> Self::Result {
        self.respond(msg.into_command(), ReplyTx::Results)
    }
}

impl Handler<Execute> for Connection {
    type Result = ResponseFuture<Result<ExecResult>>;

    fn handle(&mut self, msg: Execute, _ctx: &mut Self::Context) -> Self::Result {
        // The outcome of the last statement without rows (for a CALL, its final OK).
        self.respond(msg.into_command(), ReplyTx::Exec)
    }
}

impl Handler<SelectDb> for Connection {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, msg: SelectDb, _ctx: &mut Self::Context) -> Self::Result {
        self.respond(idempotent(Command::InitDb(msg.db)), ReplyTx::Unit)
    }
}

impl Handler<Ping> for Connection {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, _msg: Ping, _ctx: &mut Self::Context) -> Self::Result {
        self.respond(idempotent(Command::Ping), ReplyTx::Unit)
    }
}

impl Handler<ResetConnection> for Connection {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, _msg: ResetConnection, _ctx: &mut Self::Context) -> Self::Result {
        let cmd = (Command::ResetConnection, CmdOpts::default());
        self.respond(cmd, ReplyTx::Unit)
    }
}

impl Handler<Prepare> for Connection {
    type Result = ResponseFuture<Result<Statement>>;

    fn handle(&mut self, msg: Prepare, _ctx: &mut Self::Context) -> Self::Result {
        self.respond(msg.into_command(), ReplyTx::Prepared)
    }
}

impl Handler<Exec> for Connection {
    type Result = ResponseFuture<Result<Vec<QueryResult>>>;

    fn handle(&mut self, msg: Exec, _ctx: &mut Self::Context) -> Self::Result {
        self.respond(msg.into_command(), ReplyTx::Results)
    }
}

impl Handler<ResetStatement> for Connection {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, msg: ResetStatement, _ctx: &mut Self::Context) -> Self::Result {
        let cmd = (Command::ResetStmt(msg.sql), CmdOpts::default());
        self.respond(cmd, ReplyTx::Unit)
    }
}

impl Handler<CloseStatement> for Connection {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, msg: CloseStatement, _ctx: &mut Self::Context) -> Self::Result {
        let cmd = (Command::CloseStmt(msg.sql), CmdOpts::default());
        self.respond(cmd, ReplyTx::Unit)
    }
}

impl Handler<QueryStream> for Connection {
    type Result = ResponseFuture<Result<RowStream>>;

    fn handle(&mut self, msg: QueryStream, _ctx: &mut Self::Context) -> Self::Result {
        let (rows_tx, rows_rx) = tokio::sync::mpsc::channel(msg.capacity);
        let cmd = match msg.params {
            Some(params) => Command::QueryWith(msg.sql, params),
            None => Command::Query(msg.sql),
        };
        let o = CmdOpts {
            txn: msg.txn,
            ..CmdOpts::default()
        };
        let admitted = self.enqueue_streaming(cmd, o, rows_tx);
        Box::pin(async move {
            admitted?;
            Ok(RowStream::new(rows_rx))
        })
    }
}

impl Handler<Claim> for Connection {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, msg: Claim, _ctx: &mut Self::Context) -> Self::Result {
        let o = CmdOpts {
            txn: Some(msg.0),
            ..CmdOpts::default()
        };
        self.respond((Command::Claim(msg.0), o), ReplyTx::Unit)
    }
}

impl Handler<Release> for Connection {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, msg: Release, _ctx: &mut Self::Context) -> Self::Result {
        let o = CmdOpts {
            txn: Some(msg.0),
            ..CmdOpts::default()
        };
        self.respond((Command::Release(msg.0), o), ReplyTx::Unit)
    }
}

impl Handler<Close> for Connection {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, _msg: Close, _ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.closing
            .get_or_insert_with(Vec::new)
            .push(ReplyTx::Unit(tx));
        Box::pin(answer(rx))
    }
}

impl Handler<GetState> for Connection {
    type Result = MessageResult<GetState>;

    fn handle(&mut self, _msg: GetState, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult((self.state(), self.stats, self.queue.len()))
    }
}

impl Handler<GetInfo> for Connection {
    type Result = Option<ConnectionInfo>;

    fn handle(&mut self, _msg: GetInfo, _ctx: &mut Self::Context) -> Self::Result {
        self.live.as_ref().map(|l| ConnectionInfo {
            connection_id: l.connection_id,
            server_version: l.server_version.clone(),
            is_mariadb: l.is_mariadb,
            status: l.status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_a_plain_rollback_only() {
        for sql in ["ROLLBACK", " rollback ;", "Rollback Work", "ROLLBACK\n"] {
            assert!(is_rollback(&Command::Query(sql.into())), "{sql:?}");
        }
        for sql in [
            "ROLLBACK TO SAVEPOINT a",
            "ROLLBACK AND CHAIN",
            "COMMIT",
            "SELECT 'ROLLBACK'",
            "",
        ] {
            assert!(!is_rollback(&Command::Query(sql.into())), "{sql:?}");
        }
        assert!(!is_rollback(&Command::QueryWith(
            "ROLLBACK".into(),
            Vec::new()
        )));
    }
}
