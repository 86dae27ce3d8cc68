//! The connection actor.
//!
//! One [`Connection`] owns one server connection. Messages are queued in arrival order in the
//! actor's own queue; an I/O driver (an [`ActorFuture`] spawned in the actor's context) writes the
//! next command when the previous reply is complete, reads and decodes the reply packets, and
//! answers the caller. Because the actor owns the socket and the decoder, a caller that drops
//! its future never leaves the connection out of step: the rest of its reply is still read.
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};

use actix::fut::ActorFuture;
use actix::prelude::*;
use bytes::{Bytes, BytesMut};
use futures_util::{Sink, Stream};
use tokio::sync::oneshot;

use super::connect::{connect, Live};
use super::messages::*;
use crate::error::{Error, ErrorKind, Result};
use crate::opts::Opts;
use crate::protocol::command;
use crate::protocol::response::{self, ErrPacket, OkPacket};
use crate::protocol::resultset::{Column, QueryEvent, TextResultDecoder};
use crate::protocol::ProtocolError;
use crate::row::{ExecResult, QueryResult, Row};

/// Packets handled in one turn of the driver before it yields to the actor's mailbox.
const PACKET_BUDGET: usize = 512;

/// A command waiting to be written.
#[derive(Debug)]
enum Command {
    Query(String),
    InitDb(String),
    Ping,
    ResetConnection,
}

impl Command {
    fn sql(&self) -> Option<&str> {
        match self {
            Command::Query(sql) => Some(sql),
            _ => None,
        }
    }

    fn encode(&self, dst: &mut BytesMut) {
        match self {
            Command::Query(sql) => command::com_query(dst, sql),
            Command::InitDb(db) => command::com_init_db(dst, db),
            Command::Ping => command::com_ping(dst),
            Command::ResetConnection => command::com_reset_connection(dst),
        }
    }
}

/// The decoded reply to a command.
#[derive(Debug)]
enum Reply {
    Results(Vec<QueryResult>),
    Ok(OkPacket),
}

type ReplyTx = oneshot::Sender<Result<Reply>>;

#[derive(Debug)]
struct Pending {
    cmd: Command,
    tx: ReplyTx,
    retry_safe: bool,
}

/// A command written to the server whose reply is being read.
#[derive(Debug)]
struct InFlight {
    pending: Pending,
    decoder: ReplyDecoder,
}

#[derive(Debug)]
enum ReplyDecoder {
    /// COM_QUERY: result sets and OKs.
    Text {
        decoder: TextResultDecoder,
        results: Vec<QueryResult>,
        current: Option<(Arc<[Column]>, Vec<Row>)>,
        /// Set when the server asked for a local file and we refused.
        infile_refused: bool,
    },
    /// Commands answered by one OK or ERR packet.
    Simple,
}

/// What the driver must do after a packet.
enum Next {
    Continue,
    /// Send this payload as the next packet of the current exchange.
    Send(Vec<u8>),
    /// The connection is broken.
    Fail(Error),
}

/// The connection actor. Create it through [`Client`](crate::Client), which starts it under an
/// [`actix::Supervisor`].
pub struct Connection {
    opts: Arc<Opts>,
    live: Option<Live>,
    connecting: bool,
    queue: VecDeque<Pending>,
    in_flight: Option<InFlight>,
    /// The database in use: the one from the options, or the last `select_db`.
    current_db: Option<String>,
    waker: Option<Waker>,
    scratch: BytesMut,
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
            current_db,
            waker: None,
            scratch: BytesMut::with_capacity(256),
        }
    }

    fn enqueue(&mut self, cmd: Command, retry_safe: bool) -> oneshot::Receiver<Result<Reply>> {
        let (tx, rx) = oneshot::channel();
        self.queue.push_back(Pending {
            cmd,
            tx,
            retry_safe,
        });
        self.wake();
        rx
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
        let fut = async move { connect(&opts, db.as_deref()).await };
        ctx.spawn(fut.into_actor(self).map(|res, act, _ctx| {
            act.connecting = false;
            match res {
                Ok(live) => {
                    tracing::debug!(connection_id = live.connection_id, "connection ready");
                    act.live = Some(live);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "connect failed");
                    for p in act.queue.drain(..) {
                        let _ = p.tx.send(Err(e.clone()));
                    }
                }
            }
            act.wake();
        }));
    }

    /// The connection broke: the command in flight has an unknown outcome. Fail it (or queue it
    /// again when it is safe to retry), then stop so the supervisor restarts the actor, which
    /// reconnects for what is still queued.
    fn fail_connection(&mut self, err: Error, ctx: &mut Context<Self>) {
        tracing::warn!(error = %err, "connection failed");
        self.live = None;
        if let Some(inf) = self.in_flight.take() {
            if inf.pending.retry_safe {
                self.queue.push_front(inf.pending);
            } else {
                let mut e = Error::connection_lost(true).with_source(err);
                if let Some(sql) = inf.pending.cmd.sql() {
                    e = e.with_query(sql);
                }
                let _ = inf.pending.tx.send(Err(e));
            }
        }
        ctx.stop();
    }

    /// Closes a connection that has nothing in flight (the server closed it, or it is idle).
    fn drop_idle_connection(&mut self, why: &str) {
        if let Some(live) = self.live.take() {
            tracing::info!(connection_id = live.connection_id, why, "connection closed");
        }
    }

    fn finish(&mut self, result: Result<Reply>) {
        if let Some(live) = self.live.as_mut() {
            // Unsolicited packets (e.g. MySQL's 4031 before it closes an idle connection) start
            // a new exchange.
            live.framed.codec_mut().reset_seq();
        }
        if let Some(inf) = self.in_flight.take() {
            let _ = inf.pending.tx.send(result);
        }
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
                        Ok(err) => Err(Error::server(err)),
                        Err(e) => return Next::Fail(e.into()),
                    }
                } else if response::is_ok(&payload) {
                    match OkPacket::parse(&payload, capabilities) {
                        Ok(ok) => {
                            live.status = ok.status;
                            if let Command::InitDb(db) = &inf.pending.cmd {
                                // Remembered, so a reconnect selects it again.
                                self.current_db = Some(db.clone());
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
            ReplyDecoder::Text {
                decoder,
                results,
                current,
                infile_refused,
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
                        results.push(QueryResult::Exec(ok.into()));
                    }
                    Some(QueryEvent::Columns(cols)) => *current = Some((cols, Vec::new())),
                    Some(QueryEvent::Row(values)) => match current {
                        Some((cols, rows)) => rows.push(Row::new(cols.clone(), values)),
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
                        let mut e = Error::server(err);
                        if let Some(sql) = sql {
                            e = e.with_query(sql);
                        }
                        self.finish(Err(e));
                        return Next::Continue;
                    }
                    Some(QueryEvent::LocalInfile(_)) => {
                        // LOAD DATA LOCAL INFILE is not enabled: answer with an empty file so
                        // the server ends the statement, and report the refusal.
                        *infile_refused = true;
                        send = Some(Vec::new());
                    }
                    #[allow(unreachable_patterns)]
                    Some(_) => {}
                }
                if decoder.is_done() {
                    let refused = *infile_refused;
                    let results = std::mem::take(results);
                    let result = if refused {
                        let mut e = Error::usage(
                            "the server asked for a local file (LOAD DATA LOCAL INFILE), which is disabled",
                        );
                        if let Some(sql) = sql {
                            e = e.with_query(sql);
                        }
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
        let mut budget = PACKET_BUDGET;
        loop {
            let Some(live) = self.live.as_mut() else {
                if !self.queue.is_empty() && !self.connecting {
                    self.start_connect(ctx);
                }
                return Poll::Pending;
            };

            // Write the next command once the previous reply is complete.
            if self.in_flight.is_none() && !self.queue.is_empty() {
                match Pin::new(&mut live.framed).poll_ready(task) {
                    Poll::Ready(Ok(())) => {
                        if let Some(pending) = self.queue.pop_front() {
                            if pending.tx.is_closed() {
                                // The caller gave up before the command was sent.
                                continue;
                            }
                            self.scratch.clear();
                            pending.cmd.encode(&mut self.scratch);
                            live.framed.codec_mut().reset_seq();
                            if let Err(e) = Pin::new(&mut live.framed).start_send(&self.scratch[..])
                            {
                                self.queue.push_front(pending);
                                self.fail_connection(e.into(), ctx);
                                return Poll::Ready(());
                            }
                            let decoder = match pending.cmd {
                                Command::Query(_) => ReplyDecoder::Text {
                                    decoder: TextResultDecoder::new(live.capabilities),
                                    results: Vec::new(),
                                    current: None,
                                    infile_refused: false,
                                },
                                _ => ReplyDecoder::Simple,
                            };
                            self.in_flight = Some(InFlight { pending, decoder });
                        }
                    }
                    Poll::Ready(Err(e)) => {
                        self.fail_connection(e.into(), ctx);
                        return Poll::Ready(());
                    }
                    Poll::Pending => {}
                }
            }

            if let Poll::Ready(Err(e)) = Pin::new(&mut live.framed).poll_flush(task) {
                self.fail_connection(e.into(), ctx);
                return Poll::Ready(());
            }

            match Pin::new(&mut live.framed).poll_next(task) {
                Poll::Ready(Some(Ok(payload))) => match self.on_packet(payload) {
                    Next::Continue => {}
                    Next::Send(data) => {
                        if let Some(live) = self.live.as_mut() {
                            if let Err(e) = Pin::new(&mut live.framed).start_send(&data[..]) {
                                self.fail_connection(e.into(), ctx);
                                return Poll::Ready(());
                            }
                        }
                    }
                    Next::Fail(e) => {
                        self.fail_connection(e, ctx);
                        return Poll::Ready(());
                    }
                },
                Poll::Ready(Some(Err(e))) => {
                    self.fail_connection(e.into(), ctx);
                    return Poll::Ready(());
                }
                Poll::Ready(None) => {
                    if self.in_flight.is_none() {
                        self.drop_idle_connection("server closed the connection");
                        continue;
                    }
                    self.fail_connection(
                        Error::new(ErrorKind::Io).with_detail("the server closed the connection"),
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
        }
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
        self.connecting = false;
        self.waker = None;
    }
}

fn reply_future<T: 'static>(
    rx: oneshot::Receiver<Result<Reply>>,
    map: impl FnOnce(Reply) -> Result<T> + 'static,
) -> ResponseFuture<Result<T>> {
    Box::pin(async move {
        match rx.await {
            Ok(Ok(reply)) => map(reply),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::closed()),
        }
    })
}

fn into_results(reply: Reply) -> Vec<QueryResult> {
    match reply {
        Reply::Results(r) => r,
        Reply::Ok(ok) => vec![QueryResult::Exec(ok.into())],
    }
}

impl Handler<Query> for Connection {
    type Result = ResponseFuture<Result<Vec<Row>>>;

    fn handle(&mut self, msg: Query, _ctx: &mut Self::Context) -> Self::Result {
        let rx = self.enqueue(Command::Query(msg.sql), msg.retry_safe);
        reply_future(rx, |reply| {
            Ok(into_results(reply)
                .into_iter()
                .find_map(|r| match r {
                    QueryResult::Rows { rows, .. } => Some(rows),
                    _ => None,
                })
                .unwrap_or_default())
        })
    }
}

impl Handler<QueryMulti> for Connection {
    type Result = ResponseFuture<Result<Vec<QueryResult>>>;

    fn handle(&mut self, msg: QueryMulti, _ctx: &mut Self::Context) -> Self::Result {
        let rx = self.enqueue(Command::Query(msg.sql), msg.retry_safe);
        reply_future(rx, |reply| Ok(into_results(reply)))
    }
}

impl Handler<Execute> for Connection {
    type Result = ResponseFuture<Result<ExecResult>>;

    fn handle(&mut self, msg: Execute, _ctx: &mut Self::Context) -> Self::Result {
        let rx = self.enqueue(Command::Query(msg.sql), msg.retry_safe);
        reply_future(rx, |reply| {
            // The outcome of the last statement without rows (for a CALL, its final OK).
            Ok(into_results(reply)
                .into_iter()
                .rev()
                .find_map(|r| match r {
                    QueryResult::Exec(e) => Some(e),
                    _ => None,
                })
                .unwrap_or_default())
        })
    }
}

impl Handler<SelectDb> for Connection {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, msg: SelectDb, _ctx: &mut Self::Context) -> Self::Result {
        let rx = self.enqueue(Command::InitDb(msg.db), true);
        reply_future(rx, |_| Ok(()))
    }
}

impl Handler<Ping> for Connection {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, _msg: Ping, _ctx: &mut Self::Context) -> Self::Result {
        let rx = self.enqueue(Command::Ping, true);
        reply_future(rx, |_| Ok(()))
    }
}

impl Handler<ResetConnection> for Connection {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, _msg: ResetConnection, _ctx: &mut Self::Context) -> Self::Result {
        let rx = self.enqueue(Command::ResetConnection, false);
        reply_future(rx, |_| Ok(()))
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
