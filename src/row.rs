//! Rows, result sets and the results of writes.
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::protocol::resultset::Column;
use crate::protocol::value::{FromValue, Value};

/// One row of a result set: the values and the column metadata they share with the other rows.
#[derive(Clone, PartialEq)]
pub struct Row {
    columns: Arc<[Column]>,
    values: Vec<Value>,
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (c, v) in self.columns.iter().zip(&self.values) {
            m.entry(&c.name, v);
        }
        m.finish()
    }
}

/// A column position: an index (`usize`) or a column name (`&str`).
pub trait ColumnIndex: fmt::Debug + sealed::Sealed {
    /// The position of this column in `columns`, if it is there.
    fn index_in(&self, columns: &[Column]) -> Option<usize>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for usize {}
    impl Sealed for str {}
    impl<T: ?Sized + Sealed> Sealed for &T {}
}

impl ColumnIndex for usize {
    fn index_in(&self, columns: &[Column]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl ColumnIndex for str {
    fn index_in(&self, columns: &[Column]) -> Option<usize> {
        columns.iter().position(|c| c.name == self)
    }
}

impl<T: ?Sized + ColumnIndex> ColumnIndex for &T {
    fn index_in(&self, columns: &[Column]) -> Option<usize> {
        (**self).index_in(columns)
    }
}

impl Row {
    pub(crate) fn new(columns: Arc<[Column]>, values: Vec<Value>) -> Self {
        Row { columns, values }
    }

    /// The column definitions.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True for a row without columns.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The raw values.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Consumes the row, returning its values.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// Consumes the row, returning the shared column definitions and its values.
    pub(crate) fn into_parts(self) -> (Arc<[Column]>, Vec<Value>) {
        (self.columns, self.values)
    }

    /// The value of a column converted to `T`.
    ///
    /// # Panics
    ///
    /// When the column does not exist or the value does not convert; see [`Row::try_get`] for
    /// the fallible form.
    #[track_caller]
    pub fn get<T: FromValue>(&self, idx: impl ColumnIndex) -> T {
        match self.try_get(idx) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// The value of a column converted to `T`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Usage`](crate::ErrorKind::Usage) for an unknown column,
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) (naming the column and both types) when
    /// the value does not convert.
    pub fn try_get<T: FromValue>(&self, idx: impl ColumnIndex) -> Result<T> {
        let i = idx
            .index_in(&self.columns)
            .ok_or_else(|| Error::usage(format!("no column {idx:?} in this row")))?;
        let value = self.values.get(i).cloned().unwrap_or(Value::Null);
        T::from_value(value).map_err(|e| Error::decode(&self.columns[i].name, e))
    }
}

/// The outcome of a statement that returned no rows (INSERT, UPDATE, DDL, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ExecResult {
    /// Rows changed, deleted or inserted.
    pub affected_rows: u64,
    /// The AUTO_INCREMENT value generated (`LAST_INSERT_ID()`), 0 when none.
    pub insert_id: u64,
    /// The server's info message, e.g. `Rows matched: 1  Changed: 1  Warnings: 0`.
    pub info: String,
    /// Number of warnings (`SHOW WARNINGS` lists them).
    pub warning_count: u16,
    /// Server status flags after the statement ([`crate::protocol::constants::status`]).
    pub server_status: u16,
}

impl From<crate::protocol::response::OkPacket> for ExecResult {
    fn from(ok: crate::protocol::response::OkPacket) -> Self {
        ExecResult {
            affected_rows: ok.affected_rows,
            insert_id: ok.last_insert_id,
            info: ok.info,
            warning_count: ok.warnings,
            server_status: ok.status,
        }
    }
}

/// One result of a statement: a set of rows, or the outcome of a statement without rows.
///
/// A multi-statement query or a stored procedure `CALL` returns several.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum QueryResult {
    /// A result set.
    Rows {
        /// Column definitions.
        columns: Arc<[Column]>,
        /// The rows.
        rows: Vec<Row>,
        /// Warnings reported at the end of the result set.
        warning_count: u16,
    },
    /// A statement without a result set.
    Exec(ExecResult),
}
