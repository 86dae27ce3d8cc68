//! Soak: the chaos load of `tests/chaos.rs` for a long time, with figures every 10 s.
//!
//! ```text
//! cargo run --release --example soak -- 30m          # or scripts/soak.sh 30m
//! ```
//!
//! Tasks send uniquely keyed `INSERT`s (sent again with the same key after a failure) and read
//! each acknowledged key back, through a pool behind a fault-injecting proxy that cuts every
//! connection or stalls traffic now and then; the server is killed and started again
//! periodically. Every 10 s one line: throughput, errors by kind, reconnects, faults, the
//! client's RSS. At the end the table is checked (no acknowledged write missing, nothing run
//! twice, nothing reported as unexecuted present) and the run is summed up: throughput of the
//! first and the last third, RSS growth.
//!
//! Environment:
//! - `MYSQL_URL`: use this server (with its database) instead of starting a throwaway one
//!   (`tests/support/server.rs`); it is not restarted then.
//! - `SOAK_TASKS` (64), `SOAK_POOL` (8): senders and connections.
//! - `SOAK_FAULT_EVERY` (5s; `0` = none): a proxy cut or stall at this interval.
//! - `SOAK_RESTART_EVERY` (60s; `0` = never): kill the server (SIGKILL) and start it again.
//!
//! The process exits with status 1 when a check fails.
#[path = "../tests/support/proxy.rs"]
mod proxy;
#[path = "../tests/support/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_mysql::{Client, Error, ErrorKind, Opts, Pool, PoolOpts, ReconnectPolicy};
use proxy::Proxy;

const REPORT_EVERY: Duration = Duration::from_secs(10);
const DEADLINE: Duration = Duration::from_secs(30);
const QUEUE_TIMEOUT: Duration = Duration::from_secs(20);
const ATTEMPTS: usize = 3;
const TABLE: &str = "soak_t";

fn parse_duration(s: &str) -> Duration {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .unwrap_or_else(|_| panic!("bad duration `{s}` (e.g. 90s, 30m, 1h)"));
    match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => panic!("bad duration unit in `{s}`"),
    }
}

fn env_duration(name: &str, default: &str) -> Option<Duration> {
    let d = parse_duration(&std::env::var(name).unwrap_or_else(|_| default.to_string()));
    (!d.is_zero()).then_some(d)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) of process `pid` (`self` for this one), in clock ticks.
fn cpu_ticks(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            // Fields 14 and 15 (utime, stime); `rest` starts at field 3.
            Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

/// The one-minute load average of the machine.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_default()
}

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

async fn bounded<T>(fut: impl Future<Output = actix_mysql::Result<T>>) -> Option<Result<T, Error>> {
    tokio::time::timeout(DEADLINE, fut).await.ok()
}

/// Figures shared by the tasks. Bounded: counters, plus the keys whose fate is unknown or
/// that must be absent (as many as there were failures).
#[derive(Default)]
struct Figures {
    requests: AtomicU64,
    ok: AtomicU64,
    /// Keys acknowledged (Ok, or 1062 after an attempt that may have run).
    acked: AtomicU64,
    /// 1062 with no earlier attempt that may have run: an INSERT ran twice.
    duplicates: AtomicU64,
    /// Acknowledged keys a read-back did not find.
    read_misses: AtomicU64,
    hangs: AtomicU64,
    faults: AtomicU64,
    restarts: AtomicU64,
    /// Process id of the server (0 when unknown).
    server_pid: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    /// Every attempt failed, at least one may have run: present at most once.
    unresolved: Mutex<Vec<String>>,
    /// Every attempt failed before it could run: must be absent.
    not_executed: Mutex<Vec<String>>,
}

impl Figures {
    fn error(&self, e: &Error) {
        *self.errors.lock().unwrap().entry(label(e)).or_default() += 1;
    }
}

async fn run_task(pool: Pool, t: usize, stop: Arc<AtomicBool>, fig: Arc<Figures>) {
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("task-{t}-seq-{seq}");
        seq += 1;
        let mut maybe_ran = false;
        let mut present = false;
        for _ in 0..ATTEMPTS {
            fig.requests.fetch_add(1, Ordering::Relaxed);
            let sql = format!("INSERT INTO {TABLE} (k) VALUES ('{key}')");
            match bounded(pool.execute(sql)).await {
                None => {
                    fig.hangs.fetch_add(1, Ordering::Relaxed);
                    maybe_ran = true;
                    break;
                }
                Some(Ok(_)) => {
                    fig.ok.fetch_add(1, Ordering::Relaxed);
                    present = true;
                    break;
                }
                Some(Err(e)) if e.code() == Some(1062) => {
                    fig.error(&e);
                    if !maybe_ran {
                        fig.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                    present = true;
                    break;
                }
                Some(Err(e)) => {
                    fig.error(&e);
                    maybe_ran |= e.may_have_executed();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
        if !present {
            let list = if maybe_ran {
                &fig.unresolved
            } else {
                &fig.not_executed
            };
            list.lock().unwrap().push(key);
            continue;
        }
        fig.acked.fetch_add(1, Ordering::Relaxed);
        fig.requests.fetch_add(1, Ordering::Relaxed);
        let sql = format!("SELECT COUNT(*) FROM {TABLE} WHERE k = '{key}'");
        match bounded(pool.query_retry_safe(sql)).await {
            None => {
                fig.hangs.fetch_add(1, Ordering::Relaxed);
            }
            Some(Ok(rows)) => {
                fig.ok.fetch_add(1, Ordering::Relaxed);
                if rows[0].get::<i64>(0) != 1 {
                    fig.read_misses.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(Err(e)) => {
                fig.error(&e);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
}

async fn inject_faults(
    proxy: Arc<Proxy>,
    mut srv: Option<server::TestServer>,
    every: Option<Duration>,
    restart_every: Option<Duration>,
    stop: Arc<AtomicBool>,
    fig: Arc<Figures>,
) {
    let tick = Duration::from_millis(100);
    let mut next_fault = every.map(|d| Instant::now() + d);
    let mut next_restart = restart_every.map(|d| Instant::now() + d);
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(tick).await;
        let now = Instant::now();
        if let (Some(at), Some(d)) = (next_restart, restart_every) {
            if now >= at {
                if let Some(s) = srv.take() {
                    let s = tokio::task::spawn_blocking(move || {
                        s.kill();
                        let mut s = s;
                        s.start_again().map(|()| s)
                    })
                    .await
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{e}"));
                    fig.server_pid
                        .store(u64::from(s.pid.unwrap_or(0)), Ordering::Relaxed);
                    srv = Some(s);
                    fig.restarts.fetch_add(1, Ordering::Relaxed);
                    fig.faults.fetch_add(1, Ordering::Relaxed);
                }
                next_restart = Some(Instant::now() + d);
                continue;
            }
        }
        if let (Some(at), Some(d)) = (next_fault, every) {
            if now >= at {
                match rand::random::<u32>() % 4 {
                    0 | 1 => proxy.cut_all(),
                    n => {
                        if n == 2 {
                            proxy.stall(true);
                        } else {
                            proxy.stall_replies(true);
                        }
                        let ms = 200 + rand::random::<u64>() % 400;
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        proxy.stall(false);
                    }
                }
                fig.faults.fetch_add(1, Ordering::Relaxed);
                // Jitter: the next one in 0.5-1.5 of the interval.
                let jitter = 0.5 + rand::random::<f64>();
                next_fault = Some(Instant::now() + d.mul_f64(jitter));
            }
        }
    }
}

fn main() {
    let duration = parse_duration(&std::env::args().nth(1).unwrap_or_else(|| "2m".into()));
    let tasks = env_usize("SOAK_TASKS", 64);
    let pool_size = env_usize("SOAK_POOL", 8);
    let fault_every = env_duration("SOAK_FAULT_EVERY", "5s");
    let restart_every = env_duration("SOAK_RESTART_EVERY", "60s");

    let (url, srv) = match std::env::var("MYSQL_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let srv = server::start_throwaway();
            (srv.url_with_db(server::TEST_DB), Some(srv))
        }
    };
    let restart_every = restart_every.filter(|_| srv.is_some());
    let name = srv
        .as_ref()
        .map(|s| s.name.clone())
        .unwrap_or_else(|| "MYSQL_URL".into());
    let ok = actix_rt::System::new().block_on(soak(
        url,
        srv,
        name,
        duration,
        tasks,
        pool_size,
        fault_every,
        restart_every,
    ));
    if !ok {
        std::process::exit(1);
    }
}

#[allow(clippy::too_many_arguments)]
async fn soak(
    url: String,
    srv: Option<server::TestServer>,
    name: String,
    duration: Duration,
    tasks: usize,
    pool_size: usize,
    fault_every: Option<Duration>,
    restart_every: Option<Duration>,
) -> bool {
    let base = Opts::from_url(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
    let admin = Client::new(base.clone());
    admin
        .execute(format!("DROP TABLE IF EXISTS {TABLE}"))
        .await
        .unwrap();
    admin
        .execute(format!(
            "CREATE TABLE {TABLE} (k VARCHAR(64) PRIMARY KEY) ENGINE=InnoDB"
        ))
        .await
        .unwrap();
    let upstream = tokio::net::lookup_host((base.host(), base.port()))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = Arc::new(Proxy::start(upstream).await);
    let opts = base
        .clone()
        .with_host("127.0.0.1")
        .with_port(proxy.port())
        .with_connect_timeout(Duration::from_secs(3))
        .with_queue_timeout(QUEUE_TIMEOUT)
        .with_reconnect_policy(ReconnectPolicy {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(500),
            max_attempts: 200,
        });
    let pool = Pool::new(
        opts,
        PoolOpts::new()
            .with_max_size(pool_size)
            .with_wait_timeout(QUEUE_TIMEOUT),
    );
    println!(
        "soak {name}: {tasks} tasks, pool of {pool_size}, {:?}, faults every {fault_every:?}, \
         restart every {restart_every:?}",
        duration
    );

    let fig = Arc::new(Figures::default());
    fig.server_pid.store(
        u64::from(srv.as_ref().and_then(|s| s.pid).unwrap_or(0)),
        Ordering::Relaxed,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..tasks)
        .map(|t| actix_rt::spawn(run_task(pool.clone(), t, stop.clone(), fig.clone())))
        .collect();
    let injector = actix_rt::spawn(inject_faults(
        proxy.clone(),
        srv,
        fault_every,
        restart_every,
        stop.clone(),
        fig.clone(),
    ));

    let started = Instant::now();
    let mut last_requests = 0;
    let mut rates = Vec::new();
    let mut rss = Vec::new();
    // Client CPU per request (µs), per interval: throughput alone follows whatever else the
    // machine runs; the cost of a request in the client does not.
    let mut cost = Vec::new();
    let mut next = started + REPORT_EVERY;
    let server_cpu = |fig: &Figures| match fig.server_pid.load(Ordering::Relaxed) {
        0 => 0,
        pid => cpu_ticks(&pid.to_string()),
    };
    let mut last_cpu = (cpu_ticks("self"), server_cpu(&fig));
    while started.elapsed() < duration {
        tokio::time::sleep_until(next.into()).await;
        next += REPORT_EVERY;
        let requests = fig.requests.load(Ordering::Relaxed);
        let rate = (requests - last_requests) as f64 / REPORT_EVERY.as_secs_f64();
        last_requests = requests;
        let stats = pool.stats().await;
        let kib = rss_kib();
        rates.push(rate);
        rss.push(kib);
        // Ticks are 1/100 s: ticks per 10 s / 10 = percent of one core.
        let cpu = (cpu_ticks("self"), server_cpu(&fig));
        let secs = REPORT_EVERY.as_secs_f64();
        let client_cpu = cpu.0.saturating_sub(last_cpu.0) as f64 / secs;
        // A restarted server is a new process: its counter starts again.
        let srv_cpu = cpu.1.checked_sub(last_cpu.1).unwrap_or(cpu.1) as f64 / secs;
        last_cpu = cpu;
        let us_per_request = client_cpu / 100.0 * secs * 1e6 / (rate * secs).max(1.0);
        cost.push(us_per_request);
        println!(
            "t={:>5}s req/s={rate:>7.0} requests={requests} ok={} errors={:?} faults={} \
             restarts={} reconnects={} queued={} in_flight={} rss={:.1}MiB \
             cpu client={client_cpu:.0}% ({us_per_request:.1}us/request) server={srv_cpu:.0}% \
             load={}",
            started.elapsed().as_secs(),
            fig.ok.load(Ordering::Relaxed),
            fig.errors.lock().unwrap(),
            fig.faults.load(Ordering::Relaxed),
            fig.restarts.load(Ordering::Relaxed),
            stats.reconnects,
            stats.queued,
            stats.in_flight,
            kib as f64 / 1024.0,
            loadavg(),
        );
    }
    stop.store(true, Ordering::Relaxed);
    injector.await.unwrap();
    for h in handles {
        h.await.unwrap();
    }

    // Check the table.
    let count = |sql: String| {
        let admin = admin.clone();
        async move { admin.query(sql).await.unwrap()[0].get::<i64>(0) as u64 }
    };
    let in_list = |keys: &[String]| {
        if keys.is_empty() {
            "''".to_string()
        } else {
            keys.iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(",")
        }
    };
    let unresolved = fig.unresolved.lock().unwrap().clone();
    let not_executed = fig.not_executed.lock().unwrap().clone();
    let rows = count(format!("SELECT COUNT(*) FROM {TABLE}")).await;
    let unresolved_present = count(format!(
        "SELECT COUNT(*) FROM {TABLE} WHERE k IN ({})",
        in_list(&unresolved)
    ))
    .await;
    let phantom = count(format!(
        "SELECT COUNT(*) FROM {TABLE} WHERE k IN ({})",
        in_list(&not_executed)
    ))
    .await;
    let acked = fig.acked.load(Ordering::Relaxed);
    let acked_present = rows - unresolved_present - phantom;
    let lost = acked.saturating_sub(acked_present);
    let extra = acked_present.saturating_sub(acked);
    let duplicates = fig.duplicates.load(Ordering::Relaxed);
    let read_misses = fig.read_misses.load(Ordering::Relaxed);
    let hangs = fig.hangs.load(Ordering::Relaxed);

    let third = (rates.len() / 3).max(1);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    // The first interval includes the warm-up.
    let first = mean(&rates[1.min(rates.len())..third.max(2).min(rates.len())]);
    let last = mean(&rates[rates.len().saturating_sub(third)..]);
    let cost_first = mean(&cost[1.min(cost.len())..third.max(2).min(cost.len())]);
    let cost_last = mean(&cost[cost.len().saturating_sub(third)..]);
    let rss_first = rss.get(1).or(rss.first()).copied().unwrap_or(0);
    let rss_last = rss.last().copied().unwrap_or(0);
    let rss_max = rss.iter().copied().max().unwrap_or(0);
    let stats = pool.stats().await;
    let total = fig.requests.load(Ordering::Relaxed);
    println!(
        "soak {name} summary: {:.0}s, requests={total} ({:.0}/s) ok={} errors={:?}; \
         faults={} restarts={} reconnects={}; keys acked={acked} unresolved={} \
         (present {unresolved_present}); lost={lost} duplicates={duplicates} phantom={phantom} \
         extra={extra} read_misses={read_misses} hung={hangs}; throughput first third \
         {first:.0}/s, last third {last:.0}/s ({:+.1}%); client cpu per request first third \
         {cost_first:.1}us, last third {cost_last:.1}us; rss after 20s {:.1}MiB, end {:.1}MiB, \
         max {:.1}MiB",
        started.elapsed().as_secs_f64(),
        total as f64 / started.elapsed().as_secs_f64(),
        fig.ok.load(Ordering::Relaxed),
        fig.errors.lock().unwrap(),
        fig.faults.load(Ordering::Relaxed),
        fig.restarts.load(Ordering::Relaxed),
        stats.reconnects,
        unresolved.len(),
        (last / first - 1.0) * 100.0,
        rss_first as f64 / 1024.0,
        rss_last as f64 / 1024.0,
        rss_max as f64 / 1024.0,
    );
    let _ = pool.close(Duration::from_secs(10)).await;
    let failures: Vec<&str> = [
        (lost > 0, "acknowledged writes lost"),
        (duplicates > 0, "writes ran twice"),
        (phantom > 0, "writes reported as not executed are present"),
        (extra > 0, "rows nobody acknowledged"),
        (read_misses > 0, "acknowledged writes not read back"),
        (hangs > 0, "requests hung"),
    ]
    .into_iter()
    .filter_map(|(bad, what)| bad.then_some(what))
    .collect();
    if failures.is_empty() {
        println!("soak {name}: ok");
        true
    } else {
        println!("soak {name}: FAILED: {}", failures.join(", "));
        false
    }
}
