//! The blocking, DB-API-like interface from plain synchronous code: connect, cursor,
//! execute with parameters, fetch, commit and rollback. No async runtime in sight.
//!
//! Runs against `MYSQL_URL` when it is set (an account that may create a database), otherwise
//! against a throwaway local server started for the run:
//!
//! ```text
//! cargo run --example blocking_cursor
//! MYSQL_URL=mysql://user:pass@127.0.0.1:3306/ cargo run --example blocking_cursor
//! ```
#[path = "../tests/support/server.rs"]
mod server;

use actix_mysql::blocking::Connection;
use actix_mysql::{params, Opts};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = match std::env::var("MYSQL_URL") {
        Ok(url) => url,
        Err(_) => {
            let srv = server::start_throwaway();
            println!("started a throwaway {} on port {}", srv.name, srv.port);
            srv.url()
        }
    };

    // A URL or `Opts`; `connect` returns once the server has accepted the login.
    let setup = Connection::connect(url.as_str())?;
    setup
        .cursor()?
        .execute("CREATE DATABASE IF NOT EXISTS blocking_demo", ())?;
    setup.close()?;

    let conn = Connection::connect(Opts::from_url(&url)?.with_db("blocking_demo"))?;
    let mut cur = conn.cursor()?;

    // DDL commits on its own; the connection starts a new transaction afterwards.
    cur.execute("DROP TABLE IF EXISTS fruit", ())?;
    cur.execute(
        "CREATE TABLE fruit (
            id INT AUTO_INCREMENT PRIMARY KEY,
            name VARCHAR(40) NOT NULL,
            price DECIMAL(6,2)
        )",
        (),
    )?;

    // Autocommit is off, as in the DB-API: these rows are one transaction.
    let n = cur.executemany(
        "INSERT INTO fruit (name, price) VALUES (?, ?)",
        [
            params!["apple", "0.50"],
            params!["banana", "0.25"],
            params!["cherry", None::<&str>],
        ],
    )?;
    println!("executemany: {n:?} rows, last id {:?}", cur.lastrowid());
    conn.commit()?;

    cur.execute("INSERT INTO fruit (name) VALUES (?)", ("durian",))?;
    println!("inserted id {:?}, then rolled back", cur.lastrowid());
    conn.rollback()?;

    cur.execute(
        "SELECT id, name, price FROM fruit WHERE id >= ? ORDER BY id",
        (1,),
    )?;
    let description = cur.description().unwrap_or_default();
    for d in &description {
        println!(
            "column {:<6} type {:?}, precision {:?}, scale {:?}, nullable {:?}",
            d.name, d.type_code, d.precision, d.scale, d.null_ok
        );
    }
    println!("rowcount {}", cur.rowcount());
    if let Some(first) = cur.fetchone()? {
        println!("fetchone : {first:?}");
    }
    println!("fetchmany: {:?}", cur.fetchmany(1)?);
    for row in &mut cur {
        let row = row?;
        let name: String = row.get("name");
        let price: Option<String> = row.get("price");
        println!(
            "iterated : {name} costs {}",
            price.as_deref().unwrap_or("?")
        );
    }

    cur.execute(
        "UPDATE fruit SET price = price * 2 WHERE price IS NOT NULL",
        (),
    )?;
    println!("updated {} rows", cur.rowcount());
    conn.commit()?;

    match cur.execute("SELECT * FROM no_such_table", ()) {
        Ok(_) => println!("unexpected: the query succeeded"),
        Err(e) => println!(
            "error as expected: kind={:?} code={:?} sqlstate={:?}",
            e.kind(),
            e.code(),
            e.sql_state()
        ),
    }

    cur.execute("DROP DATABASE blocking_demo", ())?;
    cur.close();
    conn.close()?;
    match conn.cursor() {
        Ok(_) => println!("unexpected: a cursor after close"),
        Err(e) => println!("after close: {:?}", e.kind()),
    }
    Ok(())
}
