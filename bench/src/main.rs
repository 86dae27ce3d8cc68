//! Side-by-side benchmarks: actix-mysql, mysql_async, sqlx and a raw client that sends
//! pre-encoded packets and decodes nothing. See `docs/benchmarks.md`.
//!
//! Usage: `actix-mysql-bench [--rounds N] [--only w1,w2,...,m1,m2] [--clients raw,sqlx,...]
//! [--scale N] [--pinned-only|--unpinned-only]`.
//! Environment: as for the test servers (`MYSQL_TEST_URLS`, `ACTIX_MYSQL_SERVERS`).
#[path = "../../tests/support/server.rs"]
mod server;
mod raw;

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use rust_decimal::Decimal;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions, MySqlRow, MySqlSslMode};
use sqlx::{Connection as _, Executor as _};

use raw::Raw;

/// Heap in use, counted only in the memory sub-commands.
struct Counting;
static COUNT: AtomicBool = AtomicBool::new(false);
static HEAP: AtomicIsize = AtomicIsize::new(0);
/// Divides the number of operations of W1-W3 and W5 (for profiling runs).
static SCALE: AtomicIsize = AtomicIsize::new(1);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if COUNT.load(Ordering::Relaxed) {
            HEAP.fetch_add(l.size() as isize, Ordering::Relaxed);
        }
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if COUNT.load(Ordering::Relaxed) {
            HEAP.fetch_sub(l.size() as isize, Ordering::Relaxed);
        }
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if COUNT.load(Ordering::Relaxed) {
            HEAP.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        }
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

type Tup = (i32, i64, String, f64, NaiveDateTime, Decimal);

const ROWS_SQL: &str = "SELECT id, b, s, d, dt, amount FROM bench_rows";
const POINT_SQL: &str = "SELECT id, b, s, d, dt, amount FROM bench_point WHERE id = ?";
const INSERT_SQL: &str = "INSERT INTO bench_ins (a, s) VALUES (?, ?)";
const STREAM_SQL: &str = "SELECT CAST(seq AS SIGNED), seq * 7, CONCAT('name-', seq), seq / 3 FROM seq_1_to_1000000";
const POINT_ROWS: i32 = 10_000;
const W4_ROWS: usize = 100_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum C {
    Actix,
    /// actix-mysql with `pipeline_depth` 8 (W3 only: it changes nothing on one connection).
    ActixPipelined,
    MysqlAsync,
    Sqlx,
    Raw,
}

impl C {
    const ALL: [C; 5] = [C::Actix, C::ActixPipelined, C::MysqlAsync, C::Sqlx, C::Raw];
    fn name(self) -> &'static str {
        match self {
            C::Actix => "actix-mysql",
            C::ActixPipelined => "actix-mysql-pipelined",
            C::MysqlAsync => "mysql_async",
            C::Sqlx => "sqlx",
            C::Raw => "raw",
        }
    }
    fn parse(s: &str) -> C {
        *C::ALL.iter().find(|c| c.name() == s).expect("client name")
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum W {
    W1,
    W2,
    W3,
    W4Bin,
    W4Text,
    W5,
}

impl W {
    const ALL: [W; 6] = [W::W1, W::W2, W::W3, W::W4Bin, W::W4Text, W::W5];
    fn name(self) -> &'static str {
        match self {
            W::W1 => "w1",
            W::W2 => "w2",
            W::W3 => "w3",
            W::W4Bin => "w4-bin",
            W::W4Text => "w4-text",
            W::W5 => "w5",
        }
    }
    fn title(self) -> &'static str {
        match self {
            W::W1 => "W1 SELECT 1, text, 1 conn, 20k sequential (queries/s)",
            W::W2 => "W2 point select by PK, prepared, 1 conn, 20k (queries/s)",
            W::W3 => "W3 point select, prepared, 32 tasks over 8 pooled conns, 50k (queries/s)",
            W::W4Bin => "W4 100k-row result into typed tuples, binary protocol (rows/s)",
            W::W4Text => "W4 100k-row result into typed tuples, text protocol (rows/s)",
            W::W5 => "W5 prepared single-row INSERT, autocommit, 10k (inserts/s)",
        }
    }
    fn ops(self) -> u64 {
        let scale = SCALE.load(Ordering::Relaxed) as u64;
        let n = match self {
            W::W1 | W::W2 => 20_000,
            W::W3 => 50_000,
            W::W4Bin | W::W4Text => 3 * W4_ROWS as u64,
            W::W5 => 10_000,
        };
        if matches!(self, W::W4Bin | W::W4Text) {
            n
        } else {
            n / scale
        }
    }
}

#[derive(Clone)]
struct Target {
    host: String,
    port: u16,
    user: String,
    pass: String,
    db: String,
}

impl Target {
    fn actix_opts(&self) -> actix_mysql::Opts {
        actix_mysql::Opts::new()
            .with_host(self.host.clone())
            .with_port(self.port)
            .with_user(self.user.clone())
            .with_password(self.pass.clone())
            .with_db(self.db.clone())
            .with_ssl_mode(actix_mysql::SslMode::Disabled)
    }
    fn my_opts(&self) -> mysql_async::Opts {
        mysql_async::OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(Some(self.pass.clone()))
            .db_name(Some(self.db.clone()))
            .prefer_socket(false)
            .into()
    }
    fn my_pool_opts(&self) -> mysql_async::Opts {
        let pool = mysql_async::PoolOpts::default()
            .with_constraints(mysql_async::PoolConstraints::new(8, 8).expect("constraints"))
            .with_reset_connection(false);
        mysql_async::OptsBuilder::from_opts(self.my_opts())
            .pool_opts(pool)
            .into()
    }
    fn sqlx_opts(&self) -> MySqlConnectOptions {
        MySqlConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .username(&self.user)
            .password(&self.pass)
            .database(&self.db)
            .ssl_mode(MySqlSslMode::Disabled)
    }
    async fn raw(&self) -> Raw {
        Raw::connect(&self.host, self.port, &self.user, &self.pass, &self.db)
            .await
            .expect("raw connect")
    }
}

fn cpu_now() -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn max_rss_kib() -> i64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru.ru_maxrss
}

fn rss_bytes() -> i64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: i64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[derive(Clone, Copy, Debug)]
struct Sample {
    wall: Duration,
    cpu: Duration,
    ops: u64,
}

async fn measure<F: Future<Output = u64>>(f: F) -> Sample {
    let c0 = cpu_now();
    let t0 = Instant::now();
    let ops = f.await;
    Sample {
        wall: t0.elapsed(),
        cpu: cpu_now() - c0,
        ops,
    }
}

/// All connections of all clients, made once and reused by every round.
struct Ctx {
    t: Target,
    actix: actix_mysql::Client,
    actix_point: actix_mysql::Statement,
    actix_rows: actix_mysql::Statement,
    actix_ins: actix_mysql::Statement,
    actix_pool: actix_mysql::Pool,
    actix_pool_point: Rc<actix_mysql::Statement>,
    actix_pipe_pool: actix_mysql::Pool,
    my: Option<mysql_async::Conn>,
    my_point: mysql_async::Statement,
    my_rows: mysql_async::Statement,
    my_ins: mysql_async::Statement,
    my_pool: mysql_async::Pool,
    sx: sqlx::MySqlConnection,
    sx_pool: sqlx::MySqlPool,
    raw: Raw,
    raw_point: Vec<u8>,
    raw_rows: Vec<u8>,
    raw_ins: Vec<u8>,
    raw_pool: Vec<(Raw, Vec<u8>)>,
    seq: i32,
}


async fn setup(t: &Target) {
    let c = actix_mysql::Client::new(t.actix_opts());
    for sql in [
        "DROP TABLE IF EXISTS bench_rows, bench_point, bench_ins",
        "CREATE TABLE bench_rows (id INT PRIMARY KEY, b BIGINT NOT NULL, s VARCHAR(64) NOT NULL, \
         d DOUBLE NOT NULL, dt DATETIME NOT NULL, amount DECIMAL(10,2) NOT NULL)",
        "INSERT INTO bench_rows SELECT seq, seq * 1000003, CONCAT('name-', seq, '-', \
         REPEAT('x', seq % 40)), seq * 1.25, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq \
         SECOND, (seq % 1000000) / 100 FROM seq_1_to_100000",
        "CREATE TABLE bench_point LIKE bench_rows",
        "INSERT INTO bench_point SELECT * FROM bench_rows WHERE id <= 10000",
        "CREATE TABLE bench_ins (id INT AUTO_INCREMENT PRIMARY KEY, a INT NOT NULL, \
         s VARCHAR(64) NOT NULL)",
        "ANALYZE TABLE bench_rows, bench_point",
    ] {
        c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    c.close().await.ok();
}

impl Ctx {
    async fn new(t: Target) -> Ctx {
        let actix = actix_mysql::Client::new(t.actix_opts());
        let actix_point = actix.prepare(POINT_SQL).await.expect("prepare");
        let actix_rows = actix.prepare(ROWS_SQL).await.expect("prepare");
        let actix_ins = actix.prepare(INSERT_SQL).await.expect("prepare");
        let actix_pool = actix_mysql::Pool::new(
            t.actix_opts(),
            actix_mysql::PoolOpts::new()
                .with_max_size(8)
                .with_min_idle(8)
                .with_reset_on_return(false)
                .with_health_check(None),
        );
        let actix_pipe_pool = actix_mysql::Pool::new(
            t.actix_opts().with_pipeline_depth(8),
            actix_mysql::PoolOpts::new()
                .with_max_size(8)
                .with_min_idle(8)
                .with_reset_on_return(false)
                .with_health_check(None),
        );
        let actix_pool_point = Rc::new(
            actix_pool
                .get()
                .await
                .expect("lease")
                .prepare(POINT_SQL)
                .await
                .expect("prepare"),
        );
        let mut my = mysql_async::Conn::new(t.my_opts()).await.expect("mysql_async");
        let my_point = my.prep(POINT_SQL).await.expect("prep");
        let my_rows = my.prep(ROWS_SQL).await.expect("prep");
        let my_ins = my.prep(INSERT_SQL).await.expect("prep");
        let my_pool = mysql_async::Pool::new(t.my_pool_opts());
        let sx = sqlx::MySqlConnection::connect_with(&t.sqlx_opts())
            .await
            .expect("sqlx");
        let sx_pool = MySqlPoolOptions::new()
            .max_connections(8)
            .min_connections(8)
            .test_before_acquire(false)
            .connect_with(t.sqlx_opts())
            .await
            .expect("sqlx pool");
        let mut raw = t.raw().await;
        let (id, n) = raw.prepare(POINT_SQL).await.expect("raw prepare");
        let raw_point = Raw::execute_packet(id, n, None);
        let (id, _) = raw.prepare(ROWS_SQL).await.expect("raw prepare");
        let raw_rows = Raw::execute_packet(id, 0, None);
        let (id, _) = raw.prepare(INSERT_SQL).await.expect("raw prepare");
        let raw_ins = Raw::execute_packet(id, 1, Some("inserted-by-raw"));
        let mut raw_pool = Vec::new();
        for _ in 0..8 {
            let mut r = t.raw().await;
            let (id, n) = r.prepare(POINT_SQL).await.expect("raw prepare");
            raw_pool.push((r, Raw::execute_packet(id, n, None)));
        }
        Ctx {
            t,
            actix,
            actix_point,
            actix_rows,
            actix_ins,
            actix_pool,
            actix_pool_point,
            actix_pipe_pool,
            my: Some(my),
            my_point,
            my_rows,
            my_ins,
            my_pool,
            sx,
            sx_pool,
            raw,
            raw_point,
            raw_rows,
            raw_ins,
            raw_pool,
            seq: 0,
        }
    }

    fn next_id(&mut self) -> i32 {
        self.seq = self.seq % POINT_ROWS + 1;
        self.seq
    }

    async fn run(&mut self, w: W, c: C) -> u64 {
        match w {
            W::W1 => self.w1(c).await,
            W::W2 => self.w2(c).await,
            W::W3 => self.w3(c).await,
            W::W4Bin => self.w4(c, true).await,
            W::W4Text => self.w4(c, false).await,
            W::W5 => self.w5(c).await,
        }
    }

    async fn w1(&mut self, c: C) -> u64 {
        let n = W::W1.ops();
        let mut sum = 0i64;
        match c {
            C::Actix | C::ActixPipelined => {
                for _ in 0..n {
                    let row = self.actix.query_first("SELECT 1").await.unwrap().unwrap();
                    sum += row.get::<i64>(0);
                }
            }
            C::MysqlAsync => {
                let my = self.my.as_mut().unwrap();
                for _ in 0..n {
                    sum += my.query_first::<i64, _>("SELECT 1").await.unwrap().unwrap();
                }
            }
            C::Sqlx => {
                for _ in 0..n {
                    let row = self.sx.fetch_one("SELECT 1").await.unwrap();
                    sum += sqlx::Row::get::<i64, _>(&row, 0);
                }
            }
            C::Raw => {
                let pkt = Raw::query_packet("SELECT 1");
                for _ in 0..n {
                    sum += self.raw.run(&pkt).await.unwrap() as i64;
                }
            }
        }
        std::hint::black_box(sum);
        n
    }

    async fn w2(&mut self, c: C) -> u64 {
        let n = W::W2.ops();
        let mut sum = 0i64;
        for _ in 0..n {
            let id = self.next_id();
            match c {
                C::Actix | C::ActixPipelined => {
                    let r: Vec<Tup> = self.actix.exec_as(&self.actix_point, (id,)).await.unwrap();
                    sum += r[0].1;
                }
                C::MysqlAsync => {
                    let my = self.my.as_mut().unwrap();
                    let r: Tup = my.exec_first(&self.my_point, (id,)).await.unwrap().unwrap();
                    sum += r.1;
                }
                C::Sqlx => {
                    let r: Tup = sqlx::query_as(POINT_SQL)
                        .bind(id)
                        .fetch_one(&mut self.sx)
                        .await
                        .unwrap();
                    sum += r.1;
                }
                C::Raw => {
                    let off = Raw::int_offset(1);
                    self.raw_point[off..off + 4].copy_from_slice(&id.to_le_bytes());
                    sum += self.raw.run(&self.raw_point).await.unwrap() as i64;
                }
            }
        }
        std::hint::black_box(sum);
        n
    }

    async fn w3(&mut self, c: C) -> u64 {
        let n = W::W3.ops() as i32;
        let tasks = if c == C::Raw { 8 } else { 32 };
        let per = n / tasks;
        let mut handles = Vec::new();
        match c {
            C::Actix | C::ActixPipelined => {
                for t in 0..tasks {
                    let pool = if c == C::Actix {
                        self.actix_pool.clone()
                    } else {
                        self.actix_pipe_pool.clone()
                    };
                    let stmt = self.actix_pool_point.clone();
                    handles.push(tokio::task::spawn_local(async move {
                        let mut sum = 0i64;
                        for i in 0..per {
                            let id = (t * per + i) % POINT_ROWS + 1;
                            let r: Vec<Tup> = pool.exec_as(&stmt, (id,)).await.unwrap();
                            sum += r[0].1;
                        }
                        sum
                    }));
                }
            }
            C::MysqlAsync => {
                for t in 0..tasks {
                    let pool = self.my_pool.clone();
                    handles.push(tokio::task::spawn_local(async move {
                        let mut sum = 0i64;
                        for i in 0..per {
                            let id = (t * per + i) % POINT_ROWS + 1;
                            let mut conn = pool.get_conn().await.unwrap();
                            let r: Tup = conn.exec_first(POINT_SQL, (id,)).await.unwrap().unwrap();
                            sum += r.1;
                        }
                        sum
                    }));
                }
            }
            C::Sqlx => {
                for t in 0..tasks {
                    let pool = self.sx_pool.clone();
                    handles.push(tokio::task::spawn_local(async move {
                        let mut sum = 0i64;
                        for i in 0..per {
                            let id = (t * per + i) % POINT_ROWS + 1;
                            let r: Tup = sqlx::query_as(POINT_SQL)
                                .bind(id)
                                .fetch_one(&pool)
                                .await
                                .unwrap();
                            sum += r.1;
                        }
                        sum
                    }));
                }
            }
            C::Raw => {
                let mut joins = Vec::new();
                for (t, (mut r, mut pkt)) in std::mem::take(&mut self.raw_pool).into_iter().enumerate() {
                    let t = t as i32;
                    joins.push(tokio::task::spawn_local(async move {
                        let off = Raw::int_offset(1);
                        for i in 0..per {
                            let id = (t * per + i) % POINT_ROWS + 1;
                            pkt[off..off + 4].copy_from_slice(&id.to_le_bytes());
                            r.run(&pkt).await.unwrap();
                        }
                        (r, pkt)
                    }));
                }
                for j in joins {
                    self.raw_pool.push(j.await.unwrap());
                }
                return (per * tasks) as u64;
            }
        }
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        std::hint::black_box(sum);
        (per * tasks) as u64
    }

    async fn w4(&mut self, c: C, binary: bool) -> u64 {
        let mut rows = 0usize;
        let sql = ROWS_SQL;
        for _ in 0..3 {
            let n = match (c, binary) {
                (C::Actix | C::ActixPipelined, true) => {
                    let v: Vec<Tup> = self.actix.exec_as(&self.actix_rows, ()).await.unwrap();
                    v.len()
                }
                (C::Actix | C::ActixPipelined, false) => {
                    let v: Vec<Tup> = self.actix.query_as(sql).await.unwrap();
                    v.len()
                }
                (C::MysqlAsync, true) => {
                    let my = self.my.as_mut().unwrap();
                    let v: Vec<Tup> = my.exec(&self.my_rows, ()).await.unwrap();
                    v.len()
                }
                (C::MysqlAsync, false) => {
                    let my = self.my.as_mut().unwrap();
                    let v: Vec<Tup> = my.query(sql).await.unwrap();
                    v.len()
                }
                (C::Sqlx, true) => {
                    let v: Vec<Tup> = sqlx::query_as(sql).fetch_all(&mut self.sx).await.unwrap();
                    v.len()
                }
                (C::Sqlx, false) => {
                    let rows: Vec<MySqlRow> = self.sx.fetch_all(sql).await.unwrap();
                    let v: Vec<Tup> = rows
                        .iter()
                        .map(|r| <Tup as sqlx::FromRow<MySqlRow>>::from_row(r).unwrap())
                        .collect();
                    v.len()
                }
                (C::Raw, true) => {
                    let p = self.raw.run(&self.raw_rows).await.unwrap();
                    p - 8 - if self.raw.deprecate_eof() { 0 } else { 1 }
                }
                (C::Raw, false) => {
                    let pkt = Raw::query_packet(sql);
                    let p = self.raw.run(&pkt).await.unwrap();
                    p - 8 - if self.raw.deprecate_eof() { 0 } else { 1 }
                }
            };
            assert_eq!(n, W4_ROWS, "{} w4 binary={binary}", c.name());
            rows += n;
        }
        rows as u64
    }

    async fn w5(&mut self, c: C) -> u64 {
        let n = W::W5.ops() as i32;
        let mut sum = 0u64;
        for i in 0..n {
            match c {
                C::Actix | C::ActixPipelined => {
                    let r = self
                        .actix
                        .exec_drop(&self.actix_ins, (i, "inserted-by-actix"))
                        .await
                        .unwrap();
                    sum += r.affected_rows;
                }
                C::MysqlAsync => {
                    let my = self.my.as_mut().unwrap();
                    my.exec_drop(&self.my_ins, (i, "inserted-by-mysql_async"))
                        .await
                        .unwrap();
                    sum += my.affected_rows();
                }
                C::Sqlx => {
                    let r = sqlx::query(INSERT_SQL)
                        .bind(i)
                        .bind("inserted-by-sqlx")
                        .execute(&mut self.sx)
                        .await
                        .unwrap();
                    sum += r.rows_affected();
                }
                C::Raw => {
                    let off = Raw::int_offset(2);
                    self.raw_ins[off..off + 4].copy_from_slice(&i.to_le_bytes());
                    sum += self.raw.run(&self.raw_ins).await.unwrap() as u64;
                }
            }
        }
        std::hint::black_box(sum);
        n as u64
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Pins every thread of this process to `cpus` (e.g. "0" or "0-1").
fn pin_self(cpus: &str) {
    for entry in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let tid = entry.file_name().to_string_lossy().into_owned();
        taskset(&tid, cpus);
    }
}

fn taskset(pid: &str, cpus: &str) {
    let st = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, pid])
        .stdout(std::process::Stdio::null())
        .status();
    if !matches!(st, Ok(s) if s.success()) {
        eprintln!("taskset -a -p -c {cpus} {pid} failed");
    }
}

struct Table {
    w: W,
    rows: Vec<(C, f64, f64, f64, f64)>, // client, ops/s, cpu us/op, min ops/s, max ops/s
}

/// Runs one workload of one client in a task spawned on the arbiter, where application code
/// runs in an actix system (request handlers, actor handlers), the same for every client.
async fn timed(ctx: &mut Option<Ctx>, w: W, c: C) -> Sample {
    let mut owned = ctx.take().expect("context");
    let (owned, s) = tokio::task::spawn_local(async move {
        let s = measure(owned.run(w, c)).await;
        (owned, s)
    })
    .await
    .expect("workload task");
    *ctx = Some(owned);
    s
}

async fn run_table(ctx: &mut Option<Ctx>, ws: &[W], rounds: usize, clients: &[C]) -> Vec<Table> {
    let mut out = Vec::new();
    for &w in ws {
        let all = clients;
        let clients: Vec<C> = all
            .iter()
            .copied()
            .filter(|&c| c != C::ActixPipelined || w == W::W3)
            .collect();
        let clients = &clients[..];
        // Warm-up: one untimed run of each client (statement caches, pools, buffers).
        for &c in clients {
            timed(ctx, w, c).await;
        }
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); clients.len()];
        for _ in 0..rounds {
            for (i, &c) in clients.iter().enumerate() {
                samples[i].push(timed(ctx, w, c).await);
            }
        }
        let rows = clients
            .iter()
            .copied()
            .zip(samples)
            .map(|(c, s)| {
                let rates: Vec<f64> = s.iter().map(|s| s.ops as f64 / s.wall.as_secs_f64()).collect();
                let cpu: Vec<f64> = s
                    .iter()
                    .map(|s| s.cpu.as_secs_f64() * 1e6 / s.ops as f64)
                    .collect();
                let min = rates.iter().cloned().fold(f64::MAX, f64::min);
                let max = rates.iter().cloned().fold(0.0, f64::max);
                (c, median(rates), median(cpu), min, max)
            })
            .collect();
        let t = Table { w, rows };
        print_table(&t);
        out.push(t);
    }
    out
}

fn print_table(t: &Table) {
    let nan = (C::Raw, f64::NAN, f64::NAN, 0.0, 0.0);
    let get = |c: C| *t.rows.iter().find(|r| r.0 == c).unwrap_or(&nan);
    let actix = get(C::Actix);
    let raw = get(C::Raw);
    let my = get(C::MysqlAsync);
    println!("\n{}", t.w.title());
    println!("| client | median/s | range/s | vs actix-mysql | vs raw | CPU µs/op | CPU vs mysql_async |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &t.rows {
        println!(
            "| {} | {:.0} | {:.0}-{:.0} | {:.2}x | {:.2}x | {:.2} | {:.2}x |",
            r.0.name(),
            r.1,
            r.3,
            r.4,
            r.1 / actix.1,
            r.1 / raw.1,
            r.2,
            r.2 / my.2
        );
    }
}

static PEAK: AtomicIsize = AtomicIsize::new(0);

/// Records the resident-set growth over `base` every 4096 rows.
fn sample_rss(n: u64, base: i64) {
    if n % 4096 == 0 {
        PEAK.fetch_max((rss_bytes() - base) as isize, Ordering::Relaxed);
    }
}

/// `m1 CLIENT` / `m2 CLIENT`: memory figures, in a fresh process each.
fn memory_child(what: &str, client: C, t: Target) {
    actix_rt::System::new().block_on(async move {
        match what {
            "m1" => {
                let mut actix = None;
                let mut my = None;
                let mut sx = None;
                let mut raw = None;
                match client {
                    C::Actix | C::ActixPipelined => {
                        let c = actix_mysql::Client::new(t.actix_opts());
                        c.ping().await.unwrap();
                        actix = Some(c);
                    }
                    C::MysqlAsync => my = Some(mysql_async::Conn::new(t.my_opts()).await.unwrap()),
                    C::Sqlx => {
                        sx = Some(
                            sqlx::MySqlConnection::connect_with(&t.sqlx_opts())
                                .await
                                .unwrap(),
                        )
                    }
                    C::Raw => raw = Some(t.raw().await),
                }
                let before = max_rss_kib();
                let base = rss_bytes();
                let t0 = Instant::now();
                let mut n = 0u64;
                let mut sum = 0i64;
                match client {
                    C::Actix | C::ActixPipelined => {
                        let mut s = actix.as_ref().unwrap().query_stream(STREAM_SQL).await.unwrap();
                        while let Some(row) = s.next().await {
                            sum += row.unwrap().get::<i64>(0);
                            n += 1;
                            sample_rss(n, base);
                        }
                    }
                    C::MysqlAsync => {
                        let mut r = my.as_mut().unwrap().query_iter(STREAM_SQL).await.unwrap();
                        let mut s = r.stream::<mysql_async::Row>().await.unwrap().unwrap();
                        while let Some(row) = s.next().await {
                            sum += row.unwrap().get::<i64, _>(0).unwrap();
                            n += 1;
                            sample_rss(n, base);
                        }
                    }
                    C::Sqlx => {
                        let mut s = sx.as_mut().unwrap().fetch(STREAM_SQL);
                        while let Some(row) = s.next().await {
                            sum += sqlx::Row::get::<i64, _>(&row.unwrap(), 0);
                            n += 1;
                            sample_rss(n, base);
                        }
                    }
                    C::Raw => {
                        let pkt = Raw::query_packet(STREAM_SQL);
                        n = raw.as_mut().unwrap().run(&pkt).await.unwrap() as u64 - 6;
                    }
                }
                std::hint::black_box(sum);
                let after = max_rss_kib().max(before + PEAK.load(Ordering::Relaxed) as i64 / 1024);
                println!(
                    "M1 {} rows={} secs={:.2} peak_rss_growth_kib={} (sampled {} KiB)",
                    client.name(),
                    n,
                    t0.elapsed().as_secs_f64(),
                    after - before,
                    PEAK.load(Ordering::Relaxed) / 1024
                );
            }
            _ => {
                const N: usize = 64;
                let rss0 = rss_bytes();
                COUNT.store(true, Ordering::SeqCst);
                let heap0 = HEAP.load(Ordering::SeqCst);
                let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
                for _ in 0..N {
                    match client {
                        C::Actix | C::ActixPipelined => {
                            let c = actix_mysql::Client::new(t.actix_opts());
                            c.ping().await.unwrap();
                            keep.push(Box::new(c));
                        }
                        C::MysqlAsync => {
                            keep.push(Box::new(mysql_async::Conn::new(t.my_opts()).await.unwrap()))
                        }
                        C::Sqlx => keep.push(Box::new(
                            sqlx::MySqlConnection::connect_with(&t.sqlx_opts())
                                .await
                                .unwrap(),
                        )),
                        C::Raw => keep.push(Box::new(t.raw().await)),
                    }
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                let heap = HEAP.load(Ordering::SeqCst) - heap0;
                let rss = rss_bytes() - rss0;
                println!(
                    "M2 {} heap_per_conn_bytes={} rss_per_conn_bytes={}",
                    client.name(),
                    heap / N as isize,
                    rss / N as i64
                );
                drop(keep);
            }
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 4 && (args[1] == "m1" || args[1] == "m2") {
        // m1|m2 CLIENT PORT (the parent's server, user and database of the harness)
        let t = Target {
            host: "127.0.0.1".into(),
            port: args[3].parse().unwrap(),
            user: std::env::var("BENCH_USER").unwrap(),
            pass: std::env::var("BENCH_PASSWORD").unwrap(),
            db: server::TEST_DB.into(),
        };
        memory_child(&args[1], C::parse(&args[2]), t);
        return;
    }
    let mut rounds = 3;
    let mut only: Option<Vec<String>> = None;
    let mut modes = vec!["unpinned", "pinned"];
    let mut clients = C::ALL.to_vec();
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--rounds" => {
                rounds = args[i + 1].parse().unwrap();
                i += 1;
            }
            "--only" => {
                only = Some(args[i + 1].split(',').map(String::from).collect());
                i += 1;
            }
            "--clients" => {
                clients = args[i + 1].split(',').map(C::parse).collect();
                i += 1;
            }
            "--scale" => {
                SCALE.store(args[i + 1].parse().unwrap(), Ordering::Relaxed);
                i += 1;
            }
            "--pinned-only" => modes = vec!["pinned"],
            "--unpinned-only" => modes = vec!["unpinned"],
            other => panic!("unknown argument {other}"),
        }
        i += 1;
    }
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
    let ws: Vec<W> = W::ALL.into_iter().filter(|w| wanted(w.name())).collect();

    let srv = server::start_throwaway();
    println!(
        "server: {} {} (pid {:?}) at {}:{}",
        srv.name, srv.version, srv.pid, srv.host, srv.port
    );
    let t = Target {
        host: srv.host.clone(),
        port: srv.port,
        user: srv.user.clone(),
        pass: srv.password.clone(),
        db: server::TEST_DB.into(),
    };
    let server_pid = srv.pid.map(|p| p.to_string());
    let ncpu = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let all_cpus = format!("0-{}", ncpu - 1);

    actix_rt::System::new().block_on({
        let t = t.clone();
        let clients = clients.clone();
        async move {
            setup(&t).await;
            let mut ctx = Some(Ctx::new(t).await);
            for mode in &modes {
                let pinned = *mode == "pinned";
                let cpus = if pinned { "0" } else { all_cpus.as_str() };
                pin_self(cpus);
                if let Some(pid) = &server_pid {
                    taskset(pid, cpus);
                }
                println!("\n## {mode} (client and server on CPUs {cpus}), {rounds} rounds, medians");
                if !ws.is_empty() {
                    run_table(&mut ctx, &ws, rounds, &clients).await;
                }
            }
            pin_self(&all_cpus);
            if let Some(pid) = &server_pid {
                taskset(pid, &all_cpus);
            }
            let mut ctx = ctx.expect("context");
            drop(ctx.my.take().map(|c| c.disconnect()));
            let _ = &ctx.t;
        }
    });

    if wanted("m1") || wanted("m2") {
        let exe = std::env::current_exe().unwrap();
        println!("\n## memory (fresh process per client, unpinned)");
        for what in ["m1", "m2"] {
            if !wanted(what) {
                continue;
            }
            for &c in clients.iter().filter(|&&c| c != C::ActixPipelined) {
                let out = std::process::Command::new(&exe)
                    .args([what, c.name(), &t.port.to_string()])
                    .env("BENCH_USER", &t.user)
                    .env("BENCH_PASSWORD", &t.pass)
                    .output()
                    .unwrap();
                print!("{}", String::from_utf8_lossy(&out.stdout));
                if !out.status.success() {
                    eprint!("{}", String::from_utf8_lossy(&out.stderr));
                }
            }
        }
    }
}
