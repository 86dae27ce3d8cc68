//! The command model: what a caller asked a connection to do, and how.
//!
//! Nothing here does I/O; the [engine](super::engine) turns commands into packets.
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;

use crate::protocol::statement;
use crate::protocol::value::Value;

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
    /// The engine's own: reads the session's escaping rules
    /// ([`READ_ESCAPING`](super::escaping::READ_ESCAPING)).
    ReadEscaping,
    Ping,
    ResetConnection,
    /// Local, no I/O: from now on only this transaction's commands are sent.
    Claim(u64),
    /// Local, no I/O: the transaction ended; everyone's commands are sent again.
    Release(u64),
}

impl Command {
    /// The SQL text, for commands that carry one.
    pub(crate) fn sql(&self) -> Option<&str> {
        match self {
            Command::Query(sql) | Command::QueryWith(sql, _) | Command::Prepare(sql) => Some(sql),
            Command::Exec(sql, _) => Some(sql),
            _ => None,
        }
    }

    /// Answered by the engine itself, with no I/O.
    pub(crate) fn is_local(&self) -> bool {
        matches!(
            self,
            Command::Claim(_) | Command::Release(_) | Command::CloseStmt(_)
        )
    }
}

/// How a command is to be handled, besides what it is.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CmdOpts {
    pub(crate) retry_safe: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) txn: Option<u64>,
    pub(crate) ends_txn: bool,
}

impl CmdOpts {
    /// A command of transaction `txn`.
    pub(crate) fn in_txn(txn: u64) -> Self {
        CmdOpts {
            txn: Some(txn),
            ..CmdOpts::default()
        }
    }
}

/// `sql` without the comments and white space it starts with.
fn skip_leading_comments(mut sql: &str) -> &str {
    loop {
        sql = sql.trim_start();
        if let Some(rest) = sql.strip_prefix("/*") {
            if rest.starts_with('!') || rest.starts_with("M!") {
                // An executable comment is SQL the server runs.
                return sql;
            }
            sql = rest.find("*/").map_or("", |end| &rest[end + 2..]);
        } else if sql.starts_with('#') || sql.starts_with("-- ") || sql == "--" {
            sql = sql.find('\n').map_or("", |end| &sql[end + 1..]);
        } else {
            return sql;
        }
    }
}

/// The leading keywords of a statement, upper-cased: at most `n` words, leading comments and
/// a final `;` left out.
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    skip_leading_comments(sql)
        .trim()
        .trim_end_matches(';')
        .split_ascii_whitespace()
        .take(n + 1)
        .map(str::to_ascii_uppercase)
        .collect()
}

/// A plain `ROLLBACK` (or `ROLLBACK WORK`) in raw SQL; not `ROLLBACK TO SAVEPOINT`.
pub(crate) fn is_rollback(cmd: &Command) -> bool {
    let Command::Query(sql) = cmd else {
        return false;
    };
    let words = leading_words(sql, 2);
    matches!(
        words
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["ROLLBACK"] | ["ROLLBACK", "WORK"]
    )
}

/// A raw-SQL `COMMIT` (`COMMIT`, `COMMIT WORK`, with `AND [NO] CHAIN` or `[NO] RELEASE`): if
/// its reply is lost, the transaction may have been committed.
pub(crate) fn is_commit(cmd: &Command) -> bool {
    let sql = match cmd {
        Command::Query(sql) | Command::QueryWith(sql, _) => sql,
        _ => return false,
    };
    leading_words(sql, 1).first().is_some_and(|w| w == "COMMIT")
}

/// A raw-SQL statement whose effect on the session decides how the statements after it run:
/// it opens a transaction (`BEGIN`, `START TRANSACTION`, `XA`), changes session settings
/// (`SET`, `USE`) or takes locks (`LOCK`). Nothing is written behind it before its reply.
pub(crate) fn changes_session(cmd: &Command) -> bool {
    let sql = match cmd {
        Command::Query(sql) | Command::QueryWith(sql, _) => sql,
        _ => return false,
    };
    leading_words(sql, 0).first().is_some_and(|w| {
        matches!(
            w.as_str(),
            "BEGIN" | "START" | "XA" | "SET" | "USE" | "LOCK" | "UNLOCK"
        )
    })
}

/// Raw SQL whose settings hold for itself only (MariaDB's `SET STATEMENT ... FOR`, MySQL's
/// `SET_VAR` hint): the status flags of its reply (`NO_BACKSLASH_ESCAPES`) describe that one
/// statement, not the session.
pub(crate) fn overrides_for_itself(cmd: &Command) -> bool {
    let sql = match cmd {
        Command::Query(sql) | Command::QueryWith(sql, _) => sql,
        _ => return false,
    };
    let words = leading_words(sql, 1);
    let set_statement = matches!(
        words
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["SET", "STATEMENT", ..]
    );
    set_statement || (sql.contains("/*+") && sql.to_ascii_uppercase().contains("SET_VAR"))
}

/// A stored procedure call.
pub(crate) fn is_call(cmd: &Command) -> bool {
    let sql: &str = match cmd {
        Command::Query(sql) | Command::QueryWith(sql, _) => sql,
        Command::Exec(sql, _) => sql,
        _ => return false,
    };
    leading_words(sql, 0).first().is_some_and(|w| w == "CALL")
}

/// Parameters larger than this go as `COM_STMT_SEND_LONG_DATA` before the execute.
pub(crate) const LONG_DATA_THRESHOLD: usize = 8 * 1024 * 1024;
/// Size of each long data chunk.
const LONG_DATA_CHUNK: usize = 4 * 1024 * 1024;

/// A parameter sent as `COM_STMT_SEND_LONG_DATA` before the execute.
pub(crate) fn is_long_data(v: &Value) -> bool {
    matches!(v, Value::Bytes(b) | Value::Json(b) if b.len() > LONG_DATA_THRESHOLD)
}

/// Encodes `COM_STMT_EXECUTE` into `execute` and returns the long data chunks (for large byte
/// parameters) to send before it, each a command of its own.
pub(crate) fn encode_exec(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_recognise_a_plain_rollback_only() {
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

    #[test]
    fn should_recognise_statements_that_change_the_session() {
        for sql in [
            "BEGIN",
            "start transaction",
            "SET autocommit = 0",
            "USE db",
            "XA START 'x'",
        ] {
            assert!(changes_session(&Command::Query(sql.into())), "{sql:?}");
        }
        for sql in ["SELECT 1", "INSERT INTO t VALUES (1)", "COMMIT", ""] {
            assert!(!changes_session(&Command::Query(sql.into())), "{sql:?}");
        }
    }

    #[test]
    fn should_recognise_settings_for_one_statement_only() {
        for sql in [
            "SET STATEMENT sql_mode='NO_BACKSLASH_ESCAPES' FOR SELECT 1",
            "select /*+ SET_VAR(sql_mode='') */ 1",
        ] {
            assert!(overrides_for_itself(&Command::Query(sql.into())), "{sql:?}");
        }
        for sql in ["SET sql_mode = ''", "SELECT 1", "SELECT /*+ BKA(t) */ 1"] {
            assert!(
                !overrides_for_itself(&Command::Query(sql.into())),
                "{sql:?}"
            );
        }
    }

    #[test]
    fn should_recognise_a_raw_commit() {
        for sql in [
            "COMMIT",
            "commit;",
            " Commit Work",
            "COMMIT AND NO CHAIN",
            "/* app */ COMMIT",
            "-- note\nCOMMIT",
        ] {
            assert!(is_commit(&Command::Query(sql.into())), "{sql:?}");
        }
        for sql in ["SELECT 'COMMIT'", "ROLLBACK", "COMMITTED", ""] {
            assert!(!is_commit(&Command::Query(sql.into())), "{sql:?}");
        }
    }
}
