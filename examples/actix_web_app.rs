//! A small REST service over one table: a `Pool` shared through `web::Data`, JSON in and out,
//! database errors turned into HTTP statuses by the crate's `ResponseError` impl (feature
//! `actix-web`), and a graceful shutdown that closes the pool after the server stops.
//!
//! ```text
//! cargo run --features actix-web --example actix_web_app
//! BIND_ADDR=127.0.0.1:0 MYSQL_URL=mysql://user:pass@127.0.0.1:3306/ \
//!     cargo run --features actix-web --example actix_web_app
//!
//! curl -i -X POST localhost:8080/items -H 'content-type: application/json' -d '{"name":"tea","quantity":3}'
//! curl -i localhost:8080/items
//! curl -i localhost:8080/items/1
//! curl -i -X PUT localhost:8080/items/1 -H 'content-type: application/json' -d '{"name":"tea","quantity":5}'
//! curl -i -X DELETE localhost:8080/items/1
//! ```
//!
//! Without `MYSQL_URL`, a throwaway local server is started for the run. `BIND_ADDR`
//! (default `127.0.0.1:8080`; port 0 picks a free one) sets where the service listens; the
//! bound address is printed. Ctrl-C (or SIGTERM) stops the server, lets the requests in
//! progress finish, then closes the pool.
#[path = "../tests/support/server.rs"]
mod server;

#[path = "actix_web_app/app.rs"]
mod app;

use std::time::Duration;

use actix_mysql::{Client, Opts, Pool, PoolOpts};
use actix_web::{web, App, HttpServer};

const DB: &str = "actix_web_app";

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = match std::env::var("MYSQL_URL") {
        Ok(url) => url,
        Err(_) => {
            let srv = server::start_throwaway();
            println!("started a throwaway {} on port {}", srv.name, srv.port);
            srv.url()
        }
    };
    // `pool_*` parameters of the URL configure the pool, the rest the connections.
    let (pool_opts, url) = PoolOpts::split_url(&url)?;
    let opts = Opts::from_url(&url)?.with_connect_timeout(Duration::from_secs(5));

    // One-off set-up on a plain client, then a pool on the service's database.
    let setup = Client::new(opts.clone());
    setup
        .execute(format!("CREATE DATABASE IF NOT EXISTS {DB}"))
        .await?;
    setup.close().await?;
    let pool = Pool::new(
        opts.with_db(DB),
        pool_opts
            .with_max_size(8)
            .with_wait_timeout(Duration::from_secs(2)),
    );
    app::init_schema(&pool).await?;

    let bind = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let data = web::Data::new(pool.clone());
    let server =
        HttpServer::new(move || App::new().app_data(data.clone()).configure(app::configure))
            .workers(2)
            .shutdown_timeout(10)
            .bind(&bind)?;
    for addr in server.addrs() {
        println!("listening on http://{addr}");
    }
    // Runs until Ctrl-C / SIGTERM; requests in progress get up to 10 s to finish.
    server.run().await?;

    // Every worker has stopped: wait for outstanding commands, then say COM_QUIT.
    pool.close(Duration::from_secs(10)).await?;
    println!("pool closed, bye");
    Ok(())
}
