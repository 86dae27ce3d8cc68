//! Hostile and broken servers: a stub on 127.0.0.1 that speaks just enough of the protocol to
//! misbehave in one precise way. Every case must end in a typed error (never a panic, never a
//! hang: each runs under a deadline), must not leak the password, and the client must recover
//! on the stub's next, well-behaved connection.
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_mysql::protocol::constants::capabilities::*;
use actix_mysql::{Client, Error, ErrorKind, Opts, ReconnectPolicy, SslMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const SECRET: &str = "hostile-test-secret-pw";

/// What a well-behaved stub offers (no CLIENT_SSL, classic EOF packets).
const CAPS: u32 = CLIENT_LONG_PASSWORD
    | CLIENT_LONG_FLAG
    | CLIENT_CONNECT_WITH_DB
    | CLIENT_PROTOCOL_41
    | CLIENT_TRANSACTIONS
    | CLIENT_SECURE_CONNECTION
    | CLIENT_MULTI_RESULTS
    | CLIENT_PLUGIN_AUTH
    | CLIENT_CONNECT_ATTRS
    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;

// ------------------------------------------------------------------ the stub

/// One accepted connection, seen from the stub. Every byte read from the client is logged.
struct Conn {
    stream: TcpStream,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Conn {
    async fn send(&mut self, seq: u8, payload: &[u8]) {
        let len = payload.len() as u32;
        let mut frame = len.to_le_bytes()[..3].to_vec();
        frame.push(seq);
        frame.extend_from_slice(payload);
        let _ = self.stream.write_all(&frame).await;
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }

    /// The next packet from the client, or `None` on EOF or after 5 s of silence.
    async fn recv(&mut self) -> Option<(u8, Vec<u8>)> {
        let read = async {
            let mut header = [0u8; 4];
            self.stream.read_exact(&mut header).await.ok()?;
            let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
            let mut payload = vec![0u8; len];
            self.stream.read_exact(&mut payload).await.ok()?;
            let mut log = self.log.lock().unwrap();
            log.extend_from_slice(&header);
            log.extend_from_slice(&payload);
            Some((header[3], payload))
        };
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .ok()
            .flatten()
    }

    /// Reads whatever the client still sends until it closes (at most 3 s).
    async fn drain(&mut self) {
        let mut buf = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await {
            if n == 0 {
                break;
            }
            self.log.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    }

    /// Keeps the connection open without answering (the client must not wait for us).
    async fn hold(&mut self) {
        self.drain().await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

struct Stub {
    port: u16,
    accepted: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<u8>>>,
    task: JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stub {
    /// Starts a stub: connection `n` (0-based) is served by `script(n, conn)`.
    async fn start<F, Fut>(script: F) -> Stub
    where
        F: Fn(usize, Conn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (a, l) = (accepted.clone(), log.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let n = a.fetch_add(1, Ordering::SeqCst);
                let conn = Conn {
                    stream,
                    log: l.clone(),
                };
                tokio::spawn(script(n, conn));
            }
        });
        Stub {
            port,
            accepted,
            log,
            task,
        }
    }

    /// A stub whose first connection is served by `hostile` and every later one by
    /// [`well_behaved`].
    async fn first<F, Fut>(hostile: F) -> Stub
    where
        F: Fn(Conn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let hostile = Arc::new(hostile);
        Stub::start(move |n, conn| {
            let hostile = hostile.clone();
            async move {
                if n == 0 {
                    hostile(conn).await
                } else {
                    well_behaved(conn).await
                }
            }
        })
        .await
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn received_password(&self) -> bool {
        let log = self.log.lock().unwrap();
        log.windows(SECRET.len()).any(|w| w == SECRET.as_bytes())
    }

    fn opts(&self) -> Opts {
        Opts::new()
            .with_host("127.0.0.1")
            .with_port(self.port)
            .with_user("victim")
            .with_password(SECRET)
            .with_connect_timeout(Duration::from_secs(2))
            .with_reconnect_policy(ReconnectPolicy {
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(50),
                max_attempts: 1,
            })
    }
}

// ------------------------------------------------------------------ packets

fn greeting_with(protocol: u8, caps: u32, plugin: &str) -> Vec<u8> {
    let scramble = b"abcdefgh0123456789AB";
    let mut p = vec![protocol];
    p.extend_from_slice(b"8.0.99-stub\0");
    p.extend_from_slice(&7u32.to_le_bytes());
    p.extend_from_slice(&scramble[..8]);
    p.push(0);
    p.extend_from_slice(&(caps as u16).to_le_bytes());
    p.push(45);
    p.extend_from_slice(&2u16.to_le_bytes());
    p.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    p.push(21);
    p.extend_from_slice(&[0; 10]);
    p.extend_from_slice(&scramble[8..]);
    p.push(0);
    p.extend_from_slice(plugin.as_bytes());
    p.push(0);
    p
}

fn greeting(caps: u32) -> Vec<u8> {
    greeting_with(10, caps, "mysql_native_password")
}

const OK: &[u8] = &[0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00];
const EOF: &[u8] = &[0xFE, 0x00, 0x00, 0x02, 0x00];

fn err_packet(code: u16, state: &str, msg: &str) -> Vec<u8> {
    let mut p = vec![0xFF];
    p.extend_from_slice(&code.to_le_bytes());
    p.push(b'#');
    p.extend_from_slice(state.as_bytes());
    p.extend_from_slice(msg.as_bytes());
    p
}

fn lenenc_str(p: &mut Vec<u8>, s: &[u8]) {
    p.push(s.len() as u8);
    p.extend_from_slice(s);
}

/// A BIGINT column definition named `name`.
fn column(name: &str) -> Vec<u8> {
    column_of(name, 0x08, 63) // LONGLONG
}

fn column_of(name: &str, kind: u8, charset: u16) -> Vec<u8> {
    let mut p = Vec::new();
    for s in [&b"def"[..], b"", b"", b"", name.as_bytes(), b""] {
        lenenc_str(&mut p, s);
    }
    p.push(0x0c);
    p.extend_from_slice(&charset.to_le_bytes());
    p.extend_from_slice(&20u32.to_le_bytes());
    p.push(kind);
    p.extend_from_slice(&0u16.to_le_bytes());
    p.push(0);
    p.extend_from_slice(&[0, 0]);
    p
}

/// Greeting, handshake response, OK, and the answer to the client's read of the session's
/// character set and `sql_mode`. False when the client went away.
async fn handshake(c: &mut Conn, caps: u32) -> bool {
    c.send(0, &greeting(caps)).await;
    match c.recv().await {
        Some((1, _)) => c.send(2, OK).await,
        _ => return false,
    }
    match c.recv().await {
        Some((0, cmd)) if cmd.first() == Some(&0x03) => {
            let values: [&[u8]; 4] = [b"utf8mb4", b"utf8mb4", b"", b"*"];
            c.send(1, &[4]).await;
            for (i, _) in values.iter().enumerate() {
                let col = column_of(&format!("c{i}"), 0xfd, 45); // VAR_STRING, utf8mb4
                c.send(2 + i as u8, &col).await;
            }
            c.send(6, EOF).await;
            let mut row = Vec::new();
            for v in values {
                lenenc_str(&mut row, v);
            }
            c.send(7, &row).await;
            c.send(8, EOF).await;
            true
        }
        _ => false,
    }
}

/// Answers every COM_QUERY with one row holding `1`, anything else with OK.
async fn serve_commands(mut c: Conn) {
    while let Some((0, cmd)) = c.recv().await {
        match cmd.first() {
            Some(0x03) => {
                c.send(1, &[1]).await;
                c.send(2, &column("1")).await;
                c.send(3, EOF).await;
                c.send(4, b"\x011").await;
                c.send(5, EOF).await;
            }
            Some(0x01) => return,
            _ => c.send(1, OK).await,
        }
    }
}

async fn well_behaved(mut c: Conn) {
    if handshake(&mut c, CAPS).await {
        serve_commands(c).await;
    }
}

/// Logs in, then answers the first COM_QUERY with `reply` (a list of (seq, payload)), and
/// holds the connection.
async fn after_login_reply(mut c: Conn, reply: Vec<(u8, Vec<u8>)>) {
    if !handshake(&mut c, CAPS).await {
        return;
    }
    if let Some((0, _)) = c.recv().await {
        for (seq, p) in reply {
            c.send(seq, &p).await;
        }
    }
    c.hold().await;
}

// ------------------------------------------------------------------ checks

async fn within<F: Future>(fut: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .expect("the client hung")
}

/// Display, Debug and every source, for message checks.
fn full_text(err: &Error) -> String {
    let mut text = format!("{err} | {err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(&format!(" | {s}"));
        source = s.source();
    }
    text
}

async fn one(c: &Client) -> Result<i64, Error> {
    let rows = c.query("SELECT 1").await?;
    Ok(rows[0].get(0))
}

/// The first query fails with `kind` and a message containing `needle`; the password appears
/// nowhere in the error; the next query succeeds on a new connection.
async fn fails_then_recovers(stub: &Stub, client: &Client, kinds: &[ErrorKind], needle: &str) {
    let err = within(one(client)).await.unwrap_err();
    let text = full_text(&err);
    assert!(kinds.contains(&err.kind()), "{:?}: {text}", err.kind());
    assert!(
        text.to_lowercase().contains(&needle.to_lowercase()),
        "{needle:?} not in {text}"
    );
    assert!(!text.contains(SECRET), "password in the error: {text}");
    if err.kind() == ErrorKind::ConnectionLost {
        // Broken in the middle of a command: the cause is kept as the source.
        let cause = std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<Error>())
            .expect("the protocol error as source");
        assert_eq!(cause.kind(), ErrorKind::Protocol, "{text}");
        assert!(err.may_have_executed());
    }
    assert_eq!(within(one(client)).await.unwrap(), 1, "no recovery");
    assert!(stub.accepted() >= 2);
}

// ------------------------------------------------------------------ greeting

#[actix_rt::test]
async fn garbage_instead_of_a_greeting() {
    let stub = Stub::first(|mut c| async move {
        c.send_raw(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        c.hold().await;
    })
    .await;
    let client = Client::new(stub.opts());
    fails_then_recovers(&stub, &client, &[ErrorKind::Protocol], "out of order").await;

    let stub = Stub::first(|mut c| async move {
        c.send(0, b"\xde\xad\xbe\xef garbage").await;
        c.hold().await;
    })
    .await;
    let client = Client::new(stub.opts());
    fails_then_recovers(
        &stub,
        &client,
        &[ErrorKind::Protocol],
        "protocol version 222",
    )
    .await;
}

#[actix_rt::test]
async fn truncated_greeting_then_close() {
    // The frame is complete but the greeting stops inside the scramble.
    let stub = Stub::first(|mut c| async move {
        c.send(0, &greeting(CAPS)[..24]).await;
    })
    .await;
    let client = Client::new(stub.opts());
    fails_then_recovers(&stub, &client, &[ErrorKind::Protocol], "unexpected end").await;

    // The frame itself is cut: the header promises more than arrives before the close.
    let stub = Stub::first(|mut c| async move {
        let g = greeting(CAPS);
        let mut frame = (g.len() as u32).to_le_bytes()[..3].to_vec();
        frame.push(0);
        frame.extend_from_slice(&g[..g.len() / 2]);
        c.send_raw(&frame).await;
    })
    .await;
    let client = Client::new(stub.opts());
    // An i/o failure is temporary: after the (single) attempt, a timeout error wraps it.
    fails_then_recovers(
        &stub,
        &client,
        &[ErrorKind::Io, ErrorKind::Timeout],
        "closed",
    )
    .await;
}

#[actix_rt::test]
async fn protocol_version_9() {
    let stub = Stub::first(|mut c| async move {
        c.send(0, &greeting_with(9, CAPS, "mysql_native_password"))
            .await;
        c.hold().await;
    })
    .await;
    let client = Client::new(stub.opts());
    fails_then_recovers(&stub, &client, &[ErrorKind::Protocol], "protocol version 9").await;
}

#[actix_rt::test]
async fn error_packet_instead_of_a_greeting() {
    let stub = Stub::first(|mut c| async move {
        c.send(
            0,
            &err_packet(1130, "HY000", "Host is not allowed to connect"),
        )
        .await;
    })
    .await;
    let client = Client::new(stub.opts());
    let err = within(one(&client)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(err.code(), Some(1130));
    assert_eq!(within(one(&client)).await.unwrap(), 1);
}

#[actix_rt::test]
async fn a_server_that_never_speaks() {
    let stub = Stub::first(|mut c| async move {
        c.hold().await;
    })
    .await;
    let client = Client::new(stub.opts().with_connect_timeout(Duration::from_millis(300)));
    fails_then_recovers(&stub, &client, &[ErrorKind::Timeout], "connect").await;
}

// ------------------------------------------------------------------ framing

#[actix_rt::test]
async fn oversized_packet_header_is_refused_without_allocating() {
    // During the handshake: a greeting header claiming 16 MiB - 1 with a 1 MiB bound.
    let stub = Stub::first(|mut c| async move {
        c.send_raw(&[0xFF, 0xFF, 0xFF, 0x00]).await;
        c.hold().await;
    })
    .await;
    let client = Client::new(stub.opts().with_max_allowed_packet(1 << 20));
    fails_then_recovers(
        &stub,
        &client,
        &[ErrorKind::Protocol],
        "exceeds max_allowed_packet",
    )
    .await;

    // In a result: the client must not wait for the 16 MiB to arrive.
    let stub = Stub::first(|mut c| async move {
        if handshake(&mut c, CAPS).await && c.recv().await.is_some() {
            c.send_raw(&[0xFF, 0xFF, 0xFF, 0x01]).await;
        }
        c.hold().await;
    })
    .await;
    let client = Client::new(stub.opts().with_max_allowed_packet(1 << 20));
    fails_then_recovers(
        &stub,
        &client,
        &[ErrorKind::ConnectionLost],
        "exceeds max_allowed_packet",
    )
    .await;
}

#[actix_rt::test]
async fn wrong_sequence_ids() {
    // A greeting with sequence id 3.
    let stub = Stub::first(|mut c| async move {
        c.send(3, &greeting(CAPS)).await;
        c.hold().await;
    })
    .await;
    let client = Client::new(stub.opts());
    fails_then_recovers(
        &stub,
        &client,
        &[ErrorKind::Protocol],
        "expected sequence id 0",
    )
    .await;

    // The OK after the handshake response with sequence id 5.
    let stub = Stub::first(|mut c| async move {
        c.send(0, &greeting(CAPS)).await;
        if c.recv().await.is_some() {
            c.send(5, OK).await;
        }
        c.hold().await;
    })
    .await;
    let client = Client::new(stub.opts());
    fails_then_recovers(&stub, &client, &[ErrorKind::Protocol], "got 5").await;

    // A result packet out of order.
    let stub = Stub::first(|c| after_login_reply(c, vec![(1, vec![1]), (9, column("x"))])).await;
    let client = Client::new(stub.opts());
    fails_then_recovers(&stub, &client, &[ErrorKind::ConnectionLost], "got 9").await;
}

// ------------------------------------------------------------------ results

#[actix_rt::test]
async fn row_with_more_values_than_columns() {
    let stub = Stub::first(|c| {
        after_login_reply(
            c,
            vec![
                (1, vec![1]),
                (2, column("a")),
                (3, EOF.to_vec()),
                (4, b"\x011\x012".to_vec()),
                (5, EOF.to_vec()),
            ],
        )
    })
    .await;
    let client = Client::new(stub.opts());
    fails_then_recovers(
        &stub,
        &client,
        &[ErrorKind::ConnectionLost],
        "more values than the 1 columns",
    )
    .await;
}

#[actix_rt::test]
async fn connection_closed_in_the_middle_of_a_row() {
    let stub = Stub::first(|mut c| async move {
        if handshake(&mut c, CAPS).await && c.recv().await.is_some() {
            c.send(1, &[1]).await;
            c.send(2, &column("a")).await;
            c.send(3, EOF).await;
            // A row packet announcing 10 bytes, of which 3 arrive; then the close.
            c.send_raw(&[10, 0, 0, 4, 9, b'1', b'2']).await;
        }
    })
    .await;
    let client = Client::new(stub.opts());
    let err = within(one(&client)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{}", full_text(&err));
    assert!(err.may_have_executed());
    assert_eq!(within(one(&client)).await.unwrap(), 1);
}

#[actix_rt::test]
async fn load_data_local_infile_without_opt_in() {
    let answer = Arc::new(Mutex::new(None));
    let seen = answer.clone();
    let stub = Stub::start(move |_, mut c| {
        let seen = seen.clone();
        async move {
            if !handshake(&mut c, CAPS).await {
                return;
            }
            if c.recv().await.is_none() {
                return;
            }
            c.send(1, b"\xfb/etc/passwd").await;
            // The client must answer with an empty packet (no file) with the next sequence id.
            let reply = c.recv().await;
            *seen.lock().unwrap() = reply.clone();
            c.send(3, OK).await;
            serve_commands(c).await;
        }
    })
    .await;
    let client = Client::new(stub.opts());
    let err = within(one(&client)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{}", full_text(&err));
    assert!(err.to_string().contains("LOAD DATA LOCAL INFILE"), "{err}");
    assert_eq!(*answer.lock().unwrap(), Some((2, Vec::new())));
    // Same connection, still in step.
    assert_eq!(within(one(&client)).await.unwrap(), 1);
    assert_eq!(stub.accepted(), 1);
}

// ------------------------------------------------------------------ authentication

#[actix_rt::test]
async fn auth_switch_to_an_unknown_plugin() {
    let stub = Stub::first(|mut c| async move {
        c.send(0, &greeting(CAPS)).await;
        if c.recv().await.is_some() {
            c.send(2, b"\xfeauth_gssapi_client\0some-data").await;
        }
        c.hold().await;
    })
    .await;
    let client = Client::new(stub.opts());
    fails_then_recovers(&stub, &client, &[ErrorKind::Auth], "auth_gssapi_client").await;
}

#[actix_rt::test]
async fn clear_password_is_refused_over_plain_tcp() {
    let stub = Stub::first(|mut c| async move {
        c.send(0, &greeting(CAPS)).await;
        if c.recv().await.is_some() {
            c.send(2, b"\xfemysql_clear_password\0").await;
        }
        c.drain().await;
    })
    .await;
    let client = Client::new(stub.opts());
    fails_then_recovers(&stub, &client, &[ErrorKind::Auth], "mysql_clear_password").await;
    assert!(!stub.received_password(), "the password was sent in clear");
}

#[actix_rt::test]
async fn clear_password_as_the_default_plugin_is_not_used_first() {
    // A greeting naming mysql_clear_password must not make the client send the password in
    // the handshake response over plain TCP.
    let stub = Stub::first(|mut c| async move {
        c.send(0, &greeting_with(10, CAPS, "mysql_clear_password"))
            .await;
        c.drain().await;
    })
    .await;
    let client = Client::new(stub.opts());
    let err = within(one(&client)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{}", full_text(&err));
    assert!(!stub.received_password(), "the password was sent in clear");
}

#[actix_rt::test]
async fn access_denied_does_not_leak_the_password() {
    let stub = Stub::first(|mut c| async move {
        c.send(0, &greeting(CAPS)).await;
        if c.recv().await.is_some() {
            c.send(
                2,
                &err_packet(
                    1045,
                    "28000",
                    "Access denied for user 'victim'@'localhost' (using password: YES)",
                ),
            )
            .await;
        }
    })
    .await;
    let client = Client::new(stub.opts());
    let err = within(one(&client)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.code(), Some(1045));
    let text = full_text(&err);
    assert!(!text.contains(SECRET), "{text}");
    assert!(!format!("{client:?}").contains(SECRET));
    assert!(!stub.received_password());
}

// ------------------------------------------------------------------ TLS

#[actix_rt::test]
async fn ssl_required_fails_closed_without_client_ssl() {
    for mode in [
        SslMode::Required,
        SslMode::VerifyCa,
        SslMode::VerifyIdentity,
    ] {
        let stub = Stub::first(|mut c| async move {
            c.send(0, &greeting(CAPS)).await;
            c.drain().await;
        })
        .await;
        let client = Client::new(stub.opts().with_ssl_mode(mode));
        let err = within(one(&client)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls, "{mode:?}: {}", full_text(&err));
        assert!(err.to_string().contains("does not offer TLS"), "{err}");
        // Nothing was sent: not the user name, not a scramble, not the password.
        assert!(stub.log.lock().unwrap().is_empty(), "{mode:?}");
        // Never a fall back to plain text, on the next attempt either.
        let err = within(one(&client)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls);
    }
    // `preferred` goes on in plain text.
    let stub = Stub::first(well_behaved).await;
    let client = Client::new(stub.opts().with_ssl_mode(SslMode::Preferred));
    assert_eq!(within(one(&client)).await.unwrap(), 1);
}

#[actix_rt::test]
async fn garbage_instead_of_a_tls_handshake() {
    let request = Arc::new(Mutex::new(None));
    let seen = request.clone();
    let stub = Stub::start(move |n, mut c| {
        let seen = seen.clone();
        async move {
            if n > 0 {
                return well_behaved(c).await;
            }
            c.send(0, &greeting(CAPS | CLIENT_SSL)).await;
            *seen.lock().unwrap() = c.recv().await;
            c.send_raw(b"this is not a TLS ServerHello, not at all")
                .await;
            c.drain().await;
        }
    })
    .await;
    let client = Client::new(stub.opts().with_ssl_mode(SslMode::Required));
    let err = within(one(&client)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{}", full_text(&err));
    // The SSLRequest: sequence id 1, 32 bytes, CLIENT_SSL set, no user name.
    let (seq, payload) = request.lock().unwrap().clone().expect("an SSLRequest");
    assert_eq!(seq, 1);
    assert_eq!(payload.len(), 32);
    let caps = u32::from_le_bytes(payload[..4].try_into().unwrap());
    assert_ne!(caps & CLIENT_SSL, 0);
    assert!(!stub.received_password());
}

#[actix_rt::test]
async fn data_injected_before_the_tls_handshake_is_refused() {
    let stub = Stub::first(|mut c| async move {
        // The greeting and a forged OK in one write: the OK would otherwise be read as if it
        // had come through TLS.
        let g = greeting(CAPS | CLIENT_SSL);
        let mut bytes = (g.len() as u32).to_le_bytes()[..3].to_vec();
        bytes.push(0);
        bytes.extend_from_slice(&g);
        bytes.extend_from_slice(&[7, 0, 0, 2]);
        bytes.extend_from_slice(OK);
        c.send_raw(&bytes).await;
        c.drain().await;
    })
    .await;
    let client = Client::new(stub.opts().with_ssl_mode(SslMode::Required));
    let err = within(one(&client)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{}", full_text(&err));
    assert!(
        full_text(&err).contains("before the TLS handshake"),
        "{}",
        full_text(&err)
    );
    assert!(!stub.received_password());
}

// ------------------------------------------------------------------ the password never leaks

#[test]
fn opts_and_url_errors_never_show_the_password() {
    let opts = Opts::from_url(&format!("mysql://u:{SECRET}@h:3306/db?ssl_mode=required")).unwrap();
    assert!(!format!("{opts:?}").contains(SECRET));
    assert!(!format!("{opts:#?}").contains(SECRET));
    for url in [
        format!("mysql://u:{SECRET}@h:3306/db?bogus=1"),
        format!("mysql://u:{SECRET}@h:99999/db"),
        format!("postgres://u:{SECRET}@h/db"),
        format!("mysql://u:{SECRET}%FF@h/db"),
        format!("mysql://u:{SECRET}@h/db?connect_timeout=soon"),
    ] {
        let err = Opts::from_url(&url).unwrap_err();
        let text = full_text(&err);
        assert_eq!(err.kind(), ErrorKind::Config, "{url}");
        assert!(!text.contains(SECRET), "{url}: {text}");
        let err = Client::from_url(&url).unwrap_err();
        assert!(!full_text(&err).contains(SECRET), "{url}");
    }
}
