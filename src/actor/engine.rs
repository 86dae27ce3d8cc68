//! The connection engine: a sans-IO state machine that owns everything a connection decides.
//!
//! The engine holds the queue, the commands in flight, the statement cache, the session and
//! transaction state, and the rules for pipelining, redelivery, timeouts and reconnects. It
//! does no I/O and reads no clock: it is driven by events, each given the current time, and it
//! says what to do next.
//!
//! - Events: [`Engine::submit`], [`Engine::close`], [`Engine::on_connected`],
//!   [`Engine::on_connect_failed`], [`Engine::on_input`] (bytes read from the server, in
//!   [`Engine::read_buf`]), [`Engine::on_eof`], [`Engine::on_io_error`],
//!   [`Engine::on_kill_done`] and [`Engine::on_timeout`].
//! - What to do: [`Engine::advance`] writes what may be written into [`Engine::transmit`] and
//!   queues [`Action`]s ([`Engine::poll_action`]); [`Engine::poll_timeout`] is the next deadline.
//!
//! The actor ([`super::connection`]) moves bytes and timers between a socket and the engine;
//! the simulation tests drive it with a model server and virtual time.
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::command::{
    changes_session, encode_exec, is_call, is_commit, is_long_data, is_rollback, CmdOpts, Command,
};
use super::escaping::{Escaping, Need, READ_ESCAPING};
use super::reply::{Caller, Reply};
use super::session::{Replay, TrackedSession};
use super::stmt_cache::{CachedStmt, StmtCache};
use crate::codec::{CodecError, PacketCodec};
use crate::error::{Error, ErrorKind, Result};
use crate::opts::Opts;
use crate::protocol::command;
use crate::protocol::constants::status::SERVER_STATUS_IN_TRANS;
use crate::protocol::response::{self, ErrPacket, OkPacket};
use crate::protocol::resultset::{Column, QueryEvent, TextResultDecoder};
use crate::protocol::statement::{self, PrepareDecoder, PrepareEvent};
use crate::protocol::value::escape::interpolate;
use crate::protocol::value::Value;
use crate::protocol::ProtocolError;
use crate::row::{QueryResult, Row};
use crate::statement::Statement;

/// A time far enough ahead to stand for "never" (durations such as `Duration::MAX` would
/// overflow an `Instant`).
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now + d`, saturating far in the future instead of overflowing.
pub(crate) fn deadline(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}

/// Facts about a connection that was just opened.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    /// Capabilities in effect (ours intersected with the server's).
    pub(crate) capabilities: u32,
    /// The server's id for this connection (for `KILL`).
    pub(crate) connection_id: u32,
    pub(crate) server_version: String,
    pub(crate) is_mariadb: bool,
    /// Status flags of the last OK.
    pub(crate) status: u16,
    /// MariaDB's `MARIADB_CLIENT_CACHE_METADATA` is in effect.
    pub(crate) cache_metadata: bool,
    /// Tracked variables the server refused to take back on this connection.
    pub(crate) rejected: Vec<String>,
    /// The session's escaping rules, as read once the connection was set up.
    pub(crate) escaping: Escaping,
}

impl ConnInfo {
    /// A decoder for the reply to `COM_QUERY` (`binary == false`) or `COM_STMT_EXECUTE` on
    /// this connection; `columns` are the statement's known column definitions (used when a
    /// server that caches metadata leaves them out).
    pub(crate) fn results_decoder(
        &self,
        binary: bool,
        columns: Option<Arc<[Column]>>,
    ) -> TextResultDecoder {
        let decoder = if binary {
            TextResultDecoder::new_binary(self.capabilities)
        } else {
            TextResultDecoder::new(self.capabilities)
        };
        if self.cache_metadata {
            decoder.with_metadata_cache(columns)
        } else {
            decoder
        }
    }
}

/// What the engine asks its driver to do.
#[derive(Debug)]
pub(crate) enum Action {
    /// Open a connection (with `db` selected and `replay` run after the init statements), then
    /// report [`Engine::on_connected`] or [`Engine::on_connect_failed`].
    Connect {
        db: Option<String>,
        replay: Vec<Replay>,
    },
    /// Kill the statement running on connection `connection_id` from a side connection,
    /// within `bound`, then report [`Engine::on_kill_done`].
    Kill { connection_id: u32, bound: Duration },
    /// Write what is in [`Engine::transmit`] (a `COM_QUIT`), then drop the connection.
    Disconnect,
    /// The server closed the connection while nothing was awaited: drop it.
    Drop,
    /// The connection failed: drop it at once (the actor restarts under its supervisor). The
    /// engine reconnects for what is still queued.
    Fail,
}

/// Where the engine is in a connection's life.
#[derive(Debug)]
enum Phase {
    /// No connection is open; the next command opens one.
    Closed,
    /// Waiting before connect attempt `attempt + 1`.
    Backoff { attempt: u32, until: Instant },
    /// Connect attempt `attempt + 1` is under way.
    Connecting { attempt: u32 },
    /// Connected.
    Open(Open),
}

/// An open connection.
#[derive(Debug)]
struct Open {
    info: ConnInfo,
    codec: PacketCodec,
    /// A statement past its bound is being killed.
    kill: Kill,
    /// When the connection is closed for being idle (set while it is idle).
    idle_until: Option<Instant>,
    /// The session's escaping rules, kept current from each reply.
    escaping: Escaping,
}

impl Open {
    /// Takes the status flags of a reply to `cmd`.
    fn set_status(&mut self, status: u16, cmd: &Command) {
        self.info.status = status;
        self.escaping.on_status(status, cmd);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kill {
    None,
    /// `KILL QUERY` is on its way: nothing else is written. The reply must come by `until`.
    Running {
        until: Instant,
    },
    /// The kill was done (or was not needed); the reply must still come by `until`.
    Sent {
        until: Instant,
    },
}

/// A command waiting to be written.
#[derive(Debug)]
struct Pending<C> {
    cmd: Command,
    caller: C,
    retry_safe: bool,
    /// When it fails with a timeout if it is still queued.
    deadline: Instant,
    /// Run-time bound once sent.
    timeout: Option<Duration>,
    /// Queued while a raw-SQL transaction was open: it belongs to that transaction and must
    /// never run on a new connection.
    in_trans: bool,
    /// Times it was sent again.
    retries: u32,
    /// Issued by the engine itself (its caller may not listen): never skipped.
    internal: bool,
    /// The transaction it belongs to.
    txn: Option<u64>,
    /// It ends its transaction (`COMMIT`): if its reply is lost the outcome is unknown.
    ends_txn: bool,
    /// It was written on a connection that was lost before its reply (and queued again as
    /// retry-safe): whatever error it ends with, it may have run.
    may_have_run: bool,
}

impl<C: Caller> Pending<C> {
    /// One of the engine's own commands, run for `template`'s sake (in its transaction, by
    /// its deadline), answering `caller`.
    fn internal(cmd: Command, template: &Pending<C>, caller: C) -> Self {
        Pending {
            cmd,
            caller,
            retry_safe: true,
            deadline: template.deadline,
            timeout: None,
            in_trans: false,
            retries: 0,
            internal: true,
            txn: template.txn,
            ends_txn: false,
            may_have_run: false,
        }
    }

    fn fail(self, e: Error) {
        let mut e = match self.cmd.sql() {
            Some(sql) if e.query().is_none() => e.with_query(sql),
            _ => e,
        };
        if self.may_have_run {
            e = e.with_may_have_executed(true);
        }
        self.caller.answer(Err(e));
    }
}

/// A command written to the server whose reply is awaited.
#[derive(Debug)]
struct InFlight<C> {
    pending: Pending<C>,
    decoder: ReplyDecoder,
    /// Its run-time bound, once it is the reply being read.
    run_until: Option<Instant>,
    /// Its run-time bound passed; the statement is being killed.
    timed_out: bool,
    /// Commands may be written behind it before its reply is read.
    pipelinable: bool,
    /// The sequence id of its reply's first packet.
    reply_seq: u8,
    /// A statement of it finished (a complete result, an OK) or it sent a local file: a
    /// temporary error after that does not prove that nothing ran.
    answered: bool,
}

#[derive(Debug)]
enum ReplyDecoder {
    /// COM_QUERY and COM_STMT_EXECUTE: result sets and OKs.
    Results {
        decoder: TextResultDecoder,
        results: Vec<QueryResult>,
        current: Option<(Arc<[Column]>, Vec<Row>)>,
        /// Set when a local file requested by the server could not be sent.
        infile_error: Option<Error>,
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
    fn results(decoder: TextResultDecoder) -> Self {
        ReplyDecoder::Results {
            decoder,
            results: Vec::new(),
            current: None,
            infile_error: None,
        }
    }
}

/// What to do after a packet.
enum Next {
    Continue,
    /// The connection is broken.
    Fail(Error),
    /// The server answered with a temporary error before anything ran: reconnect and send
    /// the command again.
    Retry(Error),
}

/// How far [`Engine::on_input`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// Every complete packet was handled: read more.
    NeedMore,
    /// The streaming caller has no room for a row: read on when it has.
    Blocked,
    /// The packet budget was used up: yield, then go on.
    Budget,
    /// The connection is gone (failed or closed).
    Closed,
}

/// What a connection is doing, for health checks.
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

/// Counters of a connection.
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
    /// tables, user variables; needs `session_track_state_change=ON`) could not be restored,
    /// or a tracked variable the new session refused.
    pub session_state_lost: u64,
    /// Commands written while the reply to an earlier one was still awaited
    /// ([`Opts::with_pipeline_depth`](crate::Opts::with_pipeline_depth)).
    pub pipelined: u64,
}

/// The state machine of one connection; `C` is who waits for each command's answer.
#[derive(Debug)]
pub(crate) struct Engine<C> {
    opts: Arc<Opts>,
    phase: Phase,
    queue: VecDeque<Pending<C>>,
    /// The earliest deadline in `queue` (or earlier).
    queue_until: Option<Instant>,
    /// Commands written, in order; the first one's reply is being read.
    in_flight: VecDeque<InFlight<C>>,
    rx: BytesMut,
    tx: BytesMut,
    scratch: BytesMut,
    actions: VecDeque<Action>,
    /// The database in use: the one from the options, or the last `select_db`.
    current_db: Option<String>,
    session: TrackedSession,
    stmts: StmtCache,
    /// Statements to close on the server before the next command.
    stmts_to_close: Vec<u32>,
    /// The transaction that owns the connection now.
    active_txn: Option<u64>,
    /// The owning transaction's last statement was its successful COMMIT or ROLLBACK (or it
    /// sent none): the session is known to be out of it.
    txn_ended: bool,
    /// A transaction opened with raw SQL was lost while idle: the next statement fails.
    raw_txn_lost: bool,
    /// Transactions lost with their connection: their further commands fail at once.
    aborted_txns: HashSet<u64>,
    /// `Close` was received: refuse new commands, close once the queue is drained.
    closing: Option<Vec<C>>,
    /// A connection failed since the last successful connect.
    failed_before: bool,
    /// A reply was completed since the driver last asked.
    reply_done: bool,
    /// Replies completed so far.
    replies: u64,
    stats: ConnectionStats,
}

impl<C: Caller> Engine<C> {
    /// An engine for these options; nothing is connected until the first command.
    pub(crate) fn new(opts: Arc<Opts>) -> Self {
        let current_db = opts.db().map(str::to_owned);
        Engine {
            opts,
            phase: Phase::Closed,
            queue: VecDeque::new(),
            queue_until: None,
            in_flight: VecDeque::new(),
            rx: BytesMut::new(),
            tx: BytesMut::new(),
            scratch: BytesMut::with_capacity(256),
            actions: VecDeque::new(),
            current_db,
            session: TrackedSession::default(),
            stmts: StmtCache::default(),
            stmts_to_close: Vec::new(),
            active_txn: None,
            txn_ended: true,
            raw_txn_lost: false,
            aborted_txns: HashSet::new(),
            closing: None,
            failed_before: false,
            reply_done: false,
            replies: 0,
            stats: ConnectionStats::default(),
        }
    }

    // ------------------------------------------------------------------ observation

    pub(crate) fn opts(&self) -> &Arc<Opts> {
        &self.opts
    }

    pub(crate) fn state(&self) -> ConnectionState {
        match &self.phase {
            Phase::Open(_) if !self.in_flight.is_empty() || !self.queue.is_empty() => {
                ConnectionState::Busy
            }
            Phase::Open(_) => ConnectionState::Idle,
            Phase::Connecting { .. } => ConnectionState::Connecting,
            Phase::Backoff { attempt, .. } => ConnectionState::Backoff {
                attempt: attempt + 1,
            },
            Phase::Closed => ConnectionState::Closed,
        }
    }

    pub(crate) fn stats(&self) -> ConnectionStats {
        self.stats
    }

    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The open connection's facts.
    /// The open connection's facts and the session's escaping rules.
    pub(crate) fn info(&self) -> Option<(&ConnInfo, &Escaping)> {
        match &self.phase {
            Phase::Open(open) => Some((&open.info, &open.escaping)),
            _ => None,
        }
    }

    /// Nothing is queued or awaited.
    pub(crate) fn is_drained(&self) -> bool {
        self.queue.is_empty() && self.in_flight.is_empty()
    }

    /// A reply was completed since the last call.
    pub(crate) fn take_reply_done(&mut self) -> bool {
        std::mem::take(&mut self.reply_done)
    }

    /// Replies completed so far.
    pub(crate) fn replies(&self) -> u64 {
        self.replies
    }

    /// Actions wait for the driver.
    pub(crate) fn has_actions(&self) -> bool {
        !self.actions.is_empty()
    }

    /// The driver was restarted: what it was doing for the engine (a connect, a kill) is
    /// gone. A connect is asked for again; a kill is given up with its connection.
    pub(crate) fn on_driver_restart(&mut self) {
        let connect_asked = self
            .actions
            .iter()
            .any(|a| matches!(a, Action::Connect { .. }));
        match &self.phase {
            Phase::Connecting { .. } if !connect_asked => self.phase = Phase::Closed,
            Phase::Open(_) => {
                let e = Error::new(ErrorKind::Io).with_detail("the connection actor restarted");
                self.fail_connection(e, false);
                self.actions.retain(|a| !matches!(a, Action::Fail));
            }
            _ => {}
        }
        self.actions.retain(|a| !matches!(a, Action::Kill { .. }));
    }

    /// A reply is awaited.
    pub(crate) fn awaits_reply(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// The caller whose rows are being read, when it streams them.
    pub(crate) fn streaming_caller(&mut self) -> Option<&mut C> {
        self.in_flight
            .front_mut()
            .map(|inf| &mut inf.pending.caller)
            .filter(|c| c.is_stream())
    }

    /// Bytes received from the server and not yet handled: the driver reads into it, then
    /// calls [`Engine::on_input`].
    pub(crate) fn read_buf(&mut self) -> &mut BytesMut {
        &mut self.rx
    }

    /// Bytes to write to the server: the driver writes them and removes what it wrote.
    pub(crate) fn transmit(&mut self) -> &mut BytesMut {
        &mut self.tx
    }

    /// The next action for the driver.
    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next time [`Engine::on_timeout`] must be called.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let mut next = self.queue_until;
        let mut at = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        match &self.phase {
            Phase::Backoff { until, .. } => at(Some(*until)),
            Phase::Open(open) => {
                at(open.idle_until);
                match open.kill {
                    Kill::Running { until } | Kill::Sent { until } => at(Some(until)),
                    Kill::None => {}
                }
                at(self.in_flight.front().and_then(|i| i.run_until));
            }
            _ => {}
        }
        next
    }

    fn in_transaction(&self) -> bool {
        match &self.phase {
            Phase::Open(open) => open.info.status & SERVER_STATUS_IN_TRANS != 0,
            _ => false,
        }
    }

    // ------------------------------------------------------------------ commands

    /// Queues a command, or answers it at once when it is refused.
    pub(crate) fn submit(&mut self, cmd: Command, o: CmdOpts, caller: C, now: Instant) {
        if let Err(e) = self.admit(&cmd, &o) {
            caller.answer(Err(e));
            return;
        }
        let until = deadline(now, self.opts.queue_timeout());
        if self.queue_until.is_none_or(|t| until < t) {
            self.queue_until = Some(until);
        }
        let in_trans = self.in_transaction() && self.active_txn.is_none();
        self.queue.push_back(Pending {
            cmd,
            caller,
            retry_safe: o.retry_safe && o.txn.is_none(),
            deadline: until,
            timeout: o.timeout.or(self.opts.query_timeout()),
            in_trans,
            retries: 0,
            internal: false,
            txn: o.txn,
            ends_txn: o.ends_txn,
            may_have_run: false,
        });
    }

    /// Whether a new command may be queued.
    fn admit(&self, cmd: &Command, o: &CmdOpts) -> Result<()> {
        if let Some(t) = o.txn {
            if self.aborted_txns.contains(&t) && !matches!(cmd, Command::Release(_)) {
                return Err(Error::transaction_aborted(false)
                    .with_detail("the connection was lost earlier in this transaction"));
            }
        }
        // After `Close`, only what lets the open transaction end is taken.
        let of_open_txn =
            o.txn.is_some() && (o.txn == self.active_txn || matches!(cmd, Command::Release(_)));
        if self.closing.is_some() && !of_open_txn {
            return Err(Error::closed());
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

    /// Closes the connection once everything queued is done; `caller` is answered then.
    /// Commands submitted afterwards are refused (except those of an open transaction).
    pub(crate) fn close(&mut self, caller: Option<C>) {
        let waiters = self.closing.get_or_insert_with(Vec::new);
        waiters.extend(caller);
    }

    // ------------------------------------------------------------------ connecting

    /// The connection asked for by [`Action::Connect`] is open.
    pub(crate) fn on_connected(&mut self, info: ConnInfo, now: Instant) {
        self.stats.connects += 1;
        let attempts = match self.phase {
            Phase::Connecting { attempt } => attempt + 1,
            _ => 1,
        };
        if !info.rejected.is_empty() {
            self.stats.session_state_lost += 1;
            for variable in &info.rejected {
                tracing::warn!(variable = %variable, "the new session refused a tracked variable; it is no longer restored");
                self.session.forget(variable);
            }
        }
        if self.failed_before {
            self.stats.reconnects += 1;
            if std::mem::take(&mut self.session.untracked_change) {
                self.stats.session_state_lost += 1;
                tracing::warn!(
                    "reconnected: temporary tables, user variables and locks of the previous \
                     session are gone"
                );
            }
            tracing::info!(
                connection_id = info.connection_id,
                attempts,
                queued = self.queue.len(),
                "reconnected"
            );
        } else {
            tracing::debug!(connection_id = info.connection_id, "connected");
        }
        self.failed_before = false;
        let codec = PacketCodec::new(self.opts.max_allowed_packet());
        self.rx.clear();
        self.tx.clear();
        let mut info = info;
        let escaping = std::mem::take(&mut info.escaping);
        self.phase = Phase::Open(Open {
            info,
            codec,
            kill: Kill::None,
            idle_until: None,
            escaping,
        });
        self.advance(now);
    }

    /// The connect attempt asked for by [`Action::Connect`] failed. `jitter` in `0.5..=1.0`
    /// scales the backoff delay.
    pub(crate) fn on_connect_failed(&mut self, e: Error, now: Instant, jitter: f64) {
        self.stats.connect_failures += 1;
        let attempt = match self.phase {
            Phase::Connecting { attempt } => attempt + 1,
            _ => 1,
        };
        let policy = self.opts.reconnect_policy();
        let temporary = match e.kind() {
            ErrorKind::Io | ErrorKind::Timeout | ErrorKind::ConnectionLost => true,
            ErrorKind::Server => e
                .as_server_error()
                .is_some_and(|s| self.opts.is_temporary_server_error(s.code, &s.message)),
            _ => false,
        };
        if temporary && attempt < policy.max_attempts && !self.queue.is_empty() {
            let delay = policy.delay(attempt, jitter);
            tracing::warn!(attempt, ?delay, error = %e, "connect failed, retrying");
            self.failed_before = true;
            self.phase = Phase::Backoff {
                attempt,
                until: deadline(now, delay),
            };
            return;
        }
        let err = if temporary {
            Error::timeout(format!("no connection after {attempt} attempts")).with_source(e)
        } else {
            e
        };
        tracing::warn!(error = %err, queued = self.queue.len(), "connect failed");
        self.phase = Phase::Closed;
        if let Some(t) = self.active_txn.take() {
            // Its statements fail with the queue; the rest of it must not run on a later
            // connection as if they had not.
            self.aborted_txns.insert(t);
        }
        for p in std::mem::take(&mut self.queue) {
            self.fail_queued(p, err.clone());
        }
        self.queue_until = None;
        self.settle_idle_close();
    }

    // ------------------------------------------------------------------ time

    /// Handles every deadline that has passed by `now`.
    pub(crate) fn on_timeout(&mut self, now: Instant) {
        if self.queue_until.is_some_and(|t| t <= now) {
            self.expire_queued(now);
        }
        let bound = self.kill_bound();
        let head_due = self
            .in_flight
            .front()
            .and_then(|i| i.run_until)
            .is_some_and(|t| t <= now);
        match &mut self.phase {
            Phase::Backoff { until, attempt } if *until <= now => {
                let attempt = *attempt;
                self.phase = Phase::Connecting { attempt };
                self.actions.push_back(Action::Connect {
                    db: self.current_db.clone(),
                    replay: self.session.replay(),
                });
            }
            Phase::Open(open) if open.idle_until.is_some_and(|t| t <= now) => {
                open.idle_until = None;
                self.stats.idle_closes += 1;
                self.quit("idle connection closed");
                return;
            }
            Phase::Open(Open {
                kill: Kill::Running { until } | Kill::Sent { until },
                ..
            }) if *until <= now => {
                // The statement could not be stopped in time: give the connection up.
                let e = Error::timeout(
                    "the statement ran past its time bound and could not be stopped",
                );
                self.fail_connection(e, false);
                return;
            }
            Phase::Open(open) if head_due => {
                let connection_id = open.info.connection_id;
                open.kill = Kill::Running {
                    until: deadline(now, bound),
                };
                if let Some(head) = self.in_flight.front_mut() {
                    head.run_until = None;
                    head.timed_out = true;
                }
                tracing::info!(connection_id, "statement timed out, killing it");
                self.actions.push_back(Action::Kill {
                    connection_id,
                    bound,
                });
            }
            _ => {}
        }
        self.advance(now);
    }

    /// How long a timed-out statement's kill, and then its reply, may take.
    fn kill_bound(&self) -> Duration {
        self.opts.connect_timeout()
    }

    /// Fails queued commands whose deadline passed.
    fn expire_queued(&mut self, now: Instant) {
        let mut next: Option<Instant> = None;
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for p in std::mem::take(&mut self.queue) {
            if matches!(p.cmd, Command::Release(_)) {
                // A release never expires: it frees the connection once its transaction's
                // statements before it are done (and it has no deadline to wake up for).
                kept.push_back(p);
            } else if p.deadline <= now {
                self.stats.timeouts += 1;
                let e = Error::timeout(format!(
                    "waited longer than queue_timeout ({:?}) for the connection",
                    self.opts.queue_timeout()
                ));
                self.fail_queued(p, e);
            } else {
                next = Some(next.map_or(p.deadline, |n| n.min(p.deadline)));
                kept.push_back(p);
            }
        }
        self.queue = kept;
        self.queue_until = next;
        self.settle_idle_close();
    }

    /// Fails a queued command; a local one (a transaction's release, a statement's close) is
    /// carried out instead, so that what it frees is never left held.
    fn fail_queued(&mut self, p: Pending<C>, e: Error) {
        match p.cmd {
            Command::Release(_) | Command::CloseStmt(_) => {
                let _ = self.take_local(p);
            }
            _ => p.fail(e),
        }
    }

    /// With nothing left to send, a pending reconnect is pointless: the next command starts
    /// afresh instead of inheriting a backoff armed for commands that are gone.
    fn settle_idle_close(&mut self) {
        if self.queue.is_empty() {
            if let Phase::Backoff { .. } = self.phase {
                self.phase = Phase::Closed;
            }
        }
    }

    /// The statement killed on `connection_id` (see [`Action::Kill`]): `result` is the kill's.
    pub(crate) fn on_kill_done(&mut self, connection_id: u32, result: Result<()>, now: Instant) {
        let Phase::Open(open) = &mut self.phase else {
            return;
        };
        if open.info.connection_id != connection_id {
            return;
        }
        let Kill::Running { until } = open.kill else {
            return;
        };
        let timed_out = self.in_flight.front().is_some_and(|i| i.timed_out);
        match result {
            Ok(()) if timed_out => open.kill = Kill::Sent { until },
            Ok(()) => open.kill = Kill::None,
            Err(e) => {
                // The statement cannot be stopped, and a `KILL QUERY` already sent could still
                // land on the next statement: give the connection up instead.
                tracing::warn!(error = %e, "KILL QUERY failed");
                open.kill = Kill::None;
                self.fail_connection(e, false);
                return;
            }
        }
        self.advance(now);
    }

    // ------------------------------------------------------------------ connection loss

    /// The server closed the connection.
    pub(crate) fn on_eof(&mut self) {
        if !matches!(self.phase, Phase::Open(_)) {
            return;
        }
        if self.in_flight.is_empty() {
            self.drop_idle_connection("server closed the connection");
        } else {
            self.fail_connection(
                Error::new(ErrorKind::Io).with_detail("the server closed the connection"),
                false,
            );
        }
    }

    /// Reading or writing the connection failed.
    pub(crate) fn on_io_error(&mut self, e: Error) {
        if matches!(self.phase, Phase::Open(_)) {
            self.fail_connection(e, false);
        }
    }

    /// The connection broke. The commands written on it have an unknown outcome: each fails,
    /// or is queued again when that is safe (`requeue`: the server answered the first with a
    /// temporary error, so it did not run; or it was declared retry-safe). Inside a
    /// transaction nothing is sent again: the transaction's commands fail as aborted.
    fn fail_connection(&mut self, err: Error, requeue: bool) {
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
        if raw_trans {
            // The next statement must not run in autocommit as if the transaction held.
            self.raw_txn_lost = true;
        }
        self.phase = Phase::Closed;
        self.actions.push_back(Action::Fail);
        self.forget_statements();
        self.failed_before = true;
        self.rx.clear();
        self.tx.clear();
        let max_attempts = self.opts.reconnect_policy().max_attempts;
        let mut resend = Vec::new();
        for (i, inf) in std::mem::take(&mut self.in_flight).into_iter().enumerate() {
            // Only the first can have been answered with the temporary error; the others
            // were sent and may have run.
            let requeue = requeue && i == 0;
            let in_txn = raw_trans || inf.pending.txn.is_some();
            let mut p = inf.pending;
            let retry = !in_txn
                && !inf.timed_out
                && (p.retry_safe || requeue)
                && p.retries < max_attempts
                && p.caller.reset();
            if retry {
                p.retries += 1;
                // Only the server's temporary error proves it did not run.
                p.may_have_run |= !requeue;
                self.stats.redelivered += 1;
                resend.push(p);
                continue;
            }
            let ends_txn = p.ends_txn || (raw_trans && is_commit(&p.cmd));
            let mut e = if ends_txn {
                Error::connection_lost(true).with_detail(
                    "the COMMIT was sent but its reply was lost: the transaction may or may not have been committed",
                )
            } else if inf.timed_out {
                self.stats.timeouts += 1;
                Error::timeout(format!(
                    "the statement ran longer than its time bound ({:?}) and the connection was given up",
                    p.timeout.unwrap_or_default()
                ))
                .with_may_have_executed(true)
            } else if in_txn {
                Error::transaction_aborted(!requeue)
            } else if requeue {
                // A temporary error answered it, but it was sent again too often.
                err.clone()
            } else {
                Error::connection_lost(true)
            };
            if !requeue {
                e = e.with_source(err.clone());
            }
            p.fail(e);
        }
        // Sent again first, in their order.
        for p in resend.into_iter().rev() {
            self.queue.push_front(p);
            let d = self.queue[0].deadline;
            if self.queue_until.is_none_or(|t| d < t) {
                self.queue_until = Some(d);
            }
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
    }

    /// The connection ended with nothing in flight (the server closed it, or it is idle). A
    /// transaction that was open is gone: its next statements must not run on a new
    /// connection as if nothing happened.
    fn lose_idle_transaction(&mut self) {
        let raw_trans = self.in_transaction() && self.active_txn.is_none();
        if let Some(t) = self.active_txn.take() {
            self.aborted_txns.insert(t);
            self.abort_queued(|p| p.txn == Some(t) && !matches!(p.cmd, Command::Release(_)));
        } else if raw_trans {
            self.raw_txn_lost = true;
        }
    }

    /// Closes a connection that the server closed while nothing was in flight (nothing
    /// failed: the next connection is not counted as a reconnect).
    fn drop_idle_connection(&mut self, why: &str) {
        self.forget_statements();
        self.lose_idle_transaction();
        if let Phase::Open(open) = &self.phase {
            tracing::info!(
                connection_id = open.info.connection_id,
                why,
                "connection closed"
            );
        }
        self.phase = Phase::Closed;
        self.rx.clear();
        self.tx.clear();
        self.actions.push_back(Action::Drop);
    }

    /// Says `COM_QUIT` and drops the connection (nothing is in flight).
    fn quit(&mut self, why: &'static str) {
        self.lose_idle_transaction();
        self.quit_session(why);
    }

    /// Says `COM_QUIT` and drops the connection, with whatever session state it had.
    fn quit_session(&mut self, why: &'static str) {
        self.forget_statements();
        if let Phase::Open(open) = &mut self.phase {
            self.scratch.clear();
            command::com_quit(&mut self.scratch);
            open.codec.reset_seq();
            let _ = open.codec.encode(&self.scratch[..], &mut self.tx);
            tracing::info!(connection_id = open.info.connection_id, why);
            self.phase = Phase::Closed;
            self.rx.clear();
            self.actions.push_back(Action::Disconnect);
        }
    }

    /// Fails the queued commands of a lost transaction (those `lost` selects) as aborted; they
    /// never run on a new connection.
    fn abort_queued(&mut self, lost: impl Fn(&Pending<C>) -> bool) {
        if !self.queue.iter().any(&lost) {
            return;
        }
        let (aborted, kept): (VecDeque<_>, VecDeque<_>) = self.queue.drain(..).partition(lost);
        self.queue = kept;
        for p in aborted {
            p.fail(Error::transaction_aborted(false));
        }
    }

    /// Forgets the prepared statements: the server dropped them with its session.
    fn forget_statements(&mut self) {
        self.stmts.clear();
        self.stmts_to_close.clear();
    }

    // ------------------------------------------------------------------ writing

    /// Does what can be done now: connect when commands wait and no connection is open, write
    /// the commands that may be written, close when drained and asked to, arm the idle timer.
    pub(crate) fn advance(&mut self, now: Instant) {
        loop {
            if self.is_drained() && self.closing.is_some() {
                self.finish_close();
            }
            match &self.phase {
                Phase::Closed => {
                    self.answer_local_while_closed();
                    if self.has_sendable() {
                        self.phase = Phase::Connecting { attempt: 0 };
                        self.actions.push_back(Action::Connect {
                            db: self.current_db.clone(),
                            replay: self.session.replay(),
                        });
                    }
                    return;
                }
                Phase::Backoff { .. } | Phase::Connecting { .. } => return,
                Phase::Open(_) => {}
            }
            if !(self.has_sendable() && self.may_write()) {
                break;
            }
            if let Err(e) = self.send_next(now) {
                self.fail_connection(e, false);
                return;
            }
        }
        self.arm_idle(now);
    }

    /// Local commands (claims, releases, statement closes) need no connection: answer them
    /// while none is open, so that nothing waits on a connect for them.
    fn answer_local_while_closed(&mut self) {
        while self
            .queue
            .front()
            .is_some_and(|p| p.cmd.is_local() && self.active_txn.is_none_or(|t| p.txn == Some(t)))
        {
            if let Some(p) = self.queue.pop_front() {
                self.take_local(p);
            }
        }
    }

    /// Answers the `Close` waiters and says `COM_QUIT` (everything queued is done).
    fn finish_close(&mut self) {
        if matches!(self.phase, Phase::Open(_)) {
            self.quit("connection closed");
        } else {
            self.lose_idle_transaction();
        }
        for c in self.closing.iter_mut().flat_map(std::mem::take) {
            c.answer(Ok(Reply::Ok(OkPacket::default())));
        }
    }

    fn arm_idle(&mut self, now: Instant) {
        let idle = self.is_drained() && self.active_txn.is_none() && !self.in_transaction();
        let timeout = self.opts.idle_timeout();
        if let Phase::Open(open) = &mut self.phase {
            match (idle, timeout) {
                (true, Some(t)) => {
                    if open.idle_until.is_none() {
                        open.idle_until = Some(deadline(now, t));
                    }
                }
                _ => open.idle_until = None,
            }
        }
    }

    /// A queued command may be sent now (one of the owning transaction's while one does).
    fn has_sendable(&self) -> bool {
        match self.active_txn {
            None => !self.queue.is_empty(),
            Some(t) => self.queue.iter().any(|p| p.txn == Some(t)),
        }
    }

    /// Whether the next command may be written now: nothing is awaited, or pipelining allows
    /// writing behind what is.
    fn may_write(&self) -> bool {
        let Phase::Open(open) = &self.phase else {
            return false;
        };
        if matches!(open.kill, Kill::Running { .. }) {
            return false;
        }
        let Some(head) = self.in_flight.front() else {
            return true;
        };
        if !head.pipelinable
            || self.in_flight.len() >= self.opts.pipeline_depth()
            || head.timed_out
            || self.active_txn.is_some()
            || self.in_transaction()
            || self.in_flight.iter().any(|p| !p.pipelinable)
        {
            return false;
        }
        self.queue.front().is_some_and(|p| self.pipelinable(p))
    }

    /// Whether `p` may be written while other commands await their replies, and others
    /// written behind it.
    fn pipelinable(&self, p: &Pending<C>) -> bool {
        if self.opts.pipeline_depth() < 2
            || p.caller.is_stream()
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
            // for the file. A raw BEGIN (or SET, USE, ...) decides how what follows runs.
            Command::Query(_) => !self.opts.local_infile_enabled() && !changes_session(&p.cmd),
            Command::Ping => true,
            Command::Exec(sql, params) => {
                self.stmts.contains(sql) && !params.iter().any(is_long_data)
            }
            _ => false,
        }
    }

    /// The next command to send: the oldest one, or while a transaction owns the connection,
    /// the oldest one of that transaction.
    fn next_pending(&mut self) -> Option<Pending<C>> {
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
    fn take_local(&mut self, pending: Pending<C>) -> Option<Pending<C>> {
        let ok = || Ok(Reply::Ok(OkPacket::default()));
        match pending.cmd {
            Command::Claim(t) => {
                if pending.caller.is_closed() {
                    // Whoever began the transaction is gone: nobody would ever release it.
                    return None;
                }
                self.active_txn = Some(t);
                self.txn_ended = true;
                pending.caller.answer(ok());
                None
            }
            Command::CloseStmt(ref sql) => {
                if let Some(id) = self.stmts.remove(sql) {
                    self.stmts_to_close.push(id);
                }
                pending.caller.answer(ok());
                None
            }
            Command::Release(t) => {
                if self.active_txn == Some(t) {
                    self.active_txn = None;
                    if self.in_transaction() || !self.txn_ended {
                        // Its COMMIT or ROLLBACK did not end it for sure (it timed out, or
                        // failed): the server's transaction must not be handed to the next
                        // caller. Closing the session rolls it back.
                        self.quit_session("a transaction may be left open on the connection");
                    }
                }
                self.aborted_txns.remove(&t);
                pending.caller.answer(ok());
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
                        .caller
                        .answer(Err(Error::usage("the transaction has already ended")));
                    None
                }
                _ => Some(pending),
            },
        }
    }

    /// Writes one command into `tx` as a new exchange.
    fn write_command(open: &mut Open, tx: &mut BytesMut, payload: &[u8]) {
        open.codec.reset_seq();
        // Encoding into a buffer cannot fail.
        let _ = open.codec.encode(payload, tx);
    }

    /// Takes the next command and writes it. Local commands are handled without I/O;
    /// commands whose caller gave up are skipped.
    fn send_next(&mut self, now: Instant) -> Result<()> {
        let Some(pending) = self.next_pending() else {
            return Ok(());
        };
        let Some(pending) = self.take_local(pending) else {
            return Ok(());
        };
        if pending.caller.is_closed() && !pending.internal && pending.txn.is_none() {
            // The caller gave up before the command was sent. (A transaction's statements are
            // sent all the same: skipping its ROLLBACK TO SAVEPOINT, or its end, would leave
            // the transaction in another state than its statements say.)
            return Ok(());
        }
        let Phase::Open(open) = &mut self.phase else {
            self.queue.push_front(pending);
            return Ok(());
        };
        // The sequence id the reply being read expects next (writing resets it).
        let reading_seq = open.codec.seq();
        let caps = open.info.capabilities;
        // Statements evicted from the cache: COM_STMT_CLOSE has no reply. (Evictions follow a
        // prepare, which nothing is pipelined with: nothing is in flight here.)
        for id in self.stmts_to_close.drain(..) {
            self.scratch.clear();
            statement::com_stmt_close(&mut self.scratch, id);
            Self::write_command(open, &mut self.tx, &self.scratch);
        }
        self.scratch.clear();
        let refuse = |pending: Pending<C>, e: Error| pending.fail(e);
        let decoder = match &pending.cmd {
            Command::Query(sql) => {
                command::com_query(&mut self.scratch, sql);
                ReplyDecoder::results(open.info.results_decoder(false, None))
            }
            Command::QueryWith(sql, params) => {
                let strings = params
                    .iter()
                    .any(|v| matches!(v, Value::Bytes(_) | Value::Json(_)));
                let ctx = match open.escaping.need(strings) {
                    Need::Known(ctx) => ctx,
                    Need::Read => {
                        // Find out under which rules the server will read it, then send it.
                        let read =
                            Pending::internal(Command::ReadEscaping, &pending, C::detached());
                        self.queue.push_front(pending);
                        self.queue.push_front(read);
                        return self.send_next(now);
                    }
                    Need::Unknown => {
                        refuse(
                            pending,
                            Error::usage(
                                "cannot bind the parameters: the session's character set is \
                                 not known; use a prepared statement (prepare/exec) instead",
                            ),
                        );
                        return Ok(());
                    }
                };
                match interpolate(sql, params, &ctx) {
                    Ok(full) => {
                        command::com_query(&mut self.scratch, &full);
                        ReplyDecoder::results(open.info.results_decoder(false, None))
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
                            Self::write_command(open, &mut self.tx, &data);
                        }
                        ReplyDecoder::results(
                            open.info.results_decoder(true, Some(st.columns.clone())),
                        )
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
            Command::ReadEscaping => {
                command::com_query(&mut self.scratch, READ_ESCAPING);
                ReplyDecoder::results(open.info.results_decoder(false, None))
            }
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
                    pending.caller.answer(Ok(Reply::Ok(OkPacket::default())));
                    return Ok(());
                }
            },
            Command::Claim(_) | Command::Release(_) | Command::CloseStmt(_) => return Ok(()),
        };
        Self::write_command(open, &mut self.tx, &self.scratch);
        open.escaping.on_write(&pending.cmd);
        let reply_seq = open.codec.seq();
        if pending.txn.is_some() && pending.txn == self.active_txn {
            self.txn_ended = false;
        }
        let pipelinable = self.pipelinable(&pending);
        let Phase::Open(open) = &mut self.phase else {
            return Ok(());
        };
        let mut inf = InFlight {
            run_until: None,
            pending,
            decoder,
            timed_out: false,
            pipelinable,
            reply_seq,
            answered: false,
        };
        if self.in_flight.is_empty() {
            inf.run_until = inf.pending.timeout.map(|t| deadline(now, t));
        } else {
            // Written behind the reply being read: that reply goes on where it was.
            open.codec.set_seq(reading_seq);
            self.stats.pipelined += 1;
        }
        self.in_flight.push_back(inf);
        Ok(())
    }

    // ------------------------------------------------------------------ reading

    /// Handles the complete packets in [`Engine::read_buf`], at most `budget` of them.
    pub(crate) fn on_input(&mut self, now: Instant, budget: usize) -> Input {
        for _ in 0..budget {
            let Phase::Open(open) = &mut self.phase else {
                return Input::Closed;
            };
            if let Some(head) = self.in_flight.front_mut() {
                if head.pending.caller.is_stream() && !head.pending.caller.is_ready() {
                    return Input::Blocked;
                }
            }
            let payload = match open.codec.decode(&mut self.rx) {
                Ok(Some(p)) => p,
                Ok(None) => return Input::NeedMore,
                Err(CodecError::Io(e)) => {
                    self.fail_connection(e.into(), false);
                    return Input::Closed;
                }
                Err(CodecError::Protocol(e)) => {
                    self.fail_connection(e.into(), false);
                    return Input::Closed;
                }
            };
            match self.on_packet(payload, now) {
                Next::Continue => {}
                Next::Fail(e) => {
                    self.fail_connection(e, false);
                    return Input::Closed;
                }
                Next::Retry(e) => {
                    self.fail_connection(e, true);
                    return Input::Closed;
                }
            }
        }
        Input::Budget
    }

    /// Handles one packet of the reply being read.
    fn on_packet(&mut self, payload: Bytes, now: Instant) -> Next {
        let Phase::Open(open) = &mut self.phase else {
            return Next::Continue;
        };
        let capabilities = open.info.capabilities;
        let Some(inf) = self.in_flight.front_mut() else {
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
        match &mut inf.decoder {
            ReplyDecoder::Simple => {
                let result = if response::is_err(&payload) {
                    match ErrPacket::parse(&payload, capabilities) {
                        Ok(err) => {
                            if !inf.answered
                                && self.opts.is_temporary_server_error(err.code, &err.message)
                            {
                                return Next::Retry(Error::server(err));
                            }
                            Err(Error::server(err))
                        }
                        Err(e) => return Next::Fail(e.into()),
                    }
                } else if response::is_ok(&payload) {
                    match OkPacket::parse(&payload, capabilities) {
                        Ok(ok) => {
                            open.set_status(ok.status, &inf.pending.cmd);
                            let charset = self.session.track(&ok, &mut self.current_db);
                            open.escaping.on_tracked(charset, &inf.pending.cmd);
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
                        if !inf.answered
                            && self.opts.is_temporary_server_error(err.code, &err.message)
                        {
                            return Next::Retry(Error::server(err));
                        }
                        self.finish(Err(Error::server(err)));
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
                if inf.timed_out {
                    // Its bound passed while it was being prepared: the execution is never
                    // written, and the kill on its way finds nothing of it to stop.
                    inf.timed_out = false;
                    self.stats.timeouts += 1;
                    let e = Error::timeout(format!(
                        "the statement was still being prepared when its time bound ({:?}) passed; it was not executed",
                        inf.pending.timeout.unwrap_or_default()
                    ));
                    self.finish(Err(e));
                    return Next::Continue;
                }
                self.scratch.clear();
                match encode_exec(&mut self.scratch, prepared.statement_id, values, params) {
                    Ok(long_data) => {
                        for data in long_data {
                            Self::write_command(open, &mut self.tx, &data);
                        }
                        Self::write_command(open, &mut self.tx, &self.scratch);
                        let decoder = open
                            .info
                            .results_decoder(true, Some(prepared.columns.clone()));
                        inf.decoder = ReplyDecoder::results(decoder);
                        // The execution is the reply now awaited, and its bound starts now.
                        inf.run_until = inf.pending.timeout.map(|t| deadline(now, t));
                        Next::Continue
                    }
                    Err(e) => {
                        self.finish(Err(
                            Error::usage("wrong number of parameters").with_source(e)
                        ));
                        Next::Continue
                    }
                }
            }
            ReplyDecoder::Results {
                decoder,
                results,
                current,
                infile_error,
            } => {
                let event = match decoder.feed(payload) {
                    Ok(ev) => ev,
                    Err(e) => return Next::Fail(e.into()),
                };
                match event {
                    None => {}
                    Some(QueryEvent::Ok(ok)) => {
                        open.set_status(ok.status, &inf.pending.cmd);
                        let charset = self.session.track(&ok, &mut self.current_db);
                        open.escaping.on_tracked(charset, &inf.pending.cmd);
                        results.push(QueryResult::Exec(ok.into()));
                        inf.answered = true;
                    }
                    Some(QueryEvent::Columns(cols)) => {
                        if let Command::Exec(sql, _) = &inf.pending.cmd {
                            // New definitions of a statement's first result: remembered for
                            // executions that come without them.
                            if first_result_set(results) {
                                self.stmts.update_columns(sql, &cols);
                            }
                        }
                        *current = Some((cols, Vec::new()));
                    }
                    Some(QueryEvent::Row(values)) => match current {
                        Some((cols, rows)) => {
                            let row = Row::new(cols.clone(), values);
                            let first = first_result_set(results);
                            if let Some(row) = inf.pending.caller.row(row, first) {
                                rows.push(row);
                            }
                        }
                        None => {
                            return Next::Fail(
                                ProtocolError::Unexpected("row before column definitions").into(),
                            )
                        }
                    },
                    Some(QueryEvent::ResultSetEnd { status, warnings }) => {
                        open.set_status(status, &inf.pending.cmd);
                        inf.answered = true;
                        if let Some((columns, rows)) = current.take() {
                            results.push(QueryResult::Rows {
                                columns,
                                rows,
                                warning_count: warnings,
                            });
                        }
                    }
                    Some(QueryEvent::Err(err)) => {
                        // Sent again only when the reply proves nothing ran: nothing came
                        // before the error (a later statement of a multi-statement failing
                        // proves nothing about the earlier ones), and it is not a `CALL`
                        // (whose inner statements send nothing until they end).
                        let retry = !inf.answered && !is_call(&inf.pending.cmd);
                        if retry && self.opts.is_temporary_server_error(err.code, &err.message) {
                            return Next::Retry(Error::server(err));
                        }
                        self.finish(Err(Error::server(err)));
                        return Next::Continue;
                    }
                    Some(QueryEvent::LocalInfile(name)) => {
                        let name = String::from_utf8_lossy(&name).into_owned();
                        // The file's bytes, then an empty packet; an empty packet alone tells
                        // the server there is no file.
                        let opts = &self.opts;
                        let asked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            opts.local_infile(&name)
                        }));
                        let data = match asked {
                            Err(panic) => {
                                *infile_error = Some(Error::user_panic(
                                    "the local infile handler",
                                    panic.as_ref(),
                                ));
                                Vec::new()
                            }
                            Ok(Some(Ok(data))) => data,
                            Ok(Some(Err(e))) => {
                                *infile_error = Some(
                                    Error::usage(format!(
                                        "the local infile handler refused {name:?}"
                                    ))
                                    .with_source(e),
                                );
                                Vec::new()
                            }
                            Ok(None) => {
                                *infile_error = Some(Error::usage(
                                    "the server asked for a local file (LOAD DATA LOCAL INFILE), which is disabled",
                                ));
                                Vec::new()
                            }
                        };
                        inf.answered = true;
                        // The file goes on in the same exchange: the sequence id continues.
                        if !data.is_empty() {
                            let _ = open.codec.encode(&data[..], &mut self.tx);
                        }
                        let _ = open.codec.encode(&[][..], &mut self.tx);
                    }
                    #[allow(unreachable_patterns)]
                    Some(_) => {}
                }
                if decoder.is_done() {
                    let results = std::mem::take(results);
                    let result = match infile_error.take() {
                        Some(e) => Err(e),
                        None => Ok(Reply::Results(results)),
                    };
                    self.finish(result);
                }
                Next::Continue
            }
        }
    }

    /// The reply being read is complete: answer its caller.
    fn finish(&mut self, result: Result<Reply>) {
        let Some(inf) = self.in_flight.pop_front() else {
            return;
        };
        self.reply_done = true;
        self.replies += 1;
        if let Phase::Open(open) = &mut self.phase {
            if inf.timed_out {
                if let Kill::Sent { .. } = open.kill {
                    open.kill = Kill::None;
                }
                // While the kill is still on its way nothing is written: it would stop the
                // next statement instead.
            }
            match self.in_flight.front_mut() {
                Some(next) => {
                    // The next reply is that of the command written behind this one.
                    open.codec.set_seq(next.reply_seq);
                    if let (Command::Exec(sql, _), ReplyDecoder::Results { decoder, .. }) =
                        (&next.pending.cmd, &mut next.decoder)
                    {
                        // Written before the reply just read, which may have brought new
                        // column definitions of its statement: its own reply may leave them
                        // out.
                        if let Some(e) = self.stmts.peek(sql) {
                            decoder.set_cached_columns(e.columns.clone());
                        }
                    }
                }
                // Unsolicited packets (e.g. MySQL's 4031 before it closes an idle connection)
                // start a new exchange.
                None => open.codec.reset_seq(),
            }
        }
        let result = if inf.timed_out {
            // Killed or not, it was running: whatever it did may have stayed done (a killed
            // SLEEP even answers like one that ran to its end).
            self.stats.timeouts += 1;
            let mut e = Error::timeout(format!(
                "the statement ran longer than its time bound ({:?}) and was killed",
                inf.pending.timeout.unwrap_or_default()
            ))
            .with_may_have_executed(true);
            if let Err(server) = result {
                e = e.with_source(server);
            }
            Err(e)
        } else {
            result
        };
        let p = &inf.pending;
        if result.is_ok()
            && p.txn.is_some()
            && p.txn == self.active_txn
            && (p.ends_txn || is_rollback(&p.cmd))
        {
            self.txn_ended = true;
        }
        if let (Command::ReadEscaping, Phase::Open(open)) = (&p.cmd, &mut self.phase) {
            let row = match &result {
                Ok(Reply::Results(results)) => results.iter().find_map(|r| match r {
                    QueryResult::Rows { rows, .. } => rows.first(),
                    _ => None,
                }),
                _ => None,
            };
            open.escaping.learn(row);
        }
        match result {
            Ok(reply) => inf.pending.caller.answer(Ok(reply)),
            Err(e) => inf.pending.fail(e),
        }
    }

    /// `COM_RESET_CONNECTION` succeeded: the server dropped the session state. Forget what was
    /// tracked and put back what the options ask for (database, init statements) before any
    /// other command; the caller is answered when the last of these is done.
    fn restore_after_reset(&mut self) {
        self.session = TrackedSession::default();
        if let Phase::Open(open) = &mut self.phase {
            // The reset put the handshake's character set and the global sql_mode back, and
            // the init statements run again: read the rules before interpolating.
            open.escaping.forget();
        }
        // The reset deallocated every prepared statement.
        self.forget_statements();
        let Some(inf) = self.in_flight.pop_front() else {
            return;
        };
        self.reply_done = true;
        self.replies += 1;
        if let Phase::Open(open) = &mut self.phase {
            open.codec.reset_seq();
        }
        let mut steps: Vec<Command> = Vec::new();
        if let Some(db) = self.opts.db() {
            if self.current_db.as_deref() != Some(db) {
                steps.push(Command::InitDb(db.to_string()));
            }
        }
        steps.extend(self.opts.init_sql().iter().cloned().map(Command::Query));
        let template = inf.pending;
        let Some(last) = steps.pop() else {
            template.caller.answer(Ok(Reply::Ok(OkPacket::default())));
            return;
        };
        let mut restore: Vec<Pending<C>> = steps
            .into_iter()
            .map(|cmd| Pending::internal(cmd, &template, C::detached()))
            .collect();
        // The caller is answered with the last step.
        let last = Pending::internal(last, &template, C::detached());
        restore.push(Pending {
            caller: template.caller,
            ..last
        });
        for p in restore.into_iter().rev() {
            self.queue.push_front(p);
        }
    }
}

/// Whether the result set being read is the reply's first (no earlier one has ended).
fn first_result_set(results: &[QueryResult]) -> bool {
    !results
        .iter()
        .any(|r| matches!(r, QueryResult::Rows { .. }))
}
