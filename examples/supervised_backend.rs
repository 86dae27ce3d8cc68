//! Worker actors that talk to the database actor with messages, through a database restart.
//!
//! - `Db` is a `SystemService`: any actor finds it with `Db::from_registry()` and asks it for
//!   the `Client` (one supervised connection actor).
//! - Two `Writer` actors, each on its own arbiter (thread), handle `Record` messages with a
//!   `ResponseActFuture`: they send `Execute` to the connection actor, `?` the reply, and
//!   update their own counters afterwards. Their `INSERT IGNORE` is idempotent (a unique key
//!   on the event), so they declare it retry-safe.
//! - A `Reader` actor answers `CountEvents` with a `ResponseFuture` that sends a `Query`.
//! - Midway the database server is killed (SIGKILL) and started again. Commands queued
//!   meanwhile wait in the connection's queue and are sent, in order, on the new connection; a
//!   slow retry-safe read that was in flight is sent again (the `redelivered` counter). A
//!   statement in flight that is *not* retry-safe would fail with `ConnectionLost` instead
//!   (`may_have_executed() == true`), since it may have run.
//!   With `MYSQL_URL` set the server cannot be restarted from here, so the connection is
//!   killed with `KILL CONNECTION` instead.
//!
//! ```text
//! cargo run --example supervised_backend
//! MYSQL_URL=mysql://user:pass@127.0.0.1:3306/ cargo run --example supervised_backend
//! ```
#[path = "../tests/support/server.rs"]
mod server;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_mysql::messages::{Execute, Query};
use actix_mysql::{Client, Connection, Error, Opts, ReconnectPolicy};

const DB: &str = "supervised_backend";
/// Events each writer records.
const EVENTS: u32 = 150;
/// The event after which the database goes away.
const OUTAGE_AT: u32 = 50;

/// Options for the `Db` service, set once in `main` before anything asks for it.
static DB_OPTS: OnceLock<Opts> = OnceLock::new();

/// The database as a system-wide service.
#[derive(Default)]
struct Db {
    client: Option<Client>,
}

impl Actor for Db {
    type Context = Context<Self>;

    fn started(&mut self, _ctx: &mut Context<Self>) {
        let opts = DB_OPTS
            .get()
            .expect("DB_OPTS is set before Db starts")
            .clone();
        self.client = Some(Client::new(opts));
    }
}

impl Supervised for Db {}
impl SystemService for Db {}

/// Asks the `Db` service for its client.
struct GetClient;

impl Message for GetClient {
    type Result = Client;
}

impl Handler<GetClient> for Db {
    type Result = MessageResult<GetClient>;

    fn handle(&mut self, _: GetClient, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(self.client.clone().expect("started"))
    }
}

/// Records event `n` of a writer; answers with the number of rows inserted (0 when a resent
/// insert finds the event already stored).
struct Record(u32);

impl Message for Record {
    type Result = Result<u64, Error>;
}

struct Writer {
    name: &'static str,
    db: Addr<Connection>,
    stored: u64,
    failed: u64,
}

impl Actor for Writer {
    type Context = Context<Self>;
}

impl Handler<Record> for Writer {
    type Result = ResponseActFuture<Self, Result<u64, Error>>;

    fn handle(&mut self, Record(n): Record, _ctx: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        // `?` placeholders, bound on the message (escaped into the SQL on the connection).
        let insert = Execute::new("INSERT IGNORE INTO events (writer, n) VALUES (?, ?)")
            .bind((self.name, n))
            .retry_safe(true);
        Box::pin(
            async move {
                // The outer `?` is the mailbox (the connection actor is gone), the inner one
                // the database's answer.
                let res = db.send(insert).await??;
                Ok(res.affected_rows)
            }
            .into_actor(self)
            .map(|res, act, _ctx| {
                match &res {
                    Ok(_) => act.stored += 1,
                    Err(_) => act.failed += 1,
                }
                res
            }),
        )
    }
}

/// Asks a writer for its counters: (stored, failed).
struct Report;

impl Message for Report {
    type Result = (u64, u64);
}

impl Handler<Report> for Writer {
    type Result = MessageResult<Report>;

    fn handle(&mut self, _: Report, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult((self.stored, self.failed))
    }
}

struct Reader {
    db: Addr<Connection>,
}

impl Actor for Reader {
    type Context = Context<Self>;
}

/// Counts the stored events.
struct CountEvents;

impl Message for CountEvents {
    type Result = Result<i64, Error>;
}

/// A slow read (`SLEEP(2)` first), to be in flight when the connection dies. It is
/// retry-safe, so it is sent again on the new connection and answers normally.
struct SlowCount;

impl Message for SlowCount {
    type Result = Result<i64, Error>;
}

impl Handler<SlowCount> for Reader {
    type Result = ResponseFuture<Result<i64, Error>>;

    fn handle(&mut self, _: SlowCount, _ctx: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        Box::pin(async move {
            let query = Query::new("SELECT SLEEP(2), COUNT(*) FROM events").retry_safe(true);
            let rows = db.send(query).await??;
            Ok(rows[0].get(1))
        })
    }
}

impl Handler<CountEvents> for Reader {
    type Result = ResponseFuture<Result<i64, Error>>;

    fn handle(&mut self, _: CountEvents, _ctx: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        Box::pin(async move {
            let rows = db
                .send(Query::new("SELECT COUNT(*) FROM events WHERE n > 0").retry_safe(true))
                .await??;
            Ok(rows[0].get(0))
        })
    }
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let (url, mut srv) = match std::env::var("MYSQL_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let srv = server::start_throwaway();
            println!("started a throwaway {} on port {}", srv.name, srv.port);
            (srv.url(), Some(srv))
        }
    };
    let opts = Opts::from_url(&url)?
        .with_connect_timeout(Duration::from_secs(5))
        .with_queue_timeout(Duration::from_secs(40))
        .with_reconnect_policy(ReconnectPolicy {
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
            max_attempts: 200,
        });
    let setup = Client::new(opts.clone());
    setup
        .execute(format!("DROP DATABASE IF EXISTS {DB}"))
        .await?;
    setup.execute(format!("CREATE DATABASE {DB}")).await?;
    setup.close().await?;
    DB_OPTS.set(opts.clone().with_db(DB)).expect("set once");

    // Everyone reaches the database through the registry.
    let client = Db::from_registry().send(GetClient).await?;
    client
        .execute(
            "CREATE TABLE events (
                writer VARCHAR(20) NOT NULL,
                n INT NOT NULL,
                PRIMARY KEY (writer, n)
            )",
        )
        .await?;

    let arbiters = [Arbiter::new(), Arbiter::new()];
    let writers: Vec<Addr<Writer>> = ["alpha", "beta"]
        .into_iter()
        .zip(&arbiters)
        .map(|(name, arbiter)| {
            let db = client.addr().clone();
            Writer::start_in_arbiter(&arbiter.handle(), move |_| Writer {
                name,
                db,
                stored: 0,
                failed: 0,
            })
        })
        .collect();
    let reader = Reader {
        db: client.addr().clone(),
    }
    .start();

    let mut replies = Vec::new();
    let mut slow = None;
    let mut outage = None;
    for n in 1..=EVENTS {
        for w in &writers {
            replies.push(actix::spawn(w.send(Record(n))));
        }
        if n == OUTAGE_AT {
            // In flight when the connection dies: a slow retry-safe read. Everything sent
            // after it waits in the connection's queue.
            slow = Some(actix::spawn(reader.send(SlowCount)));
            actix::clock::sleep(Duration::from_millis(300)).await;
            outage = Some(take_database_down(&mut srv, &client).await?);
        }
        if n == OUTAGE_AT + 20 {
            let (state, _, queued) = client.state().await?;
            println!("20 events after the failure: connection {state:?}, {queued} commands queued");
        }
        actix::clock::sleep(Duration::from_millis(20)).await;
    }

    let mut failures = 0;
    for reply in replies {
        if let Err(e) = reply.await?? {
            failures += 1;
            println!("a record failed: {e}");
        }
    }
    match slow.expect("sent").await?? {
        Ok(n) => println!("slow read (in flight during the crash, sent again): {n} events"),
        Err(e) => {
            failures += 1;
            println!("slow read failed: {e}");
        }
    }
    if let Some(outage) = outage {
        if let Some(down) = outage.await? {
            println!("the server was down for {:.1} s", down.as_secs_f64());
        }
    }

    for (name, w) in ["alpha", "beta"].iter().zip(&writers) {
        let (stored, failed) = w.send(Report).await?;
        println!("writer {name}: {stored} records acknowledged, {failed} failed");
    }
    let count = reader.send(CountEvents).await??;
    let expected = i64::from(EVENTS) * writers.len() as i64;
    println!("rows stored: {count} of {expected}");

    let (state, stats, queued) = client.state().await?;
    println!(
        "connection: {state:?}, {queued} queued; connects {}, reconnects {}, failed connect \
         attempts {}, commands redelivered {}, timeouts {}",
        stats.connects, stats.reconnects, stats.connect_failures, stats.redelivered, stats.timeouts
    );

    client.close().await?;
    for a in &arbiters {
        a.stop();
    }
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    if failures > 0 || count != expected {
        return Err("some records were lost".into());
    }
    Ok(())
}

/// Takes the database away for a moment. A server started here is killed (SIGKILL, like a
/// crash) and started again after a second, on a blocking thread, while the actors keep
/// sending; the task answers how long it was gone. For an external server, the client's
/// connection is killed from a second connection instead.
async fn take_database_down(
    srv: &mut Option<server::TestServer>,
    client: &Client,
) -> Result<tokio::task::JoinHandle<Option<Duration>>, Error> {
    if let Some(mut srv) = srv.take() {
        println!("killing the server");
        return Ok(tokio::task::spawn_blocking(move || {
            let down = Instant::now();
            srv.kill();
            std::thread::sleep(Duration::from_secs(1));
            srv.start_again().expect("the server starts again");
            Some(down.elapsed())
        }));
    }
    let opts = DB_OPTS.get().expect("set").clone();
    let admin = Client::new(opts);
    if let Some(info) = client.connection_info().await? {
        println!("killing connection {}", info.connection_id);
        admin
            .execute(format!("KILL CONNECTION {}", info.connection_id))
            .await?;
    }
    admin.close().await?;
    Ok(tokio::task::spawn_blocking(|| None))
}
