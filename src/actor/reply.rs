//! What the engine hands back to a caller: the decoded [`Reply`], through the [`Caller`] it
//! was given with the command.
//!
//! The engine knows callers only by this trait: the actor's callers answer over channels
//! ([`super::channel`]), the simulation's record what they were told.
use crate::error::Result;
use crate::protocol::response::OkPacket;
use crate::row::{ExecResult, QueryResult, Row};
use crate::statement::Statement;

/// The decoded reply to a command.
#[derive(Debug)]
pub(crate) enum Reply {
    Results(Vec<QueryResult>),
    Ok(OkPacket),
    Prepared(Statement),
}

impl Reply {
    pub(crate) fn into_results(self) -> Vec<QueryResult> {
        match self {
            Reply::Results(r) => r,
            Reply::Ok(ok) => vec![QueryResult::Exec(ok.into())],
            Reply::Prepared(_) => Vec::new(),
        }
    }
}

/// The one who waits for a command's answer.
pub(crate) trait Caller {
    /// A caller nobody listens to, for the engine's own commands.
    fn detached() -> Self;
    /// The answer: the last thing a caller is told.
    fn answer(self, result: Result<Reply>);
    /// The caller gave up (it dropped its future or its stream).
    fn is_closed(&self) -> bool;
    /// Rows go to the caller as they arrive, with backpressure: see [`Caller::is_ready`].
    fn is_stream(&self) -> bool {
        false
    }
    /// A streaming caller has room for the next row (the engine reads on only then).
    fn is_ready(&mut self) -> bool {
        true
    }
    /// A decoded row (`first`: of the reply's first result set). The row comes back when the
    /// engine is to keep it for the answer.
    fn row(&mut self, row: Row, first: bool) -> Option<Row>;
    /// The command is to be sent again: forget the rows taken from the failed attempt. False
    /// when that cannot be done (a stream already handed rows to its consumer).
    fn reset(&mut self) -> bool;
}

/// The rows of the first result set.
pub(crate) fn first_rows(results: Vec<QueryResult>) -> Vec<Row> {
    results
        .into_iter()
        .find_map(|r| match r {
            QueryResult::Rows { rows, .. } => Some(rows),
            _ => None,
        })
        .unwrap_or_default()
}

/// The outcome of the last statement without rows (for a `CALL`, its final OK).
pub(crate) fn last_exec(results: Vec<QueryResult>) -> ExecResult {
    results
        .into_iter()
        .rev()
        .find_map(|r| match r {
            QueryResult::Exec(e) => Some(e),
            _ => None,
        })
        .unwrap_or_default()
}
