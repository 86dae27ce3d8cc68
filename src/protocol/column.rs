//! Column definitions (`Protocol::ColumnDefinition41`), shared by the text and binary
//! result-set decoders.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_column_definition.html>
use super::buf::ParseBuf;
use super::constants::ColumnType;
use super::ProtocolError;

/// Largest column count accepted in a result set (MySQL and MariaDB allow at most 4096 columns
/// per table).
pub const MAX_COLUMNS: u64 = 4096;

/// A column definition (Protocol::ColumnDefinition41).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Schema name.
    pub schema: String,
    /// Table alias.
    pub table: String,
    /// Physical table name.
    pub org_table: String,
    /// Column alias.
    pub name: String,
    /// Physical column name.
    pub org_name: String,
    /// Character set / collation id (63 = binary).
    pub charset: u16,
    /// Maximum display length.
    pub column_length: u32,
    /// Column type.
    pub column_type: ColumnType,
    /// Column flags ([`super::constants::column_flags`]).
    pub flags: u16,
    /// Number of decimals.
    pub decimals: u8,
}

fn lenenc_string(p: &mut ParseBuf<'_>, what: &'static str) -> Result<String, ProtocolError> {
    Ok(String::from_utf8_lossy(p.lenenc_bytes_non_null(what)?).into_owned())
}

impl Column {
    /// Parses a ColumnDefinition41 payload.
    pub fn parse(payload: &[u8]) -> Result<Self, ProtocolError> {
        let mut p = ParseBuf::new(payload);
        p.lenenc_bytes_non_null("column catalog")?;
        let schema = lenenc_string(&mut p, "column schema")?;
        let table = lenenc_string(&mut p, "column table")?;
        let org_table = lenenc_string(&mut p, "column org_table")?;
        let name = lenenc_string(&mut p, "column name")?;
        let org_name = lenenc_string(&mut p, "column org_name")?;
        let fixed_len = p
            .lenenc_int("column fixed fields length")?
            .ok_or(ProtocolError::Malformed("NULL column fixed fields length"))?;
        if fixed_len < 10 {
            return Err(ProtocolError::Malformed("column fixed fields too short"));
        }
        let fixed_len = usize::try_from(fixed_len)
            .map_err(|_| ProtocolError::Truncated("column fixed fields"))?;
        let mut fixed = ParseBuf::new(p.bytes(fixed_len, "column fixed fields")?);
        let charset = fixed.u16("column charset")?;
        let column_length = fixed.u32("column length")?;
        let column_type = ColumnType::from_u8(fixed.u8("column type")?)
            .ok_or(ProtocolError::Malformed("unknown column type"))?;
        let flags = fixed.u16("column flags")?;
        let decimals = fixed.u8("column decimals")?;
        Ok(Column {
            schema,
            table,
            org_table,
            name,
            org_name,
            charset,
            column_length,
            column_type,
            flags,
            decimals,
        })
    }
}
