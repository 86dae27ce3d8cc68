//! Row streams with backpressure.
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use std::future::Future;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};
use crate::row::Row;

/// The rows of a query, as they arrive: made by
/// [`Client::query_stream`](crate::Client::query_stream).
///
/// Rows pass through a bounded channel: while the consumer is behind, the connection stops
/// reading from the server, so memory stays bounded whatever the size of the result. A stream
/// ends with all its rows, or with an error as its last item (from the server, a lost
/// connection, or a connection that went away): it never ends early without one.
///
/// # Cancel safety
///
/// Dropping the stream before its end is safe: the connection reads and discards the rest of
/// the result, and the next command runs normally.
///
/// ```no_run
/// # async fn demo(client: actix_mysql::Client) -> Result<(), actix_mysql::Error> {
/// use futures_util::StreamExt;
///
/// let mut rows = client.query_stream("SELECT id FROM big_table").await?;
/// while let Some(row) = rows.next().await {
///     let id: u64 = row?.get(0);
///     # let _ = id;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RowStream {
    rx: mpsc::Receiver<Result<Row>>,
    /// How the stream ended; `None` once that was told.
    end: Option<oneshot::Receiver<Result<()>>>,
}

impl RowStream {
    pub(crate) fn new(rx: mpsc::Receiver<Result<Row>>, end: oneshot::Receiver<Result<()>>) -> Self {
        RowStream { rx, end: Some(end) }
    }

    /// The error of a stream refused before its query was queued (nothing was sent).
    pub(crate) fn take_refusal(&mut self) -> Option<Error> {
        let end = self.end.as_mut()?;
        match end.try_recv() {
            Ok(Err(e)) => {
                self.end = None;
                Some(e)
            }
            _ => None,
        }
    }
}

impl Stream for RowStream {
    type Item = Result<Row>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(item) = std::task::ready!(this.rx.poll_recv(cx)) {
            return Poll::Ready(Some(item));
        }
        // Every row was taken: the outcome says whether that was all of them.
        let Some(end) = this.end.as_mut() else {
            return Poll::Ready(None);
        };
        let outcome = std::task::ready!(Pin::new(end).poll(cx));
        this.end = None;
        match outcome {
            Ok(Ok(())) => Poll::Ready(None),
            Ok(Err(e)) => Poll::Ready(Some(Err(e))),
            // The connection went away without an answer.
            Err(_) => Poll::Ready(Some(Err(
                Error::closed().with_detail("the connection ended before the stream was complete")
            ))),
        }
    }
}
