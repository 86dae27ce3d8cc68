//! Pipelining (`pipeline_depth` > 1) against real servers: replies stay matched to their
//! commands, commands that depend on session state wait, and the redelivery rules hold for
//! every command written before the connection was lost.
mod support;

use std::time::Duration;

use actix_mysql::messages::Query;
use actix_mysql::{Client, ErrorKind, Opts, ReconnectPolicy};
use futures_util::future::join_all;
use support::proxy::Proxy;
use support::{servers, TestServer};

fn opts(srv: &TestServer) -> Opts {
    Opts::from_url(&srv.url_with_db("actix_test"))
        .unwrap()
        .with_pipeline_depth(8)
}

#[actix_rt::test]
async fn should_match_every_pipelined_reply_to_its_command() {
    for srv in servers() {
        let c = Client::new(opts(srv));
        let stmt = c.prepare("SELECT ? * 2").await.unwrap();
        // Text queries, executions and a failing statement, all queued at once.
        let mut calls = Vec::new();
        for i in 0..300i64 {
            let c = c.clone();
            let stmt = stmt.clone();
            calls.push(actix_rt::spawn(async move {
                match i % 3 {
                    0 => c
                        .query_first(format!("SELECT {i}"))
                        .await
                        .map(|r| r.unwrap().get::<i64>(0)),
                    1 => c.exec(&stmt, (i,)).await.map(|r| r[0].get::<i64>(0) / 2),
                    _ if i == 200 => c
                        .query("SELECT * FROM no_such_table_here")
                        .await
                        .map(|_| -1),
                    _ => c
                        .query_first(format!("SELECT {i} + 0"))
                        .await
                        .map(|r| r.unwrap().get::<i64>(0)),
                }
            }));
        }
        let results = join_all(calls).await;
        for (i, r) in results.into_iter().enumerate() {
            let r = r.unwrap();
            if i == 200 {
                let e = r.unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Server, "{}", srv.name);
                assert_eq!(e.as_server_error().unwrap().code, 1146, "{}", srv.name);
            } else {
                assert_eq!(r.unwrap(), i as i64, "{} command {i}", srv.name);
            }
        }
        let (_, stats, _) = c.state().await.unwrap();
        assert!(stats.pipelined > 0, "{}: nothing was pipelined", srv.name);
        assert_eq!(stats.connects, 1, "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_interpolate_only_after_the_session_state_before_it_is_known() {
    for srv in servers() {
        let c = Client::new(opts(srv));
        c.ping().await.unwrap();
        // The SET is pipelinable; the interpolated query behind it must wait for its reply,
        // which tells that backslashes are no longer escapes.
        let set = actix_rt::spawn({
            let c = c.clone();
            async move {
                c.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
                    .await
            }
        });
        let value = r"a\'b\\c'";
        let read = actix_rt::spawn({
            let c = c.clone();
            async move { c.query_with("SELECT ?", (value,)).await }
        });
        set.await.unwrap().unwrap();
        let rows = read.await.unwrap().unwrap();
        assert_eq!(rows[0].get::<String>(0), value, "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_apply_the_redelivery_rules_to_every_written_command() {
    for srv in servers() {
        let upstream = format!("{}:{}", srv.host, srv.port).parse().unwrap();
        let proxy = Proxy::start(upstream).await;
        let c = Client::new(opts(srv).with_port(proxy.port()).with_reconnect_policy(
            ReconnectPolicy {
                initial_backoff: Duration::from_millis(20),
                max_backoff: Duration::from_millis(200),
                max_attempts: 50,
            },
        ));
        let stmt = c.prepare("SELECT ? + 1").await.unwrap();

        // A slow statement first; three commands are written behind it.
        let head = actix_rt::spawn({
            let c = c.clone();
            async move { c.query("SELECT SLEEP(3)").await }
        });
        tokio::task::yield_now().await;
        let plain = actix_rt::spawn({
            let c = c.clone();
            async move { c.query("SELECT 11").await }
        });
        tokio::task::yield_now().await;
        let safe = actix_rt::spawn({
            let addr = c.addr().clone();
            async move { addr.send(Query::new("SELECT 22").retry_safe(true)).await }
        });
        tokio::task::yield_now().await;
        let exec = actix_rt::spawn({
            let c = c.clone();
            async move { c.exec(&stmt, (32,)).await }
        });
        for _ in 0..100 {
            if c.state().await.unwrap().1.pipelined >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(c.state().await.unwrap().1.pipelined, 3, "{}", srv.name);
        tokio::time::sleep(Duration::from_millis(200)).await;
        proxy.cut_all();

        // Written, not answered, not retry-safe: the outcome is unknown.
        for (what, res) in [
            ("head", head.await.unwrap().map(drop)),
            ("plain", plain.await.unwrap().map(drop)),
            ("exec", exec.await.unwrap().map(drop)),
        ] {
            let e = res.expect_err(what);
            assert_eq!(
                e.kind(),
                ErrorKind::ConnectionLost,
                "{} {what}: {e}",
                srv.name
            );
            assert!(e.may_have_executed(), "{} {what}", srv.name);
        }
        // Retry-safe: sent again on a new connection.
        let rows = safe.await.unwrap().unwrap().unwrap();
        assert_eq!(rows[0].get::<i64>(0), 22, "{}", srv.name);
        let (_, stats, _) = c.state().await.unwrap();
        assert_eq!(stats.reconnects, 1, "{}", srv.name);
        assert_eq!(stats.redelivered, 1, "{}", srv.name);
    }
}
