//! [`Cursor`]: statements and their results, DB-API style.
use std::collections::VecDeque;
use std::sync::Arc;

use super::{Connection, Shared};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::protocol::constants::{column_flags, ColumnType};
use crate::protocol::resultset::Column;
use crate::row::{QueryResult, Row};

/// One column of a result set, as DB-API's `cursor.description` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ColumnDescription {
    /// The column's name (its alias in the query).
    pub name: String,
    /// The column's type as the server reports it.
    pub type_code: ColumnType,
    /// Not tracked: always `None`.
    pub display_size: Option<u32>,
    /// The column's maximum length in bytes as the server reports it.
    pub internal_size: Option<u32>,
    /// Number of digits of a numeric column (`DECIMAL(10,2)`: 10); `None` for other types.
    pub precision: Option<u32>,
    /// Digits after the decimal point of a numeric column (`DECIMAL(10,2)`: 2, integers: 0);
    /// `None` for other types and for floating point columns without a fixed scale.
    pub scale: Option<u32>,
    /// Whether the column may hold NULL.
    pub null_ok: Option<bool>,
}

impl ColumnDescription {
    /// Describes a column definition.
    pub fn from_column(c: &Column) -> Self {
        use ColumnType::*;
        /// Decimals of a FLOAT or DOUBLE declared without a scale.
        const NOT_FIXED_DEC: u8 = 31;
        let unsigned = c.flags & column_flags::UNSIGNED != 0;
        let (precision, scale) = match c.column_type {
            Decimal | NewDecimal => {
                // The length counts the digits, the sign and the decimal point.
                let point = u32::from(c.decimals > 0);
                let sign = u32::from(!unsigned);
                (
                    Some(c.column_length.saturating_sub(point + sign)),
                    Some(u32::from(c.decimals)),
                )
            }
            Tiny | Short | Long | LongLong | Int24 | Year => (Some(c.column_length), Some(0)),
            Float | Double => (
                Some(c.column_length),
                (c.decimals < NOT_FIXED_DEC).then_some(u32::from(c.decimals)),
            ),
            _ => (None, None),
        };
        ColumnDescription {
            name: c.name.clone(),
            type_code: c.column_type,
            display_size: None,
            internal_size: Some(c.column_length),
            precision,
            scale,
            null_ok: Some(c.flags & column_flags::NOT_NULL == 0),
        }
    }
}

/// A cursor: runs statements on its [`Connection`] and hands out their rows, like a DB-API
/// 2.0 cursor.
///
/// Results are buffered: [`execute`](Self::execute) returns once every row has arrived, and
/// the fetch methods take rows from that buffer. Cursors of one connection share its
/// transaction, so rows written through one are visible to the others before `commit`.
///
/// Iterating over `&mut cursor` yields the remaining rows of the current result set as
/// `Result<Row>`; an error (closed cursor, no result set) is yielded once, then iteration ends.
///
/// ```no_run
/// use actix_mysql::blocking::Connection;
///
/// # fn main() -> Result<(), actix_mysql::Error> {
/// let conn = Connection::connect("mysql://app:secret@127.0.0.1:3306/shop")?;
/// let mut cur = conn.cursor()?;
/// cur.execute("SELECT id, name FROM items WHERE price > ? ORDER BY id", (5,))?;
/// for d in cur.description().unwrap_or_default() {
///     println!("{}: {:?} (nullable: {:?})", d.name, d.type_code, d.null_ok);
/// }
/// if let Some(first) = cur.fetchone()? {
///     println!("first: {first:?}");
/// }
/// let next_two = cur.fetchmany(2)?;
/// let rest = cur.fetchall()?;
/// println!("{} + {} more rows", next_two.len(), rest.len());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Cursor {
    conn: Arc<Shared>,
    closed: bool,
    /// Results after the current one, for [`Cursor::nextset`].
    pending: VecDeque<QueryResult>,
    /// Columns of the current result set; `None` when the current result has no rows.
    columns: Option<Arc<[Column]>>,
    rows: VecDeque<Row>,
    rownumber: usize,
    rowcount: i64,
    lastrowid: Option<u64>,
    warning_count: u16,
    arraysize: usize,
    /// The iterator yielded an error; it yields nothing more until the next statement.
    iter_failed: bool,
}

impl Cursor {
    pub(super) fn new(conn: Arc<Shared>) -> Self {
        Cursor {
            conn,
            closed: false,
            pending: VecDeque::new(),
            columns: None,
            rows: VecDeque::new(),
            rownumber: 0,
            rowcount: -1,
            lastrowid: None,
            warning_count: 0,
            arraysize: 1,
            iter_failed: false,
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.closed {
            return Err(Error::closed().with_detail("the cursor was closed"));
        }
        self.conn.check_open()
    }

    fn reset(&mut self) {
        self.pending.clear();
        self.columns = None;
        self.rows.clear();
        self.rownumber = 0;
        self.rowcount = -1;
        self.lastrowid = None;
        self.warning_count = 0;
        self.iter_failed = false;
    }

    /// Makes `result` the current one.
    fn set_current(&mut self, result: QueryResult) {
        self.rownumber = 0;
        match result {
            QueryResult::Rows {
                columns,
                rows,
                warning_count,
            } => {
                self.rowcount = i64::try_from(rows.len()).unwrap_or(i64::MAX);
                self.columns = Some(columns);
                self.rows = rows.into();
                self.warning_count = warning_count;
            }
            QueryResult::Exec(e) => {
                self.rowcount = i64::try_from(e.affected_rows).unwrap_or(i64::MAX);
                self.lastrowid = (e.insert_id != 0).then_some(e.insert_id);
                self.columns = None;
                self.rows.clear();
                self.warning_count = e.warning_count;
            }
        }
    }

    fn rowcount_opt(&self) -> Option<u64> {
        u64::try_from(self.rowcount).ok()
    }

    /// Runs a statement with `?` parameters (`()` for none) and makes its first result
    /// current. Returns the [`rowcount`](Self::rowcount): rows affected by a statement without
    /// a result set, rows of a result set; `None` when unknown.
    ///
    /// Unless the connection is in autocommit mode, the statement runs in the connection's
    /// transaction (started before it if none is open).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Server`](crate::ErrorKind::Server) with the server's code when it refuses
    /// the statement (the cursor and connection stay usable);
    /// [`ErrorKind::Usage`](crate::ErrorKind::Usage) when the parameters do not match the
    /// placeholders; [`ErrorKind::Closed`](crate::ErrorKind::Closed) when the cursor or the
    /// connection was closed; [`ErrorKind::TransactionAborted`](crate::ErrorKind::TransactionAborted)
    /// (see [Transactions](super#transactions)).
    pub fn execute(&mut self, sql: &str, params: impl Params) -> Result<Option<u64>> {
        self.check_open()?;
        self.reset();
        let mut results: VecDeque<QueryResult> = self.conn.run(sql, params.into_values())?.into();
        if let Some(first) = results.pop_front() {
            self.set_current(first);
        }
        self.pending = results;
        Ok(self.rowcount_opt())
    }

    /// Runs a statement once for every parameter set, in order, stopping at the first error
    /// (the statements before it stay executed, within the transaction unless autocommit is
    /// on). The [`rowcount`](Self::rowcount) is the sum of the runs'; the result set, if the
    /// statement has one, and [`lastrowid`](Self::lastrowid) are those of the last run.
    ///
    /// # Errors
    ///
    /// As [`execute`](Self::execute), for the first run that fails.
    pub fn executemany<P, I>(&mut self, sql: &str, seq_of_params: I) -> Result<Option<u64>>
    where
        P: Params,
        I: IntoIterator<Item = P>,
    {
        self.check_open()?;
        self.reset();
        let mut total: i64 = 0;
        let mut lastrowid = None;
        for params in seq_of_params {
            self.reset();
            let mut results: VecDeque<QueryResult> =
                self.conn.run(sql, params.into_values())?.into();
            if let Some(first) = results.pop_front() {
                self.set_current(first);
            }
            self.pending = results;
            total = total.saturating_add(self.rowcount.max(0));
            lastrowid = self.lastrowid.or(lastrowid);
        }
        self.rowcount = total;
        self.lastrowid = lastrowid;
        Ok(self.rowcount_opt())
    }

    fn check_result_set(&self) -> Result<()> {
        self.check_open()?;
        if self.columns.is_none() {
            return Err(Error::usage(
                "no result set: execute() was not called, or its statement returned no rows",
            ));
        }
        Ok(())
    }

    /// The next row of the current result set, `None` when all were fetched.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Usage`](crate::ErrorKind::Usage) when there is no result set (no
    /// `execute` yet, or a statement without rows);
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed) when the cursor or the connection was
    /// closed.
    pub fn fetchone(&mut self) -> Result<Option<Row>> {
        self.check_result_set()?;
        let row = self.rows.pop_front();
        self.rownumber += usize::from(row.is_some());
        Ok(row)
    }

    /// Up to `size` next rows (fewer at the end); `None` takes
    /// [`arraysize`](Self::arraysize) rows.
    ///
    /// # Errors
    ///
    /// As [`fetchone`](Self::fetchone).
    pub fn fetchmany(&mut self, size: impl Into<Option<usize>>) -> Result<Vec<Row>> {
        self.check_result_set()?;
        let n = size.into().unwrap_or(self.arraysize).min(self.rows.len());
        self.rownumber += n;
        Ok(self.rows.drain(..n).collect())
    }

    /// Every remaining row of the current result set.
    ///
    /// # Errors
    ///
    /// As [`fetchone`](Self::fetchone).
    pub fn fetchall(&mut self) -> Result<Vec<Row>> {
        self.check_result_set()?;
        self.rownumber += self.rows.len();
        Ok(self.rows.drain(..).collect())
    }

    /// Moves to the next result of the last statement (a stored procedure `CALL` returns
    /// several). Returns `false`, leaving no current result, when there is none.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed) when the cursor or the connection was
    /// closed.
    pub fn nextset(&mut self) -> Result<bool> {
        self.check_open()?;
        self.iter_failed = false;
        match self.pending.pop_front() {
            Some(next) => {
                self.set_current(next);
                Ok(true)
            }
            None => {
                self.columns = None;
                self.rows.clear();
                self.rowcount = -1;
                Ok(false)
            }
        }
    }

    /// DB-API's `rowcount`: rows affected by the last statement without a result set, rows of
    /// the current result set, the sum over an [`executemany`](Self::executemany); -1 before
    /// the first statement and when unknown.
    pub fn rowcount(&self) -> i64 {
        self.rowcount
    }

    /// The `AUTO_INCREMENT` value generated by the last statement (`LAST_INSERT_ID()`), `None`
    /// when it generated none.
    pub fn lastrowid(&self) -> Option<u64> {
        self.lastrowid
    }

    /// The columns of the current result set; `None` when there is none (no `execute` yet, or
    /// a statement without rows).
    pub fn description(&self) -> Option<Vec<ColumnDescription>> {
        self.columns
            .as_ref()
            .map(|cols| cols.iter().map(ColumnDescription::from_column).collect())
    }

    /// The full column definitions of the current result set (schema, table, flags, charset,
    /// ...).
    pub fn columns(&self) -> Option<&[Column]> {
        self.columns.as_deref()
    }

    /// Index of the next row in the current result set; `None` when there is none.
    pub fn rownumber(&self) -> Option<usize> {
        self.columns.as_ref().map(|_| self.rownumber)
    }

    /// Warnings the server reported for the current result.
    pub fn warning_count(&self) -> u16 {
        self.warning_count
    }

    /// Rows [`fetchmany(None)`](Self::fetchmany) takes; 1 by default.
    pub fn arraysize(&self) -> usize {
        self.arraysize
    }

    /// Sets [`arraysize`](Self::arraysize) (at least 1).
    pub fn set_arraysize(&mut self, size: usize) {
        self.arraysize = size.max(1);
    }

    /// The connection this cursor runs on.
    pub fn connection(&self) -> Connection {
        Connection {
            shared: self.conn.clone(),
        }
    }

    /// Closes the cursor and drops its buffered rows. Every later call on it fails with
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed); closing again does nothing. The
    /// connection stays open.
    pub fn close(&mut self) {
        self.reset();
        self.closed = true;
    }

    /// True after [`close`](Self::close).
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

impl Iterator for Cursor {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Result<Row>> {
        if self.iter_failed {
            return None;
        }
        match self.fetchone() {
            Ok(row) => row.map(Ok),
            Err(e) => {
                self.iter_failed = true;
                Some(Err(e))
            }
        }
    }
}
