//! Deterministic simulation of the connection engine.
//!
//! Each schedule is made from a seed: options, a workload (single commands submitted at random
//! virtual times, transactions run step by step), and faults (cut connections, delayed or
//! missing replies, temporary and permanent server errors, failed connects and kills, server
//! restarts, callers that give up). The runner drives the [`Engine`] the way the connection
//! actor does, against the model server of [`model`], on a virtual clock; the [`oracle`] then
//! checks what every caller was told against what the server ran.
//!
//! `SIM_SEED=n` replays one schedule with a trace; `SIM_SCHEDULES` (default 20,000) and
//! `SIM_FIRST_SEED` choose the seeds run otherwise.
mod model;
mod oracle;

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::command::{CmdOpts, Command};
use super::engine::{Action, ConnInfo, Engine, Input};
use super::escaping::Escaping;
use super::reply::{Caller, Reply};
use crate::error::{Error, ErrorKind, Result};
use crate::opts::{Opts, ReconnectPolicy};
use crate::protocol::constants::status::SERVER_STATUS_AUTOCOMMIT;
use crate::protocol::response::ErrPacket;
use crate::protocol::value::Value;
use crate::row::{QueryResult, Row};
use model::{Faults, Model};

/// Engine calls one schedule may take before it counts as a livelock.
const MAX_STEPS: u64 = 200_000;
/// Virtual time one schedule may take to come to rest.
const HORIZON: Duration = Duration::from_secs(600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------------- callers

/// What a command is, in the simulation's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Select(u32),
    Insert(u32),
    Scan(u32),
    Sleep(u32),
    Set,
    Ping,
    InitDb,
    Prepare(u32),
    ExecSelect(u32),
    ExecScan(u32),
    ExecInsert(u32),
    Reset,
    Claim,
    Release,
    Begin,
    Commit,
    Rollback,
    /// The `close` of the engine.
    Close,
}

impl Op {
    /// The SQL of a prepared statement.
    fn exec_sql(&self) -> Option<String> {
        match self {
            Op::Prepare(k) | Op::ExecSelect(k) => Some(format!("SELECT k{k} ?")),
            Op::ExecScan(n) => Some(format!("SCAN {n} ?")),
            Op::ExecInsert(k) => Some(format!("INSERT k{k} ?")),
            _ => None,
        }
    }
}

/// What a caller was told.
#[derive(Debug, Clone)]
pub(super) enum Outcome {
    /// Success; the first result set's values, when the reply had one.
    Ok(Option<Vec<i64>>),
    Prepared,
    Err {
        kind: ErrorKind,
        may_have_executed: bool,
        code: Option<u16>,
        text: String,
    },
}

impl Outcome {
    fn of(result: Result<Reply>) -> Self {
        match result {
            Ok(Reply::Prepared(_)) => Outcome::Prepared,
            Ok(Reply::Ok(_)) => Outcome::Ok(None),
            Ok(Reply::Results(results)) => Outcome::Ok(results.into_iter().find_map(|r| match r {
                QueryResult::Rows { rows, .. } => Some(rows.iter().map(value_of).collect()),
                _ => None,
            })),
            Err(e) => Outcome::Err {
                kind: e.kind(),
                may_have_executed: e.may_have_executed(),
                code: e.code(),
                text: e.to_string(),
            },
        }
    }

    pub(super) fn is_ok(&self) -> bool {
        !matches!(self, Outcome::Err { .. })
    }
}

fn value_of(row: &Row) -> i64 {
    match row.values().first() {
        Some(Value::Int(v)) => *v,
        Some(Value::UInt(v)) => *v as i64,
        Some(Value::Bytes(b)) => String::from_utf8_lossy(b).parse().unwrap_or(i64::MIN),
        _ => i64::MIN,
    }
}

/// One command of a schedule and everything its caller saw.
#[derive(Debug, Clone)]
pub(super) struct CmdRecord {
    pub(super) op: Op,
    /// Retry-safe as the engine takes it (never inside a transaction).
    pub(super) retry_safe: bool,
    pub(super) txn: Option<u64>,
    pub(super) stream: bool,
    /// Its run-time bound (its own, or the options' query timeout).
    pub(super) timeout: Option<Duration>,
    pub(super) probe: bool,
    pub(super) submitted: Option<Duration>,
    pub(super) dropped: bool,
    pub(super) answers: Vec<(Duration, Outcome)>,
    /// Rows a stream handed to its consumer.
    pub(super) rows: Vec<i64>,
    ready: bool,
    /// The engine handed a row to a stream that had no room for it.
    pub(super) row_without_room: bool,
}

/// What the callers of one schedule saw.
#[derive(Debug)]
pub(super) struct Log {
    now: Duration,
    pub(super) cmds: Vec<CmdRecord>,
    rng: StdRng,
}

/// A caller that records its answer.
#[derive(Debug)]
pub(super) struct SimCaller {
    id: usize,
    log: Option<Rc<RefCell<Log>>>,
    stream: bool,
}

impl SimCaller {
    fn with<T>(&self, f: impl FnOnce(&mut Log, usize) -> T) -> Option<T> {
        self.log.as_ref().map(|l| f(&mut l.borrow_mut(), self.id))
    }
}

impl Caller for SimCaller {
    fn detached() -> Self {
        SimCaller {
            id: usize::MAX,
            log: None,
            stream: false,
        }
    }

    fn answer(self, result: Result<Reply>) {
        let outcome = Outcome::of(result);
        self.with(|l, id| {
            let now = l.now;
            l.cmds[id].answers.push((now, outcome));
        });
    }

    fn is_closed(&self) -> bool {
        self.with(|l, id| l.cmds[id].dropped).unwrap_or(false)
    }

    fn is_stream(&self) -> bool {
        self.stream
    }

    fn is_ready(&mut self) -> bool {
        self.with(|l, id| l.cmds[id].dropped || l.cmds[id].ready)
            .unwrap_or(true)
    }

    fn row(&mut self, row: Row, _first: bool) -> Option<Row> {
        if !self.stream {
            return Some(row);
        }
        self.with(|l, id| {
            let room = l.rng.gen_bool(0.6);
            let c = &mut l.cmds[id];
            if c.dropped {
                return;
            }
            if !c.ready {
                c.row_without_room = true;
            }
            c.rows.push(value_of(&row));
            c.ready = room;
        });
        None
    }

    fn reset(&mut self) -> bool {
        if !self.stream {
            return true;
        }
        self.with(|l, id| l.cmds[id].rows.is_empty())
            .unwrap_or(true)
    }
}

// ---------------------------------------------------------------------------------- schedule

/// How the driver's side (connects, kills, callers) misbehaves.
#[derive(Debug, Clone, Default)]
struct Plan {
    connect_hang: f64,
    connect_fail: f64,
    connect_temporary: f64,
    connect_permanent: f64,
    kill_slow: f64,
    kill_fail: f64,
    kill_noop: f64,
    drop_caller: f64,
    io_error: f64,
    /// Connects complete at once.
    instant_connect: bool,
}

#[derive(Debug)]
enum ConnectOutcome {
    Success,
    Fail(Error),
}

#[derive(Debug)]
enum KillOutcome {
    Done { noop: bool },
    Fail(Error),
}

#[derive(Debug)]
enum Ev {
    Submit(usize),
    Script(usize),
    Abandon(usize),
    Drop(usize),
    ConnectDone {
        gen: u64,
        outcome: ConnectOutcome,
    },
    KillDone {
        gen: u64,
        conn: u32,
        outcome: KillOutcome,
    },
    StreamReady(usize),
    Restart(Duration),
}

/// A transaction run step by step: each step is submitted once the previous one is answered.
#[derive(Debug)]
pub(super) struct Script {
    /// The transaction handle's id; `None` for raw SQL (`BEGIN` ... `COMMIT`).
    pub(super) txn: Option<u64>,
    steps: VecDeque<Op>,
    waiting: Option<usize>,
    scheduled: bool,
    done: bool,
    pub(super) cmds: Vec<usize>,
}

/// The bounds a schedule's answers must meet.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounds {
    pub(super) queue_timeout: Duration,
    pub(super) kill_bound: Duration,
    /// How long the server may take to answer what was written, all delays included.
    pub(super) server: Duration,
}

/// One schedule being run.
struct Sim {
    seed: u64,
    base: Instant,
    now: Duration,
    opts: Arc<Opts>,
    engine: Engine<SimCaller>,
    model: Model,
    log: Rc<RefCell<Log>>,
    rng: StdRng,
    plan: Plan,
    heap: BinaryHeap<Reverse<(Duration, u64)>>,
    evs: Vec<Option<Ev>>,
    /// The model connection the engine has open.
    io: Option<u32>,
    close_seen: bool,
    cut: bool,
    /// Bumped when the driver restarts: what it was doing is dropped.
    gen: u64,
    scripts: Vec<Script>,
    ready_pending: HashSet<usize>,
    specs: Vec<Option<(Command, CmdOpts)>>,
    steps: u64,
    pub(super) anomalies: Vec<String>,
    /// Connections that failed with an I/O error while no reply was awaited.
    trace: Option<Vec<String>>,
    raw: bool,
    bounds: Bounds,
}

/// A schedule's outcome.
pub(super) struct Report {
    pub(super) violations: Vec<String>,
    pub(super) description: String,
    pub(super) trace: Vec<String>,
    stats: super::engine::ConnectionStats,
}

impl Sim {
    fn new(seed: u64, tracing: bool) -> Self {
        let mut g = StdRng::seed_from_u64(seed);
        let depth = if g.gen_bool(0.4) {
            1
        } else {
            g.gen_range(2..=8)
        };
        let query_timeout = g.gen_bool(0.5).then(|| ms(g.gen_range(5..=150)));
        let queue_timeout = ms(g.gen_range(30..=1500));
        let connect_timeout = ms(g.gen_range(10..=200));
        let policy = ReconnectPolicy {
            initial_backoff: ms(g.gen_range(1..=20)),
            max_backoff: ms(g.gen_range(5..=80)),
            max_attempts: g.gen_range(1..=6),
        };
        let max_queue = if g.gen_bool(0.15) {
            g.gen_range(1..=6)
        } else {
            10_000
        };
        let idle = g.gen_bool(0.3).then(|| ms(g.gen_range(5..=300)));
        let cache = [0, 1, 2, 256][g.gen_range(0..4)];
        let opts = Opts::new()
            .with_pipeline_depth(depth)
            .with_query_timeout(query_timeout)
            .with_queue_timeout(queue_timeout)
            .with_connect_timeout(connect_timeout)
            .with_reconnect_policy(policy)
            .with_max_queue(max_queue)
            .with_idle_timeout(idle)
            .with_stmt_cache_size(cache);
        let calm = g.gen_bool(0.2);
        let mut p = |max: f64| if calm { 0.0 } else { g.gen_range(0.0..max) };
        let faults = Faults {
            temporary: p(0.12),
            permanent: p(0.08),
            delay: p(0.5),
            max_delay: Duration::ZERO,
            stall: p(0.05),
            stall_ran: 0.5,
            stall_cut: Duration::ZERO,
            cut: p(0.35),
            max_cut_bytes: 400,
        };
        let plan = Plan {
            connect_hang: p(0.05),
            connect_fail: p(0.3),
            connect_temporary: p(0.1),
            connect_permanent: p(0.02),
            kill_slow: p(0.1),
            kill_fail: p(0.15),
            kill_noop: p(0.2),
            drop_caller: p(0.2),
            io_error: 0.5,
            instant_connect: false,
        };
        let faults = Faults {
            max_delay: ms(g.gen_range(0..=40)),
            stall_cut: ms(g.gen_range(20..=400)),
            ..faults
        };
        let model = Model::new(StdRng::seed_from_u64(g.gen()), faults);
        let log = Rc::new(RefCell::new(Log {
            now: Duration::ZERO,
            cmds: Vec::new(),
            rng: StdRng::seed_from_u64(g.gen()),
        }));
        let opts = Arc::new(opts);
        let raw = g.gen_bool(0.12);
        let max_sleep = ms(120);
        let server = (model.max_latency() + max_sleep) * (depth as u32 + 1)
            + model.faults.stall_cut
            + ms(100);
        let bounds = Bounds {
            queue_timeout,
            kill_bound: connect_timeout,
            server,
        };
        let mut sim = Sim {
            seed,
            base: Instant::now(),
            now: Duration::ZERO,
            engine: Engine::new(opts.clone()),
            opts,
            model,
            log,
            rng: StdRng::seed_from_u64(g.gen()),
            plan,
            heap: BinaryHeap::new(),
            evs: Vec::new(),
            io: None,
            close_seen: false,
            cut: false,
            gen: 0,
            scripts: Vec::new(),
            ready_pending: HashSet::new(),
            specs: Vec::new(),
            steps: 0,
            anomalies: Vec::new(),
            trace: tracing.then(Vec::new),
            raw,
            bounds,
        };
        sim.workload(&mut g, calm);
        sim
    }

    /// The commands, transactions and restarts of the schedule.
    fn workload(&mut self, g: &mut StdRng, calm: bool) {
        let mut keys = 0u32;
        if self.raw {
            let steps = self.txn_steps(g, &mut keys);
            self.add_script(g, None, steps);
        } else {
            // Bursts of commands pipeline; spread ones wait for each other less often.
            let spread = if g.gen_bool(0.5) { 20 } else { 300 };
            for _ in 0..g.gen_range(1..=7) {
                let (op, retry_safe, stream) = self.standalone(g, &mut keys);
                let timeout = g.gen_bool(0.1).then(|| ms(g.gen_range(5..=100)));
                let o = CmdOpts {
                    retry_safe,
                    timeout,
                    ..CmdOpts::default()
                };
                let id = self.new_cmd(op, o, stream);
                let at = ms(g.gen_range(0..=spread));
                self.schedule(at, Ev::Submit(id));
                if g.gen_bool(self.plan.drop_caller) {
                    let when = at + ms(g.gen_range(0..=200));
                    self.schedule(when, Ev::Drop(id));
                }
            }
            for t in 1..=2u64 {
                if g.gen_bool(0.4) {
                    let mut steps = self.txn_steps(g, &mut keys);
                    steps.push_front(Op::Claim);
                    self.add_script(g, Some(t), steps);
                }
            }
        }
        if !calm {
            for _ in 0..g.gen_range(0..=2) {
                let at = ms(g.gen_range(0..=400));
                let down = ms(g.gen_range(0..=100));
                self.schedule(at, Ev::Restart(down));
            }
        }
    }

    fn standalone(&self, g: &mut StdRng, keys: &mut u32) -> (Op, bool, bool) {
        let coin = |g: &mut StdRng| g.gen_bool(0.5);
        let fresh = |g: &mut StdRng, keys: &mut u32| {
            if *keys > 0 && g.gen_bool(0.1) {
                g.gen_range(0..*keys)
            } else {
                *keys += 1;
                *keys - 1
            }
        };
        let any = |g: &mut StdRng, keys: u32| g.gen_range(0..=keys);
        let reset_ok = !self.raw;
        match g.gen_range(0..100) {
            0..=19 => (Op::Select(any(g, *keys)), coin(g), false),
            20..=39 => (Op::Insert(fresh(g, keys)), false, false),
            40..=51 => (Op::Scan(g.gen_range(0..=20)), coin(g), g.gen_bool(0.6)),
            52..=61 => (Op::Sleep(g.gen_range(0..=120)), coin(g), false),
            62..=71 => (Op::ExecSelect(any(g, *keys)), coin(g), false),
            72..=76 => (Op::ExecScan(g.gen_range(0..=20)), coin(g), false),
            77..=81 => (Op::ExecInsert(fresh(g, keys)), false, false),
            82..=86 => (Op::Prepare(any(g, *keys)), true, false),
            87..=90 => (Op::Ping, true, false),
            91..=93 => (Op::InitDb, true, false),
            94..=96 => (Op::Set, false, false),
            _ if reset_ok => (Op::Reset, false, false),
            _ => (Op::Ping, true, false),
        }
    }

    /// `BEGIN`, one to three statements, then `COMMIT` or `ROLLBACK`.
    fn txn_steps(&self, g: &mut StdRng, keys: &mut u32) -> VecDeque<Op> {
        let mut steps = VecDeque::from([Op::Begin]);
        for _ in 0..g.gen_range(1..=3) {
            let op = match g.gen_range(0..4) {
                0 | 1 => {
                    *keys += 1;
                    Op::Insert(*keys - 1)
                }
                2 => Op::Select(g.gen_range(0..=*keys)),
                _ => Op::ExecSelect(g.gen_range(0..=*keys)),
            };
            steps.push_back(op);
        }
        steps.push_back(if g.gen_bool(0.75) {
            Op::Commit
        } else {
            Op::Rollback
        });
        steps
    }

    fn add_script(&mut self, g: &mut StdRng, txn: Option<u64>, steps: VecDeque<Op>) {
        let s = self.scripts.len();
        self.scripts.push(Script {
            txn,
            steps,
            waiting: None,
            scheduled: false,
            done: false,
            cmds: Vec::new(),
        });
        let at = ms(g.gen_range(0..=300));
        self.schedule(at, Ev::Script(s));
        if g.gen_bool(0.1) {
            let when = at + ms(g.gen_range(0..=300));
            self.schedule(when, Ev::Abandon(s));
        }
    }

    /// Records a command and builds what the engine is given.
    fn new_cmd(&mut self, op: Op, o: CmdOpts, stream: bool) -> usize {
        let mut log = self.log.borrow_mut();
        let id = log.cmds.len();
        let tag = id as i64;
        let q = |s: String| Command::Query(format!("{s} /*{id}*/"));
        let t = o.txn.unwrap_or(0);
        let cmd = match op {
            Op::Select(k) => q(format!("SELECT k{k}")),
            Op::Insert(k) => q(format!("INSERT k{k}")),
            Op::Scan(n) => q(format!("SCAN {n}")),
            Op::Sleep(n) => q(format!("SLEEP {n}")),
            Op::Set => q(format!("SET x = {id}")),
            Op::Ping | Op::Close => Command::Ping,
            Op::InitDb => Command::InitDb("sim".into()),
            Op::Prepare(_) => Command::Prepare(op.exec_sql().unwrap_or_default()),
            Op::ExecSelect(_) | Op::ExecScan(_) | Op::ExecInsert(_) => Command::Exec(
                op.exec_sql().unwrap_or_default().into(),
                vec![Value::Int(tag)],
            ),
            Op::Reset => Command::ResetConnection,
            Op::Claim => Command::Claim(t),
            Op::Release => Command::Release(t),
            Op::Begin if o.txn.is_some() => q("START TRANSACTION".into()),
            Op::Begin => q("BEGIN".into()),
            Op::Commit => q("COMMIT".into()),
            // Untagged: a tag would hide it from the engine's recognition of a plain ROLLBACK.
            Op::Rollback => Command::Query("ROLLBACK".into()),
        };
        log.cmds.push(CmdRecord {
            op,
            retry_safe: o.retry_safe && o.txn.is_none(),
            txn: o.txn,
            stream,
            timeout: o.timeout.or(self.opts.query_timeout()),
            probe: false,
            submitted: None,
            dropped: false,
            answers: Vec::new(),
            rows: Vec::new(),
            ready: true,
            row_without_room: false,
        });
        self.specs.push(Some((cmd, o)));
        id
    }

    fn schedule(&mut self, at: Duration, ev: Ev) {
        let seq = self.evs.len() as u64;
        self.evs.push(Some(ev));
        self.heap.push(Reverse((at, seq)));
    }

    fn instant(&self) -> Instant {
        self.base + self.now
    }

    fn note(&mut self, f: impl FnOnce() -> String) {
        if let Some(t) = &mut self.trace {
            let line = f();
            t.push(format!("{:>9.3}ms {line}", self.now.as_secs_f64() * 1e3));
        }
    }

    fn submit(&mut self, id: usize) {
        let Some((cmd, o)) = self.specs[id].take() else {
            return;
        };
        let stream = {
            let mut log = self.log.borrow_mut();
            log.cmds[id].submitted = Some(self.now);
            log.cmds[id].stream
        };
        self.note(|| format!("submit #{id} {cmd:?} {o:?}"));
        let caller = SimCaller {
            id,
            log: Some(self.log.clone()),
            stream,
        };
        let now = self.instant();
        self.engine.submit(cmd, o, caller, now);
    }

    // ------------------------------------------------------------------------------ driving

    /// Runs until nothing is left to happen.
    fn run(&mut self, horizon: Duration) -> std::result::Result<(), String> {
        loop {
            self.pump()?;
            self.check_scripts();
            let Some(t) = self.next_time() else {
                return Ok(());
            };
            if t > horizon {
                return Err(format!(
                    "livelock: still busy at {:?} (state {:?}, {} queued)",
                    t,
                    self.engine.state(),
                    self.engine.queued()
                ));
            }
            self.now = self.now.max(t);
            self.log.borrow_mut().now = self.now;
            self.fire_due();
        }
    }

    fn next_time(&self) -> Option<Duration> {
        let mut next = self.heap.peek().map(|Reverse((t, _))| *t);
        let mut at = |t: Duration| next = Some(next.map_or(t, |n| n.min(t)));
        if let Some(cid) = self.io {
            // What is due now was taken by the last turn (or waits for a stream's consumer).
            if let Some(t) = self
                .model
                .next_wake(cid, self.now)
                .filter(|&t| t > self.now)
            {
                at(t);
            }
        }
        if let Some(t) = self.engine.poll_timeout() {
            at(t.saturating_duration_since(self.base));
        }
        next
    }

    fn fire_due(&mut self) {
        while let Some(Reverse((t, seq))) = self.heap.peek().copied() {
            if t > self.now {
                break;
            }
            self.heap.pop();
            if let Some(ev) = self.evs[seq as usize].take() {
                self.event(ev);
            }
        }
        if let Some(cid) = self.io {
            self.model.poll_conn(cid, self.now);
        }
    }

    fn event(&mut self, ev: Ev) {
        let now = self.instant();
        match ev {
            Ev::Submit(id) => self.submit(id),
            Ev::Script(s) => self.script_step(s),
            Ev::Abandon(s) => self.abandon(s),
            Ev::Drop(id) => {
                self.note(|| format!("caller #{id} gives up"));
                self.log.borrow_mut().cmds[id].dropped = true;
            }
            Ev::StreamReady(id) => {
                self.ready_pending.remove(&id);
                self.log.borrow_mut().cmds[id].ready = true;
            }
            Ev::Restart(down) => {
                self.note(|| format!("server restarts, down for {down:?}"));
                self.model.restart(self.now, down);
            }
            Ev::ConnectDone { gen, outcome } => {
                if gen != self.gen {
                    return;
                }
                let jitter = self.rng.gen_range(0.5..=1.0);
                match outcome {
                    ConnectOutcome::Success => match self.model.connect(self.now) {
                        Some(cid) => {
                            self.note(|| format!("connected: connection {cid}"));
                            self.io = Some(cid);
                            self.close_seen = false;
                            self.cut = false;
                            let info = ConnInfo {
                                capabilities: model::CAPABILITIES,
                                connection_id: cid,
                                server_version: "8.0.36-sim".into(),
                                is_mariadb: false,
                                status: SERVER_STATUS_AUTOCOMMIT,
                                cache_metadata: false,
                                rejected: Vec::new(),
                                escaping: Escaping::known("utf8mb4"),
                            };
                            self.engine.on_connected(info, now);
                        }
                        None => {
                            self.note(|| "connect refused: server down".into());
                            let e = Error::from(std::io::Error::from(
                                std::io::ErrorKind::ConnectionRefused,
                            ));
                            self.engine.on_connect_failed(e, now, jitter);
                        }
                    },
                    ConnectOutcome::Fail(e) => {
                        self.note(|| format!("connect failed: {e}"));
                        self.engine.on_connect_failed(e, now, jitter);
                    }
                }
            }
            Ev::KillDone { gen, conn, outcome } => {
                if gen != self.gen {
                    return;
                }
                match outcome {
                    KillOutcome::Done { noop } => {
                        self.note(|| format!("kill of {conn} done (no-op: {noop})"));
                        if !noop {
                            self.model.kill_query(conn, self.now);
                        }
                        self.engine.on_kill_done(conn, Ok(()), now);
                    }
                    KillOutcome::Fail(e) => {
                        self.note(|| format!("kill of {conn} failed: {e}"));
                        self.engine.on_kill_done(conn, Err(e), now);
                    }
                }
            }
        }
    }

    /// One turn of the driver at the current time, as the actor's `drive` does it.
    fn pump(&mut self) -> std::result::Result<(), String> {
        let now = self.instant();
        loop {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err(format!(
                    "livelock: {MAX_STEPS} driver steps (state {:?})",
                    self.engine.state()
                ));
            }
            self.engine.advance(now);
            if !self.run_actions() {
                continue;
            }
            self.write();
            if !self.run_actions() {
                continue;
            }
            if self.engine.poll_timeout().is_some_and(|t| t <= now) {
                self.note(|| "timeout".into());
                self.engine.on_timeout(now);
                continue;
            }
            let Some(cid) = self.io else {
                return Ok(());
            };
            // A streamed result is read only when its consumer has room for a row.
            if let Some(c) = self.engine.streaming_caller() {
                if !c.is_ready() {
                    let id = c.id;
                    if self.ready_pending.insert(id) {
                        let at = self.now + Duration::from_micros(self.rng.gen_range(0..=3000));
                        self.schedule(at, Ev::StreamReady(id));
                    }
                    return Ok(());
                }
            }
            let (bytes, cut) = self.model.take_output(cid, self.now);
            if !bytes.is_empty() {
                self.engine.read_buf().extend_from_slice(&bytes);
            }
            self.cut |= cut;
            let closed = self.cut || self.model.close_at(cid).is_some_and(|t| t <= self.now);
            let replies = self.engine.replies();
            let budget = if self.rng.gen_bool(0.3) {
                self.rng.gen_range(1..=4)
            } else {
                512
            };
            let input = self.engine.on_input(now, budget);
            self.note(|| format!("input {input:?}"));
            match input {
                Input::NeedMore => {}
                Input::Blocked | Input::Budget | Input::Closed => continue,
            }
            if closed && !self.close_seen && self.io == Some(cid) {
                self.close_seen = true;
                if self.rng.gen_bool(self.plan.io_error) {
                    self.note(|| format!("connection {cid}: i/o error"));
                    let e = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
                    self.engine.on_io_error(Error::from(e));
                } else {
                    self.note(|| format!("connection {cid}: eof"));
                    self.engine.on_eof();
                }
                continue;
            }
            if self.engine.replies() != replies
                || !self.engine.transmit().is_empty()
                || self.engine.has_actions()
            {
                continue;
            }
            return Ok(());
        }
    }

    fn write(&mut self) {
        let Some(cid) = self.io else {
            return;
        };
        if self.engine.transmit().is_empty() {
            return;
        }
        let data = self.engine.transmit().split();
        let delay = Duration::from_micros(self.rng.gen_range(0..=3000));
        self.model.client_write(cid, &data, self.now, delay);
    }

    /// Carries out the engine's actions; false when the driver restarts (after `Fail`).
    fn run_actions(&mut self) -> bool {
        while let Some(action) = self.engine.poll_action() {
            self.note(|| format!("action {action:?}"));
            match action {
                Action::Connect { .. } => {
                    if self.io.is_some() {
                        self.anomalies
                            .push("a connect was asked for while a connection was open".into());
                    }
                    self.start_connect();
                }
                Action::Kill {
                    connection_id,
                    bound,
                } => self.start_kill(connection_id, bound),
                Action::Disconnect => {
                    if let Some(cid) = self.io.take() {
                        let data = self.engine.transmit().split();
                        self.model
                            .client_write(cid, &data, self.now, Duration::ZERO);
                        self.model.client_close(cid);
                    }
                    self.engine.transmit().clear();
                }
                Action::Drop => {
                    if let Some(cid) = self.io.take() {
                        self.model.client_close(cid);
                    }
                }
                Action::Fail => {
                    if let Some(cid) = self.io.take() {
                        self.model.client_close(cid);
                    }
                    // The actor stops and its supervisor restarts it: connects and kills
                    // under way are dropped with the old context.
                    self.gen += 1;
                    self.engine.on_driver_restart();
                    return false;
                }
            }
        }
        true
    }

    fn start_connect(&mut self) {
        let ct = self.opts.connect_timeout();
        let p = self.plan.clone();
        let r: f64 = self.rng.gen();
        let mut quick = Duration::from_micros(self.rng.gen_range(0..=ct.as_micros() as u64 / 2));
        if p.instant_connect {
            quick = Duration::ZERO;
        }
        let (delay, outcome) = if r < p.connect_hang {
            let e = Error::timeout(format!("no connection within {ct:?}"));
            (ct, ConnectOutcome::Fail(e))
        } else if r < p.connect_hang + p.connect_fail {
            let e = Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
            (quick, ConnectOutcome::Fail(e))
        } else if r < p.connect_hang + p.connect_fail + p.connect_temporary {
            let e = Error::server(ErrPacket {
                code: 1040,
                sql_state: "08004".into(),
                message: "Too many connections".into(),
            });
            (quick, ConnectOutcome::Fail(e))
        } else if r < p.connect_hang + p.connect_fail + p.connect_temporary + p.connect_permanent {
            let e = Error::auth_refused(ErrPacket {
                code: 1045,
                sql_state: "28000".into(),
                message: "Access denied".into(),
            });
            (quick, ConnectOutcome::Fail(e))
        } else {
            (quick, ConnectOutcome::Success)
        };
        let gen = self.gen;
        self.schedule(self.now + delay, Ev::ConnectDone { gen, outcome });
    }

    fn start_kill(&mut self, conn: u32, bound: Duration) {
        let p = self.plan.clone();
        let r: f64 = self.rng.gen();
        let within = Duration::from_micros(self.rng.gen_range(0..=bound.as_micros() as u64 / 2));
        let (delay, outcome) = if r < p.kill_slow {
            let e = Error::timeout(format!("KILL QUERY did not finish within {bound:?}"));
            (bound, KillOutcome::Fail(e))
        } else if r < p.kill_slow + p.kill_fail {
            let e = Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
            (within, KillOutcome::Fail(e))
        } else {
            let noop = self.rng.gen_bool(p.kill_noop);
            (within, KillOutcome::Done { noop })
        };
        let gen = self.gen;
        self.schedule(self.now + delay, Ev::KillDone { gen, conn, outcome });
    }

    // ------------------------------------------------------------------------------ scripts

    fn check_scripts(&mut self) {
        for s in 0..self.scripts.len() {
            let sc = &self.scripts[s];
            let Some(w) = sc.waiting else {
                continue;
            };
            if sc.done || sc.scheduled || self.log.borrow().cmds[w].answers.is_empty() {
                continue;
            }
            self.scripts[s].scheduled = true;
            let at = self.now + Duration::from_micros(self.rng.gen_range(0..=3000));
            self.schedule(at, Ev::Script(s));
        }
    }

    fn script_cmd(&mut self, s: usize, op: Op, ends: bool) -> usize {
        let o = CmdOpts {
            txn: self.scripts[s].txn,
            ends_txn: ends && self.scripts[s].txn.is_some(),
            ..CmdOpts::default()
        };
        let id = self.new_cmd(op, o, false);
        self.scripts[s].cmds.push(id);
        self.submit(id);
        id
    }

    fn script_step(&mut self, s: usize) {
        if self.scripts[s].done {
            return;
        }
        if let Some(w) = self.scripts[s].waiting.take() {
            let failed = {
                let log = self.log.borrow();
                log.cmds[w].answers.iter().any(|(_, o)| !o.is_ok())
            };
            if failed {
                self.script_fail(s);
                return;
            }
        }
        let handle = self.scripts[s].txn.is_some();
        match self.scripts[s].steps.pop_front() {
            None => self.scripts[s].done = true,
            Some(end @ (Op::Commit | Op::Rollback)) => {
                self.script_cmd(s, end, end == Op::Commit);
                if handle {
                    self.script_cmd(s, Op::Release, false);
                }
                self.scripts[s].done = true;
            }
            Some(op) => {
                let id = self.script_cmd(s, op, false);
                self.scripts[s].waiting = Some(id);
                self.scripts[s].scheduled = false;
            }
        }
    }

    /// A step failed, or the caller gave up: roll back (and give the connection back).
    fn script_fail(&mut self, s: usize) {
        self.script_cmd(s, Op::Rollback, false);
        if self.scripts[s].txn.is_some() {
            self.script_cmd(s, Op::Release, false);
        }
        self.scripts[s].done = true;
    }

    fn abandon(&mut self, s: usize) {
        if self.scripts[s].done {
            return;
        }
        self.note(|| format!("script {s} is abandoned"));
        if let Some(w) = self.scripts[s].waiting.take() {
            self.log.borrow_mut().cmds[w].dropped = true;
        }
        self.script_fail(s);
    }

    // ------------------------------------------------------------------------------ ending

    /// After the schedule: with faults off, a new command is answered and `close` completes.
    fn epilogue(&mut self) -> Vec<String> {
        let mut violations = Vec::new();
        self.model.faults = Faults::default();
        self.model.down_until = Duration::ZERO;
        self.plan = Plan {
            instant_connect: true,
            ..Plan::default()
        };
        for attempt in 0..2 {
            let o = CmdOpts {
                retry_safe: true,
                ..CmdOpts::default()
            };
            let id = self.new_cmd(Op::Select(u32::MAX), o, false);
            self.log.borrow_mut().cmds[id].probe = true;
            self.submit(id);
            let horizon = self.now + HORIZON;
            if let Err(e) = self.run(horizon) {
                violations.push(format!("[stuck] a command after the schedule: {e}"));
                return violations;
            }
            let answer = self.log.borrow().cmds[id].answers.first().cloned();
            match answer {
                Some((_, o)) if o.is_ok() => break,
                // A raw transaction lost while idle fails the next statement once.
                Some((
                    _,
                    Outcome::Err {
                        kind: ErrorKind::TransactionAborted,
                        ..
                    },
                )) if attempt == 0 => continue,
                other => {
                    violations.push(format!(
                        "[stuck] a command after the schedule (with faults off) got {other:?}"
                    ));
                    return violations;
                }
            }
        }
        let id = self.new_cmd(Op::Close, CmdOpts::default(), false);
        self.log.borrow_mut().cmds[id].probe = true;
        self.log.borrow_mut().cmds[id].submitted = Some(self.now);
        self.engine.close(Some(SimCaller {
            id,
            log: Some(self.log.clone()),
            stream: false,
        }));
        let horizon = self.now + HORIZON;
        if let Err(e) = self.run(horizon) {
            violations.push(format!("[stuck] close after the schedule: {e}"));
            return violations;
        }
        let answer = self.log.borrow().cmds[id].answers.first().cloned();
        if !matches!(answer, Some((_, Outcome::Ok(_)))) {
            violations.push(format!("[stuck] close after the schedule got {answer:?}"));
        }
        if self.io.is_some() {
            violations.push("[stuck] the connection is still open after close".into());
        }
        violations
    }

    fn describe(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "  opts: depth {}, query_timeout {:?}, queue_timeout {:?}, connect_timeout {:?}, {:?}, max_queue {}, idle {:?}, stmt cache {}",
            self.opts.pipeline_depth(),
            self.opts.query_timeout(),
            self.opts.queue_timeout(),
            self.opts.connect_timeout(),
            self.opts.reconnect_policy(),
            self.opts.max_queue(),
            self.opts.idle_timeout(),
            self.opts.stmt_cache_size()
        );
        let _ = writeln!(s, "  faults: {:?}", self.model.faults);
        let _ = writeln!(s, "  plan: {:?}", self.plan);
        for (i, c) in self.log.borrow().cmds.iter().enumerate() {
            let _ = writeln!(
                s,
                "  #{i} {:?} safe={} txn={:?} stream={} timeout={:?} submitted={:?} dropped={} answers={:?} rows={:?}",
                c.op, c.retry_safe, c.txn, c.stream, c.timeout, c.submitted, c.dropped, c.answers, c.rows
            );
        }
        for r in &self.model.runs {
            let _ = writeln!(s, "  ran: {r:?}");
        }
        for r in &self.model.refusals {
            let _ = writeln!(s, "  refused: {r:?}");
        }
        for (i, t) in self.model.txns.iter().enumerate() {
            let _ = writeln!(s, "  server txn {i}: {t:?}");
        }
        s
    }
}

/// Runs one schedule and checks it.
pub(super) fn run_schedule(seed: u64, tracing: bool) -> Report {
    let mut sim = Sim::new(seed, tracing);
    let mut violations = Vec::new();
    if let Err(e) = sim.run(HORIZON) {
        violations.push(format!("[quiescence] {e}"));
    }
    let stats = sim.engine.stats();
    if violations.is_empty() {
        let log = sim.log.borrow();
        let ctx = oracle::Ctx {
            cmds: &log.cmds,
            model: &sim.model,
            scripts: &sim.scripts,
            bounds: sim.bounds,
            driver_anomalies: &sim.anomalies,
        };
        violations.extend(oracle::check(&ctx));
    }
    if violations.is_empty() {
        violations.extend(sim.epilogue());
    }
    let _ = sim.seed;
    Report {
        description: if violations.is_empty() {
            String::new()
        } else {
            sim.describe()
        },
        trace: sim.trace.take().unwrap_or_default(),
        violations,
        stats,
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Runs a schedule under `catch_unwind`: a panic is a violation too.
fn guarded(seed: u64, tracing: bool) -> std::result::Result<Report, String> {
    std::panic::catch_unwind(|| run_schedule(seed, tracing)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into())
    })
}

#[test]
fn simulated_schedules_keep_the_promise() {
    if let Some(seed) = env_u64("SIM_SEED") {
        match guarded(seed, true) {
            Ok(report) => {
                for line in &report.trace {
                    eprintln!("{line}");
                }
                if !report.violations.is_empty() {
                    eprintln!("{}", report.description);
                }
                assert!(
                    report.violations.is_empty(),
                    "seed {seed}: {:#?}",
                    report.violations
                );
            }
            Err(panic) => panic!("seed {seed}: the engine panicked: {panic}"),
        }
        return;
    }
    let count = env_u64("SIM_SCHEDULES").unwrap_or(20_000);
    let first = env_u64("SIM_FIRST_SEED").unwrap_or(0);
    let next = AtomicU64::new(first);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let totals: Mutex<[u64; 5]> = Mutex::new([0; 5]);
    let started = Instant::now();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut local = [0u64; 5];
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= first + count {
                        break;
                    }
                    let failed = match guarded(seed, false) {
                        Ok(r) => {
                            local[0] += r.stats.connects;
                            local[1] += r.stats.redelivered;
                            local[2] += r.stats.timeouts;
                            local[3] += r.stats.pipelined;
                            local[4] += r.stats.reconnects;
                            (!r.violations.is_empty()).then(|| {
                                format!(
                                    "seed {seed}: {}\n{}",
                                    r.violations.join("\n  "),
                                    r.description
                                )
                            })
                        }
                        Err(panic) => Some(format!("seed {seed}: the engine panicked: {panic}")),
                    };
                    if let Some(f) = failed {
                        let mut all = failures.lock().unwrap_or_else(|e| e.into_inner());
                        all.push(format!(
                            "{f}  replay: SIM_SEED={seed} cargo test --lib actor::sim -- --nocapture"
                        ));
                    }
                }
                let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
                for (a, b) in t.iter_mut().zip(local) {
                    *a += b;
                }
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    let t = totals.into_inner().unwrap_or_else(|e| e.into_inner());
    eprintln!(
        "sim: {count} schedules from seed {first} in {elapsed:.1}s ({:.0}/s); {} failed; \
         connects {}, reconnects {}, redelivered {}, timeouts {}, pipelined {}",
        count as f64 / elapsed.max(1e-9),
        failures.len(),
        t[0],
        t[4],
        t[1],
        t[2],
        t[3],
    );
    for f in failures.iter().take(10) {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {count} schedules broke the promise; first: {}",
        failures.len(),
        failures.first().map(String::as_str).unwrap_or_default()
    );
}
