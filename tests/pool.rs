//! The connection pool against real servers: concurrent dispatch, kills under load, leases,
//! waits and bounds, session reset, eager connections, the connection bound, graceful close,
//! stats.
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_mysql::{Client, ErrorKind, Opts, Pool, PoolOpts, ReconnectPolicy};
use support::proxy::Proxy;
use support::{servers, TestServer};

const TASKS: usize = 64;
const QUERIES: usize = 1000;

fn opts(srv: &TestServer) -> Opts {
    Opts::from_url(&srv.url_with_db("actix_test"))
        .unwrap()
        .with_reconnect_policy(ReconnectPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            max_attempts: 50,
        })
}

async fn proxied(srv: &TestServer) -> (Proxy, Opts) {
    let upstream = format!("{}:{}", srv.host, srv.port).parse().unwrap();
    let proxy = Proxy::start(upstream).await;
    let opts = opts(srv).with_port(proxy.port());
    (proxy, opts)
}

fn admin(srv: &TestServer) -> Client {
    Client::from_url(&srv.url_with_db("actix_test")).unwrap()
}

/// Whether the server forgets connection `id` within two seconds.
async fn connection_gone(admin: &Client, id: u32) -> bool {
    for _ in 0..40 {
        let rows = admin
            .query(format!(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE ID = {id}"
            ))
            .await
            .unwrap();
        if rows.is_empty() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn connection_id(c: &Client) -> u32 {
    c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0)
}

/// `tasks` tasks each run `queries` distinct `SELECT n`; every reply must be its own query's.
/// Returns (succeeded, failed as lost in flight).
async fn run_load(pool: &Pool, tasks: usize, queries: usize) -> (usize, usize) {
    let ok = Arc::new(AtomicUsize::new(0));
    let lost = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let pool = pool.clone();
            let ok = ok.clone();
            let lost = lost.clone();
            actix_rt::spawn(async move {
                for i in 0..queries {
                    let n = (t * 1_000_000 + i) as i64;
                    match pool.query_first(format!("SELECT {n}")).await {
                        Ok(row) => {
                            assert_eq!(row.unwrap().get::<i64>(0), n, "reply of another query");
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{e}");
                            assert!(e.may_have_executed(), "{e}");
                            assert_eq!(e.query(), Some(format!("SELECT {n}").as_str()));
                            lost.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    (ok.load(Ordering::Relaxed), lost.load(Ordering::Relaxed))
}

fn assert_stats_add_up(s: &actix_mysql::PoolStats, max: usize, name: &str) {
    assert!(s.size <= max, "{name}: {s:?}");
    assert_eq!(
        s.size,
        s.idle + s.busy + s.closed + s.connecting,
        "{name}: {s:?}"
    );
    assert!(s.leased + s.returning <= s.size, "{name}: {s:?}");
}

#[test]
fn pool_is_send_sync_and_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    fn check_send<T: Send + 'static>() {}
    check::<Pool>();
    check::<PoolOpts>();
    check_send::<actix_mysql::PooledConn>();
}

#[actix_rt::test]
async fn should_serve_many_concurrent_tasks_and_match_every_reply() {
    for srv in servers() {
        let pool = Pool::new(opts(srv), PoolOpts::new().with_max_size(8));
        let started = Instant::now();
        let (ok, lost) = run_load(&pool, TASKS, QUERIES).await;
        let took = started.elapsed();
        eprintln!(
            "{}: {} queries from {TASKS} tasks over 8 connections in {took:?}",
            srv.name,
            TASKS * QUERIES
        );
        assert_eq!((ok, lost), (TASKS * QUERIES, 0), "{}", srv.name);
        let s = pool.stats().await;
        assert_stats_add_up(&s, 8, &srv.name);
        assert_eq!(s.size, 8, "{}: {s:?}", srv.name);
        assert_eq!(s.connects, 8, "{}: {s:?}", srv.name);
        assert_eq!(s.in_flight, 0, "{}: {s:?}", srv.name);
        assert_eq!((s.leased, s.waiters, s.queued), (0, 0, 0), "{}", srv.name);
        pool.close(Duration::from_secs(5)).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_lose_only_queries_in_flight_when_connections_are_killed_under_load() {
    for srv in servers() {
        let pool = Pool::new(opts(srv), PoolOpts::new().with_max_size(8));
        let admin = admin(srv);
        let done = Arc::new(AtomicUsize::new(0));
        let killer = {
            let pool = pool.clone();
            let done = done.clone();
            actix_rt::spawn(async move {
                let mut killed = 0;
                while done.load(Ordering::Relaxed) == 0 && killed < 40 {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    for info in pool.connection_infos().await.into_iter().flatten() {
                        // "Unknown thread id" when it is already gone.
                        if admin
                            .execute(format!("KILL {}", info.connection_id))
                            .await
                            .is_ok()
                        {
                            killed += 1;
                        }
                    }
                }
                killed
            })
        };
        let (ok, lost) = run_load(&pool, TASKS, QUERIES / 5).await;
        done.store(1, Ordering::Relaxed);
        let killed = killer.await.unwrap();
        let s = pool.stats().await;
        eprintln!(
            "{}: killed {killed} connections; {ok} queries answered, {lost} lost in flight; {s:?}",
            srv.name
        );
        assert_eq!(ok + lost, TASKS * QUERIES / 5, "{}", srv.name);
        assert!(killed >= 8, "{}: only {killed} kills", srv.name);
        assert!(
            lost <= killed,
            "{}: {lost} lost for {killed} kills",
            srv.name
        );
        assert!(s.reconnects >= 1, "{}: {s:?}", srv.name);
        assert_stats_add_up(&s, 8, &srv.name);
        // Still fully usable.
        let (ok, lost) = run_load(&pool, 8, 20).await;
        assert_eq!((ok, lost), (160, 0), "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_time_out_waiting_for_a_lease() {
    for srv in servers() {
        let pool = Pool::new(
            opts(srv),
            PoolOpts::new()
                .with_max_size(1)
                .with_wait_timeout(Duration::from_millis(300)),
        );
        let held = pool.get().await.unwrap();
        held.ping().await.unwrap();
        let started = Instant::now();
        let err = pool.get().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{}: {err}", srv.name);
        assert!(started.elapsed() >= Duration::from_millis(280));
        // Dispatch waits for a connection that is not leased, with the same bound.
        let err = pool.query("SELECT 1").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{}: {err}", srv.name);
        assert_eq!(pool.stats().await.wait_timeouts, 2);
        // Returned, it serves the next caller.
        drop(held);
        let again = pool.get().await.unwrap();
        again.ping().await.unwrap();
        drop(again);
        assert_eq!(
            pool.query_first("SELECT 7")
                .await
                .unwrap()
                .unwrap()
                .get::<i64>(0),
            7
        );
    }
}

#[actix_rt::test]
async fn should_hand_leases_to_waiters_in_arrival_order() {
    for srv in servers() {
        let pool = Pool::new(opts(srv), PoolOpts::new().with_max_size(1));
        let held = pool.get().await.unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let waiters: Vec<_> = (0..5)
            .map(|i| {
                let pool = pool.clone();
                let order = order.clone();
                actix_rt::spawn(async move {
                    let conn = pool.get().await.unwrap();
                    order.lock().unwrap().push(i);
                    conn.ping().await.unwrap();
                })
            })
            .collect();
        // Let every waiter queue up, in order.
        for _ in 0..50 {
            if pool.stats().await.waiters == 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(pool.stats().await.waiters, 5, "{}", srv.name);
        drop(held);
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4], "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_refuse_waiters_past_max_waiters() {
    for srv in servers() {
        let pool = Pool::new(
            opts(srv),
            PoolOpts::new()
                .with_max_size(1)
                .with_max_waiters(2)
                .with_wait_timeout(Duration::from_secs(5)),
        );
        let held = pool.get().await.unwrap();
        let waiting: Vec<_> = (0..2)
            .map(|_| {
                let pool = pool.clone();
                actix_rt::spawn(async move { pool.get().await.map(|_| ()) })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let err = pool.get().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::QueueFull, "{}: {err}", srv.name);
        let err = pool.query("SELECT 1").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::QueueFull, "{}: {err}", srv.name);
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "refused at once"
        );
        let s = pool.stats().await;
        assert_eq!((s.waiters, s.refused), (2, 2), "{}: {s:?}", srv.name);
        drop(held);
        for w in waiting {
            w.await.unwrap().unwrap();
        }
    }
}

#[actix_rt::test]
async fn should_reset_the_session_between_leases_of_the_same_connection() {
    for srv in servers() {
        let pool = Pool::new(opts(srv), PoolOpts::new().with_max_size(1));
        let conn = pool.get().await.unwrap();
        let id = connection_id(&conn).await;
        conn.execute("SET @pool_user_var = 42").await.unwrap();
        conn.execute("SET SESSION sql_select_limit = 5")
            .await
            .unwrap();
        conn.execute("SET SESSION time_zone = '+05:00'")
            .await
            .unwrap();
        conn.execute("CREATE TEMPORARY TABLE pool_tmp (i INT)")
            .await
            .unwrap();
        let row = conn
            .query_first("SELECT @pool_user_var, @@session.sql_select_limit, @@session.time_zone")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.get::<Option<i64>>(0), Some(42));
        assert_eq!(row.get::<u64>(1), 5);
        drop(conn);

        let conn = pool.get().await.unwrap();
        assert_eq!(connection_id(&conn).await, id, "{}: not reused", srv.name);
        let row = conn
            .query_first("SELECT @pool_user_var, @@session.sql_select_limit, @@global.sql_select_limit, @@session.time_zone, @@global.time_zone, DATABASE()")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.get::<Option<i64>>(0),
            None,
            "{}: user variable",
            srv.name
        );
        assert_eq!(
            row.get::<u64>(1),
            row.get::<u64>(2),
            "{}: session variable",
            srv.name
        );
        assert_eq!(
            row.get::<String>(3),
            row.get::<String>(4),
            "{}: time_zone",
            srv.name
        );
        assert_eq!(row.get::<String>(5), "actix_test", "{}: database", srv.name);
        let err = conn.query("SELECT * FROM pool_tmp").await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(1146),
            "{}: temporary table: {err}",
            srv.name
        );
        drop(conn);

        // Without reset on return the session carries over.
        let pool = Pool::new(
            opts(srv),
            PoolOpts::new().with_max_size(1).with_reset_on_return(false),
        );
        let conn = pool.get().await.unwrap();
        conn.execute("SET @kept = 1").await.unwrap();
        drop(conn);
        let conn = pool.get().await.unwrap();
        let row = conn.query_first("SELECT @kept").await.unwrap().unwrap();
        assert_eq!(row.get::<Option<i64>>(0), Some(1), "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_not_dispatch_to_a_leased_connection() {
    for srv in servers() {
        let pool = Pool::new(opts(srv), PoolOpts::new().with_max_size(2));
        let conn = pool.get().await.unwrap();
        let leased = connection_id(&conn).await;
        for _ in 0..20 {
            let id: u32 = pool
                .query_first("SELECT CONNECTION_ID()")
                .await
                .unwrap()
                .unwrap()
                .get(0);
            assert_ne!(id, leased, "{}", srv.name);
        }
        let s = pool.stats().await;
        assert_eq!(
            (s.size, s.leased, s.leases),
            (2, 1, 1),
            "{}: {s:?}",
            srv.name
        );
    }
}

#[actix_rt::test]
async fn should_open_min_idle_connections_eagerly() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let pool = Pool::new(opts, PoolOpts::new().with_min_idle(3).with_max_size(5));
        for _ in 0..100 {
            if pool.stats().await.idle == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let s = pool.stats().await;
        assert_eq!(
            (s.size, s.idle, s.connects),
            (3, 3, 3),
            "{}: {s:?}",
            srv.name
        );
        assert_eq!(proxy.accepted(), 3, "{}", srv.name);

        // Fully lazy by default.
        let (proxy, opts) = proxied(srv).await;
        let pool = Pool::new(opts, PoolOpts::new());
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(proxy.accepted(), 0, "{}", srv.name);
        assert_eq!(pool.stats().await.size, 0);
        pool.ping().await.unwrap();
        assert_eq!(proxy.accepted(), 1, "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_never_open_more_than_max_size_connections() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let pool = Pool::new(opts, PoolOpts::new().with_max_size(4));
        let stop = Arc::new(AtomicUsize::new(0));
        let sampler = {
            let stop = stop.clone();
            actix_rt::spawn(async move {
                let mut seen = 0;
                while stop.load(Ordering::Relaxed) == 0 {
                    seen = seen.max(proxy.active());
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                (seen, proxy)
            })
        };
        // Dispatch and leases at once.
        let leasers: Vec<_> = (0..6)
            .map(|i| {
                let pool = pool.clone();
                actix_rt::spawn(async move {
                    for _ in 0..10 {
                        let c = pool.get().await.unwrap();
                        c.execute(format!("SET @l = {i}")).await.unwrap();
                    }
                })
            })
            .collect();
        let (ok, lost) = run_load(&pool, 32, 100).await;
        for l in leasers {
            l.await.unwrap();
        }
        stop.store(1, Ordering::Relaxed);
        let (seen, proxy) = sampler.await.unwrap();
        assert_eq!((ok, lost), (3200, 0), "{}", srv.name);
        assert!(seen <= 4, "{}: {seen} connections open at once", srv.name);
        assert!(proxy.accepted() <= 4, "{}: {}", srv.name, proxy.accepted());
        let s = pool.stats().await;
        assert_eq!(s.size, 4, "{}: {s:?}", srv.name);
        assert_eq!(s.leases, 60, "{}: {s:?}", srv.name);
    }
}

#[actix_rt::test]
async fn should_drain_in_flight_work_on_close() {
    for srv in servers() {
        let pool = Pool::new(opts(srv), PoolOpts::new().with_max_size(4));
        let running: Vec<_> = (0..8)
            .map(|i| {
                let pool = pool.clone();
                actix_rt::spawn(async move {
                    pool.query_first(format!("SELECT SLEEP(0.3), {i}"))
                        .await
                        .map(|r| r.unwrap().get::<i64>(1))
                })
            })
            .collect();
        let lease = pool.get().await.unwrap();
        let holder = actix_rt::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            lease.query("SELECT 1").await.unwrap();
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let closing = {
            let pool = pool.clone();
            actix_rt::spawn(async move { pool.close(Duration::from_secs(10)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(pool.is_closed());
        let err = pool.query("SELECT 1").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed, "{}", srv.name);
        assert_eq!(pool.get().await.unwrap_err().kind(), ErrorKind::Closed);
        closing.await.unwrap().unwrap();
        assert!(started.elapsed() >= Duration::from_millis(300));
        for (i, r) in running.into_iter().enumerate() {
            assert_eq!(r.await.unwrap().unwrap(), i as i64, "{}", srv.name);
        }
        holder.await.unwrap();

        // A bounded close reports what it could not wait for.
        let pool = Pool::new(opts(srv), PoolOpts::new().with_max_size(1));
        let lease = pool.get().await.unwrap();
        let err = pool.close(Duration::from_millis(100)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{}", srv.name);
        lease.ping().await.unwrap();
    }
}

#[actix_rt::test]
async fn should_replace_connections_past_max_lifetime() {
    for srv in servers() {
        let pool = Pool::new(
            opts(srv),
            PoolOpts::new()
                .with_max_size(1)
                .with_max_lifetime(Some(Duration::from_millis(300))),
        );
        let admin = admin(srv);
        let first: u32 = pool
            .query_first("SELECT CONNECTION_ID()")
            .await
            .unwrap()
            .unwrap()
            .get(0);
        tokio::time::sleep(Duration::from_millis(400)).await;
        let second: u32 = pool
            .query_first("SELECT CONNECTION_ID()")
            .await
            .unwrap()
            .unwrap()
            .get(0);
        assert_ne!(first, second, "{}", srv.name);
        assert!(
            connection_gone(&admin, first).await,
            "{}: old connection still open",
            srv.name
        );
        let s = pool.stats().await;
        assert_eq!(
            (s.size, s.replaced, s.connects),
            (1, 1, 2),
            "{}: {s:?}",
            srv.name
        );
    }
}

#[actix_rt::test]
async fn should_build_from_a_url_with_pool_parameters() {
    for srv in servers() {
        let base = srv.url_with_db("actix_test");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url =
            format!("{base}{sep}pool_max=2&pool_min=1&pool_wait_timeout=2s&connect_timeout=5s");
        let pool = Pool::from_url(&url).unwrap();
        assert_eq!(pool.pool_opts().max_size(), 2);
        assert_eq!(pool.pool_opts().wait_timeout(), Duration::from_secs(2));
        assert_eq!(pool.opts().connect_timeout(), Duration::from_secs(5));
        let row = pool
            .query_first("SELECT DATABASE()")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.get::<String>(0), "actix_test");
        let e = Pool::from_url(&format!("{base}{sep}pool_size=3")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
    }
}

#[actix_rt::test]
async fn should_ping_a_lease_unused_past_the_health_check_interval() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let pool = Pool::new(
            opts,
            PoolOpts::new()
                .with_max_size(1)
                .with_reset_on_return(false)
                .with_health_check(Some(Duration::from_millis(150))),
        );
        let c = pool.get().await.unwrap();
        c.ping().await.unwrap();
        drop(c);
        let before = proxy.bytes().0;
        let c = pool.get().await.unwrap();
        assert_eq!(
            proxy.bytes().0,
            before,
            "{}: pinged a fresh lease",
            srv.name
        );
        drop(c);
        tokio::time::sleep(Duration::from_millis(250)).await;
        let c = pool.get().await.unwrap();
        assert!(proxy.bytes().0 > before, "{}: no health check", srv.name);
        drop(c);
    }
}

#[actix_rt::test]
async fn should_replace_a_lease_marked_broken() {
    for srv in servers() {
        let pool = Pool::new(opts(srv), PoolOpts::new().with_max_size(1));
        let admin = admin(srv);
        let mut c = pool.get().await.unwrap();
        let first = connection_id(&c).await;
        c.mark_broken();
        drop(c);
        let c = pool.get().await.unwrap();
        let second = connection_id(&c).await;
        assert_ne!(first, second, "{}", srv.name);
        assert!(
            connection_gone(&admin, first).await,
            "{}: old connection still open",
            srv.name
        );
        let s = pool.stats().await;
        assert_eq!(
            (s.size, s.replaced, s.leased),
            (1, 1, 1),
            "{}: {s:?}",
            srv.name
        );
    }
}

#[actix_rt::test]
async fn should_serve_callers_on_other_arbiters() {
    for srv in servers() {
        let pool = Pool::new(opts(srv), PoolOpts::new().with_max_size(3));
        let arbiters: Vec<actix::Arbiter> = (0..3).map(|_| actix::Arbiter::new()).collect();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for a in &arbiters {
            let pool = pool.clone();
            let tx = tx.clone();
            assert!(a.spawn(async move {
                let mut sum = 0;
                for i in 0..50 {
                    let row = pool.query_first(format!("SELECT {i}")).await.unwrap();
                    sum += row.unwrap().get::<i64>(0);
                }
                let c = pool.get().await.unwrap();
                c.execute("SET @x = 1").await.unwrap();
                drop(c);
                tx.send(sum).unwrap();
            }));
        }
        for _ in 0..3 {
            assert_eq!(rx.recv().await, Some(1225), "{}", srv.name);
        }
        for a in arbiters {
            a.stop();
        }
        let s = pool.stats().await;
        assert_eq!(s.leases, 3, "{}: {s:?}", srv.name);
        assert_stats_add_up(&s, 3, &srv.name);
    }
}

#[actix_rt::test]
async fn should_close_every_socket_after_close() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let pool = Pool::new(opts, PoolOpts::new().with_max_size(3));
        let (ok, _) = run_load(&pool, 6, 20).await;
        assert_eq!(ok, 120);
        assert_eq!(proxy.active(), 3, "{}", srv.name);
        pool.close(Duration::from_secs(5)).await.unwrap();
        for _ in 0..60 {
            if proxy.active() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(proxy.active(), 0, "{}: sockets left open", srv.name);
        assert_eq!(proxy.accepted(), 3, "{}: reconnected", srv.name);
    }
}

#[actix_rt::test]
async fn should_keep_light_load_on_one_connection_and_close_idle_sockets() {
    for srv in servers() {
        let pool = Pool::new(
            opts(srv),
            PoolOpts::new()
                .with_max_size(3)
                .with_idle_timeout(Some(Duration::from_millis(400))),
        );
        let (ok, _) = run_load(&pool, 9, 10).await;
        assert_eq!(ok, 90);
        assert_eq!(pool.stats().await.size, 3, "{}", srv.name);
        // One query at a time: always the same connection, the others close when idle.
        let mut ids = std::collections::HashSet::new();
        for _ in 0..10 {
            let id: u32 = pool
                .query_first("SELECT CONNECTION_ID()")
                .await
                .unwrap()
                .unwrap()
                .get(0);
            ids.insert(id);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(ids.len(), 1, "{}: {ids:?}", srv.name);
        let s = pool.stats().await;
        assert_eq!((s.size, s.idle, s.closed), (3, 1, 2), "{}: {s:?}", srv.name);
        assert_eq!(s.idle_closes, 2, "{}: {s:?}", srv.name);
        assert_stats_add_up(&s, 3, &srv.name);
    }
}

#[actix_rt::test]
async fn should_keep_a_lease_usable_when_its_connection_is_killed() {
    for srv in servers() {
        let pool = Pool::new(opts(srv), PoolOpts::new().with_max_size(1));
        let admin = admin(srv);
        let conn = pool.get().await.unwrap();
        let first = connection_id(&conn).await;
        admin.execute(format!("KILL {first}")).await.unwrap();
        assert!(connection_gone(&admin, first).await);
        // Killed while idle: the next command reconnects, nothing fails.
        let second = connection_id(&conn).await;
        assert_ne!(first, second, "{}", srv.name);
        drop(conn);
        let conn = pool.get().await.unwrap();
        assert_eq!(connection_id(&conn).await, second, "{}", srv.name);
        let s = pool.stats().await;
        assert_eq!(
            (s.replaced, s.reconnects, s.connects),
            (0, 0, 2),
            "{}: {s:?}",
            srv.name
        );
    }
}

#[actix_rt::test]
async fn should_replace_a_connection_whose_reset_fails() {
    for srv in servers() {
        let (proxy, opts) = proxied(srv).await;
        let opts = opts.with_reconnect_policy(ReconnectPolicy {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            max_attempts: 2,
        });
        let pool = Pool::new(opts, PoolOpts::new().with_max_size(1));
        let conn = pool.get().await.unwrap();
        conn.ping().await.unwrap();
        // The connection goes away and the server cannot be reached: the reset fails.
        proxy.refuse(true);
        proxy.cut_all();
        drop(conn);
        for _ in 0..100 {
            if pool.stats().await.replaced == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        proxy.refuse(false);
        let conn = pool.get().await.unwrap();
        conn.ping().await.unwrap();
        let s = pool.stats().await;
        assert_eq!(
            (s.size, s.replaced, s.leased),
            (1, 1, 1),
            "{}: {s:?}",
            srv.name
        );
        assert_eq!(proxy.accepted(), 2, "{}", srv.name);
    }
}
