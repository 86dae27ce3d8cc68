//! Faults under load, with figures.
//!
//! - `should_keep_every_acknowledged_write_through_cuts_stalls_and_a_restart`: 64 tasks send
//!   uniquely keyed `INSERT`s and read-backs through a pool of 8 connections behind a
//!   fault-injecting proxy, while the proxy cuts every connection or stalls traffic every 1-2 s
//!   and the server is killed (SIGKILL) and started again once. Afterwards the table is read:
//!   no acknowledged write is missing, no write ran twice, nothing the client called unexecuted
//!   is there, no request hung, and the pool serves on every connection again soon after each
//!   fault.
//! - `should_keep_every_acknowledged_write_with_pipelining`: the same with
//!   `pipeline_depth` 8, so each connection has several commands written when it is cut.
//! - `should_refuse_past_the_bounds_at_once_and_never_exceed_max_size`: more senders than the
//!   queues allow get `QueueFull` at once; queues and waiters stay within their bounds; the
//!   server never sees more than `max_size` connections.
//! - `should_not_replace_a_healthy_connection_when_its_reset_is_refused_as_queue_full`: a
//!   lease returned while its connection's queue is full is still reset, not replaced.
//!
//! Each test prints a summary line (`chaos ...`, `overload ...`); `docs/reliability.md`
//! ("Figures") records them. The servers are private to this binary (they get killed), started
//! once and shared by the tests one after the other.
mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_mysql::{Client, Error, ErrorKind, Opts, Pool, PoolOpts, ReconnectPolicy};
use support::proxy::Proxy;
use support::TestServer;

/// Concurrent tasks sending requests.
const TASKS: usize = 64;
/// Connections in the pool.
const POOL_SIZE: usize = 8;
/// How long the load runs per server.
const LOAD: Duration = Duration::from_secs(20);
/// Load keeps running this long after the last fault, to measure the recovery from it.
const AFTER_LAST_FAULT: Duration = Duration::from_secs(3);
/// Bound on one request: past it the request counts as hung and the test fails. Longer than
/// the connection's own bound (`QUEUE_TIMEOUT`) plus a statement.
const DEADLINE: Duration = Duration::from_secs(30);
/// How long a command may wait inside a connection (covers the server restart).
const QUEUE_TIMEOUT: Duration = Duration::from_secs(20);
/// Attempts per key (a failed INSERT is sent again with the same key).
const ATTEMPTS: usize = 3;
/// After the last fault, every connection must answer again within this bound.
const RECOVERY_BOUND: Duration = Duration::from_secs(5);

/// The servers of this binary, started once; the guard also keeps the tests from running at
/// the same time (two cores).
async fn private_servers() -> tokio::sync::MutexGuard<'static, Vec<TestServer>> {
    static SERVERS: OnceLock<tokio::sync::Mutex<Vec<TestServer>>> = OnceLock::new();
    SERVERS
        .get_or_init(|| tokio::sync::Mutex::new(support::start_private().unwrap()))
        .lock()
        .await
}

fn table_name(srv: &TestServer) -> String {
    let name: String = srv
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("chaos_{name}")
}

/// A client straight to the server (no proxy), for setup and verification.
fn direct(srv: &TestServer) -> Client {
    Client::new(
        Opts::from_url(&srv.url_with_db(support::TEST_DB))
            .unwrap()
            .with_queue_timeout(Duration::from_secs(60))
            .with_reconnect_policy(ReconnectPolicy {
                initial_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(500),
                max_attempts: 200,
            }),
    )
}

async fn proxied(srv: &TestServer) -> (Proxy, Opts) {
    let upstream = format!("{}:{}", srv.host, srv.port).parse().unwrap();
    let proxy = Proxy::start(upstream).await;
    let opts = Opts::from_url(&srv.url_with_db(support::TEST_DB))
        .unwrap()
        .with_port(proxy.port())
        .with_connect_timeout(Duration::from_secs(3))
        .with_queue_timeout(QUEUE_TIMEOUT)
        .with_reconnect_policy(ReconnectPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(500),
            max_attempts: 200,
        });
    (proxy, opts)
}

/// The label an outcome is counted under.
fn label(e: &Error) -> String {
    let mut s = match (e.kind(), e.code()) {
        (ErrorKind::Server, Some(code)) => format!("Server({code})"),
        (kind, _) => format!("{kind:?}"),
    };
    if e.may_have_executed() {
        s.push_str("+may_have_executed");
    }
    s
}

/// One request's outcome: `None` when it hung past [`DEADLINE`].
async fn bounded<T>(fut: impl Future<Output = actix_mysql::Result<T>>) -> Option<Result<T, Error>> {
    tokio::time::timeout(DEADLINE, fut).await.ok()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

// ---------------------------------------------------------------------------------- chaos

#[derive(Debug, Clone, Copy, PartialEq)]
enum Attempt {
    Ok,
    /// Refused with 1062: the key is there already.
    Duplicate,
    Failed {
        may_have_executed: bool,
    },
}

#[derive(Debug)]
struct KeyLog {
    key: String,
    attempts: Vec<Attempt>,
}

#[derive(Default)]
struct TaskLog {
    keys: Vec<KeyLog>,
    requests: usize,
    ok: usize,
    errors: BTreeMap<String, usize>,
    hangs: Vec<String>,
    /// Acknowledged keys a read-back did not find.
    read_misses: Vec<String>,
    /// Successful read-backs: (sent, answered, server connection id).
    answered: Vec<(Instant, Instant, u64)>,
}

impl TaskLog {
    fn error(&mut self, e: &Error) {
        *self.errors.entry(label(e)).or_default() += 1;
    }
}

async fn run_task(pool: Pool, table: String, t: usize, stop: Arc<AtomicBool>) -> TaskLog {
    let mut log = TaskLog::default();
    let mut seq = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("task-{t}-seq-{seq}");
        seq += 1;
        let mut attempts = Vec::new();
        for _ in 0..ATTEMPTS {
            log.requests += 1;
            let sql = format!("INSERT INTO {table} (k) VALUES ('{key}')");
            match bounded(pool.execute(sql)).await {
                None => {
                    log.hangs.push(format!("INSERT {key}"));
                    attempts.push(Attempt::Failed {
                        may_have_executed: true,
                    });
                    break;
                }
                Some(Ok(r)) => {
                    assert_eq!(r.affected_rows, 1, "{key}");
                    log.ok += 1;
                    attempts.push(Attempt::Ok);
                    break;
                }
                Some(Err(e)) if e.code() == Some(1062) => {
                    log.error(&e);
                    attempts.push(Attempt::Duplicate);
                    break;
                }
                Some(Err(e)) => {
                    log.error(&e);
                    attempts.push(Attempt::Failed {
                        may_have_executed: e.may_have_executed(),
                    });
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
        let present = attempts
            .iter()
            .any(|a| matches!(a, Attempt::Ok | Attempt::Duplicate));
        log.keys.push(KeyLog {
            key: key.clone(),
            attempts,
        });
        if !present {
            continue;
        }
        // Read it back (retry-safe: a SELECT may be sent again after a lost connection).
        log.requests += 1;
        let sent = Instant::now();
        let sql = format!("SELECT CONNECTION_ID(), COUNT(*) FROM {table} WHERE k = '{key}'");
        match bounded(pool.query_retry_safe(sql)).await {
            None => log.hangs.push(format!("SELECT {key}")),
            Some(Ok(rows)) => {
                log.ok += 1;
                log.answered
                    .push((sent, Instant::now(), rows[0].get::<u64>(0)));
                if rows[0].get::<i64>(1) != 1 {
                    log.read_misses.push(key);
                }
            }
            Some(Err(e)) => {
                log.error(&e);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    log
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Cut,
    Stall,
    StallReplies,
    Restart,
}

#[derive(Debug)]
struct Injected {
    fault: Fault,
    /// When the fault was over (cut done, traffic flowing again, server answering).
    ended: Instant,
    /// How long it lasted (stall length, server downtime).
    lasted: Duration,
}

/// Injects a fault every 1-2 s for [`LOAD`] minus [`AFTER_LAST_FAULT`]; the server restart
/// comes about halfway.
async fn inject_faults(proxy: Arc<Proxy>, mut srv: TestServer) -> (Vec<Injected>, TestServer) {
    let started = Instant::now();
    let mut faults = Vec::new();
    let mut restarted = false;
    loop {
        let pause = Duration::from_millis(1000 + rand::random::<u64>() % 1000);
        tokio::time::sleep(pause).await;
        if started.elapsed() + AFTER_LAST_FAULT > LOAD {
            break;
        }
        let fault = if !restarted && started.elapsed() > LOAD / 3 {
            Fault::Restart
        } else {
            match rand::random::<u32>() % 4 {
                0 | 1 => Fault::Cut,
                2 => Fault::Stall,
                _ => Fault::StallReplies,
            }
        };
        let began = Instant::now();
        match fault {
            Fault::Cut => proxy.cut_all(),
            Fault::Stall | Fault::StallReplies => {
                let stall = Duration::from_millis(200 + rand::random::<u64>() % 400);
                if fault == Fault::Stall {
                    proxy.stall(true);
                } else {
                    proxy.stall_replies(true);
                }
                tokio::time::sleep(stall).await;
                proxy.stall(false);
            }
            Fault::Restart => {
                restarted = true;
                srv = tokio::task::spawn_blocking(move || {
                    srv.kill();
                    srv.start_again().unwrap();
                    srv
                })
                .await
                .unwrap();
            }
        }
        faults.push(Injected {
            fault,
            ended: Instant::now(),
            lasted: began.elapsed(),
        });
    }
    (faults, srv)
}

/// Time from the end of `fault` until every one of `connections` connections has answered a
/// read-back sent after it; `None` if that did not happen before `until`.
fn recovery(
    answered: &[(Instant, Instant, u64)],
    from: Instant,
    until: Instant,
    connections: usize,
) -> Option<Duration> {
    let mut seen = HashSet::new();
    for &(sent, done, id) in answered {
        if sent < from || done > until {
            continue;
        }
        seen.insert(id);
        if seen.len() >= connections {
            return Some(done - from);
        }
    }
    None
}

async fn chaos_run(srv: &mut TestServer, pipeline_depth: usize) {
    let table = table_name(srv);
    let admin = direct(srv);
    admin
        .execute(format!(
            "CREATE TABLE {table} (k VARCHAR(64) PRIMARY KEY) ENGINE=InnoDB"
        ))
        .await
        .unwrap();
    let (proxy, opts) = proxied(srv).await;
    let proxy = Arc::new(proxy);
    let pool = Pool::new(
        opts.with_pipeline_depth(pipeline_depth),
        PoolOpts::new()
            .with_max_size(POOL_SIZE)
            .with_wait_timeout(QUEUE_TIMEOUT),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| actix_rt::spawn(run_task(pool.clone(), table.clone(), t, stop.clone())))
        .collect();
    let (faults, back) = inject_faults(proxy.clone(), srv.clone()).await;
    *srv = back;
    let last_fault = faults.last().map(|f| f.ended).unwrap_or(started);
    let remaining = (last_fault + AFTER_LAST_FAULT).saturating_duration_since(Instant::now());
    tokio::time::sleep(remaining).await;
    stop.store(true, Ordering::Relaxed);
    let load_ended = Instant::now();
    let mut logs = Vec::new();
    for t in tasks {
        logs.push(t.await.unwrap());
    }
    let ran = started.elapsed();

    // Every connection answers again: lease all of them at once.
    let probe_started = Instant::now();
    let leases = futures_util::future::join_all((0..POOL_SIZE).map(|_| pool.get())).await;
    for lease in &leases {
        let lease = lease.as_ref().unwrap();
        lease.query("SELECT 1").await.unwrap();
    }
    let probe = probe_started.elapsed();
    drop(leases);

    // What is in the table.
    let rows: Vec<String> = admin
        .query(format!("SELECT k FROM {table}"))
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut present: HashMap<String, usize> = HashMap::new();
    for k in rows {
        *present.entry(k).or_default() += 1;
    }

    let mut requests = 0;
    let mut ok = 0;
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let mut hangs = Vec::new();
    let mut read_misses = Vec::new();
    let mut answered = Vec::new();
    let (mut acked, mut lost, mut duplicates, mut phantom, mut dup_resolved, mut ambiguous) =
        (0, Vec::new(), Vec::new(), Vec::new(), 0, 0);
    let mut known = HashSet::new();
    for log in logs {
        requests += log.requests;
        ok += log.ok;
        for (k, n) in log.errors {
            *errors.entry(k).or_default() += n;
        }
        hangs.extend(log.hangs);
        read_misses.extend(log.read_misses);
        answered.extend(log.answered);
        for k in log.keys {
            let n = present.get(&k.key).copied().unwrap_or(0);
            known.insert(k.key.clone());
            let acknowledged = k.attempts.contains(&Attempt::Ok);
            let ambiguous_before = |i: usize| {
                k.attempts[..i].iter().any(|a| {
                    matches!(
                        a,
                        Attempt::Failed {
                            may_have_executed: true
                        }
                    )
                })
            };
            for (i, a) in k.attempts.iter().enumerate() {
                if *a == Attempt::Duplicate {
                    if ambiguous_before(i) {
                        dup_resolved += 1;
                    } else {
                        // The key was there although no earlier attempt may have run: one
                        // INSERT ran twice.
                        duplicates.push(k.key.clone());
                    }
                }
            }
            let maybe = ambiguous_before(k.attempts.len());
            if maybe {
                ambiguous += 1;
            }
            if acknowledged || k.attempts.contains(&Attempt::Duplicate) {
                acked += usize::from(acknowledged);
                if n != 1 {
                    lost.push(k.key.clone());
                }
            } else if !maybe && n != 0 {
                // Every attempt failed before it could run, yet the row is there.
                phantom.push(k.key.clone());
            }
            if n > 1 {
                duplicates.push(k.key.clone());
            }
        }
    }
    let unknown: Vec<&String> = present.keys().filter(|k| !known.contains(*k)).collect();

    answered.sort_by_key(|&(_, done, _)| done);
    let mut recoveries = Vec::new();
    let mut unrecovered = Vec::new();
    for (i, f) in faults.iter().enumerate() {
        let until = faults
            .get(i + 1)
            .map(|n| n.ended - n.lasted)
            .unwrap_or(load_ended);
        match recovery(&answered, f.ended, until, POOL_SIZE) {
            Some(d) => recoveries.push(d),
            None => unrecovered.push(format!("{:?}#{i}", f.fault)),
        }
    }
    let last_recovery = faults
        .last()
        .and_then(|f| recovery(&answered, f.ended, load_ended, POOL_SIZE));
    recoveries.sort();
    let mut by_fault: BTreeMap<Fault, usize> = BTreeMap::new();
    for f in &faults {
        *by_fault.entry(f.fault).or_default() += 1;
    }
    let downtime = faults
        .iter()
        .find(|f| f.fault == Fault::Restart)
        .map(|f| f.lasted)
        .unwrap_or_default();
    let stats = pool.stats().await;
    let error_total: usize = errors.values().sum();

    eprintln!(
        "chaos {} pipeline_depth={pipeline_depth}: {:.1}s, requests={requests} ok={ok} errors={error_total} {errors:?}; \
         keys={} acked={acked} ambiguous={ambiguous} dup_resolved={dup_resolved}; \
         faults={} {by_fault:?} (server down {}, {} connections cut); \
         lost={} duplicates={} phantom={} hung={}; recovery p50={} p99={} max={} last={} \
         (unrecovered before the next fault: {unrecovered:?}); all {POOL_SIZE} leases answered \
         in {}; pool reconnects={} redelivered={} timeouts={} pipelined={}; proxy accepted={} max_active={}",
        srv.name,
        ran.as_secs_f64(),
        known.len(),
        faults.len(),
        ms(downtime),
        proxy.cut(),
        lost.len(),
        duplicates.len(),
        phantom.len(),
        hangs.len(),
        ms(percentile(&recoveries, 0.5)),
        ms(percentile(&recoveries, 0.99)),
        ms(recoveries.last().copied().unwrap_or_default()),
        last_recovery.map(ms).unwrap_or_else(|| "none".into()),
        ms(probe),
        stats.reconnects,
        stats.redelivered,
        stats.timeouts,
        stats.pipelined,
        proxy.accepted(),
        proxy.max_active(),
    );

    let name = &srv.name;
    assert!(
        hangs.is_empty(),
        "{name}: hung past {DEADLINE:?}: {hangs:?}"
    );
    assert!(
        lost.is_empty(),
        "{name}: acknowledged writes lost: {lost:?}"
    );
    assert!(
        read_misses.is_empty(),
        "{name}: acknowledged writes not read back: {read_misses:?}"
    );
    assert!(duplicates.is_empty(), "{name}: ran twice: {duplicates:?}");
    assert!(
        phantom.is_empty(),
        "{name}: reported as not executed, but present: {phantom:?}"
    );
    assert!(unknown.is_empty(), "{name}: rows nobody wrote: {unknown:?}");
    for kind in errors.keys() {
        assert!(
            kind == "ConnectionLost+may_have_executed"
                || kind == "Server(1062)"
                || kind == "Timeout",
            "{name}: unexpected error kind {kind}: {errors:?}"
        );
    }
    assert!(faults.iter().any(|f| f.fault == Fault::Restart), "{name}");
    assert!(faults.len() >= 3, "{name}: only {} faults", faults.len());
    assert!(ok > requests / 2, "{name}: {ok} of {requests} ok");
    let last = last_recovery
        .unwrap_or_else(|| panic!("{name}: not every connection answered after the last fault"));
    assert!(last < RECOVERY_BOUND, "{name}: recovered in {last:?}");
    assert!(stats.size <= POOL_SIZE, "{name}: {stats:?}");
    if pipeline_depth > 1 {
        assert!(
            stats.pipelined > 0,
            "{name}: nothing was pipelined: {stats:?}"
        );
    } else {
        assert_eq!(stats.pipelined, 0, "{name}: {stats:?}");
    }
    assert!(
        proxy.max_active() <= POOL_SIZE,
        "{name}: {} connections at once",
        proxy.max_active()
    );
    pool.close(Duration::from_secs(10)).await.unwrap();
    admin.execute(format!("DROP TABLE {table}")).await.unwrap();
}

/// [`chaos_run`] on every private server, one after the other.
async fn chaos_on_every_server(pipeline_depth: usize) {
    let mut servers = private_servers().await;
    if servers.is_empty() {
        eprintln!("MYSQL_TEST_URLS is set: servers cannot be restarted from here, skipped");
        return;
    }
    for srv in servers.iter_mut() {
        chaos_run(srv, pipeline_depth).await;
    }
}

#[actix_rt::test]
async fn should_keep_every_acknowledged_write_through_cuts_stalls_and_a_restart() {
    chaos_on_every_server(1).await;
}

#[actix_rt::test]
async fn should_keep_every_acknowledged_write_with_pipelining() {
    chaos_on_every_server(8).await;
}

// ------------------------------------------------------------------------------- overload

/// Connections in the overload pool.
const OVERLOAD_POOL: usize = 2;
/// Commands each connection queues.
const OVERLOAD_QUEUE: usize = 4;
/// Callers that may wait for a pooled connection.
const OVERLOAD_WAITERS: usize = 4;
/// Queue and wait bound in the overload run; refusals must come far sooner.
const OVERLOAD_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Overload {
    ok: usize,
    refused: Vec<Duration>,
    other: BTreeMap<String, usize>,
}

async fn overload_run(srv: &TestServer) {
    let (proxy, opts) = proxied(srv).await;
    let opts = opts
        .with_max_queue(OVERLOAD_QUEUE)
        .with_queue_timeout(OVERLOAD_TIMEOUT);
    let pool = Pool::new(
        opts,
        PoolOpts::new()
            .with_max_size(OVERLOAD_POOL)
            .with_max_waiters(OVERLOAD_WAITERS)
            .with_wait_timeout(OVERLOAD_TIMEOUT),
    );
    let admin = direct(srv);
    let admin_id = admin.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u64>(0);
    let user = srv.user.clone();

    let stop = Arc::new(AtomicBool::new(false));
    let run_for = Duration::from_secs(4);
    let record = |log: &mut Overload, started: Instant, res: Result<(), Error>| match res {
        Ok(()) => log.ok += 1,
        Err(e) if e.kind() == ErrorKind::QueueFull => log.refused.push(started.elapsed()),
        Err(e) => *log.other.entry(label(&e)).or_default() += 1,
    };
    // 48 tasks dispatch statements of 20 ms; 16 lease a connection for one such statement.
    let dispatchers: Vec<_> = (0..48)
        .map(|_| {
            let pool = pool.clone();
            let stop = stop.clone();
            actix_rt::spawn(async move {
                let mut log = Overload::default();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let res = bounded(pool.query("SELECT SLEEP(0.02)"))
                        .await
                        .expect("a dispatched statement hung");
                    let refused = matches!(&res, Err(e) if e.kind() == ErrorKind::QueueFull);
                    record(&mut log, started, res.map(|_| ()));
                    if refused {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
                log
            })
        })
        .collect();
    let leasers: Vec<_> = (0..16)
        .map(|_| {
            let pool = pool.clone();
            let stop = stop.clone();
            actix_rt::spawn(async move {
                let mut log = Overload::default();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let res = bounded(async {
                        let conn = pool.get().await?;
                        conn.query("SELECT SLEEP(0.02)").await.map(|_| ())
                    })
                    .await
                    .expect("a lease hung");
                    let refused = matches!(&res, Err(e) if e.kind() == ErrorKind::QueueFull);
                    record(&mut log, started, res);
                    if refused {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
                log
            })
        })
        .collect();

    // Sample the bounds while it runs.
    let started = Instant::now();
    let (mut max_queued, mut max_waiters, mut max_size, mut max_processlist) = (0, 0, 0, 0);
    let mut samples = 0;
    while started.elapsed() < run_for {
        let s = pool.stats().await;
        max_queued = max_queued.max(s.queued);
        max_waiters = max_waiters.max(s.waiters);
        max_size = max_size.max(s.size);
        if samples % 20 == 0 {
            let n = admin
                .query(format!(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                     WHERE USER = '{user}' AND ID <> {admin_id}"
                ))
                .await
                .unwrap()[0]
                .get::<i64>(0);
            max_processlist = max_processlist.max(n as usize);
        }
        samples += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = Overload::default();
    for h in dispatchers.into_iter().chain(leasers) {
        let log = h.await.unwrap();
        total.ok += log.ok;
        total.refused.extend(log.refused);
        for (k, n) in log.other {
            *total.other.entry(k).or_default() += n;
        }
    }
    let stats = pool.stats().await;
    total.refused.sort();
    let p99 = percentile(&total.refused, 0.99);
    let max = total.refused.last().copied().unwrap_or_default();
    eprintln!(
        "overload {}: {:.1}s, 64 senders, pool of {OVERLOAD_POOL} (max_queue {OVERLOAD_QUEUE}, \
         max_waiters {OVERLOAD_WAITERS}): ok={} refused={} (QueueFull in p50={:?} p99={p99:?} \
         max={max:?}, bound {OVERLOAD_TIMEOUT:?}) other={:?}; max queued={max_queued} \
         max waiters={max_waiters} size={max_size}; connections: proxy max_active={} \
         accepted={} processlist max={max_processlist}; pool refused={} replaced={} \
         ({samples} samples)",
        srv.name,
        started.elapsed().as_secs_f64(),
        total.ok,
        total.refused.len(),
        percentile(&total.refused, 0.5),
        total.other,
        proxy.max_active(),
        proxy.accepted(),
        stats.refused,
        stats.replaced,
    );

    let name = &srv.name;
    assert!(total.ok > 0, "{name}");
    assert!(total.refused.len() > 10, "{name}: nothing was refused");
    assert!(
        total.other.is_empty(),
        "{name}: other errors {:?}",
        total.other
    );
    // At once: far below the bound a queued request would wait (with room for a busy CI
    // machine in the worst case).
    assert!(
        p99 < OVERLOAD_TIMEOUT / 10,
        "{name}: refusals took {p99:?} (p99)"
    );
    assert!(max < OVERLOAD_TIMEOUT / 2, "{name}: a refusal took {max:?}");
    // The bound refuses new work; a lease's reset on return still gets in (one per
    // connection), so that returning a lease never costs a healthy connection.
    assert!(
        max_queued <= OVERLOAD_POOL * (OVERLOAD_QUEUE + 1),
        "{name}: {max_queued} queued"
    );
    assert!(max_waiters <= OVERLOAD_WAITERS, "{name}: {max_waiters}");
    assert!(max_size <= OVERLOAD_POOL, "{name}: {max_size}");
    assert!(
        proxy.max_active() <= OVERLOAD_POOL,
        "{name}: {} connections at once",
        proxy.max_active()
    );
    assert!(
        proxy.accepted() <= OVERLOAD_POOL + stats.replaced as usize,
        "{name}: {} connections opened, {} replaced",
        proxy.accepted(),
        stats.replaced
    );
    assert!(
        max_processlist <= OVERLOAD_POOL,
        "{name}: {max_processlist}"
    );
    // Idle again: nothing left queued or waiting.
    assert_eq!(
        (stats.queued, stats.waiters, stats.in_flight),
        (0, 0, 0),
        "{name}: {stats:?}"
    );
    pool.close(Duration::from_secs(10)).await.unwrap();
}

#[actix_rt::test]
async fn should_refuse_past_the_bounds_at_once_and_never_exceed_max_size() {
    let servers = private_servers().await;
    if servers.is_empty() {
        eprintln!("MYSQL_TEST_URLS is set: no private servers, skipped");
        return;
    }
    for srv in servers.iter() {
        overload_run(srv).await;
    }
}

/// A lease returned while its connection's queue is full: the reset must still be queued (the
/// bound never refuses a reset), so the healthy connection is not replaced.
#[actix_rt::test]
async fn should_not_replace_a_healthy_connection_when_its_reset_is_refused_as_queue_full() {
    let servers = private_servers().await;
    let Some(srv) = servers.first() else {
        eprintln!("MYSQL_TEST_URLS is set: no private servers, skipped");
        return;
    };
    let (proxy, opts) = proxied(srv).await;
    let pool = Pool::new(opts.with_max_queue(2), PoolOpts::new().with_max_size(1));
    pool.ping().await.unwrap();
    // One statement in flight, two queued: the connection's queue is full.
    let mut busy = Vec::new();
    for _ in 0..3 {
        let pool = pool.clone();
        busy.push(actix_rt::spawn(async move {
            pool.query("SELECT SLEEP(0.3)").await.map(|_| ())
        }));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pool.stats().await.queued, 2, "{}", srv.name);
    // The only connection is free for a lease (dispatch does not hold it); returning it asks
    // for a reset behind the full queue.
    let conn = pool.get().await.unwrap();
    drop(conn);
    for b in busy {
        b.await.unwrap().unwrap();
    }
    pool.query("SELECT 1").await.unwrap();
    let s = pool.stats().await;
    assert_eq!(
        (s.replaced, proxy.accepted()),
        (0, 1),
        "{}: the connection was replaced: {s:?}",
        srv.name
    );
}
