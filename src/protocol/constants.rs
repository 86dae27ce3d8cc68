//! Protocol constants: capability flags, status flags, command bytes, column types and flags.
//!
//! See <https://dev.mysql.com/doc/dev/mysql-server/latest/group__group__cs__capabilities__flags.html>
//! and <https://mariadb.com/kb/en/connection/#capabilities>.

/// Client/server capability flags (the low 32 bits shared by MySQL and MariaDB).
pub mod capabilities {
    /// Use the improved version of old password authentication (always set).
    pub const CLIENT_LONG_PASSWORD: u32 = 1;
    /// Send found rows instead of affected rows in EOF/OK.
    pub const CLIENT_FOUND_ROWS: u32 = 1 << 1;
    /// Get all column flags.
    pub const CLIENT_LONG_FLAG: u32 = 1 << 2;
    /// A database (schema) name may be given in the handshake response.
    pub const CLIENT_CONNECT_WITH_DB: u32 = 1 << 3;
    /// Don't allow `database.table.column`.
    pub const CLIENT_NO_SCHEMA: u32 = 1 << 4;
    /// Compression protocol supported.
    pub const CLIENT_COMPRESS: u32 = 1 << 5;
    /// ODBC client (unused).
    pub const CLIENT_ODBC: u32 = 1 << 6;
    /// LOAD DATA LOCAL may be used.
    pub const CLIENT_LOCAL_FILES: u32 = 1 << 7;
    /// Ignore spaces before '('.
    pub const CLIENT_IGNORE_SPACE: u32 = 1 << 8;
    /// New 4.1 protocol.
    pub const CLIENT_PROTOCOL_41: u32 = 1 << 9;
    /// Interactive client (uses `interactive_timeout`).
    pub const CLIENT_INTERACTIVE: u32 = 1 << 10;
    /// Use SSL/TLS after the handshake.
    pub const CLIENT_SSL: u32 = 1 << 11;
    /// Ignore SIGPIPE (client-only, unused on the wire).
    pub const CLIENT_IGNORE_SIGPIPE: u32 = 1 << 12;
    /// Client knows about transactions (status flags in OK).
    pub const CLIENT_TRANSACTIONS: u32 = 1 << 13;
    /// Deprecated 4.1 protocol flag.
    pub const CLIENT_RESERVED: u32 = 1 << 14;
    /// 4.1 authentication (SECURE_CONNECTION).
    pub const CLIENT_SECURE_CONNECTION: u32 = 1 << 15;
    /// Multiple statements per COM_QUERY.
    pub const CLIENT_MULTI_STATEMENTS: u32 = 1 << 16;
    /// Multiple result sets.
    pub const CLIENT_MULTI_RESULTS: u32 = 1 << 17;
    /// Multiple result sets from prepared statements.
    pub const CLIENT_PS_MULTI_RESULTS: u32 = 1 << 18;
    /// Pluggable authentication.
    pub const CLIENT_PLUGIN_AUTH: u32 = 1 << 19;
    /// Connection attributes in the handshake response.
    pub const CLIENT_CONNECT_ATTRS: u32 = 1 << 20;
    /// Length-encoded auth response data.
    pub const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 1 << 21;
    /// Client can handle expired passwords.
    pub const CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS: u32 = 1 << 22;
    /// Session state change information in OK packets.
    pub const CLIENT_SESSION_TRACK: u32 = 1 << 23;
    /// OK packets replace EOF packets.
    pub const CLIENT_DEPRECATE_EOF: u32 = 1 << 24;
    /// Optional result set metadata (MySQL 8).
    pub const CLIENT_OPTIONAL_RESULTSET_METADATA: u32 = 1 << 25;
    /// Query attributes (MySQL 8.0.23+).
    pub const CLIENT_QUERY_ATTRIBUTES: u32 = 1 << 27;
    /// Multi-factor authentication (MySQL 8.0.27+).
    pub const CLIENT_MULTI_FACTOR_AUTHENTICATION: u32 = 1 << 28;
    /// Verify the server certificate (client-only).
    pub const CLIENT_SSL_VERIFY_SERVER_CERT: u32 = 1 << 30;
    /// Don't reset options after a failed connect (client-only).
    pub const CLIENT_REMEMBER_OPTIONS: u32 = 1 << 31;
    /// MariaDB: this server is MariaDB and the extended capabilities field is valid.
    /// (This is the *absence* of `CLIENT_LONG_PASSWORD` in the greeting of MariaDB 10.2+.)
    pub const MARIADB_CLIENT_MYSQL: u32 = 1;
}

/// MariaDB's extended capability flags (the upper 32 bits of its 64-bit capabilities, sent in
/// otherwise unused bytes of the handshake when `CLIENT_MYSQL` is not set).
pub mod mariadb_capabilities {
    /// The server leaves out the column definitions of a prepared statement's result when
    /// they did not change since the client last received them (MariaDB 10.6+). Every result
    /// set's column count is then followed by a "metadata follows" byte.
    pub const MARIADB_CLIENT_CACHE_METADATA: u32 = 1 << 4;
}

/// Server status flags carried by OK and EOF packets.
pub mod status {
    /// A transaction is active.
    pub const SERVER_STATUS_IN_TRANS: u16 = 1;
    /// Autocommit mode is on.
    pub const SERVER_STATUS_AUTOCOMMIT: u16 = 1 << 1;
    /// More result sets follow.
    pub const SERVER_MORE_RESULTS_EXISTS: u16 = 1 << 3;
    /// The query used no good index.
    pub const SERVER_QUERY_NO_GOOD_INDEX_USED: u16 = 1 << 4;
    /// The query used no index.
    pub const SERVER_QUERY_NO_INDEX_USED: u16 = 1 << 5;
    /// A read-only cursor exists (COM_STMT_FETCH).
    pub const SERVER_STATUS_CURSOR_EXISTS: u16 = 1 << 6;
    /// The last row of a cursor has been sent.
    pub const SERVER_STATUS_LAST_ROW_SENT: u16 = 1 << 7;
    /// A database was dropped.
    pub const SERVER_STATUS_DB_DROPPED: u16 = 1 << 8;
    /// `NO_BACKSLASH_ESCAPES` is in the session's sql_mode.
    pub const SERVER_STATUS_NO_BACKSLASH_ESCAPES: u16 = 1 << 9;
    /// Prepared statement metadata changed.
    pub const SERVER_STATUS_METADATA_CHANGED: u16 = 1 << 10;
    /// The query was slow.
    pub const SERVER_QUERY_WAS_SLOW: u16 = 1 << 11;
    /// Output parameters of a stored procedure follow.
    pub const SERVER_PS_OUT_PARAMS: u16 = 1 << 12;
    /// The transaction is read-only.
    pub const SERVER_STATUS_IN_TRANS_READONLY: u16 = 1 << 13;
    /// Session state changed (session tracking data present).
    pub const SERVER_SESSION_STATE_CHANGED: u16 = 1 << 14;
}

/// Command bytes (the first byte of a command packet).
pub mod command {
    /// Close the connection.
    pub const COM_QUIT: u8 = 0x01;
    /// Change the default schema.
    pub const COM_INIT_DB: u8 = 0x02;
    /// Text-protocol query.
    pub const COM_QUERY: u8 = 0x03;
    /// Liveness check.
    pub const COM_PING: u8 = 0x0e;
    /// Change user (re-authenticate).
    pub const COM_CHANGE_USER: u8 = 0x11;
    /// Prepare a statement.
    pub const COM_STMT_PREPARE: u8 = 0x16;
    /// Execute a prepared statement.
    pub const COM_STMT_EXECUTE: u8 = 0x17;
    /// Send long parameter data.
    pub const COM_STMT_SEND_LONG_DATA: u8 = 0x18;
    /// Deallocate a prepared statement.
    pub const COM_STMT_CLOSE: u8 = 0x19;
    /// Reset a prepared statement's long data and cursor.
    pub const COM_STMT_RESET: u8 = 0x1a;
    /// Set a connection option (multi-statements on/off).
    pub const COM_SET_OPTION: u8 = 0x1b;
    /// Fetch rows from a cursor.
    pub const COM_STMT_FETCH: u8 = 0x1c;
    /// Reset the session state.
    pub const COM_RESET_CONNECTION: u8 = 0x1f;
}

/// Column types as sent in column definitions (`enum_field_types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum ColumnType {
    Decimal = 0x00,
    Tiny = 0x01,
    Short = 0x02,
    Long = 0x03,
    Float = 0x04,
    Double = 0x05,
    Null = 0x06,
    Timestamp = 0x07,
    LongLong = 0x08,
    Int24 = 0x09,
    Date = 0x0a,
    Time = 0x0b,
    DateTime = 0x0c,
    Year = 0x0d,
    NewDate = 0x0e,
    VarChar = 0x0f,
    Bit = 0x10,
    Timestamp2 = 0x11,
    DateTime2 = 0x12,
    Time2 = 0x13,
    TypedArray = 0x14,
    Vector = 0xf2,
    Json = 0xf5,
    NewDecimal = 0xf6,
    Enum = 0xf7,
    Set = 0xf8,
    TinyBlob = 0xf9,
    MediumBlob = 0xfa,
    LongBlob = 0xfb,
    Blob = 0xfc,
    VarString = 0xfd,
    String = 0xfe,
    Geometry = 0xff,
}

impl ColumnType {
    /// Maps a wire byte to a column type; `None` for a byte no server sends.
    pub fn from_u8(b: u8) -> Option<Self> {
        use ColumnType::*;
        Some(match b {
            0x00 => Decimal,
            0x01 => Tiny,
            0x02 => Short,
            0x03 => Long,
            0x04 => Float,
            0x05 => Double,
            0x06 => Null,
            0x07 => Timestamp,
            0x08 => LongLong,
            0x09 => Int24,
            0x0a => Date,
            0x0b => Time,
            0x0c => DateTime,
            0x0d => Year,
            0x0e => NewDate,
            0x0f => VarChar,
            0x10 => Bit,
            0x11 => Timestamp2,
            0x12 => DateTime2,
            0x13 => Time2,
            0x14 => TypedArray,
            0xf2 => Vector,
            0xf5 => Json,
            0xf6 => NewDecimal,
            0xf7 => Enum,
            0xf8 => Set,
            0xf9 => TinyBlob,
            0xfa => MediumBlob,
            0xfb => LongBlob,
            0xfc => Blob,
            0xfd => VarString,
            0xfe => String,
            0xff => Geometry,
            _ => return None,
        })
    }
}

/// Column definition flags.
pub mod column_flags {
    /// Field can't be NULL.
    pub const NOT_NULL: u16 = 1;
    /// Field is part of a primary key.
    pub const PRI_KEY: u16 = 1 << 1;
    /// Field is part of a unique key.
    pub const UNIQUE_KEY: u16 = 1 << 2;
    /// Field is part of a key.
    pub const MULTIPLE_KEY: u16 = 1 << 3;
    /// Field is a blob.
    pub const BLOB: u16 = 1 << 4;
    /// Field is unsigned.
    pub const UNSIGNED: u16 = 1 << 5;
    /// Field is zerofill.
    pub const ZEROFILL: u16 = 1 << 6;
    /// Field is binary.
    pub const BINARY: u16 = 1 << 7;
    /// Field is an enum.
    pub const ENUM: u16 = 1 << 8;
    /// Field is auto-increment.
    pub const AUTO_INCREMENT: u16 = 1 << 9;
    /// Field is a timestamp.
    pub const TIMESTAMP: u16 = 1 << 10;
    /// Field is a set.
    pub const SET: u16 = 1 << 11;
    /// Field has no default value.
    pub const NO_DEFAULT_VALUE: u16 = 1 << 12;
    /// Field is set to NOW on UPDATE.
    pub const ON_UPDATE_NOW: u16 = 1 << 13;
    /// Field is numeric.
    pub const NUM: u16 = 1 << 15;
}

/// Character set / collation id of binary data (`binary`).
pub const BINARY_COLLATION: u16 = 63;
/// `utf8mb4_general_ci`, understood by every supported server; the default we ask for.
pub const UTF8MB4_GENERAL_CI: u8 = 45;

/// Default `max_allowed_packet` bound for packets we accept (64 MiB, the server's default).
pub const DEFAULT_MAX_ALLOWED_PACKET: usize = 64 * 1024 * 1024;
/// Largest payload of one wire packet; longer payloads are split.
pub const MAX_PAYLOAD_LEN: usize = 0x00FF_FFFF;
