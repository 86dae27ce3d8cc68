//! Supervision against real servers: lazy connect, idle close, reconnect, safe redelivery,
//! deadlines, temporary errors, session replay, query timeouts.
//!
//! Faults come from a proxy between the client and the server (deterministic), or from the
//! server itself (`KILL`, `wait_timeout`).
mod support;

use std::time::Duration;

use actix_mysql::messages::{ConnectionState, Execute, Query};
use actix_mysql::{Client, ErrorKind, Opts, ReconnectPolicy};
use support::proxy::Proxy;
use support::{client, servers, table_name, TestServer};

async fn proxied(srv: &TestServer) -> (Proxy, Opts) {
    let upstream = format!("{}:{}", srv.host, srv.port).parse().unwrap();
    let proxy = Proxy::start(upstream).await;
    let opts = Opts::from_url(&srv.url_with_db("actix_test"))
        .unwrap()
        .with_port(proxy.port())
        .with_reconnect_policy(ReconnectPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            max_attempts: 50,
        });
    (proxy, opts)
}

async fn connection_exists(admin: &Client, id: u32) -> bool {
    !admin
        .query(format!(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE ID = {id}"
        ))
        .await
        .unwrap()
        .is_empty()
}

async fn wait_until<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

#[actix_rt::test]
async fn should_not_connect_before_the_first_query() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(proxy.accepted(), 0, "{}", srv.name);
        assert_eq!(c.state().await.unwrap().0, ConnectionState::Closed);
        c.ping().await.unwrap();
        assert_eq!(proxy.accepted(), 1);
        assert_eq!(c.state().await.unwrap().0, ConnectionState::Idle);
    }
}

#[actix_rt::test]
async fn should_close_when_idle_and_reopen_on_the_next_query() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts.with_idle_timeout(Some(Duration::from_secs(1))));
        let admin = client(srv);
        let id = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        assert!(connection_exists(&admin, id).await);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            proxy.active(),
            0,
            "{}: proxy still has a connection",
            srv.name
        );
        wait_until("the server dropped the idle connection", || {
            let admin = admin.clone();
            async move { !connection_exists(&admin, id).await }
        })
        .await;
        let (state, stats, _) = c.state().await.unwrap();
        assert_eq!(state, ConnectionState::Closed);
        assert_eq!(stats.idle_closes, 1);
        let id2 = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        assert_ne!(id, id2);
        assert_eq!(proxy.accepted(), 2);
    }
}

#[actix_rt::test]
async fn should_survive_the_server_closing_an_idle_connection() {
    for srv in servers() {
        let c = client(srv);
        c.execute("SET SESSION wait_timeout = 1").await.unwrap();
        let id = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        // Never sent on the dead socket: the query runs on a new connection and succeeds.
        let rows = c.query("SELECT CONNECTION_ID()").await.unwrap();
        assert_ne!(rows[0].get::<u32>(0), id, "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_run_queued_queries_in_order_after_kill() {
    for srv in servers() {
        let c = client(srv);
        let admin = client(srv);
        let t = table_name("s", srv, "kill");
        admin
            .execute(format!("DROP TABLE IF EXISTS {t}"))
            .await
            .unwrap();
        admin
            .execute(format!(
                "CREATE TABLE {t} (seq INT AUTO_INCREMENT PRIMARY KEY, i INT NOT NULL)"
            ))
            .await
            .unwrap();
        let id = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        // One long statement in flight, then 100 queued behind it.
        let sleeper = {
            let c = c.clone();
            actix_rt::spawn(async move { c.query("SELECT SLEEP(3)").await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let queued: Vec<_> = (0..100)
            .map(|i| {
                let c = c.clone();
                let sql = format!("INSERT INTO {t} (i) VALUES ({i})");
                actix_rt::spawn(async move { c.execute(sql).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        admin.execute(format!("KILL {id}")).await.unwrap();
        for q in queued {
            q.await.unwrap().unwrap();
        }
        // The statement in flight either failed as lost or was answered "killed" and resent.
        match sleeper.await.unwrap() {
            Ok(_) => {}
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{}: {e}", srv.name),
        }
        let rows = admin
            .query(format!("SELECT i FROM {t} ORDER BY seq"))
            .await
            .unwrap();
        let order: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>(), "{}", srv.name);
        let new_id = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        assert_ne!(new_id, id);
        admin.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_not_resend_an_insert_in_flight_but_resend_queued_and_retry_safe() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts);
        let admin = client(srv);
        let t = table_name("s", srv, "inflight");
        admin
            .execute(format!("DROP TABLE IF EXISTS {t}"))
            .await
            .unwrap();
        admin
            .execute(format!("CREATE TABLE {t} (k VARCHAR(20) PRIMARY KEY)"))
            .await
            .unwrap();
        c.ping().await.unwrap();

        // The INSERT reaches the server, its reply is held back, then the connection is cut.
        proxy.stall_replies(true);
        let insert = {
            let c = c.clone();
            let t = t.clone();
            actix_rt::spawn(async move {
                c.execute(format!("INSERT INTO {t} VALUES ('in-flight')"))
                    .await
            })
        };
        wait_until("the insert ran on the server", || {
            let admin = admin.clone();
            let t = t.clone();
            async move {
                !admin
                    .query(format!("SELECT k FROM {t}"))
                    .await
                    .unwrap()
                    .is_empty()
            }
        })
        .await;
        let queued = {
            let c = c.clone();
            let t = t.clone();
            actix_rt::spawn(async move {
                c.execute(format!("INSERT INTO {t} VALUES ('queued')"))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        proxy.cut_all();
        proxy.stall_replies(false);

        let err = insert.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{}: {err}", srv.name);
        assert!(err.may_have_executed());
        assert!(err.query().unwrap().contains("in-flight"));
        queued.await.unwrap().unwrap();
        let rows = admin
            .query(format!("SELECT k FROM {t} ORDER BY k"))
            .await
            .unwrap();
        let keys: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(
            keys,
            ["in-flight", "queued"],
            "{}: no duplicate, none lost",
            srv.name
        );

        // A retry-safe SELECT in flight is sent again and succeeds.
        proxy.stall_replies(true);
        let select = {
            let c = c.clone();
            actix_rt::spawn(async move {
                c.addr()
                    .send(Query::new("SELECT 'again'").retry_safe(true))
                    .await
                    .unwrap()
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.cut_all();
        proxy.stall_replies(false);
        let rows = select.await.unwrap().unwrap();
        assert_eq!(rows[0].get::<String>(0), "again");
        let (_, stats, _) = c.state().await.unwrap();
        assert!(stats.reconnects >= 2, "{stats:?}");
        assert!(stats.redelivered >= 1, "{stats:?}");
        admin.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_fail_queued_queries_with_a_timeout_when_the_server_stays_down() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts.with_queue_timeout(Duration::from_millis(1500)));
        c.ping().await.unwrap();
        proxy.refuse(true);
        proxy.cut_all();
        wait_until("the client noticed the cut", || {
            let c = c.clone();
            async move { c.state().await.unwrap().0 == ConnectionState::Closed }
        })
        .await;
        let started = std::time::Instant::now();
        let results = futures_util::future::join_all((0..5).map(|i| {
            let c = c.clone();
            async move { c.query(format!("SELECT {i}")).await }
        }))
        .await;
        for r in results {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "{}: {e}", srv.name);
        }
        assert!(started.elapsed() < Duration::from_secs(30));
        // When the server is back, the same client works again.
        proxy.refuse(false);
        assert_eq!(c.query("SELECT 5").await.unwrap()[0].get::<i32>(0), 5);
    }
}

#[actix_rt::test]
async fn should_fail_after_the_bounded_number_of_reconnect_attempts() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts.with_reconnect_policy(ReconnectPolicy {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            max_attempts: 3,
        }));
        proxy.refuse(true);
        let e = c.query("SELECT 1").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{}: {e}", srv.name);
        assert!(e.to_string().contains("3 attempts"), "{e}");
        let (_, stats, _) = c.state().await.unwrap();
        assert_eq!(stats.connect_failures, 3);
    }
}

#[actix_rt::test]
async fn should_refuse_commands_past_the_queue_bound() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts.with_max_queue(5));
        c.ping().await.unwrap();
        proxy.stall(true);
        let pending: Vec<_> = (0..20)
            .map(|i| {
                let c = c.clone();
                actix_rt::spawn(async move { c.query(format!("SELECT {i}")).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.stall(false);
        let mut full = 0;
        let mut ok = 0;
        for p in pending {
            match p.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) if e.kind() == ErrorKind::QueueFull => full += 1,
                Err(e) => panic!("{}: {e}", srv.name),
            }
        }
        // Five queued, plus one in flight if the driver sent the first before the rest arrived.
        assert!((5..=6).contains(&ok), "{}: {ok} succeeded", srv.name);
        assert_eq!(full, 20 - ok);
    }
}

#[actix_rt::test]
async fn should_replay_database_and_init_statements_after_a_reconnect() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(
            opts.with_init_sql("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'")
                .with_init_sql("SET @app = 'replayed'"),
        );
        c.select_db("mysql").await.unwrap();
        let before = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        proxy.cut_all();
        wait_until("the client noticed the cut", || {
            let c = c.clone();
            async move { c.state().await.unwrap().0 == ConnectionState::Closed }
        })
        .await;
        let rows = c
            .query("SELECT DATABASE(), @@SESSION.sql_mode, @app, CONNECTION_ID()")
            .await
            .unwrap();
        assert_eq!(rows[0].get::<String>(0), "mysql", "{}", srv.name);
        assert_eq!(rows[0].get::<String>(1), "NO_BACKSLASH_ESCAPES");
        assert_eq!(rows[0].get::<String>(2), "replayed");
        assert_ne!(rows[0].get::<u32>(3), before);
    }
}

#[actix_rt::test]
async fn should_kill_a_statement_past_its_timeout_and_stay_usable() {
    for srv in servers() {
        let c = client(srv);
        let admin = client(srv);
        let id = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        let started = std::time::Instant::now();
        let e = c
            .addr()
            .send(Query::new("SELECT SLEEP(10)").timeout(Duration::from_millis(500)))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{}: {e}", srv.name);
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
        let rows = admin
            .query(format!(
                "SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = {id} AND INFO LIKE '%SLEEP(10)%'"
            ))
            .await
            .unwrap();
        assert!(rows.is_empty(), "{}: statement still running", srv.name);
        let rows = c.query("SELECT CONNECTION_ID(), 1").await.unwrap();
        assert_eq!(rows[0].get::<u32>(0), id, "same connection");
    }
}

#[actix_rt::test]
async fn should_retry_temporary_errors_and_return_others_at_once() {
    for srv in servers() {
        // A made-up classification: "table doesn't exist" (1146) counts as temporary.
        let opts = Opts::from_url(&srv.url_with_db("actix_test"))
            .unwrap()
            .with_temporary_error_codes([1146])
            .with_reconnect_policy(ReconnectPolicy {
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(20),
                max_attempts: 3,
            });
        let c = Client::new(opts);
        let e = c
            .query("SELECT * FROM missing_for_retry")
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(1146), "{}: {e}", srv.name);
        let (_, stats, _) = c.state().await.unwrap();
        assert_eq!(stats.redelivered, 3, "{stats:?}");

        // A non-temporary error goes straight back; the connection stays up.
        let c = client(srv);
        let id = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        let e = c
            .query("SELECT * FROM missing_for_retry")
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(1146));
        let (_, stats, _) = c.state().await.unwrap();
        assert_eq!(stats.redelivered, 0);
        assert_eq!(
            c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0),
            id
        );

        // Message substrings apply only to errors about the connection or the server's state:
        // 1146 quotes a name from the statement, so its message never makes it temporary.
        let opts = Opts::from_url(&srv.url_with_db("actix_test"))
            .unwrap()
            .with_temporary_error_codes([])
            .with_temporary_error_strings(["DOESN'T EXIST"])
            .with_reconnect_policy(ReconnectPolicy {
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(20),
                max_attempts: 2,
            });
        let c = Client::new(opts);
        c.query("SELECT * FROM missing_for_retry")
            .await
            .unwrap_err();
        assert_eq!(c.state().await.unwrap().1.redelivered, 0);
    }
}

#[actix_rt::test]
async fn should_abort_a_transaction_when_the_connection_is_lost() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts);
        let admin = client(srv);
        let t = table_name("s", srv, "trx");
        admin
            .execute(format!("DROP TABLE IF EXISTS {t}"))
            .await
            .unwrap();
        admin
            .execute(format!(
                "CREATE TABLE {t} (k INT PRIMARY KEY) ENGINE=InnoDB"
            ))
            .await
            .unwrap();
        c.execute("START TRANSACTION").await.unwrap();
        c.execute(format!("INSERT INTO {t} VALUES (1)"))
            .await
            .unwrap();
        proxy.stall_replies(true);
        let in_trx = {
            let c = c.clone();
            let t = t.clone();
            actix_rt::spawn(async move {
                c.addr()
                    .send(Execute::new(format!("INSERT INTO {t} VALUES (2)")).retry_safe(true))
                    .await
                    .unwrap()
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.cut_all();
        proxy.stall_replies(false);
        let e = in_trx.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{}: {e}", srv.name);
        // The next command runs on a new connection, outside any transaction.
        let rows = c.query("SELECT @@in_transaction").await;
        if let Ok(rows) = rows {
            assert_eq!(rows[0].get::<i64>(0), 0);
        }
        wait_until("the server rolled back", || {
            let admin = admin.clone();
            let t = t.clone();
            async move {
                admin
                    .query(format!("SELECT COUNT(*) FROM {t}"))
                    .await
                    .unwrap()[0]
                    .get::<i64>(0)
                    == 0
            }
        })
        .await;
        admin.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_fail_in_flight_query_when_the_server_closes_mid_reply() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts);
        c.ping().await.unwrap();
        // Let a little of the reply through, then cut.
        proxy.drop_after(proxy.bytes().1 + 40);
        let e = c.query("SELECT REPEAT('x', 100000)").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{}: {e}", srv.name);
        proxy.drop_after(0);
        assert_eq!(c.query("SELECT 3").await.unwrap()[0].get::<i32>(0), 3);
    }
}

#[actix_rt::test]
async fn should_restore_raw_use_and_set_statements_after_a_reconnect() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let c = Client::new(opts);
        c.execute("USE mysql").await.unwrap();
        c.execute("SET NAMES latin1").await.unwrap();
        c.execute("SET time_zone = '+03:00'").await.unwrap();
        let before = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        proxy.cut_all();
        wait_until("the client noticed the cut", || {
            let c = c.clone();
            async move { c.state().await.unwrap().0 == ConnectionState::Closed }
        })
        .await;
        let rows = c
            .query("SELECT DATABASE(), @@character_set_client, @@character_set_results, @@time_zone, CONNECTION_ID()")
            .await
            .unwrap();
        assert_ne!(rows[0].get::<u32>(4), before, "{}", srv.name);
        assert_eq!(rows[0].get::<String>(0), "mysql", "{}", srv.name);
        assert_eq!(rows[0].get::<String>(1), "latin1", "{}", srv.name);
        assert_eq!(rows[0].get::<String>(2), "latin1", "{}", srv.name);
        assert_eq!(rows[0].get::<String>(3), "+03:00", "{}", srv.name);
    }
}

/// A temporary error that arrives after some rows: the statement is sent again on a new
/// connection, and the rows of the lost attempt are not kept (typed and untyped).
#[actix_rt::test]
async fn should_drop_the_rows_of_an_attempt_that_ended_in_a_temporary_error() {
    for srv in servers() {
        let opts = Opts::from_url(&srv.url_with_db("actix_test"))
            .unwrap()
            .with_temporary_error_codes([1242])
            .with_reconnect_policy(ReconnectPolicy {
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(20),
                max_attempts: 3,
            });
        let numbers = (1..=10)
            .map(|n| format!("SELECT {n} n"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        // Row 5 fails ("Subquery returns more than 1 row") while @fail is set; a new
        // connection does not have it.
        let sql = format!(
            "SELECT IF(n < 5 OR @fail IS NULL, n, (SELECT 1 UNION SELECT 2)) AS v \
             FROM ({numbers}) t ORDER BY n"
        );
        for typed in [true, false] {
            let c = Client::new(opts.clone());
            c.execute("SET @fail = 1").await.unwrap();
            let values: Vec<i64> = if typed {
                c.query_as::<(i64,)>(sql.clone())
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|(v,)| v)
                    .collect()
            } else {
                c.query(sql.clone())
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<i64>(0))
                    .collect()
            };
            assert_eq!(
                values,
                (1..=10).collect::<Vec<_>>(),
                "{} typed={typed}",
                srv.name
            );
            let (_, stats, _) = c.state().await.unwrap();
            assert_eq!(stats.redelivered, 1, "{} typed={typed}", srv.name);
        }
    }
}
