//! Select a database, insert a row, read it back, and show what an error carries.
//!
//! Runs against `MYSQL_URL` when it is set (an account that may create a database), otherwise
//! against a throwaway local server started for the run:
//!
//! ```text
//! cargo run --example quickstart
//! MYSQL_URL=mysql://user:pass@127.0.0.1:3306/ cargo run --example quickstart
//! ```
#[path = "../tests/support/server.rs"]
mod server;

use actix_mysql::{Client, Opts};

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = match std::env::var("MYSQL_URL") {
        Ok(url) => url,
        Err(_) => {
            let srv = server::start_throwaway();
            println!("started a throwaway {} on port {}", srv.name, srv.port);
            srv.url()
        }
    };
    let opts = Opts::from_url(&url)?
        .with_connect_timeout(std::time::Duration::from_secs(30))
        .with_idle_timeout(Some(std::time::Duration::from_secs(120)));
    let db = Client::new(opts);

    db.execute("CREATE DATABASE IF NOT EXISTS quickstart")
        .await?;
    db.select_db("quickstart").await?;
    db.execute(
        "CREATE TABLE IF NOT EXISTS greetings (
            id INT AUTO_INCREMENT PRIMARY KEY,
            message VARCHAR(100) NOT NULL,
            created DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
        )",
    )
    .await?;

    let res = db
        .execute("INSERT INTO greetings (message) VALUES ('hello from actix-mysql')")
        .await?;
    println!(
        "inserted id {} ({} row affected, status {:#06x})",
        res.insert_id, res.affected_rows, res.server_status
    );

    let rows = db
        .query(format!(
            "SELECT id, message, created FROM greetings WHERE id = {}",
            res.insert_id
        ))
        .await?;
    for row in &rows {
        let id: u64 = row.get("id");
        let message: String = row.get("message");
        let created: actix_mysql::DateTime = row.get("created");
        println!("read back: id={id} message={message:?} created={created}");
    }

    match db.query("SELECT * FROM no_such_table").await {
        Ok(_) => println!("unexpected: the query succeeded"),
        Err(e) => println!(
            "error as expected: code={:?} sqlstate={:?} query={:?}\n  {e}",
            e.code(),
            e.sql_state(),
            e.query()
        ),
    }
    Ok(())
}
