//! Shared support for the integration tests: `mod support;` in a test file.
//!
//! The server harness itself is in `server.rs` (standard library only, also used by the
//! examples); this module re-exports it and adds conveniences that may use dev-dependencies.
#![allow(dead_code, unused_imports)]

pub mod proxy;
mod server;

pub use server::*;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A name no other test of this run uses (for tables, databases, users): `prefix_PID_N`.
pub fn unique_name(prefix: &str) -> String {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `fut` to completion on a fresh actix system.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    actix_rt::System::new().block_on(fut)
}

/// Runs `f` once for every test server, naming the server in the panic of a failing run.
pub fn for_each_server(mut f: impl FnMut(&TestServer)) {
    for server in servers() {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(server)));
        if let Err(panic) = result {
            eprintln!("failed against {} ({})", server.name, server.url());
            std::panic::resume_unwind(panic);
        }
    }
}

/// A client of the test database on `srv`.
pub fn client(srv: &TestServer) -> actix_mysql::Client {
    actix_mysql::Client::from_url(&srv.url_with_db(TEST_DB)).unwrap()
}

/// A table name unique to one test on one server: `PREFIX_TEST_SERVER`.
pub fn table_name(prefix: &str, srv: &TestServer, test: &str) -> String {
    let name: String = srv
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{test}_{name}")
}

/// Creates table `name` afresh (dropping any left by an earlier run) with `columns`, the text
/// between the parentheses of `CREATE TABLE`.
pub async fn fresh_table(c: &actix_mysql::Client, name: &str, columns: &str) {
    c.execute(format!("DROP TABLE IF EXISTS {name}"))
        .await
        .unwrap_or_else(|e| panic!("drop {name}: {e}"));
    c.execute(format!("CREATE TABLE {name} ({columns})"))
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e}"));
}
