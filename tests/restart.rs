//! The real thing: the server process is killed (SIGKILL) and started again while clients keep
//! sending. Each test here starts its own servers, since it kills them.
mod support;

use std::time::Duration;

use actix_mysql::messages::Query;
use actix_mysql::{Client, ErrorKind, Opts, ReconnectPolicy};

fn opts(srv: &support::TestServer) -> Opts {
    Opts::from_url(&srv.url_with_db("actix_test"))
        .unwrap()
        .with_queue_timeout(Duration::from_secs(90))
        .with_reconnect_policy(ReconnectPolicy {
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
            max_attempts: 400,
        })
}

#[actix_rt::test]
async fn should_resend_unsent_but_not_in_flight_queries_across_a_server_restart() {
    let mut private = support::start_private().unwrap();
    if private.is_empty() {
        eprintln!("MYSQL_TEST_URLS is set: servers cannot be restarted from here, skipped");
        return;
    }
    for srv in private.iter_mut() {
        let writer = Client::new(opts(srv));
        let reader = Client::new(opts(srv));
        writer
            .execute("CREATE TABLE r (k VARCHAR(20) PRIMARY KEY) ENGINE=InnoDB")
            .await
            .unwrap();
        writer
            .execute("INSERT INTO r VALUES ('before')")
            .await
            .unwrap();
        reader.ping().await.unwrap();

        // In flight when the server dies: an INSERT that waits 5 s before inserting, and a
        // retry-safe SELECT.
        let in_flight = {
            let w = writer.clone();
            actix_rt::spawn(async move {
                w.execute("INSERT INTO r SELECT 'in-flight' FROM (SELECT SLEEP(5)) AS s")
                    .await
            })
        };
        let safe_select = {
            let r = reader.clone();
            actix_rt::spawn(async move {
                r.addr()
                    .send(Query::new("SELECT SLEEP(1), 'safe'").retry_safe(true))
                    .await
                    .unwrap()
            })
        };
        tokio::time::sleep(Duration::from_millis(400)).await;
        // Queued behind the INSERT, never written before the crash.
        let queued: Vec<_> = (0..10)
            .map(|i| {
                let w = writer.clone();
                actix_rt::spawn(
                    async move { w.execute(format!("INSERT INTO r VALUES ('q{i}')")).await },
                )
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;

        srv.kill();
        tokio::time::sleep(Duration::from_millis(500)).await;
        srv.start_again().unwrap();

        let err = in_flight.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{}: {err}", srv.name);
        assert!(err.may_have_executed());
        for q in queued {
            q.await.unwrap().unwrap();
        }
        let rows = safe_select.await.unwrap().unwrap();
        assert_eq!(rows[0].get::<String>(1), "safe", "{}", srv.name);

        let keys: Vec<String> = writer
            .query("SELECT k FROM r ORDER BY k")
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut expected = vec!["before".to_string()];
        expected.extend((0..10).map(|i| format!("q{i}")));
        assert_eq!(
            keys, expected,
            "{}: the in-flight INSERT must not have been re-sent",
            srv.name
        );
        let (_, stats, _) = writer.state().await.unwrap();
        assert!(stats.reconnects >= 1, "{stats:?}");
        srv.stop();
    }
}
