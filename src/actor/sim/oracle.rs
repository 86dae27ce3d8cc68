//! The checks run after every schedule: what each caller was told against what the model
//! server ran.
use std::collections::HashMap;
use std::time::Duration;

use super::model::{Model, Run, Stmt, TxnEnd, ER_DUP_ENTRY};
use super::{Bounds, CmdRecord, Op, Outcome, Script};
use crate::error::ErrorKind;

/// What a schedule left behind.
pub(super) struct Ctx<'a> {
    pub(super) cmds: &'a [CmdRecord],
    pub(super) model: &'a Model,
    pub(super) scripts: &'a [Script],
    pub(super) bounds: Bounds,
    pub(super) driver_anomalies: &'a [String],
}

/// Slack for a stream whose consumer makes the engine wait (up to 3 ms per row).
const STREAM_SLACK: Duration = Duration::from_millis(100);

/// Commands whose statement carries its command id, so that its runs are known.
fn tagged(op: Op) -> bool {
    matches!(
        op,
        Op::Select(_)
            | Op::Insert(_)
            | Op::Scan(_)
            | Op::Sleep(_)
            | Op::Set
            | Op::ExecSelect(_)
            | Op::ExecScan(_)
            | Op::ExecInsert(_)
            | Op::Begin
            | Op::Commit
    )
}

/// Whether the server ran the statement the command stands for.
fn runs_as(op: Op, stmt: &Stmt) -> bool {
    let key = |k: u32| format!("k{k}");
    match (op, stmt) {
        (Op::Select(k) | Op::ExecSelect(k), Stmt::Select(s)) => *s == key(k),
        (Op::Insert(k) | Op::ExecInsert(k), Stmt::Insert(s)) => *s == key(k),
        (Op::Scan(n) | Op::ExecScan(n), Stmt::Scan(m)) => n == *m,
        (Op::Sleep(n), Stmt::Sleep(m)) => n == *m,
        (Op::Set, Stmt::Set) | (Op::Begin, Stmt::Begin) | (Op::Commit, Stmt::Commit) => true,
        _ => false,
    }
}

/// Every violation of the promise in one schedule.
pub(super) fn check(ctx: &Ctx<'_>) -> Vec<String> {
    let mut v = Vec::new();
    for a in &ctx.model.anomalies {
        v.push(format!("[protocol] the server saw: {a}"));
    }
    for a in ctx.driver_anomalies {
        v.push(format!("[driver] {a}"));
    }
    let mut runs: HashMap<u64, Vec<&Run>> = HashMap::new();
    for r in &ctx.model.runs {
        if let Some(t) = r.tag {
            runs.entry(t).or_default().push(r);
        }
    }
    for (id, c) in ctx.cmds.iter().enumerate() {
        let ran: &[&Run] = runs.get(&(id as u64)).map_or(&[], Vec::as_slice);
        check_command(ctx, id, c, ran, &mut v);
    }
    for (s, script) in ctx.scripts.iter().enumerate() {
        check_script(ctx, s, script, &runs, &mut v);
    }
    // No statement outside a transaction runs inside a transaction handle's transaction.
    for r in &ctx.model.runs {
        let (Some(tag), Some(t)) = (r.tag, r.txn) else {
            continue;
        };
        let Some(c) = ctx.cmds.get(tag as usize) else {
            continue;
        };
        let owner = ctx.model.txns[t]
            .started_by
            .and_then(|b| ctx.cmds.get(b as usize))
            .filter(|b| b.txn.is_some());
        if let Some(owner) = owner {
            if c.txn != owner.txn {
                v.push(format!(
                    "[txn] #{tag} {:?} (transaction {:?}) ran inside transaction {:?}'s server transaction {t}",
                    c.op, c.txn, owner.txn
                ));
            }
        }
    }
    v
}

fn check_command(ctx: &Ctx<'_>, id: usize, c: &CmdRecord, ran: &[&Run], v: &mut Vec<String>) {
    let Some(submitted) = c.submitted else {
        return;
    };
    let tagged = tagged(c.op);
    if tagged && !c.retry_safe && ran.len() > 1 {
        v.push(format!(
            "[at-most-once] #{id} {:?} ran {} times on connections {:?}",
            c.op,
            ran.len(),
            ran.iter().map(|r| r.conn).collect::<Vec<_>>()
        ));
    }
    for r in ran {
        if !runs_as(c.op, &r.stmt) {
            v.push(format!(
                "[routing] #{id} {:?} ran on the server as {:?}",
                c.op, r.stmt
            ));
        }
    }
    if c.row_without_room {
        v.push(format!(
            "[stream] #{id} was handed a row while it had no room"
        ));
    }
    match c.answers.len() {
        0 if c.dropped => return,
        0 => {
            v.push(format!("[answer] #{id} {:?} was never answered", c.op));
            return;
        }
        1 => {}
        n => v.push(format!(
            "[answer] #{id} {:?} was answered {n} times: {:?}",
            c.op, c.answers
        )),
    }
    let (at, outcome) = &c.answers[0];
    let b = ctx.bounds;
    let mut allowed = b.queue_timeout + b.server;
    if let Some(t) = c.timeout {
        allowed += t + b.kill_bound;
    }
    if c.stream {
        allowed += STREAM_SLACK;
    }
    let took = at.saturating_sub(submitted);
    if !c.dropped && took > allowed {
        v.push(format!(
            "[deadline] #{id} {:?} was answered after {took:?} (allowed {allowed:?}): {outcome:?}",
            c.op
        ));
    }
    if c.stream {
        let prefix = c.rows.iter().enumerate().all(|(i, &r)| r == i as i64);
        if !prefix {
            v.push(format!("[stream] #{id} got rows {:?}", c.rows));
        }
    }
    match outcome {
        Outcome::Ok(rows) => check_ok(id, c, rows.as_deref(), ran, tagged, v),
        Outcome::Prepared => {
            if !matches!(c.op, Op::Prepare(_)) {
                v.push(format!(
                    "[routing] #{id} {:?} was answered with a statement",
                    c.op
                ));
            }
        }
        Outcome::Err {
            kind,
            may_have_executed,
            code,
            text,
        } => {
            if *kind == ErrorKind::Server {
                let code = code.unwrap_or_default();
                let sent = if code == ER_DUP_ENTRY {
                    ran.iter().any(|r| r.dup)
                } else {
                    // Untagged statements are known by their SQL text.
                    let sql =
                        c.op.exec_sql()
                            .or_else(|| (c.op == Op::Rollback).then(|| "ROLLBACK".to_string()));
                    ctx.model.refusals.iter().any(|r| {
                        r.code == code
                            && (r.tag == Some(id as u64)
                                || (r.tag.is_none() && sql.as_deref() == Some(r.sql.as_str())))
                    })
                };
                if !sent {
                    v.push(format!(
                        "[routing] #{id} {:?} got a server error the server never sent it: {text}",
                        c.op
                    ));
                }
            } else if !may_have_executed && tagged && !ran.is_empty() {
                v.push(format!(
                    "[may-have-executed] #{id} {:?} ran on the server but failed with may_have_executed() == false: {text}",
                    c.op
                ));
            }
        }
    }
}

fn check_ok(
    id: usize,
    c: &CmdRecord,
    rows: Option<&[i64]>,
    ran: &[&Run],
    tagged: bool,
    v: &mut Vec<String>,
) {
    if tagged && ran.is_empty() {
        v.push(format!(
            "[ack] #{id} {:?} succeeded although the server never ran it",
            c.op
        ));
        return;
    }
    let expected_rows = |n: u32| (0..i64::from(n)).collect::<Vec<_>>();
    match c.op {
        Op::Select(_) | Op::ExecSelect(_) => {
            let ok = matches!(rows, Some([x]) if ran.iter().any(|r| r.value == Some(*x)));
            if !ok {
                v.push(format!(
                    "[routing] #{id} {:?} got rows {rows:?}, the server answered {:?}",
                    c.op,
                    ran.iter().map(|r| r.value).collect::<Vec<_>>()
                ));
            }
        }
        Op::Insert(_) | Op::ExecInsert(_) if !ran.iter().any(|r| !r.dup) => {
            v.push(format!(
                "[ack] #{id} {:?} succeeded but the server only refused it",
                c.op
            ));
        }
        Op::Scan(n) | Op::ExecScan(n) => {
            if c.dropped {
                // A consumer that gave up takes no more rows.
                return;
            }
            let got = if c.stream {
                Some(c.rows.as_slice())
            } else {
                rows
            };
            if got != Some(expected_rows(n).as_slice()) {
                v.push(format!(
                    "[stream] #{id} {:?} ended Ok with rows {got:?}",
                    c.op
                ));
            }
        }
        Op::Sleep(_) if rows != Some(&[0][..]) => {
            v.push(format!("[routing] #{id} {:?} got rows {rows:?}", c.op));
        }
        _ => {}
    }
}

fn check_script(
    ctx: &Ctx<'_>,
    s: usize,
    script: &Script,
    runs: &HashMap<u64, Vec<&Run>>,
    v: &mut Vec<String>,
) {
    let ran_of = |id: usize| runs.get(&(id as u64)).map_or(&[][..], Vec::as_slice);
    let begin = script
        .cmds
        .iter()
        .copied()
        .find(|&id| ctx.cmds[id].op == Op::Begin);
    let server_txn = begin.and_then(|b| ran_of(b).first().and_then(|r| r.txn));
    for &id in &script.cmds {
        let c = &ctx.cmds[id];
        if c.op == Op::Begin || !tagged(c.op) {
            continue;
        }
        for r in ran_of(id) {
            if server_txn.is_none() || r.txn != server_txn {
                v.push(format!(
                    "[txn] script {s}: #{id} {:?} ran in server transaction {:?} on connection {}, its transaction is {server_txn:?}",
                    c.op, r.txn, r.conn
                ));
            }
        }
    }
    // What a successful COMMIT acknowledged is committed.
    let committed_ok = script.cmds.iter().any(|&id| {
        ctx.cmds[id].op == Op::Commit && ctx.cmds[id].answers.iter().any(|(_, o)| o.is_ok())
    });
    if !committed_ok {
        return;
    }
    let Some(t) = server_txn else {
        v.push(format!(
            "[ack] script {s}: COMMIT succeeded without a transaction"
        ));
        return;
    };
    if ctx.model.txns[t].end != TxnEnd::Committed {
        v.push(format!(
            "[ack] script {s}: COMMIT succeeded but server transaction {t} ended {:?}",
            ctx.model.txns[t].end
        ));
    }
}
