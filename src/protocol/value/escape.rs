//! Client-side parameter interpolation: `?` placeholders in SQL text replaced by escaped literals.
//!
//! This is the alternative to prepared statements for servers, proxies or statements where
//! those are not wanted: the values are written into the SQL text as literals and the text is
//! sent with `COM_QUERY`.
//!
//! # Placeholders
//!
//! A `?` is a placeholder unless it is inside
//!
//! * a string literal, `'…'` or `"…"` (a quote is escaped by doubling it, or with a backslash
//!   unless the session has `NO_BACKSLASH_ESCAPES`),
//! * a quoted identifier, `` `…` `` (with ```` `` ```` for a backtick),
//! * a comment: `#` or `-- ` (two dashes followed by a space, a control character or the end
//!   of the text, as the server's lexer has it) to the end of the line, or `/* … */`.
//!
//! Optimizer hints (`/*+ … */`) are comments too. Executable comments (`/*! … */`,
//! `/*!80000 … */`, MariaDB's `/*M! … */`) are SQL that the server runs (depending on its
//! version), so where their quotes and placeholders stand depends on the server: a statement
//! with parameters and an executable comment is refused ([`InterpolateError::Unsafe`]).
//!
//! # Statements that change the escaping rules
//!
//! The escaping follows the session as it is when the statement is sent. Text that changes the
//! character set or `sql_mode` for what comes after it in the same statement would make the
//! server read the literals under other rules, so these are refused when there are
//! parameters ([`InterpolateError::Unsafe`]): a multi-statement whose statements before a
//! placeholder contain `SET`, `NAMES`, `CHARSET`, `CHARACTER` or `SQL_MODE`; MariaDB's
//! `SET STATEMENT … FOR`; and MySQL's `SET_VAR` optimizer hint. Server-side prepared
//! statements (`prepare` / `exec`) have none of these limits.
//!
//! # Literals
//!
//! | value | literal |
//! |---|---|
//! | [`Value::Null`] | `NULL` |
//! | [`Value::Int`], [`Value::UInt`], [`Value::Bit`], [`Value::Year`] | decimal integer |
//! | [`Value::Float`], [`Value::Double`] | shortest exact form with exponent, e.g. `1.5e0` (a DOUBLE literal); NaN and infinities are refused ([`InterpolateError::NonFinite`]) |
//! | [`Value::Decimal`] | its text, e.g. `-12.50` (an exact DECIMAL literal) |
//! | [`Value::Date`], [`Value::DateTime`], [`Value::Time`] | quoted text, e.g. `'2024-05-17 13:45:09.500000'` |
//! | [`Value::Bytes`] holding UTF-8 | escaped string literal `'…'` |
//! | [`Value::Bytes`] not UTF-8 | hexadecimal literal `X'…'` |
//! | [`Value::Json`] | escaped string literal (`CONVERT(X'…' USING utf8mb4)` if not UTF-8) |
//!
//! In a string literal, `\0`, `\n`, `\r`, `\\`, `\'`, `\"` and `\Z` (for 0x1A) are written with
//! a backslash; under `NO_BACKSLASH_ESCAPES` only `'` is escaped (as `''`) and every other byte
//! stands for itself.
//!
//! # Character sets
//!
//! Backslash escaping is only sound when no character of the connection's character set
//! (`character_set_client`) can contain the bytes of `\` or `'` after its first byte. That is
//! false for `gbk`, `big5`, `sjis`, `cp932` and `gb18030`: an escaped quote could become the
//! end of a multibyte character and the quote after it the end of the literal. Under those
//! character sets, and any character set this module does not know ([`is_charset_safe`]),
//! string and JSON parameters are refused with [`InterpolateError::UnsafeCharset`]; numbers,
//! dates and NULL are plain ASCII and always allowed. With [`EscapeContext::hex_strings`] every
//! string is sent as a hexadecimal literal instead, which is safe under any character set.

use std::fmt::Write as _;

use super::Value;

/// The session properties the escaping depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscapeContext<'a> {
    /// `NO_BACKSLASH_ESCAPES` is in the session's `sql_mode` (the server reports it with
    /// `SERVER_STATUS_NO_BACKSLASH_ESCAPES` in its status flags).
    pub no_backslash_escapes: bool,
    /// The session's `character_set_client`, e.g. `utf8mb4`, `latin1`, `gbk`.
    pub charset: &'a str,
    /// Send every string (and JSON) parameter as a hexadecimal literal, whatever its content
    /// and the character set.
    pub hex_strings: bool,
}

impl<'a> EscapeContext<'a> {
    /// A context for `charset` with backslash escapes enabled and string literals.
    pub fn new(charset: &'a str) -> Self {
        EscapeContext {
            no_backslash_escapes: false,
            charset,
            hex_strings: false,
        }
    }
}

/// Why parameters could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InterpolateError {
    /// The number of parameters differs from the number of placeholders.
    #[error("the statement has {expected} placeholders, {got} parameters were given")]
    ParamCount {
        /// Number of placeholders in the SQL text.
        expected: usize,
        /// Number of parameters given.
        got: usize,
    },
    /// A string parameter cannot be escaped safely under this character set.
    #[error("cannot escape string parameters safely under character set {0:?}; use a prepared statement (prepare/exec) instead")]
    UnsafeCharset(String),
    /// The statement's text changes how the server reads it (an executable comment, a
    /// per-statement `sql_mode` or character set, a batch that changes them before a
    /// placeholder): it is not interpolated.
    #[error("cannot interpolate parameters into a statement with {0}; use a prepared statement (prepare/exec) instead")]
    Unsafe(&'static str),
    /// A floating point parameter is NaN or infinite, which MySQL cannot represent.
    #[error("parameter {index} is NaN or infinite")]
    NonFinite {
        /// Position of the parameter (0-based).
        index: usize,
    },
}

/// Character sets under which no multibyte character contains an ASCII byte, so that escaping
/// with backslashes and doubled quotes cannot be subverted.
const SAFE_CHARSETS: &[&str] = &[
    "utf8mb4", "utf8mb3", "utf8", "latin1", "latin2", "latin5", "latin7", "ascii", "binary",
    "cp1250", "cp1251", "cp1256", "cp1257", "cp850", "cp852", "cp866", "dec8", "greek", "hebrew",
    "hp8", "keybcs2", "koi8r", "koi8u", "macce", "macroman", "swe7", "armscii8", "geostd8",
    "tis620", "ujis", "eucjpms", "euckr", "gb2312",
];

/// True if string literals can be escaped safely under `charset` (a `character_set_client`
/// name, compared without regard to case): single-byte character sets, UTF-8 and the EUC
/// family. False for `gbk`, `big5`, `sjis`, `cp932`, `gb18030` and any unknown name.
pub fn is_charset_safe(charset: &str) -> bool {
    SAFE_CHARSETS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(charset))
}

/// What a byte of SQL text is part of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    Code,
    Quoted(u8),
    LineComment,
    BlockComment,
}

/// A piece of SQL text as the server's lexer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// A byte of code (outside literals, identifiers and comments).
    Code(usize, u8),
    /// A quoted literal or identifier, or a comment, starts at this offset.
    Gap(usize),
}

/// Walks `sql` and hands each [`Piece`] to `f`, until `f` returns false.
fn scan(sql: &str, no_backslash_escapes: bool, mut f: impl FnMut(Piece) -> bool) {
    let bytes = sql.as_bytes();
    let at = |i: usize| bytes.get(i).copied();
    let mut state = Scan::Code;
    let mut i = 0;
    while let Some(b) = at(i) {
        match state {
            Scan::Code => {
                let gap = match b {
                    b'\'' | b'"' | b'`' => Some(Scan::Quoted(b)),
                    b'#' => Some(Scan::LineComment),
                    b'-' if at(i + 1) == Some(b'-')
                        && at(i + 2).is_none_or(|c| c <= b' ' || c == 0x7f) =>
                    {
                        Some(Scan::LineComment)
                    }
                    b'/' if at(i + 1) == Some(b'*') => Some(Scan::BlockComment),
                    _ => None,
                };
                let go_on = match gap {
                    Some(next) => {
                        state = next;
                        if matches!(next, Scan::LineComment | Scan::BlockComment) && b != b'#' {
                            // The second byte of `--` or `/*` is part of the opening.
                            let piece = Piece::Gap(i);
                            i += 1;
                            f(piece)
                        } else {
                            f(Piece::Gap(i))
                        }
                    }
                    None => f(Piece::Code(i, b)),
                };
                if !go_on {
                    return;
                }
            }
            Scan::Quoted(q) => {
                if b == b'\\' && q != b'`' && !no_backslash_escapes {
                    // The escaped byte cannot end the literal.
                    i += 1;
                } else if b == q {
                    if at(i + 1) == Some(q) {
                        i += 1;
                    } else {
                        state = Scan::Code;
                    }
                }
            }
            Scan::LineComment => {
                if b == b'\n' {
                    state = Scan::Code;
                }
            }
            Scan::BlockComment => {
                if b == b'*' && at(i + 1) == Some(b'/') {
                    state = Scan::Code;
                    i += 1;
                }
            }
        }
        i += 1;
    }
}

/// Byte offsets of the `?` placeholders of `sql` (see the [module documentation](self)).
pub fn placeholder_positions(sql: &str, no_backslash_escapes: bool) -> Vec<usize> {
    let mut out = Vec::new();
    scan(sql, no_backslash_escapes, |piece| {
        if let Piece::Code(i, b'?') = piece {
            out.push(i);
        }
        true
    });
    out
}

/// What in `sql` makes the server read it under rules the client cannot know when it
/// escapes (see the [module documentation](self#statements-that-change-the-escaping-rules)).
fn changes_escaping(
    sql: &str,
    no_backslash_escapes: bool,
    positions: &[usize],
) -> Option<&'static str> {
    let last_placeholder = positions.last().copied().unwrap_or(0);
    // The code (outside literals and comments) of the statements before the current one, and
    // of the current one, upper-cased.
    let mut before = String::new();
    let mut current = String::new();
    let mut why = None;
    scan(sql, no_backslash_escapes, |piece| {
        match piece {
            Piece::Gap(i) => {
                let rest = sql.get(i..).unwrap_or_default();
                let opening = rest.get(..4).unwrap_or(rest).to_ascii_uppercase();
                if opening.starts_with("/*!") || opening.starts_with("/*M!") {
                    why = Some("an executable comment");
                } else if opening.starts_with("/*+") {
                    let hint = rest
                        .get(..rest.find("*/").unwrap_or(rest.len()))
                        .unwrap_or(rest);
                    if hint.to_ascii_uppercase().contains("SET_VAR") {
                        why = Some("an optimizer hint that sets a variable (SET_VAR)");
                    }
                }
                current.push(' ');
            }
            Piece::Code(i, b';') => {
                if i < last_placeholder {
                    before.push(' ');
                    before.push_str(&current);
                }
                current.clear();
            }
            Piece::Code(_, b) => current.push(char::from(b.to_ascii_uppercase())),
        }
        why.is_none()
    });
    if why.is_some() {
        return why;
    }
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '@'))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let statements = format!("{before} ; {current}");
    let all = words(&statements);
    if all.windows(2).any(|w| w[0] == "SET" && w[1] == "STATEMENT") {
        return Some("a per-statement setting (SET STATEMENT ... FOR)");
    }
    let changes = |w: &String| {
        matches!(
            w.as_str(),
            "SET" | "NAMES" | "CHARSET" | "CHARACTER" | "SQL_MODE"
        ) || w.contains("SQL_MODE")
            || w.contains("CHARACTER_SET")
            || w.contains("COLLATION")
    };
    if words(&before).iter().any(changes) {
        return Some(
            "an earlier statement in the batch that may change the character set or sql_mode",
        );
    }
    None
}

/// Number of `?` placeholders of `sql` (see the [module documentation](self)).
pub fn count_placeholders(sql: &str, no_backslash_escapes: bool) -> usize {
    placeholder_positions(sql, no_backslash_escapes).len()
}

/// Replaces the `?` placeholders of `sql` by `params` written as SQL literals, in order.
///
/// # Errors
///
/// * [`InterpolateError::ParamCount`] if `params` and the placeholders differ in number;
/// * [`InterpolateError::UnsafeCharset`] for a string or JSON parameter under a character set
///   where escaping is unsafe (unless [`EscapeContext::hex_strings`]);
/// * [`InterpolateError::NonFinite`] for a NaN or infinite float.
///
/// # Example
///
/// ```
/// use actix_mysql::protocol::value::escape::{interpolate, EscapeContext};
/// use actix_mysql::Value;
///
/// let sql = interpolate(
///     "SELECT * FROM t WHERE name = ? AND note <> '?' AND id > ?",
///     &[Value::from("O'Brien"), Value::Int(7)],
///     &EscapeContext::new("utf8mb4"),
/// )
/// .unwrap();
/// assert_eq!(sql, r"SELECT * FROM t WHERE name = 'O\'Brien' AND note <> '?' AND id > 7");
/// ```
pub fn interpolate(
    sql: &str,
    params: &[Value],
    ctx: &EscapeContext<'_>,
) -> Result<String, InterpolateError> {
    let positions = placeholder_positions(sql, ctx.no_backslash_escapes);
    if !params.is_empty() {
        if let Some(why) = changes_escaping(sql, ctx.no_backslash_escapes, &positions) {
            return Err(InterpolateError::Unsafe(why));
        }
    }
    if positions.len() != params.len() {
        return Err(InterpolateError::ParamCount {
            expected: positions.len(),
            got: params.len(),
        });
    }
    let mut out = String::with_capacity(sql.len() + params.len() * 8);
    let mut last = 0;
    for (index, (&pos, value)) in positions.iter().zip(params).enumerate() {
        out.push_str(sql.get(last..pos).unwrap_or_default());
        write_literal(&mut out, value, index, ctx)?;
        last = pos + 1;
    }
    out.push_str(sql.get(last..).unwrap_or_default());
    Ok(out)
}

/// Appends `value` as an SQL literal.
fn write_literal(
    out: &mut String,
    value: &Value,
    index: usize,
    ctx: &EscapeContext<'_>,
) -> Result<(), InterpolateError> {
    // Writing to a `String` cannot fail.
    let _ = match value {
        Value::Null => write!(out, "NULL"),
        Value::Int(n) => write!(out, "{n}"),
        Value::UInt(n) | Value::Bit(n) => write!(out, "{n}"),
        Value::Year(y) => write!(out, "{y}"),
        Value::Float(f) if f.is_finite() => write!(out, "{f:e}"),
        Value::Double(d) if d.is_finite() => write!(out, "{d:e}"),
        Value::Float(_) | Value::Double(_) => return Err(InterpolateError::NonFinite { index }),
        Value::Decimal(d) => write!(out, "{d}"),
        Value::Date(d) => write!(out, "'{d}'"),
        Value::DateTime(dt) => write!(out, "'{dt}'"),
        Value::Time(t) => write!(out, "'{t}'"),
        Value::Bytes(b) => {
            match text_for_literal(b, ctx)? {
                Some(text) => write_string_literal(out, text, ctx.no_backslash_escapes),
                None => write_hex_literal(out, b),
            }
            Ok(())
        }
        Value::Json(b) => {
            match text_for_literal(b, ctx)? {
                Some(text) => write_string_literal(out, text, ctx.no_backslash_escapes),
                None => {
                    // JSON needs a text character set, not the binary one of X'…'.
                    out.push_str("CONVERT(");
                    write_hex_literal(out, b);
                    out.push_str(" USING utf8mb4)");
                }
            }
            Ok(())
        }
    };
    Ok(())
}

/// The text to write as an escaped string literal, or `None` for a hexadecimal literal.
fn text_for_literal<'b>(
    bytes: &'b [u8],
    ctx: &EscapeContext<'_>,
) -> Result<Option<&'b str>, InterpolateError> {
    if ctx.hex_strings {
        return Ok(None);
    }
    if !is_charset_safe(ctx.charset) {
        return Err(InterpolateError::UnsafeCharset(ctx.charset.to_owned()));
    }
    Ok(std::str::from_utf8(bytes).ok())
}

/// Appends `'text'` with the special characters escaped.
fn write_string_literal(out: &mut String, text: &str, no_backslash_escapes: bool) {
    out.reserve(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if no_backslash_escapes {
            if c == '\'' {
                out.push_str("''");
            } else {
                out.push(c);
            }
            continue;
        }
        match c {
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\x1a' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// Appends `X'…'` with two upper-case hexadecimal digits per byte.
fn write_hex_literal(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2 + 3);
    out.push_str("X'");
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value::{Date, DateTime, Decimal, Time};
    use bytes::Bytes;
    use proptest::prelude::*;

    fn utf8() -> EscapeContext<'static> {
        EscapeContext::new("utf8mb4")
    }

    fn nbe() -> EscapeContext<'static> {
        EscapeContext {
            no_backslash_escapes: true,
            ..utf8()
        }
    }

    fn positions(sql: &str) -> Vec<usize> {
        placeholder_positions(sql, false)
    }

    #[test]
    fn placeholders_in_code() {
        assert_eq!(positions("SELECT ?"), [7]);
        assert_eq!(positions("?,?"), [0, 2]);
        assert_eq!(positions("SELECT 1"), [] as [usize; 0]);
        assert_eq!(positions("SELECT ?+1, é?"), [7, 14]);
        assert_eq!(positions("a??b"), [1, 2]);
    }

    #[test]
    fn placeholders_not_in_literals_or_identifiers() {
        assert_eq!(positions("SELECT '?', ?"), [12]);
        assert_eq!(positions("SELECT \"?\", ?"), [12]);
        assert_eq!(positions("SELECT `a?b`, ?"), [14]);
        // Doubled quotes stay inside the literal.
        assert_eq!(positions("SELECT 'it''s ?', ?"), [18]);
        assert_eq!(positions("SELECT \"a\"\"?\", ?"), [15]);
        assert_eq!(positions("SELECT `a``?`, ?"), [15]);
        // A backslash escapes the quote...
        assert_eq!(positions(r"SELECT 'a\'?', ?"), [15]);
        assert_eq!(positions(r#"SELECT "a\"?", ?"#), [15]);
        assert_eq!(positions(r"SELECT 'a\\', ?"), [14]);
        // ...but not in identifiers.
        assert_eq!(positions(r"SELECT `a\`, ?"), [13]);
        // Other quotes inside a literal do not matter.
        assert_eq!(positions(r#"SELECT '"?`', ?"#), [14]);
        // An unterminated literal runs to the end.
        assert_eq!(positions("SELECT 'abc ?"), [] as [usize; 0]);
    }

    #[test]
    fn placeholders_under_no_backslash_escapes() {
        // 'a\' is a complete literal: the ? after it is a placeholder.
        assert_eq!(placeholder_positions(r"SELECT 'a\', ?", true), [13]);
        assert_eq!(
            placeholder_positions(r"SELECT 'a\', ?", false),
            [] as [usize; 0]
        );
        // Here the ? after 'a\' is code and the next quote opens a literal that never ends.
        assert_eq!(placeholder_positions(r"SELECT 'a\'?', ?", true), [11]);
        assert_eq!(placeholder_positions("SELECT 'it''s ?', ?", true), [18]);
    }

    #[test]
    fn placeholders_not_in_comments() {
        assert_eq!(positions("SELECT ? # ?\n, ?"), [7, 15]);
        assert_eq!(positions("SELECT ? -- ?\n, ?"), [7, 16]);
        assert_eq!(positions("SELECT ? --\t?\n, ?"), [7, 16]);
        assert_eq!(positions("SELECT ? --\n?"), [7, 12]);
        assert_eq!(positions("SELECT ? --\x01?\n?"), [7, 14]);
        assert_eq!(positions("SELECT ? --\x7f?\n?"), [7, 14]);
        assert_eq!(positions("SELECT ? --"), [7]);
        assert_eq!(positions("SELECT ? -- ?"), [7]);
        // `--` without whitespace is two minus signs.
        assert_eq!(positions("SELECT 1--?"), [10]);
        assert_eq!(positions("SELECT 1 -?"), [10]);
        assert_eq!(positions("SELECT ? /* ? */ ?"), [7, 17]);
        assert_eq!(positions("SELECT ? /* ? \n ? */ ?"), [7, 21]);
        assert_eq!(positions("SELECT /*/ ? */ ?"), [16]);
        assert_eq!(positions("SELECT /**/ ?"), [12]);
        assert_eq!(positions("SELECT 4/2, ?"), [12]);
        // Hints are comments; executable comments are refused when interpolating.
        assert_eq!(positions("SELECT /*+ ? */ ?"), [16]);
        // Quotes inside comments and comments inside quotes.
        assert_eq!(positions("SELECT # it's\n?"), [14]);
        assert_eq!(positions("SELECT '#', ?"), [12]);
        assert_eq!(positions("SELECT '/*', ?, '*/'"), [13]);
        assert_eq!(positions("SELECT '-- ', ?"), [14]);
        // An unterminated comment runs to the end.
        assert_eq!(positions("SELECT /* ?"), [] as [usize; 0]);
        assert_eq!(count_placeholders("? /* ? */ ?", false), 2);
    }

    #[test]
    fn should_refuse_statements_that_change_the_escaping_rules() {
        let one = [Value::from("x")];
        let refused = |sql: &str| {
            matches!(
                interpolate(sql, &one, &utf8()),
                Err(InterpolateError::Unsafe(_))
            )
        };
        for sql in [
            "SELECT /*! ? */ ?",
            "SELECT /*!80000 1, */ ?",
            "SELECT /*M! 1, */ ?",
            "SELECT /*m!100100 1, */ ?",
            "SELECT /*+ SET_VAR(sql_mode='NO_BACKSLASH_ESCAPES') */ ?",
            "SET STATEMENT sql_mode='NO_BACKSLASH_ESCAPES' FOR SELECT ?",
            "set statement max_statement_time=1 for select ?",
            "SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT ?",
            "SET NAMES gbk; SELECT ?",
            "SELECT 1; SET @@session.character_set_client = 'gbk'; SELECT ?",
            "SELECT CONVERT('a' USING latin1) CHARSET; SELECT ?",
        ] {
            assert!(refused(sql), "{sql:?}");
        }
        for sql in [
            "SELECT ?",
            "SELECT ? /* SET NAMES gbk */",
            "SELECT 'SET STATEMENT x FOR'; SELECT ?",
            "SELECT /*+ MAX_EXECUTION_TIME(10) */ ?",
            "SELECT ?; SET NAMES gbk",
            "UPDATE t SET a = ? WHERE b = 1",
        ] {
            assert!(!refused(sql), "{sql:?}");
        }
        // Without parameters nothing is interpolated, so nothing is refused.
        assert!(interpolate("SET NAMES gbk; SELECT 1", &[], &utf8()).is_ok());
    }

    #[test]
    fn interpolates_every_type() {
        let d = Date::new(2024, 5, 17).unwrap();
        let params = [
            Value::Null,
            Value::Int(-42),
            Value::UInt(u64::MAX),
            Value::Float(1.1),
            Value::Double(-2.5e-300),
            Value::Decimal("-12.50".parse::<Decimal>().unwrap()),
            Value::Date(d),
            Value::DateTime(DateTime::new(d, 13, 45, 9, 500_000).unwrap()),
            Value::Time(Time::new(true, 100, 0, 1, 0).unwrap()),
            Value::Bit(5),
            Value::Year(2024),
            Value::from("hé"),
            Value::Bytes(Bytes::from_static(b"\xff\x00")),
            Value::Json(Bytes::from_static(br#"{"a":"b'c"}"#)),
            Value::Json(Bytes::from_static(b"\xff")),
            Value::Bytes(Bytes::new()),
        ];
        let sql = interpolate(&"?,".repeat(params.len()), &params, &utf8()).unwrap();
        assert_eq!(
            sql,
            "NULL,-42,18446744073709551615,1.1e0,-2.5e-300,-12.50,'2024-05-17',\
             '2024-05-17 13:45:09.500000','-100:00:01',5,2024,'hé',X'FF00',\
             '{\\\"a\\\":\\\"b\\'c\\\"}',CONVERT(X'FF' USING utf8mb4),'',"
        );
    }

    #[test]
    fn floats_round_trip_through_their_literal() {
        for f in [
            0.0f32,
            -0.0,
            1.1,
            f32::MIN_POSITIVE,
            f32::MAX,
            1e-45,
            3.4e38,
        ] {
            let sql = interpolate("?", &[Value::Float(f)], &utf8()).unwrap();
            assert_eq!(sql.parse::<f32>().unwrap().to_bits(), f.to_bits(), "{sql}");
        }
        for d in [0.1f64, f64::MAX, f64::MIN_POSITIVE, 5e-324, -1.0 / 3.0] {
            let sql = interpolate("?", &[Value::Double(d)], &utf8()).unwrap();
            assert_eq!(sql.parse::<f64>().unwrap().to_bits(), d.to_bits(), "{sql}");
        }
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(
                interpolate("?, ?", &[Value::Int(1), Value::Double(bad)], &utf8()),
                Err(InterpolateError::NonFinite { index: 1 })
            );
        }
        assert_eq!(
            interpolate("?", &[Value::Float(f32::NAN)], &utf8()),
            Err(InterpolateError::NonFinite { index: 0 })
        );
    }

    #[test]
    fn count_mismatch() {
        assert_eq!(
            interpolate("SELECT ?, ?", &[Value::Int(1)], &utf8()),
            Err(InterpolateError::ParamCount {
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            interpolate("SELECT '?'", &[Value::Int(1)], &utf8()),
            Err(InterpolateError::ParamCount {
                expected: 0,
                got: 1
            })
        );
        assert_eq!(
            interpolate("SELECT '?'", &[], &utf8()).unwrap(),
            "SELECT '?'"
        );
        assert_eq!(
            InterpolateError::ParamCount {
                expected: 2,
                got: 1
            }
            .to_string(),
            "the statement has 2 placeholders, 1 parameters were given"
        );
    }

    /// Reads one MySQL string or hex literal at the start of `s`: its bytes and the rest of the
    /// text after it.
    fn unescape(s: &[u8], no_backslash_escapes: bool) -> (Vec<u8>, &[u8]) {
        if let Some(rest) = s.strip_prefix(b"X'") {
            let end = rest
                .iter()
                .position(|&b| b == b'\'')
                .expect("unterminated hex");
            let hex = std::str::from_utf8(&rest[..end]).unwrap();
            assert!(hex.len() % 2 == 0);
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            return (bytes, &rest[end + 1..]);
        }
        assert_eq!(s.first(), Some(&b'\''), "not a literal: {s:?}");
        let mut out = Vec::new();
        let mut i = 1;
        loop {
            let b = *s.get(i).expect("unterminated literal");
            if b == b'\\' && !no_backslash_escapes {
                let e = s[i + 1];
                out.push(match e {
                    b'0' => 0,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b'Z' => 0x1a,
                    b't' => b'\t',
                    b'b' => 0x08,
                    other => other,
                });
                i += 2;
            } else if b == b'\'' {
                if s.get(i + 1) == Some(&b'\'') {
                    out.push(b'\'');
                    i += 2;
                } else {
                    return (out, &s[i + 1..]);
                }
            } else {
                out.push(b);
                i += 1;
            }
        }
    }

    fn round_trip(bytes: &[u8], ctx: &EscapeContext<'_>) {
        let sql = interpolate(
            "SELECT ?, ?",
            &[Value::Bytes(Bytes::copy_from_slice(bytes)), Value::Int(1)],
            ctx,
        )
        .unwrap();
        let literal = sql.strip_prefix("SELECT ").unwrap();
        let (got, rest) = unescape(literal.as_bytes(), ctx.no_backslash_escapes);
        assert_eq!(got, bytes, "{sql:?}");
        assert_eq!(rest, b", 1", "{sql:?}");
        // The literal hides every placeholder-like byte from the scanner.
        assert_eq!(
            placeholder_positions(&sql, ctx.no_backslash_escapes),
            [] as [usize; 0]
        );
    }

    #[test]
    fn every_byte_round_trips() {
        let hex = EscapeContext {
            hex_strings: true,
            ..utf8()
        };
        for ctx in [utf8(), nbe(), hex, EscapeContext::new("latin1")] {
            for b in 0u8..=255 {
                round_trip(&[b], &ctx);
                round_trip(&[b'a', b, b'?', b, b], &ctx);
                round_trip(&[b'\\', b, b'\''], &ctx);
            }
        }
    }

    #[test]
    fn known_injections_stay_inside_the_literal() {
        let attacks: &[&[u8]] = &[
            b"' OR 1=1 -- ",
            b"\\' OR 1=1 #",
            b"'; DROP TABLE t; --",
            b"\\",
            b"\\\\'",
            b"''",
            b"\" OR \"\"=\"",
            b"a\0' OR 1=1 -- ",
            b"a\x1a' OR 1=1",
            b"?' OR ?",
            b"*/ OR 1=1 /*",
            b"\xbf' OR 1=1 -- ",
            b"\xbf\x5c' OR 1=1 -- ",
            "中' OR 1=1 -- ".as_bytes(),
        ];
        for ctx in [utf8(), nbe()] {
            for attack in attacks {
                round_trip(attack, &ctx);
            }
        }
        assert_eq!(
            interpolate("SELECT ?", &[Value::from("' OR 1=1 -- ")], &utf8()).unwrap(),
            r"SELECT '\' OR 1=1 -- '"
        );
        assert_eq!(
            interpolate("SELECT ?", &[Value::from("\\' OR 1=1 #")], &utf8()).unwrap(),
            r"SELECT '\\\' OR 1=1 #'"
        );
        assert_eq!(
            interpolate("SELECT ?", &[Value::from("\\' OR 1=1 #")], &nbe()).unwrap(),
            r"SELECT '\'' OR 1=1 #'"
        );
        assert_eq!(
            interpolate("SELECT ?", &[Value::from("a\0b\x1a\r\n\"")], &utf8()).unwrap(),
            r#"SELECT 'a\0b\Z\r\n\"'"#
        );
        assert_eq!(
            interpolate("SELECT ?", &[Value::from("a\0b\"")], &nbe()).unwrap(),
            "SELECT 'a\0b\"'"
        );
    }

    #[test]
    fn unsafe_charsets_refuse_strings() {
        for charset in [
            "gbk", "GBK", "big5", "sjis", "cp932", "gb18030", "klingon", "",
        ] {
            assert!(!is_charset_safe(charset), "{charset}");
            let ctx = EscapeContext::new(charset);
            for value in [
                Value::Bytes(Bytes::from_static(b"\xbf\x27 OR 1=1 -- ")),
                Value::from("中' OR 1=1 -- "),
                Value::from("plain"),
                Value::Json(Bytes::from_static(b"{}")),
            ] {
                assert_eq!(
                    interpolate("SELECT ?", &[value], &ctx),
                    Err(InterpolateError::UnsafeCharset(charset.to_owned()))
                );
                let nbe = EscapeContext {
                    no_backslash_escapes: true,
                    ..ctx
                };
                assert!(interpolate("SELECT ?", &[Value::from("x")], &nbe).is_err());
            }
            // Numbers, dates and NULL are still fine.
            assert_eq!(
                interpolate(
                    "SELECT ?, ?, ?",
                    &[Value::Int(1), Value::Null, Value::Date(Date::ZERO)],
                    &ctx
                )
                .unwrap(),
                "SELECT 1, NULL, '0000-00-00'"
            );
            // Hexadecimal literals are safe under any character set.
            let hex = EscapeContext {
                hex_strings: true,
                ..ctx
            };
            assert_eq!(
                interpolate(
                    "SELECT ?, ?",
                    &[
                        Value::Bytes(Bytes::from_static(b"\xbf\x27")),
                        Value::Json(Bytes::from_static(b"{}"))
                    ],
                    &hex
                )
                .unwrap(),
                "SELECT X'BF27', CONVERT(X'7B7D' USING utf8mb4)"
            );
        }
        for charset in [
            "utf8mb4", "UTF8MB4", "utf8", "utf8mb3", "latin1", "ascii", "binary", "euckr",
        ] {
            assert!(is_charset_safe(charset), "{charset}");
        }
    }

    /// Splits interpolated SQL of the form `?|?|…` back into the literals' bytes.
    fn literals(mut sql: &[u8], no_backslash_escapes: bool) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let (bytes, rest) = unescape(sql, no_backslash_escapes);
            out.push(bytes);
            match rest.split_first() {
                Some((b'|', rest)) => sql = rest,
                None => return out,
                Some(_) => panic!("garbage after literal: {rest:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_strings_round_trip(
            values in proptest::collection::vec(
                prop_oneof![
                    any::<String>().prop_map(Vec::from),
                    proptest::collection::vec(any::<u8>(), 0..16),
                    proptest::collection::vec(prop_oneof![Just(b'\''), Just(b'\\'), Just(b'"'), Just(b'?'), Just(0u8), any::<u8>()], 0..16),
                ],
                1..6,
            ),
            no_backslash_escapes in any::<bool>(),
        ) {
            let ctx = EscapeContext { no_backslash_escapes, ..utf8() };
            let params: Vec<Value> = values.iter().map(|v| Value::Bytes(Bytes::copy_from_slice(v))).collect();
            let template = vec!["?"; values.len()].join("|");
            let sql = interpolate(&template, &params, &ctx).unwrap();
            prop_assert_eq!(literals(sql.as_bytes(), no_backslash_escapes), values);
            prop_assert!(placeholder_positions(&sql, no_backslash_escapes).is_empty());
        }

        #[test]
        fn scanning_never_panics(sql in any::<String>(), nbe in any::<bool>()) {
            for p in placeholder_positions(&sql, nbe) {
                prop_assert_eq!(sql.as_bytes()[p], b'?');
            }
        }
    }
}
