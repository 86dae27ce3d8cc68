//! Opening a connection: transport, greeting, capability negotiation and authentication.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html>
use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpStream, UnixStream};
use tokio_util::codec::{Framed, FramedParts};

use super::engine::ConnInfo;
use super::escaping::{Escaping, READ_ESCAPING};
use super::session::Replay;
use super::transport::Transport;
use crate::codec::PacketCodec;
use crate::error::{Error, ErrorKind, Result};
use crate::opts::{Opts, SslMode};
use crate::protocol::auth::{AuthFlow, AuthParams, AuthStep};
use crate::protocol::command;
use crate::protocol::constants::mariadb_capabilities::MARIADB_CLIENT_CACHE_METADATA;
use crate::protocol::constants::{capabilities as caps, UTF8MB4_GENERAL_CI};
use crate::protocol::handshake::{self, Handshake, HandshakeResponse};
use crate::protocol::response::{self, ErrPacket};
use crate::protocol::resultset::QueryEvent;
use crate::protocol::ProtocolError;
use crate::row::Row;

/// An authenticated connection, ready for commands: the transport, any bytes already read
/// from it, and the facts the engine needs.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) transport: Transport,
    /// Bytes the server sent after the last handshake packet (none, normally).
    pub(crate) read_buf: BytesMut,
    pub(crate) info: ConnInfo,
}

/// A connection during the handshake and the statements that follow it.
#[derive(Debug)]
struct Handshaken {
    framed: Framed<Transport, PacketCodec>,
    info: ConnInfo,
}

impl Handshaken {
    fn into_live(self) -> Live {
        let parts = self.framed.into_parts();
        Live {
            transport: parts.io,
            read_buf: parts.read_buf,
            info: self.info,
        }
    }
}

/// Capabilities this client asks for (before intersecting with the server's).
const CLIENT_CAPABILITIES: u32 = caps::CLIENT_LONG_PASSWORD
    | caps::CLIENT_LONG_FLAG
    | caps::CLIENT_PROTOCOL_41
    | caps::CLIENT_TRANSACTIONS
    | caps::CLIENT_SECURE_CONNECTION
    | caps::CLIENT_MULTI_RESULTS
    | caps::CLIENT_PS_MULTI_RESULTS
    | caps::CLIENT_PLUGIN_AUTH
    | caps::CLIENT_CONNECT_ATTRS
    | caps::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
    | caps::CLIENT_SESSION_TRACK
    | caps::CLIENT_DEPRECATE_EOF;

/// Connects, bounded by the connect timeout. `db` is the schema to select at connect;
/// `replay` are statements that restore session state, run after the init statements. A
/// replayed statement the server refuses does not fail the connect: its variable is listed in
/// [`ConnInfo::rejected`], and the connection goes on without it.
pub(crate) async fn connect(opts: &Opts, db: Option<&str>, replay: &[Replay]) -> Result<Live> {
    let fut = async {
        let mut conn = connect_inner(opts, db).await?;
        for step in replay {
            match run_statement(&mut conn, &step.sql).await {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Server => {
                    tracing::warn!(variable = %step.variable, error = %e, "session variable not restored");
                    conn.info.rejected.push(step.variable.clone());
                }
                Err(e) => return Err(e),
            }
        }
        read_escaping(&mut conn).await?;
        Ok(conn.into_live())
    };
    match tokio::time::timeout(opts.connect_timeout(), fut).await {
        Ok(res) => res,
        Err(_) => Err(Error::timeout(format!(
            "connect to {} did not finish within {:?}",
            endpoint(opts),
            opts.connect_timeout()
        ))),
    }
}

fn endpoint(opts: &Opts) -> String {
    match opts.socket() {
        Some(path) => path.display().to_string(),
        None => format!("{}:{}", opts.host(), opts.port()),
    }
}

async fn connect_inner(opts: &Opts, db: Option<&str>) -> Result<Handshaken> {
    let transport = match opts.socket() {
        Some(path) => Transport::Unix(UnixStream::connect(path).await.map_err(|e| {
            Error::from(e).with_detail(format!("connecting to {}", path.display()))
        })?),
        None => {
            let stream = TcpStream::connect((opts.host(), opts.port()))
                .await
                .map_err(|e| {
                    Error::from(e).with_detail(format!("connecting to {}", endpoint(opts)))
                })?;
            stream.set_nodelay(true)?;
            if let Some(idle) = opts.tcp_keepalive() {
                let keepalive = socket2::TcpKeepalive::new()
                    .with_time(idle)
                    .with_interval(std::time::Duration::from_secs(5))
                    .with_retries(3);
                socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive)?;
            }
            Transport::Tcp(stream)
        }
    };
    let mut framed = Framed::new(transport, PacketCodec::new(opts.max_allowed_packet()));

    let greeting = next_packet(&mut framed).await?;
    if response::is_err(&greeting) {
        // e.g. 1040 "Too many connections" or 1130 "Host is not allowed to connect".
        return Err(Error::server(ErrPacket::parse(&greeting, 0)?));
    }
    let handshake = Handshake::parse(&greeting)?;
    let use_tls = wants_tls(opts, handshake.capabilities)?;
    for (cap, name) in [
        (caps::CLIENT_PROTOCOL_41, "CLIENT_PROTOCOL_41"),
        (caps::CLIENT_SECURE_CONNECTION, "CLIENT_SECURE_CONNECTION"),
        (caps::CLIENT_PLUGIN_AUTH, "CLIENT_PLUGIN_AUTH"),
    ] {
        if handshake.capabilities & cap == 0 {
            return Err(ProtocolError::MissingCapability(name).into());
        }
    }
    let mut wanted = CLIENT_CAPABILITIES;
    if db.is_some() {
        wanted |= caps::CLIENT_CONNECT_WITH_DB;
    }
    if opts.multi_statements() {
        wanted |= caps::CLIENT_MULTI_STATEMENTS;
    }
    if opts.local_infile_enabled() {
        wanted |= caps::CLIENT_LOCAL_FILES;
    }
    if use_tls {
        wanted |= caps::CLIENT_SSL;
    }
    let capabilities = wanted & handshake.capabilities;
    // MariaDB's extended capabilities, only when it says it is MariaDB.
    let mariadb_capabilities = if handshake.capabilities & caps::MARIADB_CLIENT_MYSQL == 0 {
        handshake.mariadb_capabilities & MARIADB_CLIENT_CACHE_METADATA
    } else {
        0
    };
    let max_packet_size = u32::try_from(opts.max_allowed_packet()).unwrap_or(u32::MAX);
    if use_tls {
        let mut buf = BytesMut::with_capacity(32);
        handshake::ssl_request(
            &mut buf,
            capabilities,
            max_packet_size,
            UTF8MB4_GENERAL_CI,
            mariadb_capabilities,
        );
        framed.send(&buf[..]).await?;
        framed = start_tls(framed, opts).await?;
    }
    let secure_transport = framed.get_ref().is_secure();

    let server_public_key = opts.load_server_public_key()?;
    let params = AuthParams {
        password: opts.password_bytes(),
        secure_transport,
        server_public_key: server_public_key.as_deref(),
        allow_public_key_retrieval: opts.allow_public_key_retrieval(),
    };
    let default_plugin = if handshake.auth_plugin.is_empty() {
        "mysql_native_password"
    } else {
        handshake.auth_plugin.as_str()
    };
    let (mut flow, plugin, auth_response) =
        AuthFlow::start(default_plugin, &handshake.scramble, &params)?;

    let attrs = [
        ("_client_name", "actix-mysql"),
        ("_client_version", env!("CARGO_PKG_VERSION")),
    ];
    let response = HandshakeResponse {
        capabilities,
        max_packet_size,
        collation: UTF8MB4_GENERAL_CI,
        username: opts.user(),
        auth_response: &auth_response,
        database: db,
        auth_plugin: &plugin,
        connect_attrs: &attrs,
        mariadb_capabilities,
    };
    let mut buf = BytesMut::with_capacity(128);
    response.encode(&mut buf);
    framed.send(&buf[..]).await?;

    let ok = loop {
        let packet = next_packet(&mut framed).await?;
        match flow.next(&packet, capabilities, &params)? {
            AuthStep::Send(data) => framed.send(&data[..]).await?,
            AuthStep::Continue => {}
            AuthStep::Done(ok) => break ok,
            AuthStep::Failed(err) => return Err(Error::auth_refused(err)),
            #[allow(unreachable_patterns)]
            _ => {
                return Err(ProtocolError::Unexpected("authentication step").into());
            }
        }
    };
    framed.codec_mut().reset_seq();
    tracing::debug!(
        connection_id = handshake.connection_id,
        server_version = %handshake.server_version,
        tls = framed.get_ref().is_tls(),
        "authenticated"
    );
    let mut conn = Handshaken {
        framed,
        info: ConnInfo {
            capabilities,
            connection_id: handshake.connection_id,
            is_mariadb: handshake.is_mariadb(),
            server_version: handshake.server_version,
            status: ok.status,
            cache_metadata: mariadb_capabilities & MARIADB_CLIENT_CACHE_METADATA != 0,
            rejected: Vec::new(),
            escaping: Escaping::from_status(ok.status),
        },
    };
    for sql in opts.init_sql() {
        run_statement(&mut conn, sql).await?;
    }
    Ok(conn)
}

/// Whether to negotiate TLS, given the options and the server's capabilities. Fails closed:
/// a mode that requires TLS never goes on in plain text.
fn wants_tls(opts: &Opts, server_caps: u32) -> Result<bool> {
    let mode = opts.ssl_mode();
    if mode == SslMode::Disabled || opts.socket().is_some() {
        // A unix socket is local: it already counts as a secure transport.
        return Ok(false);
    }
    if server_caps & caps::CLIENT_SSL != 0 {
        return Ok(true);
    }
    if mode.requires_tls() {
        return Err(Error::tls(format!(
            "ssl_mode={} but the server at {} does not offer TLS",
            mode.as_str(),
            endpoint(opts)
        )));
    }
    tracing::debug!("the server does not offer TLS: going on in plain text (ssl_mode=preferred)");
    Ok(false)
}

/// Runs the TLS handshake on the socket under `framed` (right after the SSLRequest) and puts
/// the codec, with its sequence id, over the TLS stream.
async fn start_tls(
    framed: Framed<Transport, PacketCodec>,
    opts: &Opts,
) -> Result<Framed<Transport, PacketCodec>> {
    let parts = framed.into_parts();
    if !parts.read_buf.is_empty() {
        // Bytes sent before the TLS handshake would be read as if they had been protected.
        return Err(
            ProtocolError::Unexpected("data from the server before the TLS handshake").into(),
        );
    }
    let Transport::Tcp(stream) = parts.io else {
        return Err(Error::tls("TLS is only used over TCP"));
    };
    let config = crate::tls::client_config(opts)?;
    let name = crate::tls::server_name(opts)?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, stream)
        .await
        .map_err(tls_handshake_error)?;
    let mut new_parts = FramedParts::new::<&[u8]>(Transport::Tls(Box::new(tls)), parts.codec);
    new_parts.write_buf = parts.write_buf;
    Ok(Framed::from_parts(new_parts))
}

/// A failed TLS handshake: a refused certificate or a TLS protocol violation is a TLS error
/// with the rustls error as its source; anything else is the I/O error it is.
fn tls_handshake_error(e: std::io::Error) -> Error {
    let rustls_err = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned();
    match rustls_err {
        Some(err) => crate::tls::rustls_error("TLS handshake failed", err),
        None => Error::from(e).with_detail("during the TLS handshake"),
    }
}

/// Runs one statement to completion on a connection that is not yet driven by the engine,
/// discarding any rows.
async fn run_statement(live: &mut Handshaken, sql: &str) -> Result<()> {
    run(live, sql).await.map(drop)
}

/// Runs one statement to completion on a connection that is not yet driven by the engine;
/// returns the first row of its first result set.
async fn run(live: &mut Handshaken, sql: &str) -> Result<Option<Row>> {
    let mut buf = BytesMut::with_capacity(sql.len() + 1);
    command::com_query(&mut buf, sql);
    live.framed.codec_mut().reset_seq();
    live.framed.send(&buf[..]).await?;
    let mut decoder = live.info.results_decoder(false, None);
    let mut result = Ok(());
    let (mut columns, mut first) = (None, None);
    while !decoder.is_done() {
        let packet = next_packet(&mut live.framed).await?;
        match decoder.feed(packet)? {
            Some(QueryEvent::Err(err)) => result = Err(Error::server(err).with_query(sql)),
            Some(QueryEvent::Ok(ok)) => live.info.status = ok.status,
            Some(QueryEvent::ResultSetEnd { status, .. }) => live.info.status = status,
            Some(QueryEvent::Columns(cols)) if columns.is_none() => columns = Some(cols),
            Some(QueryEvent::Row(values)) if first.is_none() => {
                first = columns.clone().map(|cols| Row::new(cols, values));
            }
            Some(QueryEvent::LocalInfile(_)) => {
                live.framed.send(&[][..]).await?;
                result = Err(Error::usage("LOAD DATA LOCAL INFILE is disabled").with_query(sql));
            }
            _ => {}
        }
    }
    live.framed.codec_mut().reset_seq();
    result.map(|()| first)
}

/// Reads the session's escaping rules, once the init statements and the replay have run.
async fn read_escaping(live: &mut Handshaken) -> Result<()> {
    let mut escaping = Escaping::from_status(live.info.status);
    match run(live, READ_ESCAPING).await {
        Ok(row) => escaping.learn(row.as_ref()),
        Err(e) if e.kind() == ErrorKind::Server => {
            tracing::warn!(error = %e, "the session's character set could not be read: string parameters will not be interpolated");
            escaping.learn(None);
        }
        Err(e) => return Err(e),
    }
    live.info.escaping = escaping;
    Ok(())
}

/// Kills the statement running on connection `id` from a new connection.
pub(crate) async fn kill_query(opts: &Opts, id: u32) -> Result<()> {
    let mut side = connect_inner_without_init(opts).await?;
    let res = run_statement(&mut side, &format!("KILL QUERY {id}")).await;
    let mut quit = BytesMut::new();
    command::com_quit(&mut quit);
    side.framed.codec_mut().reset_seq();
    let _ = side.framed.send(&quit[..]).await;
    match res {
        // ER_NO_SUCH_THREAD: the statement (or the connection) already ended.
        Err(e) if e.code() == Some(1094) => Ok(()),
        other => other,
    }
}

async fn connect_inner_without_init(opts: &Opts) -> Result<Handshaken> {
    let opts = opts.clone().without_init_sql();
    match tokio::time::timeout(opts.connect_timeout(), connect_inner(&opts, None)).await {
        Ok(res) => res,
        Err(_) => Err(Error::timeout("side connection for KILL QUERY")),
    }
}

async fn next_packet(framed: &mut Framed<Transport, PacketCodec>) -> Result<Bytes> {
    match framed.next().await {
        Some(Ok(p)) => Ok(p),
        Some(Err(e)) => Err(e.into()),
        None => Err(Error::new(ErrorKind::Io)
            .with_detail("the server closed the connection during the handshake")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_negotiated_per_mode_and_never_skipped_when_required() {
        let with_ssl = caps::CLIENT_PROTOCOL_41 | caps::CLIENT_SSL;
        let without = caps::CLIENT_PROTOCOL_41;
        let tcp = |mode| Opts::new().with_ssl_mode(mode);
        assert!(!wants_tls(&tcp(SslMode::Disabled), with_ssl).unwrap());
        assert!(wants_tls(&tcp(SslMode::Preferred), with_ssl).unwrap());
        assert!(!wants_tls(&tcp(SslMode::Preferred), without).unwrap());
        for mode in [
            SslMode::Required,
            SslMode::VerifyCa,
            SslMode::VerifyIdentity,
        ] {
            assert!(wants_tls(&tcp(mode), with_ssl).unwrap());
            let err = wants_tls(&tcp(mode), without).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Tls);
            // A unix socket is already secure: no TLS over it.
            let socket = tcp(mode).with_socket("/run/mysqld/mysqld.sock");
            assert!(!wants_tls(&socket, with_ssl).unwrap());
            assert!(!wants_tls(&socket, without).unwrap());
        }
    }
}
