//! The connection actor: moves bytes and timers between a socket and the
//! [engine](super::engine), which decides everything else.
//!
//! Messages are handed to the engine as they arrive. An I/O driver (an [`ActorFuture`]
//! spawned in the actor's context) writes what the engine has to send, reads what the server
//! sends into the engine, arms one timer at the engine's next deadline, and carries out the
//! engine's actions (connect, kill a statement, drop the connection). Because the actor owns
//! the socket and the engine owns the decoder, a caller that drops its future never leaves
//! the connection out of step: the rest of its reply is still read.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Instant;

use actix::fut::ActorFuture;
use actix::prelude::*;
use bytes::Buf;
use tokio::io::AsyncWrite;
use tokio::sync::oneshot;
use tokio::time::Sleep;

use super::channel::{answer, ReplyTx, StreamTx};
use super::command::{CmdOpts, Command};
use super::connect::{connect, kill_query};
use super::engine::{Action, Engine, Input};
use super::messages::*;
use super::transport::Transport;
use crate::error::{Error, Result};
use crate::opts::Opts;
use crate::row::{ExecResult, QueryResult, Row};
use crate::statement::Statement;
use crate::stream::RowStream;

/// The time for the engine, from the runtime's clock (the one its timers run on).
fn clock() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Packets handled in one turn of the driver before it yields to the actor's mailbox.
const PACKET_BUDGET: usize = 512;

/// Free room kept in the read buffer before each read.
const READ_RESERVE: usize = 8 * 1024;

/// The connection actor. Create it through [`Client`](crate::Client), which starts it under an
/// [`actix::Supervisor`].
pub struct Connection {
    engine: Engine<ReplyTx>,
    io: Option<Transport>,
    /// Fires at the engine's next deadline (`timer_at`).
    timer: Option<Pin<Box<Sleep>>>,
    timer_at: Option<Instant>,
    waker: Option<Waker>,
    /// No handle is left: the engine was told to close once drained.
    orphaned: bool,
    /// The transport holds written bytes it has not flushed (TLS).
    unflushed: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("state", &self.engine.state())
            .field("queued", &self.engine.queued())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection actor for these options; nothing is connected until the first message.
    pub fn new(opts: Opts) -> Self {
        Connection {
            engine: Engine::new(Arc::new(opts)),
            io: None,
            timer: None,
            timer_at: None,
            waker: None,
            orphaned: false,
            unflushed: false,
        }
    }

    /// Queues a command for a message handler, answering through a future.
    fn respond<T: 'static>(
        &mut self,
        (cmd, o): (Command, CmdOpts),
        reply_to: fn(oneshot::Sender<Result<T>>) -> ReplyTx,
    ) -> ResponseFuture<Result<T>> {
        let (tx, rx) = oneshot::channel();
        self.engine.submit(cmd, o, reply_to(tx), clock());
        Box::pin(answer(rx))
    }

    fn wake(&self) {
        if let Some(w) = &self.waker {
            w.wake_by_ref();
        }
    }

    /// Carries out the engine's actions; false when the actor stops (a failed connection:
    /// the supervisor restarts it, and the engine reconnects for what is queued).
    fn run_actions(&mut self, ctx: &mut Context<Self>, task: &mut std::task::Context<'_>) -> bool {
        while let Some(action) = self.engine.poll_action() {
            match action {
                Action::Connect { db, replay } => {
                    let opts = self.engine.opts().clone();
                    let fut = async move { connect(&opts, db.as_deref(), &replay).await };
                    ctx.spawn(fut.into_actor(self).map(|res, act, _ctx| {
                        let now = clock();
                        match res {
                            Ok(live) => {
                                act.io = Some(live.transport);
                                act.unflushed = false;
                                act.engine.read_buf().extend_from_slice(&live.read_buf);
                                act.engine.on_connected(live.info, now);
                            }
                            Err(e) => {
                                let jitter = 0.5 + rand::random::<f64>() / 2.0;
                                act.engine.on_connect_failed(e, now, jitter);
                            }
                        }
                        act.wake();
                    }));
                }
                Action::Kill {
                    connection_id,
                    bound,
                } => {
                    let opts = self.engine.opts().clone();
                    let fut = async move {
                        match tokio::time::timeout(bound, kill_query(&opts, connection_id)).await {
                            Ok(res) => res,
                            Err(_) => Err(Error::timeout(format!(
                                "KILL QUERY did not finish within {bound:?}"
                            ))),
                        }
                    };
                    ctx.spawn(fut.into_actor(self).map(move |res, act, _ctx| {
                        act.engine.on_kill_done(connection_id, res, clock());
                        act.wake();
                    }));
                }
                Action::Disconnect => {
                    // COM_QUIT, as far as the socket takes it now.
                    if let Some(mut io) = self.io.take() {
                        let tx = self.engine.transmit();
                        if let Poll::Ready(Ok(n)) = Pin::new(&mut io).poll_write(task, tx) {
                            tx.advance(n);
                            let _ = Pin::new(&mut io).poll_flush(task);
                        }
                    }
                    self.engine.transmit().clear();
                }
                Action::Drop => self.io = None,
                Action::Fail => {
                    self.io = None;
                    self.unflushed = false;
                    ctx.stop();
                    return false;
                }
            }
        }
        true
    }

    /// Writes what the engine has to send; an error goes to the engine. False when the
    /// socket takes no more for now (it wakes the driver when it does).
    fn write(&mut self, task: &mut std::task::Context<'_>) -> bool {
        let Some(io) = self.io.as_mut() else {
            return true;
        };
        let tx = self.engine.transmit();
        if tx.is_empty() && !self.unflushed {
            return true;
        }
        while !tx.is_empty() {
            match Pin::new(&mut *io).poll_write(task, tx) {
                Poll::Ready(Ok(0)) => {
                    self.engine.on_io_error(Error::from(std::io::Error::from(
                        std::io::ErrorKind::WriteZero,
                    )));
                    return true;
                }
                Poll::Ready(Ok(n)) => tx.advance(n),
                Poll::Ready(Err(e)) => {
                    self.engine.on_io_error(e.into());
                    return true;
                }
                Poll::Pending => return false,
            }
        }
        self.unflushed = false;
        match Pin::new(&mut *io).poll_flush(task) {
            Poll::Ready(Ok(())) => true,
            Poll::Ready(Err(e)) => {
                self.engine.on_io_error(e.into());
                true
            }
            Poll::Pending => {
                self.unflushed = true;
                false
            }
        }
    }

    /// Arms the timer at the engine's next deadline; true when it has passed.
    fn poll_timer(&mut self, task: &mut std::task::Context<'_>) -> bool {
        let next = self.engine.poll_timeout();
        if next != self.timer_at {
            self.timer_at = next;
            match next {
                None => self.timer = None,
                Some(t) => {
                    let t = tokio::time::Instant::from_std(t);
                    match self.timer.as_mut() {
                        Some(timer) => timer.as_mut().reset(t),
                        None => self.timer = Some(Box::pin(tokio::time::sleep_until(t))),
                    }
                }
            }
        }
        self.timer
            .as_mut()
            .is_some_and(|t| t.as_mut().poll(task).is_ready())
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
        let mut budget = PACKET_BUDGET;
        loop {
            let now = clock();
            if !self.orphaned && !ctx.connected() {
                // No handle is left: nobody can send again. Finish what is queued, then stop.
                self.orphaned = true;
                self.engine.close(None);
            }
            self.engine.advance(now);
            if !self.run_actions(ctx, task) {
                return Poll::Ready(());
            }
            let writable = self.write(task);
            if !self.run_actions(ctx, task) {
                return Poll::Ready(());
            }
            if self.orphaned && self.io.is_none() && self.engine.is_drained() {
                ctx.stop();
                return Poll::Ready(());
            }
            if self.poll_timer(task) {
                self.engine.on_timeout(clock());
                continue;
            }
            let Some(io) = self.io.as_mut() else {
                return Poll::Pending;
            };
            if self.engine.take_reply_done()
                && !self.engine.awaits_reply()
                && self.engine.read_buf().is_empty()
            {
                // Polled again at once; by then the caller may have queued its next command,
                // and the socket is read after that command is written. An idle connection
                // still watches the socket from the next turn on.
                task.waker().wake_by_ref();
                return Poll::Pending;
            }
            // A streamed result is read only when its consumer has room for a row.
            if let Some(ReplyTx::Stream(s)) = self.engine.streaming_caller() {
                if s.poll_reserve(task).is_pending() {
                    return Poll::Pending;
                }
            }
            let replies = self.engine.replies();
            match self.engine.on_input(now, budget) {
                Input::NeedMore => {}
                Input::Blocked | Input::Closed => continue,
                Input::Budget => {
                    task.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
            if self.engine.replies() != replies
                || (writable && !self.engine.transmit().is_empty())
                || self.engine.has_actions()
            {
                // Something finished or is to be written: do that before reading on.
                budget = budget.saturating_sub(1).max(1);
                continue;
            }
            let buf = self.engine.read_buf();
            if buf.capacity() - buf.len() < READ_RESERVE / 2 {
                buf.reserve(READ_RESERVE);
            }
            match tokio_util::io::poll_read_buf(Pin::new(io), task, buf) {
                Poll::Ready(Ok(0)) => self.engine.on_eof(),
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => self.engine.on_io_error(e.into()),
                Poll::Pending => return Poll::Pending,
            }
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
    submit(addr, (cmd, opts), reply_to(tx));
    answer(rx).await
}

/// Queues a command without waiting. Queued even when the mailbox is over capacity, like
/// every command: the connection's own queue bound (`max_queue`) applies. A stopped actor
/// drops the message, and with it the caller's sender.
pub(crate) fn submit(addr: &Addr<Connection>, (cmd, opts): (Command, CmdOpts), tx: ReplyTx) {
    addr.do_send(Submit { cmd, opts, tx });
}

/// The message behind [`call`] and [`submit`].
pub(crate) struct Submit {
    pub(crate) cmd: Command,
    pub(crate) opts: CmdOpts,
    pub(crate) tx: ReplyTx,
}

impl Message for Submit {
    type Result = ();
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
        tracing::debug!(queued = self.engine.queued(), "connection actor restarting");
        self.io = None;
        self.unflushed = false;
        self.waker = None;
        self.timer = None;
        self.timer_at = None;
        // Work the stopped context was doing for the engine (a connect, a kill) is gone.
        self.engine.on_driver_restart();
    }
}

impl Handler<Submit> for Connection {
    type Result = ();

    fn handle(&mut self, msg: Submit, _ctx: &mut Self::Context) {
        // No wake-up: handlers run in the actor's mailbox turn, and the driver is polled
        // right after it in the same turn.
        self.engine.submit(msg.cmd, msg.opts, msg.tx, clock());
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
        let (tx, mut stream) = StreamTx::new(msg.capacity);
        let cmd = match msg.params {
            Some(params) => Command::QueryWith(msg.sql, params),
            None => Command::Query(msg.sql),
        };
        let o = CmdOpts {
            txn: msg.txn,
            ..CmdOpts::default()
        };
        self.engine.submit(cmd, o, ReplyTx::Stream(tx), clock());
        // A refusal (queue full, closed) is the answer itself, not the stream's first item.
        let refused = stream.take_refusal();
        Box::pin(async move {
            match refused {
                Some(e) => Err(e),
                None => Ok(stream),
            }
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
        self.engine.close(Some(ReplyTx::Unit(tx)));
        Box::pin(answer(rx))
    }
}

impl Handler<GetState> for Connection {
    type Result = MessageResult<GetState>;

    fn handle(&mut self, _msg: GetState, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult((
            self.engine.state(),
            self.engine.stats(),
            self.engine.queued(),
        ))
    }
}

impl Handler<GetInfo> for Connection {
    type Result = Option<ConnectionInfo>;

    fn handle(&mut self, _msg: GetInfo, _ctx: &mut Self::Context) -> Self::Result {
        let (info, escaping) = self.engine.info()?;
        Some(ConnectionInfo {
            connection_id: info.connection_id,
            server_version: info.server_version.clone(),
            is_mariadb: info.is_mariadb,
            status: info.status,
            character_set: escaping.charset().map(str::to_string),
            no_backslash_escapes: escaping.no_backslash_escapes(),
        })
    }
}
