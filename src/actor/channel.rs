//! The actor's callers: each command's answer goes straight to its caller's own channel, in
//! the shape the caller asked for, with no task in between.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Context, Poll};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::PollSender;

use super::reply::{first_rows, last_exec, Caller, Reply};
use crate::error::{Error, Result};
use crate::from_row::FromRow;
use crate::protocol::ProtocolError;
use crate::row::{ExecResult, QueryResult, Row};
use crate::statement::Statement;

/// Where the reply to a command goes.
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
    /// Rows go to a [`RowStream`](crate::RowStream) as they arrive.
    Stream(StreamTx),
    /// Nobody listens (the engine's own commands).
    Detached,
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

/// Collects rows converted with [`FromRow`]; the first conversion error (or panic) is the
/// answer.
struct CollectAs<T> {
    rows: Vec<T>,
    error: Option<Error>,
    tx: oneshot::Sender<Result<Vec<T>>>,
}

impl<T: FromRow + Send + 'static> RowSink for CollectAs<T> {
    fn row(&mut self, row: Row) {
        if self.error.is_some() {
            return;
        }
        // The conversion is the caller's code: a panic in it is the caller's, not the
        // connection's.
        match catch_unwind(AssertUnwindSafe(|| T::from_row(row))) {
            Ok(Ok(v)) => self.rows.push(v),
            Ok(Err(e)) => self.error = Some(e),
            Err(panic) => self.error = Some(Error::user_panic("FromRow", panic.as_ref())),
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

/// The sending side of a row stream: rows through a bounded channel, then the outcome.
#[derive(Debug)]
pub(crate) struct StreamTx {
    rows: PollSender<Result<Row>>,
    /// A slot for the next row is reserved.
    reserved: bool,
    /// Rows were handed to the consumer: the command cannot be sent again.
    sent_rows: bool,
    /// How the stream ended; the stream yields an error from here after its last row.
    end: oneshot::Sender<Result<()>>,
}

impl StreamTx {
    /// A stream of `capacity` rows at most in flight to the consumer.
    pub(crate) fn new(capacity: usize) -> (Self, crate::stream::RowStream) {
        let (rows_tx, rows_rx) = mpsc::channel(capacity);
        let (end_tx, end_rx) = oneshot::channel();
        let tx = StreamTx {
            rows: PollSender::new(rows_tx),
            reserved: false,
            sent_rows: false,
            end: end_tx,
        };
        (tx, crate::stream::RowStream::new(rows_rx, end_rx))
    }

    /// Reserves a slot for the next row; ready at once when the consumer is gone (its rows
    /// are then read and dropped).
    pub(crate) fn poll_reserve(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.reserved || self.rows.is_closed() {
            return Poll::Ready(());
        }
        match self.rows.poll_reserve(cx) {
            Poll::Ready(Ok(())) => {
                self.reserved = true;
                Poll::Ready(())
            }
            Poll::Ready(Err(_)) => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Caller for ReplyTx {
    fn detached() -> Self {
        ReplyTx::Detached
    }

    fn answer(self, result: Result<Reply>) {
        // A caller that gave up has dropped its receiver: nothing to tell.
        let _ = match self {
            ReplyTx::Rows(tx) => tx
                .send(result.map(|r| first_rows(r.into_results())))
                .map_err(drop),
            ReplyTx::Results(tx) => tx.send(result.map(Reply::into_results)).map_err(drop),
            ReplyTx::Exec(tx) => tx
                .send(result.map(|r| last_exec(r.into_results())))
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
            ReplyTx::Stream(s) => s.end.send(result.map(drop)).map_err(drop),
            ReplyTx::Detached => Ok(()),
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
            ReplyTx::Stream(s) => {
                s.end.is_closed() && s.rows.get_ref().is_none_or(|rows| rows.is_closed())
            }
            ReplyTx::Detached => false,
        }
    }

    fn is_stream(&self) -> bool {
        matches!(self, ReplyTx::Stream(_))
    }

    fn is_ready(&mut self) -> bool {
        match self {
            ReplyTx::Stream(s) => s.reserved || s.rows.is_closed(),
            _ => true,
        }
    }

    fn row(&mut self, row: Row, first: bool) -> Option<Row> {
        match self {
            ReplyTx::Typed(sink) => {
                if first {
                    sink.row(row);
                }
                None
            }
            ReplyTx::Stream(s) => {
                // The first result set only, as for every caller of rows.
                if first && std::mem::take(&mut s.reserved) && s.rows.send_item(Ok(row)).is_ok() {
                    s.sent_rows = true;
                }
                None
            }
            _ => Some(row),
        }
    }

    fn reset(&mut self) -> bool {
        match self {
            ReplyTx::Typed(sink) => {
                sink.reset();
                true
            }
            ReplyTx::Stream(s) => !s.sent_rows,
            _ => true,
        }
    }
}

/// The reply on `rx`; a dropped sender means the actor is gone. A panic of the caller's own
/// code inside the connection panics here again.
pub(crate) async fn answer<T>(rx: oneshot::Receiver<Result<T>>) -> Result<T> {
    match rx.await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.resume_user_panic()),
        Err(_) => Err(Error::closed()),
    }
}
