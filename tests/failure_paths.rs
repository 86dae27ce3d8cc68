//! Failure paths against real servers: what a caller is told when a statement, a transaction
//! or the connection under it goes wrong, and that the client stays usable afterwards.
//!
//! Faults come from a proxy between the client and the server (`support::proxy`, or the small
//! one below that swallows `KILL QUERY`), from the server itself, or from the caller's own code
//! (a panicking `FromRow`, a future dropped half-way).
mod support;

use std::future::Future;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::{Duration, Instant};

use actix_mysql::messages::{ConnectionState, Execute};
use actix_mysql::{
    Client, ErrorKind, FromRow, Opts, Pool, PoolOpts, ReconnectPolicy, Row, TransactionOpts, Value,
};
use futures_util::StreamExt;
use support::proxy::Proxy;
use support::{client, servers, table_name, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The output of `fut`, or `None` when it takes longer than `bound`.
async fn within<F: Future>(bound: Duration, fut: F) -> Option<F::Output> {
    tokio::time::timeout(bound, fut).await.ok()
}

const SECS_5: Duration = Duration::from_secs(5);

fn upstream(srv: &TestServer) -> SocketAddr {
    format!("{}:{}", srv.host, srv.port).parse().unwrap()
}

/// Options for the test database through a fresh fault proxy, with quick reconnects.
async fn proxied(srv: &TestServer) -> (Proxy, Opts) {
    let proxy = Proxy::start(upstream(srv)).await;
    let opts = Opts::from_url(&srv.url_with_db(support::TEST_DB))
        .unwrap()
        .with_port(proxy.port())
        .with_reconnect_policy(ReconnectPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            max_attempts: 50,
        });
    (proxy, opts)
}

/// A proxy to `upstream` that forwards everything, except that a connection that sends a
/// `KILL QUERY` statement never has it delivered: it gets no reply, ever, while its socket
/// stays open (to it the server has stopped answering). Returns the port to connect to.
async fn kill_swallowing_proxy(upstream: SocketAddr) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let kill = buf[..n]
                            .windows(10)
                            .any(|w| w.eq_ignore_ascii_case(b"KILL QUERY"));
                        if kill {
                            std::future::pending::<()>().await;
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let down = tokio::io::copy(&mut sr, &mut cw);
                tokio::select! {
                    _ = up => {}
                    _ = down => {}
                }
            });
        }
    });
    port
}

/// A fresh `(k VARCHAR(40) PRIMARY KEY)` InnoDB table unique to this test and server.
async fn fresh_table(admin: &Client, srv: &TestServer, test: &str) -> String {
    let t = table_name("fp", srv, test);
    admin
        .execute(format!("DROP TABLE IF EXISTS {t}"))
        .await
        .unwrap();
    admin
        .execute(format!(
            "CREATE TABLE {t} (k VARCHAR(40) PRIMARY KEY) ENGINE=InnoDB"
        ))
        .await
        .unwrap();
    t
}

async fn keys(c: &Client, t: &str) -> Vec<String> {
    c.query(format!("SELECT k FROM {t} ORDER BY k"))
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// `SELECT 1` answers within 5 s.
async fn assert_usable(c: &Client, srv: &TestServer, after: &str) {
    match within(SECS_5, c.query("SELECT 1")).await {
        Some(Ok(rows)) => assert_eq!(rows[0].get::<i64>(0), 1, "{}", srv.name),
        Some(Err(e)) => panic!(
            "{}: after {after}, SELECT 1 failed: {e} (kind {:?})",
            srv.name,
            e.kind()
        ),
        None => panic!(
            "{}: after {after}, SELECT 1 got no answer within 5 s",
            srv.name
        ),
    }
}

async fn wait_until_closed(c: &Client, srv: &TestServer) {
    for _ in 0..100 {
        if c.state().await.unwrap().0 == ConnectionState::Closed {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{}: the client did not notice the cut", srv.name);
}

// 1. A statement past its time bound on a server that stops answering.

#[actix_rt::test]
async fn should_answer_a_timed_out_statement_when_the_server_stops_answering() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(
            opts.with_query_timeout(Some(Duration::from_secs(1)))
                .with_connect_timeout(Duration::from_secs(2)),
        );
        c.ping().await.unwrap();
        let started = Instant::now();
        let call = {
            let c = c.clone();
            actix_rt::spawn(async move { c.query("SELECT SLEEP(5)").await })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Nothing passes any more, in either direction, on any connection (the KILL's too).
        proxy.stall(true);
        let answer = within(Duration::from_secs(6), call).await;
        proxy.stall(false);
        let res = answer
            .unwrap_or_else(|| {
                panic!(
                    "{}: the caller got no answer within 6 s (query_timeout 1 s, connect_timeout 2 s)",
                    srv.name
                )
            })
            .unwrap();
        let e = res.expect_err("the statement cannot have succeeded");
        assert!(
            matches!(e.kind(), ErrorKind::Timeout | ErrorKind::ConnectionLost),
            "{}: {e} ({:?})",
            srv.name,
            e.kind()
        );
        assert!(started.elapsed() < Duration::from_secs(6));
    }
}

#[actix_rt::test]
async fn should_answer_a_timed_out_statement_when_its_kill_gets_no_reply() {
    for srv in servers() {
        let port = kill_swallowing_proxy(upstream(srv)).await;
        let opts = Opts::from_url(&srv.url_with_db(support::TEST_DB))
            .unwrap()
            .with_port(port)
            .with_query_timeout(Some(Duration::from_secs(1)))
            .with_connect_timeout(Duration::from_secs(2));
        let c = Client::new(opts);
        c.ping().await.unwrap();
        let started = Instant::now();
        // The side connection that sends KILL QUERY authenticates, then never hears back.
        let answer = within(Duration::from_secs(6), c.query("SELECT SLEEP(20)")).await;
        let res = answer.unwrap_or_else(|| {
            panic!(
                "{}: the caller got no answer within 6 s (query_timeout 1 s, connect_timeout 2 s); \
                 the KILL QUERY got no reply",
                srv.name
            )
        });
        let e = res.expect_err("the statement ran past its bound");
        assert!(
            matches!(e.kind(), ErrorKind::Timeout | ErrorKind::ConnectionLost),
            "{}: {e} ({:?})",
            srv.name,
            e.kind()
        );
        assert!(started.elapsed() < Duration::from_secs(6));
    }
}

// 2. A time-bounded write whose outcome is reported.

#[actix_rt::test]
async fn should_not_report_a_timed_out_insert_that_completed_as_not_executed() {
    for srv in servers() {
        let admin = client(srv);
        let t = fresh_table(&admin, srv, "late_ok").await;
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts.with_connect_timeout(Duration::from_secs(5)));
        c.ping().await.unwrap();
        // Every chunk takes 300 ms each way: the INSERT runs at ~300 ms, its OK arrives at
        // ~600 ms, after its 450 ms bound, while the KILL's side connection is still logging in.
        proxy.delay(Duration::from_millis(300));
        let msg = Execute::new(format!("INSERT INTO {t} VALUES ('late')"))
            .timeout(Duration::from_millis(450));
        let res = within(SECS_5, c.addr().send(msg))
            .await
            .unwrap_or_else(|| panic!("{}: no answer within 5 s", srv.name))
            .unwrap();
        proxy.delay(Duration::ZERO);
        let stored = keys(&admin, &t).await == ["late"];
        match res {
            Ok(_) => assert!(stored, "{}: Ok but the row is missing", srv.name),
            Err(e) => assert!(
                !stored || e.may_have_executed(),
                "{}: the row is stored, but the error says it cannot have run: {e} ({:?}, \
                 may_have_executed = false)",
                srv.name,
                e.kind()
            ),
        }
    }
}

#[actix_rt::test]
async fn should_report_a_written_statement_as_maybe_executed_when_its_connection_is_given_up() {
    for srv in servers() {
        let admin = client(srv);
        let t = fresh_table(&admin, srv, "given_up").await;
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(
            opts.with_query_timeout(Some(Duration::from_secs(1)))
                .with_connect_timeout(Duration::from_secs(2)),
        );
        c.ping().await.unwrap();
        // The INSERT reaches the server after 1.5 s (and runs); the KILL's side connection
        // cannot log in within the 2 s connect timeout, so the connection is given up.
        proxy.delay(Duration::from_millis(1500));
        let res = within(
            Duration::from_secs(8),
            c.execute(format!("INSERT INTO {t} VALUES ('given-up')")),
        )
        .await
        .unwrap_or_else(|| panic!("{}: no answer within 8 s", srv.name));
        proxy.delay(Duration::ZERO);
        let e = res.expect_err("the connection was given up");
        let stored = keys(&admin, &t).await == ["given-up"];
        assert!(
            e.may_have_executed(),
            "{}: a statement that was written must say it may have run: {e} ({:?}); \
             row stored: {stored}",
            srv.name,
            e.kind()
        );
    }
}

// 3. A transaction whose connection is closed under it.

async fn assert_not_half_committed(
    tx: actix_mysql::Transaction<'static>,
    admin: &Client,
    t: &str,
    srv: &TestServer,
) {
    let second = within(
        SECS_5,
        tx.execute(format!("INSERT INTO {t} VALUES ('second')")),
    )
    .await
    .unwrap_or_else(|| panic!("{}: second statement got no answer", srv.name));
    let commit = within(SECS_5, tx.commit())
        .await
        .unwrap_or_else(|| panic!("{}: commit got no answer", srv.name));
    let stored = keys(admin, t).await;
    match commit {
        Ok(()) => panic!(
            "{}: commit() succeeded after the connection was closed under the transaction \
             (second statement: {:?}); stored: {stored:?}",
            srv.name,
            second.map(drop)
        ),
        Err(e) => assert!(
            matches!(e.kind(), ErrorKind::TransactionAborted | ErrorKind::Closed),
            "{}: {e} ({:?})",
            srv.name,
            e.kind()
        ),
    }
    assert_ne!(
        stored,
        ["second"],
        "{}: half a transaction stored",
        srv.name
    );
}

#[actix_rt::test]
async fn should_not_commit_half_a_transaction_after_the_client_is_closed() {
    for srv in servers() {
        let admin = client(srv);
        let t = fresh_table(&admin, srv, "close_tx").await;
        let c = client(srv);
        let tx = c.begin().await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('first')"))
            .await
            .unwrap();
        within(SECS_5, c.close())
            .await
            .unwrap_or_else(|| panic!("{}: close() got no answer", srv.name))
            .unwrap();
        assert_not_half_committed(tx, &admin, &t, srv).await;
    }
}

#[actix_rt::test]
async fn should_not_commit_half_a_transaction_after_its_lease_is_dropped_broken() {
    for srv in servers() {
        let admin = client(srv);
        let t = fresh_table(&admin, srv, "lease_tx").await;
        let opts = Opts::from_url(&srv.url_with_db(support::TEST_DB)).unwrap();
        let pool = Pool::new(opts, PoolOpts::new().with_max_size(1));
        let mut conn = pool.get().await.unwrap();
        let tx = conn.begin().await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('first')"))
            .await
            .unwrap();
        // The pool retires (closes) the connection in the background.
        conn.mark_broken();
        drop(conn);
        let replaced = within(SECS_5, pool.get()).await;
        assert!(
            matches!(replaced, Some(Ok(_))),
            "{}: the pool did not hand out its replacement connection",
            srv.name
        );
        drop(replaced);
        assert_not_half_committed(tx, &admin, &t, srv).await;
    }
}

// 4. A duplicate-key error whose text mentions a lost connection.

#[actix_rt::test]
async fn should_return_a_duplicate_key_error_that_mentions_lost_connection_at_once() {
    for srv in servers() {
        let admin = client(srv);
        let t = fresh_table(&admin, srv, "dup_lost").await;
        let c = client(srv);
        c.execute(format!("INSERT INTO {t} VALUES ('lost connection')"))
            .await
            .unwrap();
        let e = within(
            SECS_5,
            c.execute(format!("INSERT INTO {t} VALUES ('lost connection')")),
        )
        .await
        .unwrap_or_else(|| panic!("{}: no answer within 5 s", srv.name))
        .expect_err("duplicate key");
        assert_eq!(e.kind(), ErrorKind::Server, "{}: {e}", srv.name);
        assert_eq!(e.code(), Some(1062), "{}: {e}", srv.name);
        let (_, stats, _) = c.state().await.unwrap();
        assert_eq!(
            (stats.connects, stats.reconnects, stats.redelivered),
            (1, 0, 0),
            "{}: a duplicate key is not a lost connection: {stats:?}",
            srv.name
        );
    }
}

#[actix_rt::test]
async fn should_keep_the_transaction_after_a_duplicate_key_error_that_mentions_lost_connection() {
    for srv in servers() {
        let admin = client(srv);
        let t = fresh_table(&admin, srv, "dup_lost_tx").await;
        admin
            .execute(format!("INSERT INTO {t} VALUES ('lost connection')"))
            .await
            .unwrap();
        let c = client(srv);
        let tx = c.begin_with(TransactionOpts::new()).await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('before')"))
            .await
            .unwrap();
        let e = within(
            SECS_5,
            tx.execute(format!("INSERT INTO {t} VALUES ('lost connection')")),
        )
        .await
        .unwrap_or_else(|| panic!("{}: no answer within 5 s", srv.name))
        .expect_err("duplicate key");
        assert_eq!(
            (e.kind(), e.code()),
            (ErrorKind::Server, Some(1062)),
            "{}: {e}",
            srv.name
        );
        let after = within(
            SECS_5,
            tx.execute(format!("INSERT INTO {t} VALUES ('after')")),
        )
        .await
        .unwrap_or_else(|| panic!("{}: no answer within 5 s", srv.name));
        assert!(
            after.is_ok(),
            "{}: the transaction is still open on the server, yet: {:?}",
            srv.name,
            after.map(drop)
        );
        tx.commit().await.unwrap();
        assert_eq!(
            keys(&admin, &t).await,
            ["after", "before", "lost connection"],
            "{}",
            srv.name
        );
        let (_, stats, _) = c.state().await.unwrap();
        assert_eq!(stats.reconnects, 0, "{}: {stats:?}", srv.name);
    }
}

/// A temporary error from a later statement of a multi-statement proves nothing about the
/// earlier ones, which ran: the batch is not sent again.
#[actix_rt::test]
async fn should_not_resend_a_multi_statement_whose_later_statement_failed_temporarily() {
    for srv in servers() {
        let admin = client(srv);
        let t = fresh_table(&admin, srv, "multi_temp").await;
        let opts = Opts::from_url(&srv.url_with_db(support::TEST_DB))
            .unwrap()
            .with_multi_statements(true)
            .with_temporary_error_codes([1242]);
        let c = Client::new(opts);
        let e = within(
            SECS_5,
            c.query_multi(format!(
                "INSERT INTO {t} VALUES ('once'); SELECT (SELECT 1 UNION SELECT 2)"
            )),
        )
        .await
        .unwrap_or_else(|| panic!("{}: no answer", srv.name))
        .expect_err("the second statement fails");
        assert_eq!(e.code(), Some(1242), "{}: {e}", srv.name);
        let (_, stats, _) = c.state().await.unwrap();
        assert_eq!(stats.redelivered, 0, "{}: {stats:?}", srv.name);
        assert_eq!(keys(&admin, &t).await, ["once"], "{}", srv.name);
    }
}

// 5. A row stream cut short.

/// 2,000,000 rows, generated as they are sent (MariaDB and MySQL alike).
const TWO_MILLION_ROWS: &str =
    "WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < 9) \
     SELECT d1.n + 10 * d2.n + 100 * d3.n + 1000 * d4.n + 10000 * d5.n + 100000 * d6.n \
     + 1000000 * d7.n FROM d d1, d d2, d d3, d d4, d d5, d d6, d d7 WHERE d7.n < 2";

#[actix_rt::test]
async fn should_end_a_cut_row_stream_with_an_error() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts);
        let mut rows = c.query_stream(TWO_MILLION_ROWS).await.unwrap();
        let mut count = 0u64;
        let mut last_err = None;
        // A slow consumer: the connection is behind the consumer's pace when the cut comes.
        while count < 2000 {
            match rows.next().await {
                Some(Ok(_)) => count += 1,
                Some(Err(e)) => panic!("{}: error before the cut: {e}", srv.name),
                None => panic!("{}: ended before the cut", srv.name),
            }
            if count % 100 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        proxy.cut_all();
        let drained = within(Duration::from_secs(30), async {
            while let Some(item) = rows.next().await {
                match item {
                    Ok(_) => count += 1,
                    Err(e) => {
                        last_err = Some(e);
                        break;
                    }
                }
            }
        })
        .await;
        assert!(
            drained.is_some(),
            "{}: the stream neither ended nor failed",
            srv.name
        );
        assert!(
            count < 2_000_000,
            "{}: the cut came too late to truncate",
            srv.name
        );
        let e = last_err.unwrap_or_else(|| {
            panic!(
                "{}: the stream ended without an error after {count} of 2000000 rows",
                srv.name
            )
        });
        assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{}: {e}", srv.name);
    }
}

// 6. A transaction future dropped half-way.

#[actix_rt::test]
async fn should_stay_usable_after_a_commit_future_is_dropped() {
    for srv in servers() {
        let admin = client(srv);
        let t = fresh_table(&admin, srv, "drop_commit").await;
        let c = client(srv);
        let tx = c.begin().await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('x')"))
            .await
            .unwrap();
        // Polled once (the COMMIT is queued), then dropped.
        let mut commit = Box::pin(tx.commit());
        let first = std::future::poll_fn(|cx| Poll::Ready(commit.as_mut().poll(cx))).await;
        assert!(first.is_pending(), "commit finished on its first poll");
        drop(commit);
        assert_usable(&c, srv, "a dropped commit() future").await;
    }
}

#[actix_rt::test]
async fn should_stay_usable_after_a_queued_begin_is_dropped() {
    for srv in servers() {
        let c = client(srv);
        c.ping().await.unwrap();
        let slow = {
            let c = c.clone();
            actix_rt::spawn(async move { c.query("SELECT SLEEP(1)").await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Its claim of the connection waits behind the SLEEP; the caller gives up.
        let begun = within(Duration::from_millis(300), c.begin()).await;
        assert!(begun.is_none(), "begin() did not wait behind SLEEP(1)");
        slow.await.unwrap().unwrap();
        assert_usable(&c, srv, "a begin() dropped while queued").await;
    }
}

// 7. Session state replayed on a new connection.

async fn assert_reconnects_after(srv: &TestServer, statements: &[&str], check: &str) {
    let (proxy, opts) = proxied(srv).await;
    let c = Client::new(opts);
    for sql in statements {
        c.execute(*sql).await.unwrap();
    }
    let before = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
    proxy.cut_all();
    wait_until_closed(&c, srv).await;
    let res = within(SECS_5, c.query(check)).await.unwrap_or_else(|| {
        panic!(
            "{}: no answer within 5 s after the reconnect ({statements:?})",
            srv.name
        )
    });
    let rows = res.unwrap_or_else(|e| {
        panic!(
            "{}: after {statements:?} and a reconnect, `{check}` failed: {e} ({:?})",
            srv.name,
            e.kind()
        )
    });
    assert_eq!(rows.len(), 1);
    let after = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
    assert_ne!(before, after, "{}: no new connection", srv.name);
}

#[actix_rt::test]
async fn should_reconnect_after_a_numeric_session_variable_was_set() {
    for srv in servers() {
        assert_reconnects_after(
            srv,
            &[
                "SET SESSION session_track_system_variables = '*'",
                "SET SESSION wait_timeout = 100",
            ],
            "SELECT @@SESSION.wait_timeout",
        )
        .await;
    }
}

#[actix_rt::test]
async fn should_reconnect_after_character_set_results_was_set_to_null() {
    for srv in servers() {
        assert_reconnects_after(
            srv,
            &["SET character_set_results = NULL"],
            "SELECT @@character_set_results IS NULL",
        )
        .await;
    }
}

// 8. The caller's own code panics, or asks for the largest bounds.

#[derive(Debug)]
struct Panicky;

impl FromRow for Panicky {
    fn from_row(_row: Row) -> actix_mysql::Result<Self> {
        panic!("this FromRow panics on purpose");
    }
}

#[actix_rt::test]
async fn should_stay_usable_after_a_from_row_panics() {
    for srv in servers() {
        let c = client(srv);
        c.ping().await.unwrap();
        let call = {
            let c = c.clone();
            actix_rt::spawn(async move { c.query_as::<Panicky>("SELECT 1").await })
        };
        let answer = within(SECS_5, call)
            .await
            .unwrap_or_else(|| panic!("{}: the caller got no answer", srv.name));
        // The panic reaches the awaiting task, or at least that call fails.
        if let Ok(res) = answer {
            assert!(res.is_err(), "{}: a panicking FromRow succeeded", srv.name);
        }
        assert_usable(&c, srv, "a panicking FromRow").await;
    }
}

#[actix_rt::test]
async fn should_stay_usable_after_a_local_infile_handler_panics() {
    for srv in servers() {
        let admin = client(srv);
        if srv.is_mysql() {
            admin.execute("SET GLOBAL local_infile = 1").await.unwrap();
        }
        let t = fresh_table(&admin, srv, "infile_panic").await;
        let opts = Opts::from_url(&srv.url_with_db(support::TEST_DB))
            .unwrap()
            .with_local_infile_handler(|_name: &str| -> std::io::Result<Vec<u8>> {
                panic!("this local infile handler panics on purpose")
            });
        let c = Client::new(opts);
        c.ping().await.unwrap();
        let call = {
            let c = c.clone();
            actix_rt::spawn(async move {
                c.execute(format!("LOAD DATA LOCAL INFILE 'rows.csv' INTO TABLE {t}"))
                    .await
            })
        };
        let answer = within(SECS_5, call)
            .await
            .unwrap_or_else(|| panic!("{}: the caller got no answer", srv.name));
        // The panic reaches the awaiting task, or at least that call fails.
        if let Ok(res) = answer {
            assert!(res.is_err(), "{}: a panicking handler succeeded", srv.name);
        }
        assert_usable(&c, srv, "a panicking local infile handler").await;
    }
}

#[actix_rt::test]
async fn should_accept_the_largest_query_timeout() {
    for srv in servers() {
        let opts = Opts::from_url(&srv.url_with_db(support::TEST_DB))
            .unwrap()
            .with_query_timeout(Some(Duration::MAX));
        let c = Client::new(opts);
        assert_usable(&c, srv, "with_query_timeout(Some(Duration::MAX))").await;
        let res = within(
            SECS_5,
            c.addr().send(Execute::new("DO 1").timeout(Duration::MAX)),
        )
        .await
        .unwrap_or_else(|| panic!("{}: no answer", srv.name))
        .unwrap();
        assert!(res.is_ok(), "{}: {:?}", srv.name, res.map(drop));
    }
}

#[actix_rt::test]
async fn should_accept_the_largest_queue_timeout() {
    for srv in servers() {
        let opts = Opts::from_url(&srv.url_with_db(support::TEST_DB))
            .unwrap()
            .with_queue_timeout(Duration::MAX);
        let c = Client::new(opts);
        assert_usable(&c, srv, "with_queue_timeout(Duration::MAX)").await;
    }
}

// 9. Reconnecting once the server is back.

#[actix_rt::test]
async fn should_connect_again_once_the_server_is_back_after_a_failed_command() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        // A long backoff: whatever is left of it when the first command gives up outlives
        // the next command's queue timeout.
        let c = Client::new(
            opts.with_queue_timeout(Duration::from_secs(2))
                .with_connect_timeout(Duration::from_secs(1))
                .with_reconnect_policy(ReconnectPolicy {
                    initial_backoff: Duration::from_secs(20),
                    max_backoff: Duration::from_secs(40),
                    max_attempts: 50,
                }),
        );
        proxy.refuse(true);
        let first = within(SECS_5, c.query("SELECT 1"))
            .await
            .unwrap_or_else(|| panic!("{}: the first command got no answer", srv.name));
        assert!(
            first.is_err(),
            "{}: connected through a refusing proxy",
            srv.name
        );
        proxy.refuse(false);
        let accepted = proxy.accepted();
        let second = within(SECS_5, c.query("SELECT 1"))
            .await
            .unwrap_or_else(|| panic!("{}: the second command got no answer", srv.name));
        let attempts = proxy.accepted() - accepted;
        match second {
            Ok(rows) => assert_eq!(rows[0].get::<i64>(0), 1),
            Err(e) => panic!(
                "{}: the server is back, yet the next command failed: {e} ({:?}) after {attempts} \
                 connect attempts",
                srv.name,
                e.kind()
            ),
        }
        assert!(attempts >= 1);
    }
}

// 10. A raw-SQL COMMIT whose reply is lost.

#[actix_rt::test]
async fn should_report_a_raw_commit_whose_reply_was_lost_as_connection_lost() {
    for srv in servers() {
        let admin = client(srv);
        let t = fresh_table(&admin, srv, "raw_commit").await;
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts);
        c.execute("BEGIN").await.unwrap();
        c.execute(format!("INSERT INTO {t} VALUES ('raw')"))
            .await
            .unwrap();
        proxy.stall_replies(true);
        let (up, _) = proxy.bytes();
        let commit = {
            let c = c.clone();
            actix_rt::spawn(async move { c.execute("COMMIT").await })
        };
        // The COMMIT reaches the server; its reply is held back, then the connection is cut.
        for _ in 0..100 {
            if proxy.bytes().0 > up {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        proxy.cut_all();
        proxy.stall_replies(false);
        let e = within(SECS_5, commit)
            .await
            .unwrap_or_else(|| panic!("{}: COMMIT got no answer", srv.name))
            .unwrap()
            .expect_err("the reply was lost");
        let stored = keys(&admin, &t).await;
        assert_eq!(
            (e.kind(), e.may_have_executed()),
            (ErrorKind::ConnectionLost, true),
            "{}: {e}; stored: {stored:?}",
            srv.name
        );
    }
}

// 11. A prepared statement executed with parameters of different types. MySQL keeps the type
// it derived for `?` at the first execution and converts later values to it (so `'hello'`
// comes back as the BIGINT 0); MariaDB returns each value as sent. Either way every
// execution's rows decode with the column definitions the server sent for it, and the
// connection stays up.

#[actix_rt::test]
async fn should_decode_each_execution_with_the_columns_the_server_sent() {
    for srv in servers() {
        let c = client(srv);
        let id = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        let stmt = c.prepare("SELECT ?").await.unwrap();
        let rows = within(SECS_5, c.exec(&stmt, (42i64,)))
            .await
            .unwrap_or_else(|| panic!("{}: no answer", srv.name))
            .unwrap();
        assert_eq!(rows[0].get::<i64>(0), 42, "{}", srv.name);
        let text = within(SECS_5, c.exec(&stmt, ("hello",))).await;
        let double = within(SECS_5, c.exec(&stmt, (2.5f64,))).await;
        for (what, rows) in [("a string", text), ("a double", double)] {
            let rows = rows
                .unwrap_or_else(|| panic!("{}: no answer", srv.name))
                .unwrap_or_else(|e| panic!("{}: {what} failed: {e} ({:?})", srv.name, e.kind()));
            let got = rows[0].get::<Value>(0);
            if srv.is_mysql() {
                // The value as the server chose to send it (the string is converted to the
                // first execution's BIGINT, 0), decoded by the columns it sent with it.
                assert!(
                    matches!(got, Value::Int(0) | Value::Double(_)),
                    "{}: {what} came back as {got:?}",
                    srv.name
                );
            } else if what == "a string" {
                assert_eq!(rows[0].get::<String>(0), "hello", "{}", srv.name);
            } else {
                assert_eq!(rows[0].get::<f64>(0), 2.5, "{}", srv.name);
            }
        }
        let same = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        assert_eq!(same, id, "{}: the connection was dropped", srv.name);
    }
}
