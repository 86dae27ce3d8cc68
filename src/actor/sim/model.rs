//! A model MySQL server on the engine's byte stream.
//!
//! It reads the client's packets with the crate's framing, runs a tiny SQL language and answers
//! with OK, ERR and text or binary result sets (`CLIENT_DEPRECATE_EOF`: an OK ends each result
//! set). Statements run one after another per connection, each at the virtual time it starts;
//! replies leave at the time they are done. Everything that ran is recorded for the oracle.
//!
//! The language: `INSERT k` (unique key; a duplicate fails with 1062), `SELECT k` (one row, 1
//! when `k` is visible, else 0), `SCAN n` (`n` rows 0..n), `SLEEP ms` (one row after `ms`),
//! `START TRANSACTION` / `BEGIN`, `COMMIT`, `ROLLBACK`, `SET x = v`. A comment `/*N*/` tags a
//! statement with the simulation's command id `N`; a prepared statement's single integer
//! parameter is its tag.
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use rand::rngs::StdRng;
use rand::Rng;

use crate::protocol::buf::{put_lenenc_bytes, put_lenenc_int};
use crate::protocol::constants::capabilities::*;
use crate::protocol::constants::column_flags::{NOT_NULL, NUM};
use crate::protocol::constants::command::*;
use crate::protocol::constants::status::{SERVER_STATUS_AUTOCOMMIT, SERVER_STATUS_IN_TRANS};
use crate::protocol::constants::{ColumnType, BINARY_COLLATION};
use crate::protocol::packet::{write_packets, PacketHeader, HEADER_LEN};

/// The capabilities of a simulated connection.
pub(super) const CAPABILITIES: u32 = CLIENT_PROTOCOL_41
    | CLIENT_DEPRECATE_EOF
    | CLIENT_TRANSACTIONS
    | CLIENT_SESSION_TRACK
    | CLIENT_MULTI_RESULTS
    | CLIENT_PS_MULTI_RESULTS
    | CLIENT_SECURE_CONNECTION
    | CLIENT_PLUGIN_AUTH
    | CLIENT_LONG_PASSWORD
    | CLIENT_LONG_FLAG;

/// `ER_QUERY_INTERRUPTED`: the answer to a killed statement.
pub(super) const ER_QUERY_INTERRUPTED: u16 = 1317;
/// `ER_DUP_ENTRY`.
pub(super) const ER_DUP_ENTRY: u16 = 1062;
/// `ER_NO_SUCH_TABLE`: the permanent error the model injects.
pub(super) const ER_NO_SUCH_TABLE: u16 = 1146;
/// The temporary errors the model injects before running a statement.
pub(super) const TEMPORARY_ERRORS: [(u16, &str); 2] = [
    (1927, "Connection was killed"),
    (1053, "Server shutdown in progress"),
];

// ---------------------------------------------------------------------------------- encoders

/// An OK packet.
pub(super) fn ok_packet(status: u16) -> Vec<u8> {
    let mut b = vec![0x00, 0x00, 0x00];
    b.extend_from_slice(&status.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b
}

/// The OK packet that ends a result set under `CLIENT_DEPRECATE_EOF`.
pub(super) fn ok_eof(status: u16) -> Vec<u8> {
    let mut b = ok_packet(status);
    b[0] = 0xFE;
    b
}

/// An ERR packet.
pub(super) fn err_packet(code: u16, message: &str) -> Vec<u8> {
    let mut b = vec![0xFF];
    b.extend_from_slice(&code.to_le_bytes());
    b.extend_from_slice(b"#HY000");
    b.extend_from_slice(message.as_bytes());
    b
}

/// A column definition of a BIGINT column.
pub(super) fn column_def(name: &str) -> Vec<u8> {
    let mut b = BytesMut::new();
    for s in ["def", "sim", "t", "t", name, name] {
        put_lenenc_bytes(&mut b, s.as_bytes());
    }
    b.put_u8(0x0C);
    b.put_u16_le(BINARY_COLLATION);
    b.put_u32_le(20);
    b.put_u8(ColumnType::LongLong as u8);
    b.put_u16_le(NOT_NULL | NUM);
    b.put_u8(0);
    b.put_u16_le(0);
    b.to_vec()
}

/// A column count.
pub(super) fn column_count(n: u64) -> Vec<u8> {
    let mut b = BytesMut::new();
    put_lenenc_int(&mut b, n);
    b.to_vec()
}

/// A text-protocol row of one BIGINT value.
pub(super) fn text_row(v: i64) -> Vec<u8> {
    let mut b = BytesMut::new();
    put_lenenc_bytes(&mut b, v.to_string().as_bytes());
    b.to_vec()
}

/// A binary-protocol row of one BIGINT value.
pub(super) fn binary_row(v: i64) -> Vec<u8> {
    let mut b = vec![0x00, 0x00];
    b.extend_from_slice(&v.to_le_bytes());
    b
}

/// `COM_STMT_PREPARE_OK`.
pub(super) fn prepare_ok(id: u32, columns: u16, params: u16) -> Vec<u8> {
    let mut b = vec![0x00];
    b.extend_from_slice(&id.to_le_bytes());
    b.extend_from_slice(&columns.to_le_bytes());
    b.extend_from_slice(&params.to_le_bytes());
    b.push(0);
    b.extend_from_slice(&0u16.to_le_bytes());
    b
}

/// A result set of one BIGINT column.
pub(super) fn result_set(values: &[i64], binary: bool, status: u16) -> Vec<Vec<u8>> {
    let mut packets = vec![column_count(1), column_def("v")];
    for &v in values {
        packets.push(if binary { binary_row(v) } else { text_row(v) });
    }
    packets.push(ok_eof(status));
    packets
}

/// Frames a reply's payloads, numbered from 1 (the command was packet 0).
pub(super) fn frame(payloads: &[Vec<u8>]) -> Bytes {
    let mut dst = BytesMut::new();
    let mut seq = 1u8;
    for p in payloads {
        write_packets(&mut dst, p, &mut seq);
    }
    dst.freeze()
}

// ---------------------------------------------------------------------------------- language

/// A statement of the model's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stmt {
    Insert(String),
    Select(String),
    Scan(u32),
    Sleep(u32),
    Begin,
    Commit,
    Rollback,
    Set,
}

impl Stmt {
    /// Whether its result has columns.
    fn has_rows(&self) -> bool {
        matches!(self, Stmt::Select(_) | Stmt::Scan(_) | Stmt::Sleep(_))
    }

    fn is_txn_control(&self) -> bool {
        matches!(self, Stmt::Begin | Stmt::Commit | Stmt::Rollback)
    }
}

/// Parses a statement loosely: its tag (`/*N*/`) and its leading words.
pub(super) fn parse(sql: &str) -> (Option<Stmt>, Option<u64>) {
    let mut tag = None;
    let mut text = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("*/") else {
            rest = "";
            break;
        };
        if let Ok(n) = after[..end].trim().parse::<u64>() {
            tag = Some(n);
        }
        rest = &after[end + 2..];
    }
    text.push_str(rest);
    let words: Vec<&str> = text
        .trim()
        .trim_end_matches(';')
        .split_ascii_whitespace()
        .collect();
    let verb = words.first().map(|w| w.to_ascii_uppercase());
    let arg = words.get(1).copied().unwrap_or_default();
    let stmt = match verb.as_deref() {
        Some("INSERT") if !arg.is_empty() && arg != "?" => Some(Stmt::Insert(arg.to_string())),
        Some("SELECT") if !arg.is_empty() && arg != "?" => Some(Stmt::Select(arg.to_string())),
        Some("SCAN") => arg.parse().ok().map(Stmt::Scan),
        Some("SLEEP") => arg.parse().ok().map(Stmt::Sleep),
        Some("BEGIN") => Some(Stmt::Begin),
        Some("START") if arg.eq_ignore_ascii_case("TRANSACTION") => Some(Stmt::Begin),
        Some("COMMIT") => Some(Stmt::Commit),
        Some("ROLLBACK") => Some(Stmt::Rollback),
        Some("SET") => Some(Stmt::Set),
        _ => None,
    };
    (stmt, tag)
}

// ---------------------------------------------------------------------------------- records

/// A statement the server ran.
#[derive(Debug, Clone)]
pub(super) struct Run {
    pub(super) conn: u32,
    pub(super) tag: Option<u64>,
    pub(super) stmt: Stmt,
    /// `SELECT`'s value.
    pub(super) value: Option<i64>,
    /// An `INSERT` that failed with a duplicate key (it changed nothing).
    pub(super) dup: bool,
    /// The server transaction it ran in (for `BEGIN`, the one it started; for `COMMIT` and
    /// `ROLLBACK`, the one it ended).
    pub(super) txn: Option<usize>,
}

/// A statement the server refused before running it.
#[derive(Debug, Clone)]
pub(super) struct Refusal {
    pub(super) tag: Option<u64>,
    pub(super) sql: String,
    pub(super) code: u16,
}

/// How a server transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TxnEnd {
    Open,
    Committed,
    RolledBack,
    /// Its connection died (or the server restarted) first.
    Lost,
}

/// A transaction on the server.
#[derive(Debug, Clone)]
pub(super) struct ServerTxn {
    /// The tag of the statement that began it.
    pub(super) started_by: Option<u64>,
    pub(super) end: TxnEnd,
    pub(super) inserts: Vec<String>,
}

/// How often the server misbehaves.
#[derive(Debug, Clone, Default)]
pub(super) struct Faults {
    /// A temporary error (1927, 1053) before running a statement; the connection closes.
    pub(super) temporary: f64,
    /// A permanent error (1146) instead of running a statement.
    pub(super) permanent: f64,
    /// A reply delayed by up to `max_delay`.
    pub(super) delay: f64,
    pub(super) max_delay: Duration,
    /// A statement that never answers (it ran with probability `stall_ran`); the connection is
    /// closed by the server `stall_cut` later.
    pub(super) stall: f64,
    pub(super) stall_ran: f64,
    pub(super) stall_cut: Duration,
    /// A connection is cut after a random number of bytes.
    pub(super) cut: f64,
    pub(super) max_cut_bytes: usize,
}

/// A reply on its way to the client.
#[derive(Debug)]
struct Out {
    at: Duration,
    bytes: Bytes,
    /// The reply of a statement still running (`SLEEP`): a kill replaces it.
    killable: bool,
}

#[derive(Debug)]
struct Conn {
    inbuf: BytesMut,
    /// The running statement ends then; the next one starts then.
    busy_until: Duration,
    /// A statement that never answers is running (true: a kill stops it).
    stuck: Option<bool>,
    out: VecDeque<Out>,
    /// The server stopped serving the connection (closed, cut, restarted).
    dead: bool,
    /// When the client sees the connection close (after the replies sent before it).
    close_at: Option<Duration>,
    /// Bytes the client may still send, and receive, before the connection is cut.
    in_cut: Option<usize>,
    out_cut: Option<usize>,
    txn: Option<usize>,
    stmts: HashMap<u32, (String, u16)>,
}

/// The model server.
#[derive(Debug)]
pub(super) struct Model {
    pub(super) committed: BTreeSet<String>,
    pub(super) runs: Vec<Run>,
    pub(super) refusals: Vec<Refusal>,
    pub(super) txns: Vec<ServerTxn>,
    /// Protocol violations by the client.
    pub(super) anomalies: Vec<String>,
    pub(super) faults: Faults,
    /// Connects fail until then (the server is restarting).
    pub(super) down_until: Duration,
    conns: HashMap<u32, Conn>,
    next_conn: u32,
    next_stmt: u32,
    rng: StdRng,
}

/// The base latency of a reply.
const LATENCY_MS: u64 = 2;

impl Model {
    pub(super) fn new(rng: StdRng, faults: Faults) -> Self {
        Model {
            committed: BTreeSet::new(),
            runs: Vec::new(),
            refusals: Vec::new(),
            txns: Vec::new(),
            anomalies: Vec::new(),
            faults,
            down_until: Duration::ZERO,
            conns: HashMap::new(),
            next_conn: 1,
            next_stmt: 1,
            rng,
        }
    }

    /// The longest a reply takes once its statement starts, `SLEEP` aside.
    pub(super) fn max_latency(&self) -> Duration {
        Duration::from_millis(LATENCY_MS) + self.faults.max_delay
    }

    /// A new connection, or `None` while the server is down.
    pub(super) fn connect(&mut self, now: Duration) -> Option<u32> {
        if now < self.down_until {
            return None;
        }
        let id = self.next_conn;
        self.next_conn += 1;
        let max = self.faults.max_cut_bytes.max(1);
        let (mut in_cut, mut out_cut) = (None, None);
        if self.rng.gen_bool(self.faults.cut.clamp(0.0, 1.0)) {
            if self.rng.gen_bool(0.5) {
                in_cut = Some(self.rng.gen_range(0..max));
            } else {
                out_cut = Some(self.rng.gen_range(0..max));
            }
        }
        self.conns.insert(
            id,
            Conn {
                inbuf: BytesMut::new(),
                busy_until: now,
                stuck: None,
                out: VecDeque::new(),
                dead: false,
                close_at: None,
                in_cut,
                out_cut,
                txn: None,
                stmts: HashMap::new(),
            },
        );
        Some(id)
    }

    /// The client wrote `data`; the server takes what arrives before a cut.
    pub(super) fn client_write(
        &mut self,
        id: u32,
        data: &[u8],
        now: Duration,
        cut_delay: Duration,
    ) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if c.dead {
            return;
        }
        match c.in_cut {
            Some(left) if left < data.len() => {
                c.inbuf.extend_from_slice(&data[..left]);
                c.in_cut = Some(0);
                self.poll_conn(id, now);
                self.kill_conn(id, now + cut_delay);
            }
            _ => {
                if let Some(left) = &mut c.in_cut {
                    *left -= data.len();
                }
                c.inbuf.extend_from_slice(data);
                self.poll_conn(id, now);
            }
        }
    }

    /// The bytes that reached the client by `now`, and whether the connection was cut in
    /// their middle.
    pub(super) fn take_output(&mut self, id: u32, now: Duration) -> (BytesMut, bool) {
        let mut got = BytesMut::new();
        let Some(c) = self.conns.get_mut(&id) else {
            return (got, false);
        };
        while let Some(o) = c.out.front() {
            if o.at > now || c.close_at.is_some_and(|t| o.at > t) {
                break;
            }
            if let Some(o) = c.out.pop_front() {
                got.extend_from_slice(&o.bytes);
            }
        }
        if let Some(left) = c.out_cut {
            if got.len() > left {
                got.truncate(left);
                c.out_cut = Some(0);
                self.kill_conn(id, now);
                return (got, true);
            }
            c.out_cut = Some(left - got.len());
        }
        (got, false)
    }

    /// When the client sees the server close the connection.
    pub(super) fn close_at(&self, id: u32) -> Option<Duration> {
        self.conns.get(&id).and_then(|c| c.close_at)
    }

    /// The next time something happens on the connection.
    pub(super) fn next_wake(&self, id: u32, now: Duration) -> Option<Duration> {
        let c = self.conns.get(&id)?;
        let mut next: Option<Duration> = None;
        let mut at = |t: Duration| next = Some(next.map_or(t, |n| n.min(t)));
        if !c.dead && c.stuck.is_none() && c.busy_until > now && has_packet(&c.inbuf) {
            at(c.busy_until);
        }
        if let Some(o) = c.out.front() {
            if c.close_at.is_none_or(|t| o.at <= t) {
                at(o.at);
            }
        }
        if let Some(t) = c.close_at {
            at(t);
        }
        next
    }

    /// The client closed the connection.
    pub(super) fn client_close(&mut self, id: u32) {
        if let Some(c) = self.conns.remove(&id) {
            if let Some(t) = c.txn {
                self.end_txn(t, TxnEnd::Lost);
            }
        }
    }

    /// The server stops serving the connection; the client sees it closed at `at`.
    fn kill_conn(&mut self, id: u32, at: Duration) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        c.dead = true;
        c.inbuf.clear();
        c.close_at = Some(c.close_at.map_or(at, |t| t.min(at)));
        if let Some(t) = c.txn.take() {
            self.end_txn(t, TxnEnd::Lost);
        }
    }

    /// The server restarts: every connection dies with its uncommitted work; connects fail
    /// for `down_for`.
    pub(super) fn restart(&mut self, now: Duration, down_for: Duration) {
        self.down_until = self.down_until.max(now + down_for);
        let ids: Vec<u32> = self.conns.keys().copied().collect();
        for id in ids {
            if let Some(c) = self.conns.get_mut(&id) {
                c.out.retain(|o| o.at <= now);
            }
            self.kill_conn(id, now);
        }
    }

    /// `KILL QUERY` of the connection's running statement.
    pub(super) fn kill_query(&mut self, id: u32, now: Duration) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if c.dead {
            return;
        }
        let interrupted = || {
            frame(&[err_packet(
                ER_QUERY_INTERRUPTED,
                "Query execution was interrupted",
            )])
        };
        if c.stuck == Some(true) {
            c.stuck = None;
            c.busy_until = now;
            c.out.push_back(Out {
                at: now,
                bytes: interrupted(),
                killable: false,
            });
        } else if let Some(last) = c.out.back_mut() {
            if last.killable && last.at > now {
                *last = Out {
                    at: now,
                    bytes: interrupted(),
                    killable: false,
                };
                c.busy_until = now;
            }
        }
        self.poll_conn(id, now);
    }

    /// Runs what the connection has received and may start by `now`.
    pub(super) fn poll_conn(&mut self, id: u32, now: Duration) {
        loop {
            let Some(c) = self.conns.get_mut(&id) else {
                return;
            };
            if c.dead || c.stuck.is_some() || c.busy_until > now {
                return;
            }
            let Some(payload) = take_packet(&mut c.inbuf, &mut self.anomalies) else {
                return;
            };
            let start = c.busy_until.max(now);
            self.command(id, payload, start);
        }
    }

    fn end_txn(&mut self, t: usize, end: TxnEnd) {
        let Some(txn) = self.txns.get_mut(t) else {
            return;
        };
        if txn.end != TxnEnd::Open {
            return;
        }
        txn.end = end;
        if end == TxnEnd::Committed {
            self.committed.extend(txn.inserts.iter().cloned());
        }
    }

    fn status(&self, id: u32) -> u16 {
        let in_trans = self.conns.get(&id).is_some_and(|c| c.txn.is_some());
        SERVER_STATUS_AUTOCOMMIT | if in_trans { SERVER_STATUS_IN_TRANS } else { 0 }
    }

    /// Queues a reply leaving at `at`; the connection is busy until then.
    fn reply(&mut self, id: u32, at: Duration, payloads: &[Vec<u8>], killable: bool) {
        if let Some(c) = self.conns.get_mut(&id) {
            c.busy_until = at;
            c.out.push_back(Out {
                at,
                bytes: frame(payloads),
                killable,
            });
        }
    }

    fn latency(&mut self) -> Duration {
        let mut d = Duration::from_millis(self.rng.gen_range(0..=LATENCY_MS));
        if self.rng.gen_bool(self.faults.delay.clamp(0.0, 1.0)) {
            let max = self.faults.max_delay.as_micros() as u64;
            d += Duration::from_micros(self.rng.gen_range(0..=max));
        }
        d
    }

    /// Handles one command packet, starting at `now`.
    fn command(&mut self, id: u32, payload: Bytes, now: Duration) {
        let Some(&code) = payload.first() else {
            self.anomalies.push("empty command packet".into());
            return;
        };
        let body = &payload[1..];
        match code {
            COM_QUIT => self.kill_conn(id, now),
            COM_PING | COM_INIT_DB => {
                let at = now + self.latency();
                let st = self.status(id);
                self.reply(id, at, &[ok_packet(st)], false);
            }
            COM_QUERY => {
                let sql = String::from_utf8_lossy(body).into_owned();
                let (stmt, tag) = parse(&sql);
                self.statement(id, &sql, stmt, tag, false, now);
            }
            COM_STMT_PREPARE => self.prepare(id, String::from_utf8_lossy(body).into_owned(), now),
            COM_STMT_EXECUTE => self.execute(id, body, now),
            COM_STMT_CLOSE => {
                let sid = read_u32(body);
                let known = self
                    .conns
                    .get_mut(&id)
                    .is_some_and(|c| c.stmts.remove(&sid).is_some());
                if !known {
                    self.anomalies.push(format!(
                        "COM_STMT_CLOSE of unknown statement {sid} on connection {id}"
                    ));
                }
            }
            COM_STMT_RESET => {
                let sid = read_u32(body);
                let known = self
                    .conns
                    .get(&id)
                    .is_some_and(|c| c.stmts.contains_key(&sid));
                let at = now + self.latency();
                if known {
                    let st = self.status(id);
                    self.reply(id, at, &[ok_packet(st)], false);
                } else {
                    self.anomalies.push(format!(
                        "COM_STMT_RESET of unknown statement {sid} on connection {id}"
                    ));
                    self.reply(
                        id,
                        at,
                        &[err_packet(1243, "Unknown prepared statement handler")],
                        false,
                    );
                }
            }
            COM_RESET_CONNECTION => {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.stmts.clear();
                    if let Some(t) = c.txn.take() {
                        self.end_txn(t, TxnEnd::RolledBack);
                    }
                }
                let at = now + self.latency();
                let st = self.status(id);
                self.reply(id, at, &[ok_packet(st)], false);
            }
            other => {
                self.anomalies
                    .push(format!("unknown command 0x{other:02x}"));
                let at = now + self.latency();
                self.reply(id, at, &[err_packet(1047, "Unknown command")], false);
            }
        }
    }

    fn prepare(&mut self, id: u32, sql: String, now: Duration) {
        let (stmt, tag) = parse(&sql);
        let Some(stmt) = stmt else {
            self.anomalies.push(format!("unparsable prepare {sql:?}"));
            let at = now + self.latency();
            self.reply(id, at, &[err_packet(1064, "syntax error")], false);
            return;
        };
        if self.inject_refusal(id, &sql, tag, &stmt, now) {
            return;
        }
        let params = sql.matches('?').count() as u16;
        let columns = u16::from(stmt.has_rows());
        let sid = self.next_stmt;
        self.next_stmt += 1;
        if let Some(c) = self.conns.get_mut(&id) {
            c.stmts.insert(sid, (sql, params));
        }
        let mut packets = vec![prepare_ok(sid, columns, params)];
        for _ in 0..params {
            packets.push(column_def("?"));
        }
        if columns > 0 {
            packets.push(column_def("v"));
        }
        let at = now + self.latency();
        self.reply(id, at, &packets, false);
    }

    fn execute(&mut self, id: u32, body: &[u8], now: Duration) {
        let sid = read_u32(body);
        let Some((sql, params)) = self.conns.get(&id).and_then(|c| c.stmts.get(&sid)).cloned()
        else {
            self.anomalies.push(format!(
                "COM_STMT_EXECUTE of unknown statement {sid} on connection {id}"
            ));
            let at = now + self.latency();
            self.reply(
                id,
                at,
                &[err_packet(1243, "Unknown prepared statement handler")],
                false,
            );
            return;
        };
        let (stmt, mut tag) = parse(&sql);
        if params == 1 {
            // id, flags, iteration count, NULL bitmap, bound flag, type, value.
            match body.get(9..) {
                Some([0, 1, 0x08, _, v @ ..]) if v.len() == 8 => {
                    let mut v = v;
                    tag = Some(v.get_i64_le() as u64);
                }
                _ => self
                    .anomalies
                    .push(format!("unexpected execute parameters {body:?}")),
            }
        }
        self.statement(id, &sql, stmt, tag, true, now);
    }

    /// Injects a temporary or permanent refusal; true when the statement was refused.
    fn inject_refusal(
        &mut self,
        id: u32,
        sql: &str,
        tag: Option<u64>,
        stmt: &Stmt,
        now: Duration,
    ) -> bool {
        let r: f64 = self.rng.gen();
        let at = now + self.latency();
        if r < self.faults.temporary {
            let (code, message) = TEMPORARY_ERRORS[self.rng.gen_range(0..TEMPORARY_ERRORS.len())];
            self.refusals.push(Refusal {
                tag,
                sql: sql.to_string(),
                code,
            });
            self.reply(id, at, &[err_packet(code, message)], false);
            self.kill_conn(id, at);
            return true;
        }
        if r < self.faults.temporary + self.faults.permanent && !stmt.is_txn_control() {
            self.refusals.push(Refusal {
                tag,
                sql: sql.to_string(),
                code: ER_NO_SUCH_TABLE,
            });
            self.reply(
                id,
                at,
                &[err_packet(ER_NO_SUCH_TABLE, "Table 'sim.t' doesn't exist")],
                false,
            );
            return true;
        }
        false
    }

    fn visible(&self, id: u32, key: &str) -> bool {
        if self.committed.contains(key) {
            return true;
        }
        self.conns
            .get(&id)
            .and_then(|c| c.txn)
            .and_then(|t| self.txns.get(t))
            .is_some_and(|t| t.inserts.iter().any(|k| k == key))
    }

    /// Runs a statement (text or binary protocol) starting at `now`.
    fn statement(
        &mut self,
        id: u32,
        sql: &str,
        stmt: Option<Stmt>,
        tag: Option<u64>,
        binary: bool,
        now: Duration,
    ) {
        let Some(stmt) = stmt else {
            self.anomalies.push(format!("unparsable statement {sql:?}"));
            let at = now + self.latency();
            self.reply(id, at, &[err_packet(1064, "syntax error")], false);
            return;
        };
        if self.inject_refusal(id, sql, tag, &stmt, now) {
            return;
        }
        let stall = self.rng.gen_bool(self.faults.stall.clamp(0.0, 1.0));
        if stall && !self.rng.gen_bool(self.faults.stall_ran.clamp(0.0, 1.0)) {
            self.stall(id, now);
            return;
        }
        let mut run = Run {
            conn: id,
            tag,
            stmt: stmt.clone(),
            value: None,
            dup: false,
            txn: self.conns.get(&id).and_then(|c| c.txn),
        };
        let mut killable = false;
        let mut delay = self.latency();
        let st_before = self.status(id);
        let packets = match &stmt {
            Stmt::Insert(k) => {
                if self.visible(id, k) {
                    run.dup = true;
                    vec![err_packet(
                        ER_DUP_ENTRY,
                        &format!("Duplicate entry '{k}' for key 'PRIMARY'"),
                    )]
                } else {
                    match run.txn {
                        Some(t) => self.txns[t].inserts.push(k.clone()),
                        None => {
                            self.committed.insert(k.clone());
                        }
                    }
                    vec![ok_packet(st_before)]
                }
            }
            Stmt::Select(k) => {
                let v = i64::from(self.visible(id, k));
                run.value = Some(v);
                result_set(&[v], binary, st_before)
            }
            Stmt::Scan(n) => {
                let values: Vec<i64> = (0..i64::from(*n)).collect();
                result_set(&values, binary, st_before)
            }
            Stmt::Sleep(ms) => {
                killable = true;
                delay += Duration::from_millis(u64::from(*ms));
                result_set(&[0], binary, st_before)
            }
            Stmt::Begin => {
                if let Some(t) = self.conns.get(&id).and_then(|c| c.txn) {
                    // An open transaction is committed implicitly.
                    self.end_txn(t, TxnEnd::Committed);
                }
                self.txns.push(ServerTxn {
                    started_by: tag,
                    end: TxnEnd::Open,
                    inserts: Vec::new(),
                });
                let t = self.txns.len() - 1;
                if let Some(c) = self.conns.get_mut(&id) {
                    c.txn = Some(t);
                }
                run.txn = Some(t);
                vec![ok_packet(self.status(id))]
            }
            Stmt::Commit | Stmt::Rollback => {
                if let Some(t) = self.conns.get_mut(&id).and_then(|c| c.txn.take()) {
                    let end = if stmt == Stmt::Commit {
                        TxnEnd::Committed
                    } else {
                        TxnEnd::RolledBack
                    };
                    self.end_txn(t, end);
                }
                vec![ok_packet(self.status(id))]
            }
            Stmt::Set => vec![ok_packet(st_before)],
        };
        self.runs.push(run);
        if stall {
            self.stall(id, now);
            return;
        }
        self.reply(id, now + delay, &packets, killable);
    }

    /// The statement never answers; the server closes the connection later.
    fn stall(&mut self, id: u32, now: Duration) {
        let killable = self.rng.gen_bool(0.5);
        let cut = self.faults.stall_cut;
        if let Some(c) = self.conns.get_mut(&id) {
            c.stuck = Some(killable);
            c.close_at = Some(c.close_at.map_or(now + cut, |t| t.min(now + cut)));
        }
    }
}

fn read_u32(body: &[u8]) -> u32 {
    match body.get(..4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => u32::MAX,
    }
}

fn has_packet(buf: &BytesMut) -> bool {
    match buf.get(..HEADER_LEN) {
        Some(&[a, b, c, s]) => buf.len() >= HEADER_LEN + PacketHeader::parse([a, b, c, s]).len,
        _ => false,
    }
}

/// Takes the next command packet (a new exchange: sequence id 0).
fn take_packet(buf: &mut BytesMut, anomalies: &mut Vec<String>) -> Option<Bytes> {
    if !has_packet(buf) {
        return None;
    }
    let header = PacketHeader::parse([buf[0], buf[1], buf[2], buf[3]]);
    if header.seq != 0 {
        anomalies.push(format!("command packet with sequence id {}", header.seq));
    }
    buf.advance(HEADER_LEN);
    Some(buf.split_to(header.len).freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_parse_tags_and_statements() {
        assert_eq!(
            parse("SELECT k3 /*17*/"),
            (Some(Stmt::Select("k3".into())), Some(17))
        );
        assert_eq!(parse("COMMIT /*2*/"), (Some(Stmt::Commit), Some(2)));
        assert_eq!(
            parse("START TRANSACTION /*5*/"),
            (Some(Stmt::Begin), Some(5))
        );
        assert_eq!(
            parse("SELECT k1 ?"),
            (Some(Stmt::Select("k1".into())), None)
        );
        assert_eq!(parse("ROLLBACK"), (Some(Stmt::Rollback), None));
        assert_eq!(parse("nonsense"), (None, None));
    }
}
