//! Connection options and the `mysql://` URL format.
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};
use crate::protocol::constants::DEFAULT_MAX_ALLOWED_PACKET;

/// Options of a connection: where the server is, who to log in as, and how the connection
/// behaves.
///
/// # URL format
///
/// ```text
/// mysql://[user[:password]@]host[:port][/database][?param=value&...]
/// ```
///
/// User, password and database are percent-decoded. Parameters (unknown ones are an error):
///
/// | parameter | meaning | default |
/// |---|---|---|
/// | `socket` | path of a unix domain socket to use instead of TCP | none |
/// | `connect_timeout` | bound on TCP connect + handshake + authentication (`5s`, `500ms`, `2m`, or plain seconds) | `10s` |
/// | `idle_timeout` | close the connection after this long with nothing to do (`0` = never) | never |
/// | `max_allowed_packet` | largest packet accepted from the server, in bytes | 64 MiB |
/// | `allow_public_key_retrieval` | let `caching_sha2_password`/`sha256_password` ask the server for its RSA key over plain TCP | `false` |
/// | `server_public_key` | path of a PEM file with the server's RSA public key (pinned) | none |
/// | `queue_timeout` | how long a command may wait in the queue | `30s` |
/// | `max_queue` | commands a connection queues before refusing more | `10000` |
/// | `query_timeout` | statement run-time bound, enforced with `KILL QUERY` (`0` = none) | none |
/// | `max_reconnect_attempts` | reconnect attempts before queued commands fail | `10` |
/// | `tcp_keepalive` | TCP keepalive idle time (`0` = off) | `30s` |
/// | `init` | a statement run on every new connection (may be repeated) | none |
/// | `stmt_cache_size` | prepared statements kept per connection (LRU) | `256` |
/// | `multi_statements` | allow `;`-separated statements in one query | `false` |
/// | `pipeline_depth` | commands written before the first reply is read (`1` = no pipelining; see [`Opts::with_pipeline_depth`]) | `1` |
/// | `ssl_mode` | `disabled`, `preferred`, `required`, `verify_ca` or `verify_identity` (see [`SslMode`]) | `disabled` |
/// | `ssl_ca` | path of a PEM file with the CA certificate(s) that `verify_ca`/`verify_identity` trust instead of the system roots | system roots |
/// | `ssl_cert` | path of a PEM file with the client certificate chain (needs `ssl_key`) | none |
/// | `ssl_key` | path of a PEM file with the client certificate's private key | none |
/// | `tls_server_name` | name sent as SNI and checked against the certificate by `verify_identity` | the host |
///
/// # Example
///
/// Build them with [`Opts::new`] and the `with_*` setters, or parse a URL with
/// [`Opts::from_url`].
///
/// ```
/// use std::time::Duration;
/// use actix_mysql::Opts;
///
/// let opts = Opts::new()
///     .with_host("127.0.0.1")
///     .with_port(3306)
///     .with_user("app")
///     .with_password("secret")
///     .with_db("shop")
///     .with_connect_timeout(Duration::from_secs(5));
/// assert_eq!(opts.db(), Some("shop"));
///
/// let same = Opts::from_url("mysql://app:secret@127.0.0.1:3306/shop?connect_timeout=5s").unwrap();
/// assert_eq!(same.connect_timeout(), Duration::from_secs(5));
/// ```
#[derive(Clone)]
pub struct Opts {
    host: String,
    port: u16,
    socket: Option<PathBuf>,
    user: String,
    password: Option<String>,
    db: Option<String>,
    connect_timeout: Duration,
    idle_timeout: Option<Duration>,
    max_allowed_packet: usize,
    allow_public_key_retrieval: bool,
    server_public_key: Option<ServerPublicKey>,
    queue_timeout: Duration,
    max_queue: usize,
    query_timeout: Option<Duration>,
    reconnect: ReconnectPolicy,
    temporary_error_codes: Vec<u16>,
    temporary_error_strings: Vec<String>,
    init: Vec<String>,
    tcp_keepalive: Option<Duration>,
    stmt_cache_size: usize,
    pipeline_depth: usize,
    multi_statements: bool,
    local_infile: Option<LocalInfileHandler>,
    tls: TlsOpts,
}

/// TLS settings (see [`SslMode`]).
#[derive(Clone, Debug, Default)]
struct TlsOpts {
    mode: SslMode,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    server_name: Option<String>,
}

/// Whether a TCP connection uses TLS, and how the server's certificate is checked; the values
/// of MySQL's `--ssl-mode`.
///
/// TLS is negotiated after the server greeting when the server offers `CLIENT_SSL`. Connections
/// over a unix socket never use TLS: the socket is local and already counts as a secure
/// transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SslMode {
    /// Plain TCP, even when the server offers TLS.
    #[default]
    Disabled,
    /// TLS when the server offers it, plain TCP otherwise. The certificate is not checked:
    /// this protects against eavesdropping, not against an active man in the middle.
    Preferred,
    /// TLS or no connection ([`ErrorKind::Tls`](crate::ErrorKind::Tls) when the server does not
    /// offer it). The certificate is not checked (encryption only).
    Required,
    /// Like `Required`, and the certificate chain must lead to a trusted CA (`ssl_ca`, or the
    /// system's roots); the host name is not checked.
    VerifyCa,
    /// Like `VerifyCa`, and the certificate must be valid for the host name (or
    /// `tls_server_name`).
    VerifyIdentity,
}

impl SslMode {
    /// True when the connection must not go on without TLS.
    pub fn requires_tls(self) -> bool {
        matches!(
            self,
            SslMode::Required | SslMode::VerifyCa | SslMode::VerifyIdentity
        )
    }

    /// The URL spelling: `disabled`, `preferred`, `required`, `verify_ca`, `verify_identity`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disabled => "disabled",
            SslMode::Preferred => "preferred",
            SslMode::Required => "required",
            SslMode::VerifyCa => "verify_ca",
            SslMode::VerifyIdentity => "verify_identity",
        }
    }
}

impl std::str::FromStr for SslMode {
    type Err = Error;
    /// Parses the URL spelling, case-insensitively; `-` may stand for `_`.
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "disabled" => SslMode::Disabled,
            "preferred" => SslMode::Preferred,
            "required" => SslMode::Required,
            "verify_ca" => SslMode::VerifyCa,
            "verify_identity" => SslMode::VerifyIdentity,
            _ => {
                return Err(Error::config(format!(
                    "ssl_mode: expected disabled, preferred, required, verify_ca or \
                     verify_identity, got {s:?}"
                )))
            }
        })
    }
}

/// The user's `LOAD DATA LOCAL INFILE` handler.
#[derive(Clone)]
struct LocalInfileHandler(Arc<ReadLocalFile>);

/// Reads a local file the server asked for.
type ReadLocalFile = dyn Fn(&str) -> std::io::Result<Vec<u8>> + Send + Sync;

/// How a connection reconnects after a failure: exponential backoff with jitter between
/// attempts, bounded in count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// Delay before the first retry.
    pub initial_backoff: Duration,
    /// Upper bound of the delay.
    pub max_backoff: Duration,
    /// Attempts before queued commands fail with a timeout error.
    pub max_attempts: u32,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_attempts: 10,
        }
    }
}

impl ReconnectPolicy {
    /// The delay before attempt `attempt` (1-based): `initial * 2^(attempt-1)` capped at `max`,
    /// then scaled by `jitter` in `0.5..=1.0` so that many clients do not retry in step.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        exp.min(self.max_backoff).mul_f64(jitter.clamp(0.5, 1.0))
    }
}

/// Server error codes that count as temporary by default: the connection is reopened and the
/// command sent again.
pub const DEFAULT_TEMPORARY_ERROR_CODES: &[u16] = &[
    1040, // ER_CON_COUNT_ERROR: too many connections
    1053, // ER_SERVER_SHUTDOWN: server shutdown in progress
    1927, // ER_CONNECTION_KILLED (MariaDB)
    4031, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL, idle connection closed)
];

/// The server errors whose messages are matched against the temporary error strings: errors
/// about the connection or the server's state, whose text never carries the caller's data.
/// Any other error (a duplicate key quoting its value, a `SIGNAL` with the caller's own
/// message, ...) is temporary only by its code, so that data can never make an error look
/// like a lost connection.
pub const MESSAGE_MATCHED_ERROR_CODES: &[u16] = &[
    1040, // ER_CON_COUNT_ERROR
    1047, // ER_UNKNOWN_COM_ERROR (Galera: WSREP has not yet prepared node)
    1053, // ER_SERVER_SHUTDOWN
    1152, // ER_ABORTING_CONNECTION
    1153, // ER_NET_PACKET_TOO_LARGE
    1154, // ER_NET_READ_ERROR_FROM_PIPE
    1155, // ER_NET_FCNTL_ERROR
    1156, // ER_NET_PACKETS_OUT_OF_ORDER
    1157, // ER_NET_UNCOMPRESS_ERROR
    1158, // ER_NET_READ_ERROR
    1159, // ER_NET_READ_INTERRUPTED
    1160, // ER_NET_ERROR_ON_WRITE
    1161, // ER_NET_WRITE_INTERRUPTED
    1184, // ER_NEW_ABORTING_CONNECTION
    1205, // ER_LOCK_WAIT_TIMEOUT
    1213, // ER_LOCK_DEADLOCK
    1927, // ER_CONNECTION_KILLED
    2006, // CR_SERVER_GONE_ERROR (as relayed by proxies)
    2013, // CR_SERVER_LOST (as relayed by proxies)
    4031, // ER_CLIENT_INTERACTION_TIMEOUT
    9001, 9002, 9003, 9004, 9005, 9006, // ProxySQL's own connection errors
];

/// Message substrings (compared case-insensitively) that count as temporary by default, for
/// the errors in [`MESSAGE_MATCHED_ERROR_CODES`].
pub const DEFAULT_TEMPORARY_ERROR_STRINGS: &[&str] = &[
    "server has gone away",
    "lost connection",
    "connection was killed",
    "server shutdown in progress",
    "too many connections",
];

/// A pinned RSA public key of the server.
#[derive(Clone, Debug)]
enum ServerPublicKey {
    File(PathBuf),
    Pem(Arc<[u8]>),
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            host: "127.0.0.1".into(),
            port: 3306,
            socket: None,
            user: "root".into(),
            password: None,
            db: None,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: None,
            max_allowed_packet: DEFAULT_MAX_ALLOWED_PACKET,
            allow_public_key_retrieval: false,
            server_public_key: None,
            queue_timeout: Duration::from_secs(30),
            max_queue: 10_000,
            query_timeout: None,
            reconnect: ReconnectPolicy::default(),
            temporary_error_codes: DEFAULT_TEMPORARY_ERROR_CODES.to_vec(),
            temporary_error_strings: DEFAULT_TEMPORARY_ERROR_STRINGS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            init: Vec::new(),
            tcp_keepalive: Some(Duration::from_secs(30)),
            stmt_cache_size: 256,
            pipeline_depth: 1,
            multi_statements: false,
            local_infile: None,
            tls: TlsOpts::default(),
        }
    }
}

impl fmt::Debug for Opts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opts")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("socket", &self.socket)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("db", &self.db)
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_allowed_packet", &self.max_allowed_packet)
            .field(
                "allow_public_key_retrieval",
                &self.allow_public_key_retrieval,
            )
            .field("server_public_key", &self.server_public_key.is_some())
            .field("queue_timeout", &self.queue_timeout)
            .field("max_queue", &self.max_queue)
            .field("query_timeout", &self.query_timeout)
            .field("reconnect", &self.reconnect)
            .field("temporary_error_codes", &self.temporary_error_codes)
            .field("temporary_error_strings", &self.temporary_error_strings)
            .field("init", &self.init)
            .field("tcp_keepalive", &self.tcp_keepalive)
            .field("stmt_cache_size", &self.stmt_cache_size)
            .field("pipeline_depth", &self.pipeline_depth)
            .field("multi_statements", &self.multi_statements)
            .field("local_infile", &self.local_infile.is_some())
            .field("tls", &self.tls)
            .finish()
    }
}

impl Opts {
    /// Default options: `root` without a password on `127.0.0.1:3306`, no database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a `mysql://` URL (see [URL format](Opts#url-format) for the parameters).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a malformed URL, a scheme other than
    /// `mysql`/`mariadb`, a bad parameter value or an unknown parameter.
    pub fn from_url(url: &str) -> Result<Self> {
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::config(format!("invalid connection URL: {e}")))?;
        if !matches!(parsed.scheme(), "mysql" | "mariadb") {
            return Err(Error::config(format!(
                "unsupported URL scheme {:?} (expected mysql://)",
                parsed.scheme()
            )));
        }
        let mut opts = Opts::new();
        if let Some(host) = parsed.host_str() {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if !host.is_empty() {
                opts.host = host.to_string();
            }
        }
        if let Some(port) = parsed.port() {
            opts.port = port;
        }
        if !parsed.username().is_empty() {
            opts.user = decode(parsed.username(), "user")?;
        }
        if let Some(pw) = parsed.password() {
            opts.password = Some(decode(pw, "password")?);
        }
        let path = parsed.path().trim_start_matches('/');
        if !path.is_empty() {
            opts.db = Some(decode(path, "database")?);
        }
        for (key, value) in parsed.query_pairs() {
            let value = value.as_ref();
            match key.as_ref() {
                "socket" => opts.socket = Some(PathBuf::from(value)),
                "connect_timeout" => opts.connect_timeout = parse_duration(&key, value)?,
                "idle_timeout" => {
                    let d = parse_duration(&key, value)?;
                    opts.idle_timeout = (!d.is_zero()).then_some(d);
                }
                "max_allowed_packet" => {
                    opts.max_allowed_packet = value.parse().map_err(|_| {
                        Error::config(format!("max_allowed_packet: not a byte count: {value:?}"))
                    })?
                }
                "allow_public_key_retrieval" => {
                    opts.allow_public_key_retrieval = parse_bool(&key, value)?
                }
                "server_public_key" => {
                    opts.server_public_key = Some(ServerPublicKey::File(PathBuf::from(value)))
                }
                "queue_timeout" => opts.queue_timeout = parse_duration(&key, value)?,
                "query_timeout" => {
                    let d = parse_duration(&key, value)?;
                    opts.query_timeout = (!d.is_zero()).then_some(d);
                }
                "max_queue" => {
                    opts.max_queue = value
                        .parse()
                        .map_err(|_| Error::config(format!("max_queue: not a count: {value:?}")))?
                }
                "max_reconnect_attempts" => {
                    opts.reconnect.max_attempts = value.parse().map_err(|_| {
                        Error::config(format!("max_reconnect_attempts: not a count: {value:?}"))
                    })?
                }
                "tcp_keepalive" => {
                    let d = parse_duration(&key, value)?;
                    opts.tcp_keepalive = (!d.is_zero()).then_some(d);
                }
                "init" => opts.init.push(value.to_string()),
                "stmt_cache_size" => {
                    opts.stmt_cache_size = value.parse().map_err(|_| {
                        Error::config(format!("stmt_cache_size: not a count: {value:?}"))
                    })?
                }
                "pipeline_depth" => {
                    opts.pipeline_depth = match value.parse() {
                        Ok(n) if n >= 1 => n,
                        _ => {
                            return Err(Error::config(format!(
                                "pipeline_depth: not a count of at least 1: {value:?}"
                            )))
                        }
                    }
                }
                "multi_statements" => opts.multi_statements = parse_bool(&key, value)?,
                "ssl_mode" => opts.tls.mode = value.parse()?,
                "ssl_ca" => opts.tls.ca = Some(PathBuf::from(value)),
                "ssl_cert" => opts.tls.cert = Some(PathBuf::from(value)),
                "ssl_key" => opts.tls.key = Some(PathBuf::from(value)),
                "tls_server_name" => opts.tls.server_name = Some(value.to_string()),
                other => {
                    return Err(Error::config(format!("unknown URL parameter {other:?}")));
                }
            }
        }
        Ok(opts)
    }

    /// Sets the host name or IP address (default `127.0.0.1`).
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }
    /// Sets the TCP port (default 3306).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Connects through a unix domain socket instead of TCP.
    pub fn with_socket(mut self, path: impl Into<PathBuf>) -> Self {
        self.socket = Some(path.into());
        self
    }
    /// Sets the user name (default `root`).
    pub fn with_user(mut self, user: impl Into<String>) -> Self {
        self.user = user.into();
        self
    }
    /// Sets the password.
    pub fn with_password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }
    /// Sets the database used at connect (`CLIENT_CONNECT_WITH_DB`).
    pub fn with_db(mut self, db: impl Into<String>) -> Self {
        self.db = Some(db.into());
        self
    }
    /// Bounds TCP connect + handshake + authentication (default 10 s).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// Closes the connection after this long with nothing to do; the next query reopens it.
    pub fn with_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }
    /// Largest packet accepted from the server (default 64 MiB); larger ones are a protocol
    /// error, refused before any memory is reserved for them.
    pub fn with_max_allowed_packet(mut self, bytes: usize) -> Self {
        self.max_allowed_packet = bytes;
        self
    }
    /// Lets RSA-based authentication over plain TCP ask the server for its public key.
    ///
    /// A key fetched over an unencrypted connection can be replaced by a man in the middle,
    /// which then learns the password: prefer [`Opts::with_server_public_key_pem`], TLS, or a
    /// unix socket.
    pub fn with_allow_public_key_retrieval(mut self, allow: bool) -> Self {
        self.allow_public_key_retrieval = allow;
        self
    }
    /// Pins the server's RSA public key (PEM text) for password encryption over plain TCP.
    pub fn with_server_public_key_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.server_public_key = Some(ServerPublicKey::Pem(pem.into().into()));
        self
    }
    /// Pins the server's RSA public key, read from a PEM file at connect time.
    pub fn with_server_public_key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.server_public_key = Some(ServerPublicKey::File(path.into()));
        self
    }

    /// How long a command may wait in the queue (for a connection, or behind other commands)
    /// before it fails with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) (default 30 s).
    pub fn with_queue_timeout(mut self, timeout: Duration) -> Self {
        self.queue_timeout = timeout;
        self
    }
    /// Bounds the queue of a connection (default 10,000): past it, commands fail at once with
    /// [`ErrorKind::QueueFull`](crate::ErrorKind::QueueFull).
    pub fn with_max_queue(mut self, max: usize) -> Self {
        self.max_queue = max.max(1);
        self
    }
    /// Default bound on a statement's run time once sent; when it passes, the statement is
    /// killed on the server (`KILL QUERY` from a second connection) and fails with
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout). The connection stays usable.
    pub fn with_query_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.query_timeout = timeout;
        self
    }
    /// Sets the reconnect backoff and attempt bound.
    pub fn with_reconnect_policy(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }
    /// Replaces the server error codes that count as temporary (see
    /// [`DEFAULT_TEMPORARY_ERROR_CODES`]).
    pub fn with_temporary_error_codes(mut self, codes: impl IntoIterator<Item = u16>) -> Self {
        self.temporary_error_codes = codes.into_iter().collect();
        self
    }
    /// Replaces the message substrings that count as temporary (see
    /// [`DEFAULT_TEMPORARY_ERROR_STRINGS`]); matched case-insensitively.
    pub fn with_temporary_error_strings<S: Into<String>>(
        mut self,
        strings: impl IntoIterator<Item = S>,
    ) -> Self {
        self.temporary_error_strings = strings
            .into_iter()
            .map(|s| s.into().to_lowercase())
            .collect();
        self
    }
    /// Adds a statement run on every new connection before any command, e.g.
    /// `SET SESSION time_zone = '+00:00'`. Replayed after every reconnect.
    pub fn with_init_sql(mut self, sql: impl Into<String>) -> Self {
        self.init.push(sql.into());
        self
    }
    /// TCP keepalive idle time (default 30 s; `None` disables), so that a dead peer is noticed
    /// while a long statement runs.
    pub fn with_tcp_keepalive(mut self, idle: Option<Duration>) -> Self {
        self.tcp_keepalive = idle;
        self
    }

    /// How many prepared statements each connection keeps (default 256). The least recently
    /// used one is closed on the server (`COM_STMT_CLOSE`) when a new one needs room; `0`
    /// closes every statement right after its use.
    pub fn with_stmt_cache_size(mut self, size: usize) -> Self {
        self.stmt_cache_size = size;
        self
    }

    /// How many commands a connection may have written before it reads the first reply
    /// (default 1: each command waits for the previous reply). With more, commands queued
    /// behind one another go out together, which saves round trips when many callers share a
    /// connection (e.g. a [`Pool`](crate::Pool) with more tasks than connections).
    ///
    /// Only plain commands are pipelined: text queries without bound parameters, executions of
    /// statements already prepared on the connection (without parameters over 8 MiB, which
    /// go as long data), and pings. Anything else (a prepare,
    /// parameters interpolated with the session's escaping rules, a streamed result, a
    /// statement with a time bound, transaction statements, `LOAD DATA LOCAL INFILE` when a
    /// handler is set) waits until nothing is in flight, and nothing is written behind it.
    ///
    /// The redelivery rules do not change: a command that was written and has no reply when
    /// the connection is lost fails with
    /// [`ErrorKind::ConnectionLost`](crate::ErrorKind::ConnectionLost) unless it is
    /// retry-safe, whether it was first in line or pipelined behind another. When a
    /// temporary server error answers the first command, the ones written behind it may have
    /// run: they follow the same rule.
    pub fn with_pipeline_depth(mut self, depth: usize) -> Self {
        self.pipeline_depth = depth.max(1);
        self
    }
    /// Enables `LOAD DATA LOCAL INFILE` with a handler that decides what the server may read.
    ///
    /// Off by default: without a handler the client does not announce `CLIENT_LOCAL_FILES`,
    /// and a server that asks for a file anyway gets an empty one and the statement fails. With
    /// a handler, every request goes to it with the file name the server asked for (which the
    /// server chooses, not you: a hostile server can ask for any name), and the bytes it
    /// returns are sent; an error it returns aborts the statement.
    ///
    /// ```
    /// use actix_mysql::Opts;
    ///
    /// // Serve only one in-memory "file", whatever is asked.
    /// let opts = Opts::new().with_local_infile_handler(|name: &str| {
    ///     if name == "users.csv" {
    ///         Ok(b"1,alice\n2,bob\n".to_vec())
    ///     } else {
    ///         Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, "not allowed"))
    ///     }
    /// });
    /// # let _ = opts;
    /// ```
    pub fn with_local_infile_handler(
        mut self,
        handler: impl Fn(&str) -> std::io::Result<Vec<u8>> + Send + Sync + 'static,
    ) -> Self {
        self.local_infile = Some(LocalInfileHandler(Arc::new(handler)));
        self
    }

    /// Allows several statements separated by `;` in one query (`CLIENT_MULTI_STATEMENTS`,
    /// default off: it makes SQL injection worse when SQL is built from input).
    pub fn with_multi_statements(mut self, on: bool) -> Self {
        self.multi_statements = on;
        self
    }
    /// Sets the TLS mode for TCP connections (default [`SslMode::Disabled`]).
    pub fn with_ssl_mode(mut self, mode: SslMode) -> Self {
        self.tls.mode = mode;
        self
    }
    /// Trusts the CA certificate(s) of this PEM file, instead of the system's roots, for
    /// [`SslMode::VerifyCa`] and [`SslMode::VerifyIdentity`]. Read at connect time.
    pub fn with_ssl_ca(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca = Some(path.into());
        self
    }
    /// Presents a client certificate: a PEM file with the certificate chain and one with its
    /// private key (PKCS#8, PKCS#1 or SEC1). Read at connect time.
    pub fn with_ssl_client_cert(
        mut self,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.tls.cert = Some(cert.into());
        self.tls.key = Some(key.into());
        self
    }
    /// The name sent as SNI and checked against the certificate by
    /// [`SslMode::VerifyIdentity`] (default: the host).
    pub fn with_tls_server_name(mut self, name: impl Into<String>) -> Self {
        self.tls.server_name = Some(name.into());
        self
    }

    /// Host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }
    /// TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// Unix socket path, when set.
    pub fn socket(&self) -> Option<&Path> {
        self.socket.as_deref()
    }
    /// User name.
    pub fn user(&self) -> &str {
        &self.user
    }
    /// Database used at connect.
    pub fn db(&self) -> Option<&str> {
        self.db.as_deref()
    }
    /// Connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// Idle timeout, when set.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }
    /// Largest packet accepted from the server.
    pub fn max_allowed_packet(&self) -> usize {
        self.max_allowed_packet
    }
    /// Whether the server's RSA key may be fetched over plain TCP.
    pub fn allow_public_key_retrieval(&self) -> bool {
        self.allow_public_key_retrieval
    }

    /// Queue wait bound.
    pub fn queue_timeout(&self) -> Duration {
        self.queue_timeout
    }
    /// Queue bound.
    pub fn max_queue(&self) -> usize {
        self.max_queue
    }
    /// Default statement time bound.
    pub fn query_timeout(&self) -> Option<Duration> {
        self.query_timeout
    }
    /// Reconnect policy.
    pub fn reconnect_policy(&self) -> ReconnectPolicy {
        self.reconnect
    }
    /// Init statements.
    pub fn init_sql(&self) -> &[String] {
        &self.init
    }
    /// TCP keepalive idle time.
    pub fn tcp_keepalive(&self) -> Option<Duration> {
        self.tcp_keepalive
    }
    /// Prepared statement cache size per connection.
    pub fn stmt_cache_size(&self) -> usize {
        self.stmt_cache_size
    }
    /// Commands written before the first reply is read (1 = no pipelining).
    pub fn pipeline_depth(&self) -> usize {
        self.pipeline_depth
    }
    /// Whether multi-statement queries are allowed.
    pub fn multi_statements(&self) -> bool {
        self.multi_statements
    }
    /// Whether a `LOAD DATA LOCAL INFILE` handler is set.
    pub fn local_infile_enabled(&self) -> bool {
        self.local_infile.is_some()
    }

    /// Reads a local file for the server through the user's handler.
    pub(crate) fn local_infile(&self, name: &str) -> Option<std::io::Result<Vec<u8>>> {
        self.local_infile.as_ref().map(|h| (h.0)(name))
    }

    /// TLS mode.
    pub fn ssl_mode(&self) -> SslMode {
        self.tls.mode
    }
    /// PEM file of trusted CA certificates, when set.
    pub fn ssl_ca(&self) -> Option<&Path> {
        self.tls.ca.as_deref()
    }
    /// PEM file of the client certificate chain, when set.
    pub fn ssl_cert(&self) -> Option<&Path> {
        self.tls.cert.as_deref()
    }
    /// PEM file of the client certificate's private key, when set.
    pub fn ssl_key(&self) -> Option<&Path> {
        self.tls.key.as_deref()
    }
    /// The TLS server name (SNI and identity check): `tls_server_name`, else the host.
    pub fn tls_server_name(&self) -> &str {
        self.tls.server_name.as_deref().unwrap_or(&self.host)
    }

    /// True when a server error counts as temporary under these options: its code is one of
    /// the temporary error codes, or it is one of [`MESSAGE_MATCHED_ERROR_CODES`] and its
    /// message contains one of the temporary error strings.
    pub fn is_temporary_server_error(&self, code: u16, message: &str) -> bool {
        if self.temporary_error_codes.contains(&code) {
            return true;
        }
        if !MESSAGE_MATCHED_ERROR_CODES.contains(&code) {
            return false;
        }
        let message = message.to_lowercase();
        self.temporary_error_strings
            .iter()
            .any(|s| !s.is_empty() && message.contains(s.as_str()))
    }

    pub(crate) fn without_init_sql(mut self) -> Self {
        self.init.clear();
        self
    }

    pub(crate) fn password_bytes(&self) -> &[u8] {
        self.password.as_deref().unwrap_or("").as_bytes()
    }

    /// Loads the pinned server public key, if any.
    pub(crate) fn load_server_public_key(&self) -> Result<Option<Arc<[u8]>>> {
        match &self.server_public_key {
            None => Ok(None),
            Some(ServerPublicKey::Pem(pem)) => Ok(Some(pem.clone())),
            Some(ServerPublicKey::File(path)) => {
                std::fs::read(path).map(|v| Some(v.into())).map_err(|e| {
                    Error::config(format!(
                        "cannot read server_public_key file {}",
                        path.display()
                    ))
                    .with_source(e)
                })
            }
        }
    }
}

fn decode(s: &str, what: &str) -> Result<String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| Error::config(format!("{what} in URL is not valid UTF-8 after decoding")))
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::config(format!("{key}: not a boolean: {value:?}"))),
    }
}

/// Parses `250ms`, `5s`, `2m`, `1h` or a plain number of seconds.
fn parse_duration(key: &str, value: &str) -> Result<Duration> {
    let bad = || Error::config(format!("{key}: not a duration: {value:?} (e.g. 5s, 500ms)"));
    let (num, unit) = match value.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

#[cfg(test)]
mod tests {

    #[test]
    fn should_match_temporary_strings_only_on_errors_that_carry_no_data() {
        let opts = Opts::new();
        // A duplicate key whose value reads like a connection error.
        assert!(!opts.is_temporary_server_error(
            1062,
            "Duplicate entry 'lost connection' for key 'PRIMARY'"
        ));
        assert!(!opts.is_temporary_server_error(1644, "server has gone away"));
        assert!(opts.is_temporary_server_error(1927, "Connection was killed"));
        assert!(opts.is_temporary_server_error(2013, "Lost connection to server during query"));
        let lock = Opts::new().with_temporary_error_strings(["lock wait timeout exceeded"]);
        assert!(lock.is_temporary_server_error(
            1205,
            "Lock wait timeout exceeded; try restarting transaction"
        ));
        assert!(!lock.is_temporary_server_error(1062, "lock wait timeout exceeded"));
    }

    use super::*;
    use crate::ErrorKind;

    #[test]
    fn parses_a_full_url() {
        let o = Opts::from_url(
            "mysql://us%40er:p%3Ass@db.example:3307/my%20db?connect_timeout=500ms&idle_timeout=2m&allow_public_key_retrieval=true&max_allowed_packet=1024",
        )
        .unwrap();
        assert_eq!(o.host(), "db.example");
        assert_eq!(o.port(), 3307);
        assert_eq!(o.user(), "us@er");
        assert_eq!(o.password_bytes(), b"p:ss");
        assert_eq!(o.db(), Some("my db"));
        assert_eq!(o.connect_timeout(), Duration::from_millis(500));
        assert_eq!(o.idle_timeout(), Some(Duration::from_secs(120)));
        assert!(o.allow_public_key_retrieval());
        assert_eq!(o.max_allowed_packet(), 1024);
    }

    #[test]
    fn parses_socket_and_defaults() {
        let o = Opts::from_url("mysql://root@localhost?socket=/run/mysqld/mysqld.sock").unwrap();
        assert_eq!(o.socket(), Some(Path::new("/run/mysqld/mysqld.sock")));
        assert_eq!(o.port(), 3306);
        assert_eq!(o.db(), None);
        assert_eq!(o.idle_timeout(), None);
    }

    #[test]
    fn rejects_unknown_parameters_and_bad_values() {
        for url in [
            "mysql://h/?bogus=1",
            "mysql://h/?connect_timeout=soon",
            "mysql://h/?allow_public_key_retrieval=maybe",
            "postgres://h/",
            "not a url",
        ] {
            let e = Opts::from_url(url).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{url}");
        }
    }

    #[test]
    fn debug_redacts_the_password() {
        let o = Opts::new().with_password("hunter2");
        let s = format!("{o:?}");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("<redacted>"));
    }

    #[test]
    fn parses_tls_parameters() {
        let o = Opts::from_url(
            "mysql://u:pw@db.example/?ssl_mode=verify_identity&ssl_ca=/etc/ca.pem&ssl_cert=/c.pem&ssl_key=/k.pem&tls_server_name=db.internal",
        )
        .unwrap();
        assert_eq!(o.ssl_mode(), SslMode::VerifyIdentity);
        assert_eq!(o.ssl_ca(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(o.ssl_cert(), Some(Path::new("/c.pem")));
        assert_eq!(o.ssl_key(), Some(Path::new("/k.pem")));
        assert_eq!(o.tls_server_name(), "db.internal");
        for (text, mode) in [
            ("disabled", SslMode::Disabled),
            ("preferred", SslMode::Preferred),
            ("REQUIRED", SslMode::Required),
            ("verify-ca", SslMode::VerifyCa),
            ("verify_identity", SslMode::VerifyIdentity),
        ] {
            let o = Opts::from_url(&format!("mysql://h/?ssl_mode={text}")).unwrap();
            assert_eq!(o.ssl_mode(), mode);
            assert_eq!(mode.as_str().parse::<SslMode>().unwrap(), mode);
        }
        let o = Opts::from_url("mysql://h/").unwrap();
        assert_eq!(o.ssl_mode(), SslMode::Disabled);
        assert_eq!(o.tls_server_name(), "h");
        let e = Opts::from_url("mysql://h/?ssl_mode=sometimes").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(SslMode::Required.requires_tls());
        assert!(!SslMode::Preferred.requires_tls());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("k", "5").unwrap(), Duration::from_secs(5));
        assert_eq!(
            parse_duration("k", "1.5s").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            parse_duration("k", "1h").unwrap(),
            Duration::from_secs(3600)
        );
        assert!(parse_duration("k", "-1s").is_err());
        assert!(parse_duration("k", "").is_err());
    }
}
