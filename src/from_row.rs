//! Typed rows: the [`FromRow`] trait.
use crate::error::{Error, Result};
use crate::protocol::value::{FromValue, Value};
use crate::row::Row;

/// Conversion of a whole [`Row`] into a Rust type.
///
/// Implemented for:
///
/// * [`Row`] itself (unchanged) and [`Vec<Value>`] (the raw values);
/// * tuples of 1 to 16 elements whose types implement [`FromValue`], read by position: the row
///   must have exactly as many columns as the tuple has elements;
/// * structs with `#[derive(FromRow)]` (feature `derive`, on by default), read by column name.
///
/// # Errors
///
/// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when a value does not convert; the message
/// names the column, the value and the Rust type asked for.
/// [`ErrorKind::Usage`](crate::ErrorKind::Usage) when the row does not have the expected shape:
/// a missing column, or a column count that differs from a tuple's length (both counts are
/// named).
///
/// # Examples
///
/// ```no_run
/// use actix_mysql::{Client, FromRow};
///
/// # async fn run() -> actix_mysql::Result<()> {
/// let client = Client::from_url("mysql://user:pass@localhost/app")?;
/// for row in client.query("SELECT id, name, email FROM users").await? {
///     let (id, name, email) = <(u64, String, Option<String>)>::from_row(row)?;
///     println!("{id} {name} {email:?}");
/// }
/// # Ok(())
/// # }
/// ```
///
/// # Deriving
///
/// `#[derive(FromRow)]` reads each field of a struct with named fields from the column of the
/// same name, converting it with [`FromValue`] (use `Option<T>` for nullable columns). A tuple
/// struct is read by position, like a tuple. The derive is re-exported here, so
/// `use actix_mysql::FromRow;` brings both the trait and the derive macro.
///
/// Attributes on the struct:
///
/// * `#[mysql(rename_all = "...")]`: column names derived from the field names with one of
///   `"snake_case"`, `"camelCase"`, `"UPPERCASE"` or `"lowercase"`.
///
/// Attributes on a field:
///
/// * `#[mysql(rename = "col")]`: read column `col` (takes precedence over `rename_all`);
/// * `#[mysql(default)]`: when the row has no such column, use `Default::default()` (a column
///   that is present but does not convert is still an error);
/// * `#[mysql(skip)]`: never read; always `Default::default()`;
/// * `#[mysql(flatten)]`: build the field, whose type implements `FromRow`, from the same row
///   (e.g. a struct of columns shared by several queries).
///
/// Anything else, and the derive on an enum or a union, is a compile error.
///
/// The generated code refers to this crate as `::actix_mysql`: the derive works where the crate
/// is a dependency under that name (not when renamed in `Cargo.toml`).
///
/// ```no_run
/// use actix_mysql::{Client, DateTime, FromRow};
///
/// #[derive(Debug, FromRow)]
/// #[mysql(rename_all = "camelCase")]
/// struct User {
///     id: u64,                  // column "id"
///     display_name: String,     // column "displayName"
///     #[mysql(rename = "mail")]
///     email: Option<String>,    // column "mail", NULL becomes None
///     #[mysql(default)]
///     last_login: Option<DateTime>, // None when the query has no "lastLogin" column
///     #[mysql(skip)]
///     cached_posts: Vec<String>,    // always empty
/// }
///
/// #[derive(Debug, FromRow)]
/// struct Count(i64);
///
/// # async fn run() -> actix_mysql::Result<()> {
/// let client = Client::from_url("mysql://user:pass@localhost/app")?;
/// let users = client
///     .query("SELECT id, displayName, mail FROM users")
///     .await?
///     .into_iter()
///     .map(User::from_row)
///     .collect::<actix_mysql::Result<Vec<_>>>()?;
/// if let Some(row) = client.query_first("SELECT COUNT(*) FROM users").await? {
///     let Count(n) = Count::from_row(row)?;
///     assert_eq!(n as usize, users.len());
/// }
/// # Ok(())
/// # }
/// ```
///
/// Unsupported shapes are rejected at compile time:
///
/// ```compile_fail
/// #[derive(actix_mysql::FromRow)]
/// enum Shape { Circle, Square }
/// ```
///
/// ```compile_fail
/// #[derive(actix_mysql::FromRow)]
/// struct User {
///     #[mysql(renamed = "x")]
///     id: u64,
/// }
/// ```
pub trait FromRow: Sized {
    /// Converts a row, consuming it.
    ///
    /// # Errors
    ///
    /// See [the trait documentation](FromRow#errors).
    fn from_row(row: Row) -> Result<Self>;
}

impl FromRow for Row {
    fn from_row(row: Row) -> Result<Self> {
        Ok(row)
    }
}

impl FromRow for Vec<Value> {
    fn from_row(row: Row) -> Result<Self> {
        Ok(row.into_values())
    }
}

/// The values of a row taken out one by one in column order, converted without copying them.
///
/// Keeps the (shared) column definitions so that a failed conversion can name its column once
/// the row has been consumed.
struct Positional {
    columns: std::sync::Arc<[crate::protocol::resultset::Column]>,
    values: std::vec::IntoIter<Value>,
    next: usize,
}

impl Positional {
    /// Takes `row` apart, checking that it has exactly `expected` columns.
    fn new(row: Row, expected: usize) -> Result<Self> {
        if row.len() != expected {
            return Err(Error::usage(arity_message(expected, row.len())));
        }
        let (columns, values) = row.into_parts();
        Ok(Positional {
            columns,
            values: values.into_iter(),
            next: 0,
        })
    }

    /// Converts the next value.
    fn take<T: FromValue>(&mut self) -> Result<T> {
        let i = self.next;
        self.next += 1;
        let value = self.values.next().unwrap_or(Value::Null);
        decode_at(&self.columns, i, value)
    }
}

fn arity_message(expected: usize, actual: usize) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "expected a row of {expected} column{} for a {expected}-tuple, got {actual} column{}",
        plural(expected),
        plural(actual),
    )
}

/// Converts `value`, the value of column `i`, naming that column (by its name in `columns`) in
/// the error.
fn decode_at<T: FromValue>(
    columns: &[crate::protocol::resultset::Column],
    i: usize,
    value: Value,
) -> Result<T> {
    T::from_value(value).map_err(|e| match columns.get(i) {
        Some(col) => Error::decode(&col.name, e),
        None => Error::decode(&format!("#{i}"), e),
    })
}

macro_rules! tuple_from_row {
    ($len:literal: $($t:ident)+) => {
        impl<$($t: FromValue),+> FromRow for ($($t,)+) {
            fn from_row(row: Row) -> Result<Self> {
                let mut values = Positional::new(row, $len)?;
                Ok(($(values.take::<$t>()?,)+))
            }
        }
    };
}

tuple_from_row!(1: T1);
tuple_from_row!(2: T1 T2);
tuple_from_row!(3: T1 T2 T3);
tuple_from_row!(4: T1 T2 T3 T4);
tuple_from_row!(5: T1 T2 T3 T4 T5);
tuple_from_row!(6: T1 T2 T3 T4 T5 T6);
tuple_from_row!(7: T1 T2 T3 T4 T5 T6 T7);
tuple_from_row!(8: T1 T2 T3 T4 T5 T6 T7 T8);
tuple_from_row!(9: T1 T2 T3 T4 T5 T6 T7 T8 T9);
tuple_from_row!(10: T1 T2 T3 T4 T5 T6 T7 T8 T9 T10);
tuple_from_row!(11: T1 T2 T3 T4 T5 T6 T7 T8 T9 T10 T11);
tuple_from_row!(12: T1 T2 T3 T4 T5 T6 T7 T8 T9 T10 T11 T12);
tuple_from_row!(13: T1 T2 T3 T4 T5 T6 T7 T8 T9 T10 T11 T12 T13);
tuple_from_row!(14: T1 T2 T3 T4 T5 T6 T7 T8 T9 T10 T11 T12 T13 T14);
tuple_from_row!(15: T1 T2 T3 T4 T5 T6 T7 T8 T9 T10 T11 T12 T13 T14 T15);
tuple_from_row!(16: T1 T2 T3 T4 T5 T6 T7 T8 T9 T10 T11 T12 T13 T14 T15 T16);

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::sync::Arc;

    use bytes::Bytes;

    use super::*;
    use crate::error::ErrorKind;
    use crate::protocol::constants::ColumnType;
    use crate::protocol::resultset::Column;

    fn column(name: &str) -> Column {
        Column {
            schema: String::new(),
            table: String::new(),
            org_table: String::new(),
            name: name.into(),
            org_name: name.into(),
            charset: 45,
            column_length: 0,
            column_type: ColumnType::VarString,
            flags: 0,
            decimals: 0,
        }
    }

    fn row(cells: Vec<(&str, Value)>) -> Row {
        let columns: Arc<[Column]> = cells.iter().map(|(n, _)| column(n)).collect();
        Row::new(columns, cells.into_iter().map(|(_, v)| v).collect())
    }

    fn sample() -> Row {
        row(vec![
            ("id", Value::Int(7)),
            ("name", Value::Bytes(Bytes::from_static(b"ann"))),
            ("nick", Value::Null),
        ])
    }

    #[test]
    fn row_and_values_pass_through() {
        assert_eq!(Row::from_row(sample()).unwrap(), sample());
        assert_eq!(
            Vec::<Value>::from_row(sample()).unwrap(),
            sample().into_values()
        );
    }

    #[test]
    fn tuples_convert_by_position() {
        let t = <(i64, String, Option<String>)>::from_row(sample()).unwrap();
        assert_eq!(t, (7, "ann".to_string(), None));
        let (one,) = <(u8,)>::from_row(row(vec![("x", Value::UInt(1))])).unwrap();
        assert_eq!(one, 1);
    }

    #[test]
    fn sixteen_element_tuples() {
        let cells = (0..16)
            .map(|i| (["c0", "c1"][i % 2], Value::Int(i as i64)))
            .collect();
        #[allow(clippy::type_complexity)]
        let t: (
            i8,
            i16,
            i32,
            i64,
            u8,
            u16,
            u32,
            u64,
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
            Value,
        ) = FromRow::from_row(row(cells)).unwrap();
        assert_eq!(t.0, 0);
        assert_eq!(t.7, 7);
        assert_eq!(t.15, Value::Int(15));
    }

    #[test]
    fn conversion_error_names_column_and_types() {
        let err = <(i64, i64, String)>::from_row(sample()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        let text = format!("{err}: {}", err.source().unwrap());
        assert!(text.contains("\"name\""), "{text}");
        assert!(text.contains("Bytes"), "{text}");
        assert!(text.contains("i64"), "{text}");

        let err = <(i64, String, String)>::from_row(sample()).unwrap_err();
        let text = format!("{err}: {}", err.source().unwrap());
        assert!(text.contains("\"nick\""), "{text}");
        assert!(text.contains("unexpected NULL"), "{text}");
    }

    #[test]
    fn arity_mismatch_is_a_usage_error() {
        let err = <(i64, String)>::from_row(sample()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        let text = err.to_string();
        assert!(text.contains("2 columns for a 2-tuple"), "{text}");
        assert!(text.contains("got 3 columns"), "{text}");

        let err = <(i64, String, String, String)>::from_row(sample()).unwrap_err();
        assert!(err.to_string().contains("got 3 columns"), "{err}");
        let err = <(i64,)>::from_row(row(vec![])).unwrap_err();
        assert!(
            err.to_string()
                .contains("1 column for a 1-tuple, got 0 columns"),
            "{err}"
        );
    }
}
