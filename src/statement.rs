//! Prepared statements: [`Statement`] handles.
use std::sync::Arc;

use crate::protocol::resultset::Column;

/// A prepared statement (a "stored query"): made with [`Client::prepare`](crate::Client::prepare),
/// run with [`Client::exec`](crate::Client::exec).
///
/// The handle names the statement by its SQL. Each connection keeps its own cache of prepared
/// statements (LRU, `stmt_cache_size`): a statement evicted from it, or lost with its
/// connection, is prepared again transparently on the next `exec`.
///
/// ```no_run
/// # async fn demo(client: actix_mysql::Client) -> Result<(), actix_mysql::Error> {
/// use actix_mysql::params;
///
/// let stmt = client.prepare("SELECT name FROM users WHERE id = ?").await?;
/// assert_eq!(stmt.param_count(), 1);
/// let rows = client.exec(&stmt, params![42]).await?;
/// # let _ = rows;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub(crate) sql: Arc<str>,
    pub(crate) params: usize,
    pub(crate) columns: Arc<[Column]>,
}

impl Statement {
    /// The SQL text.
    pub fn sql(&self) -> &str {
        &self.sql
    }
    /// Number of `?` parameters.
    pub fn param_count(&self) -> usize {
        self.params
    }
    /// The columns of its result set (empty for statements without rows).
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }
}
