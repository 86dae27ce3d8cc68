//! Transactions against real servers.
mod support;

use std::time::Duration;

use actix_mysql::{Client, ErrorKind, IsolationLevel, Opts, ReconnectPolicy, TransactionOpts};
use support::proxy::Proxy;
use support::{client, servers, TestServer};

async fn fresh_table(srv: &TestServer, test: &str) -> String {
    let t = support::unique_name(&format!("tx_{test}"));
    let c = client(srv);
    c.execute(format!(
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

#[actix_rt::test]
async fn should_commit_and_roll_back() {
    for srv in servers() {
        let c = client(srv);
        let other = client(srv);
        let t = fresh_table(srv, "commit").await;

        let tx = c.begin().await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('committed')"))
            .await
            .unwrap();
        assert!(
            keys(&other, &t).await.is_empty(),
            "{}: not yet visible",
            srv.name
        );
        tx.commit().await.unwrap();
        assert_eq!(keys(&other, &t).await, ["committed"]);

        let tx = c.begin().await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('rolled-back')"))
            .await
            .unwrap();
        let inside = tx.query(format!("SELECT k FROM {t}")).await.unwrap();
        assert_eq!(inside.len(), 2);
        tx.rollback().await.unwrap();
        assert_eq!(keys(&other, &t).await, ["committed"]);
    }
}

#[actix_rt::test]
async fn should_roll_back_a_dropped_transaction() {
    for srv in servers() {
        let c = client(srv);
        let t = fresh_table(srv, "drop").await;
        {
            let tx = c.begin().await.unwrap();
            tx.execute(format!("INSERT INTO {t} VALUES ('dropped')"))
                .await
                .unwrap();
        }
        // Runs after the rollback the drop queued.
        assert!(keys(&c, &t).await.is_empty(), "{}", srv.name);
        let rows = c.query("SELECT @@in_transaction").await;
        if let Ok(rows) = rows {
            assert_eq!(rows[0].get::<i64>(0), 0);
        }
    }
}

#[actix_rt::test]
async fn should_nest_transactions_as_savepoints() {
    for srv in servers() {
        let c = client(srv);
        let t = fresh_table(srv, "sp").await;
        let mut tx = c.begin().await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('outer')"))
            .await
            .unwrap();
        {
            let inner = tx.begin().await.unwrap();
            inner
                .execute(format!("INSERT INTO {t} VALUES ('inner-rolled-back')"))
                .await
                .unwrap();
            inner.rollback().await.unwrap();
        }
        {
            let inner = tx.begin().await.unwrap();
            inner
                .execute(format!("INSERT INTO {t} VALUES ('inner-kept')"))
                .await
                .unwrap();
            inner.commit().await.unwrap();
        }
        {
            let inner = tx.begin().await.unwrap();
            inner
                .execute(format!("INSERT INTO {t} VALUES ('inner-dropped')"))
                .await
                .unwrap();
        }
        tx.savepoint("named").await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('after-named')"))
            .await
            .unwrap();
        tx.rollback_to("named").await.unwrap();
        let e = tx.release_savepoint("no_such").await.unwrap_err();
        assert_eq!(e.code(), Some(1305), "{}: {e}", srv.name);
        tx.commit().await.unwrap();
        assert_eq!(keys(&c, &t).await, ["inner-kept", "outer"], "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_apply_isolation_level_and_read_only() {
    for srv in servers() {
        let c = client(srv);
        let t = fresh_table(srv, "iso").await;
        let tx = c
            .begin_with(
                TransactionOpts::new()
                    .with_isolation(IsolationLevel::Serializable)
                    .with_consistent_snapshot(true),
            )
            .await
            .unwrap();
        tx.query(format!("SELECT * FROM {t}")).await.unwrap();
        let level: String = tx
            .query_one(
                "SELECT trx_isolation_level FROM information_schema.INNODB_TRX \
                 WHERE trx_mysql_thread_id = CONNECTION_ID()",
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(level, "SERIALIZABLE", "{}", srv.name);
        tx.commit().await.unwrap();
        // The session's own level is untouched.
        let var = if srv.is_mysql() || !srv.version.starts_with("10.") {
            "@@transaction_isolation"
        } else {
            "@@tx_isolation"
        };
        let session: String = c.query_one(format!("SELECT {var}")).await.unwrap().get(0);
        assert_eq!(session, "REPEATABLE-READ", "{}", srv.name);

        let tx = c
            .begin_with(TransactionOpts::new().with_read_only(true))
            .await
            .unwrap();
        let e = tx
            .execute(format!("INSERT INTO {t} VALUES ('x')"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(1792), "{}: {e}", srv.name);
        tx.rollback().await.unwrap();
    }
}

#[actix_rt::test]
async fn should_keep_other_senders_out_while_a_transaction_is_open() {
    for srv in servers() {
        let c = client(srv);
        let t = fresh_table(srv, "excl").await;
        let tx = c.begin().await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('tx')"))
            .await
            .unwrap();
        // Another sender on the same client: it must not run inside the transaction.
        let other = {
            let c = c.clone();
            let t = t.clone();
            actix_rt::spawn(
                async move { c.execute(format!("INSERT INTO {t} VALUES ('other')")).await },
            )
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !other.is_finished(),
            "{}: ran inside the transaction",
            srv.name
        );
        let inside: Vec<String> = tx
            .query(format!("SELECT k FROM {t} ORDER BY k"))
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(inside, ["tx"], "{}", srv.name);
        tx.rollback().await.unwrap();
        other.await.unwrap().unwrap();
        // The other sender's row was written outside the transaction and survives it.
        assert_eq!(keys(&c, &t).await, ["other"]);
    }
}

async fn proxied(srv: &TestServer) -> (Proxy, Client) {
    let proxy = Proxy::start(format!("{}:{}", srv.host, srv.port).parse().unwrap()).await;
    let opts = Opts::from_url(&srv.url_with_db("actix_test"))
        .unwrap()
        .with_port(proxy.port())
        .with_reconnect_policy(ReconnectPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            max_attempts: 50,
        });
    (proxy, Client::new(opts))
}

#[actix_rt::test]
async fn should_abort_the_transaction_when_its_connection_is_lost() {
    for srv in servers() {
        let (proxy, c) = proxied(srv).await;
        let t = fresh_table(srv, "lost").await;
        let tx = c.begin().await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('in-tx')"))
            .await
            .unwrap();
        let waiting = {
            let c = c.clone();
            let t = t.clone();
            actix_rt::spawn(async move {
                c.execute(format!("INSERT INTO {t} VALUES ('waiting')"))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        proxy.cut_all();
        let e = tx
            .execute(format!("INSERT INTO {t} VALUES ('after-cut')"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{}: {e}", srv.name);
        // Every later statement of the transaction fails the same way, even a commit.
        let e = tx.query("SELECT 1").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionAborted);
        let e = tx.commit().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionAborted);
        // The other sender's command runs on the new connection, outside the transaction.
        waiting.await.unwrap().unwrap();
        assert_eq!(keys(&c, &t).await, ["waiting"], "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_report_a_commit_with_a_lost_reply_as_unknown() {
    for srv in servers() {
        let (proxy, c) = proxied(srv).await;
        let t = fresh_table(srv, "commit_lost").await;
        let tx = c.begin().await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('maybe')"))
            .await
            .unwrap();
        proxy.stall_replies(true);
        let commit = actix_rt::spawn(tx.commit());
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.cut_all();
        proxy.stall_replies(false);
        let e = commit.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{}: {e}", srv.name);
        assert!(e.may_have_executed());
        // Here the COMMIT did reach the server.
        assert_eq!(keys(&c, &t).await, ["maybe"]);
    }
}

#[actix_rt::test]
async fn should_time_out_commands_waiting_behind_a_transaction() {
    for srv in servers() {
        let c = Client::new(
            Opts::from_url(&srv.url_with_db("actix_test"))
                .unwrap()
                .with_queue_timeout(Duration::from_millis(500)),
        );
        let tx = c.begin().await.unwrap();
        // Awaiting the same client while holding its transaction waits for the transaction:
        // the queue deadline ends the wait.
        let e = c.query("SELECT 1").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{}: {e}", srv.name);
        tx.commit().await.unwrap();
        assert_eq!(c.query_one("SELECT 2").await.unwrap().get::<i32>(0), 2);
    }
}

async fn wait_closed(c: &Client) {
    for _ in 0..200 {
        if c.state().await.unwrap().0 == actix_mysql::messages::ConnectionState::Closed {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the client never noticed the closed connection");
}

#[actix_rt::test]
async fn should_abort_a_transaction_whose_idle_connection_is_killed() {
    for srv in servers() {
        let c = client(srv);
        let admin = client(srv);
        let t = fresh_table(srv, "idle_kill").await;
        let tx = c.begin().await.unwrap();
        tx.execute(format!("INSERT INTO {t} VALUES ('one')"))
            .await
            .unwrap();
        let id = c.connection_info().await.unwrap().unwrap().connection_id;
        admin.execute(format!("KILL {id}")).await.unwrap();
        wait_closed(&c).await;
        let e = tx
            .execute(format!("INSERT INTO {t} VALUES ('two')"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{}: {e}", srv.name);
        tx.rollback().await.unwrap_or(());
        assert!(
            keys(&c, &t).await.is_empty(),
            "{}: nothing committed",
            srv.name
        );

        // The same with a transaction opened by raw SQL.
        c.execute("START TRANSACTION").await.unwrap();
        c.execute(format!("INSERT INTO {t} VALUES ('raw-one')"))
            .await
            .unwrap();
        let id = c.connection_info().await.unwrap().unwrap().connection_id;
        admin.execute(format!("KILL {id}")).await.unwrap();
        wait_closed(&c).await;
        let e = c
            .execute(format!("INSERT INTO {t} VALUES ('raw-two')"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{}: {e}", srv.name);
        // Reported once; the client goes on.
        assert!(keys(&c, &t).await.is_empty(), "{}", srv.name);

        // A caller that ends the lost raw transaction with ROLLBACK gets no error: the
        // server already rolled it back. A COMMIT would have been refused as above.
        c.execute("START TRANSACTION").await.unwrap();
        c.execute(format!("INSERT INTO {t} VALUES ('raw-three')"))
            .await
            .unwrap();
        let id = c.connection_info().await.unwrap().unwrap().connection_id;
        admin.execute(format!("KILL {id}")).await.unwrap();
        wait_closed(&c).await;
        c.execute(" rollback ;").await.unwrap();
        c.execute(format!("INSERT INTO {t} VALUES ('raw-four')"))
            .await
            .unwrap();
        assert_eq!(
            keys(&c, &t).await,
            vec!["raw-four".to_string()],
            "{}",
            srv.name
        );
    }
}

#[actix_rt::test]
async fn should_finish_a_transaction_while_the_queue_is_full() {
    for srv in servers() {
        let c = Client::new(
            Opts::from_url(&srv.url_with_db("actix_test"))
                .unwrap()
                .with_max_queue(2),
        );
        let t = fresh_table(srv, "full_queue").await;
        let tx = c.begin().await.unwrap();
        // Other senders fill the queue behind the transaction.
        let waiting: Vec<_> = (0..2)
            .map(|i| {
                let c = c.clone();
                actix_rt::spawn(async move { c.query(format!("SELECT {i}")).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let e = c.query("SELECT 'refused'").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::QueueFull, "{}: {e}", srv.name);
        // The transaction's own statements and its end still get through.
        tx.execute(format!("INSERT INTO {t} VALUES ('in-tx')"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        for w in waiting {
            w.await.unwrap().unwrap();
        }
        assert_eq!(keys(&c, &t).await, ["in-tx"], "{}", srv.name);
    }
}
