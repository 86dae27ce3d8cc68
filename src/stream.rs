//! Row streams with backpressure.
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::row::Row;

/// The rows of a query, as they arrive: made by
/// [`Client::query_stream`](crate::Client::query_stream).
///
/// Rows pass through a bounded channel: while the consumer is behind, the connection stops
/// reading from the server, so memory stays bounded whatever the size of the result. An error
/// (from the server, or a lost connection) is the last item.
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
}

impl RowStream {
    pub(crate) fn new(rx: mpsc::Receiver<Result<Row>>) -> Self {
        RowStream { rx }
    }
}

impl Stream for RowStream {
    type Item = Result<Row>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
