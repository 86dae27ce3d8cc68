//! The background actix system that runs the connection actors of the blocking API.
//!
//! One system per process, on its own thread (`actix-mysql-blocking`), started by the first
//! blocking call and kept until the process exits. Every blocking call hands a future to it and
//! waits on a channel for the output, at most for the connection's timeout.
use std::future::Future;
use std::sync::mpsc;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use actix::{ArbiterHandle, System};

use crate::error::{Error, Result};

thread_local! {
    /// True on the background system's thread.
    static ON_BLOCKING_RUNTIME: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Name of the background thread.
const THREAD_NAME: &str = "actix-mysql-blocking";

fn arbiter() -> Result<&'static ArbiterHandle> {
    static ARBITER: OnceLock<std::result::Result<ArbiterHandle, String>> = OnceLock::new();
    ARBITER
        .get_or_init(start)
        .as_ref()
        .map_err(|e| Error::closed().with_detail(e.clone()))
}

fn start() -> std::result::Result<ArbiterHandle, String> {
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name(THREAD_NAME.to_string())
        .spawn(move || {
            ON_BLOCKING_RUNTIME.with(|f| f.set(true));
            let system = System::new();
            let _ = tx.send(System::current().arbiter().clone());
            // Runs until the process exits; nothing stops this system.
            let _ = system.run();
        })
        .map_err(|e| format!("cannot start the {THREAD_NAME} thread: {e}"))?;
    rx.recv()
        .map_err(|_| format!("the {THREAD_NAME} thread ended while starting"))
}

/// Refuses to block on a thread that runs asynchronous code.
///
/// On the background system's own thread, waiting would deadlock (the work is queued behind
/// the waiting call). On any other thread inside a Tokio runtime (an actix system, an
/// actix-web worker, `#[tokio::main]`), waiting would stall every task of that thread.
pub(super) fn check_blocking_allowed() -> Result<()> {
    if ON_BLOCKING_RUNTIME.with(|f| f.get()) {
        return Err(Error::usage(
            "a blocking call was made on the thread of the blocking API's own runtime; \
             it would deadlock",
        ));
    }
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::usage(
            "a blocking call was made from inside an async runtime; use actix_mysql::Client \
             there, or call from a thread outside the runtime (std::thread::spawn)",
        ));
    }
    Ok(())
}

/// Runs the future made by `make` on the background system and waits for its output, at most
/// `timeout`.
///
/// `make` runs on the system's thread, so the future needs not be `Send`; it keeps running
/// after a timeout, and its output is then dropped there.
///
/// # Errors
///
/// [`ErrorKind::Usage`](crate::ErrorKind::Usage) inside an async runtime (see
/// [`check_blocking_allowed`]), [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) when the
/// output did not arrive in time, [`ErrorKind::Closed`](crate::ErrorKind::Closed) when the
/// background system is gone.
pub(super) fn block_on<F, Fut, T>(timeout: Option<Duration>, make: F) -> Result<T>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T> + 'static,
    T: Send + 'static,
{
    check_blocking_allowed()?;
    let arbiter = arbiter()?;
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = arbiter.spawn_fn(move || {
        let fut = make();
        actix::spawn(async move {
            let _ = tx.send(fut.await);
        });
    });
    if !spawned {
        return Err(Error::closed().with_detail("the blocking API's runtime has stopped"));
    }
    match timeout {
        Some(t) => rx.recv_timeout(t).map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => Error::timeout(format!(
                "no answer within {t:?} (the blocking call's timeout)"
            )),
            mpsc::RecvTimeoutError::Disconnected => lost(),
        }),
        None => rx.recv().map_err(|_| lost()),
    }
}

fn lost() -> Error {
    Error::closed().with_detail("the blocking API's runtime dropped the call")
}
