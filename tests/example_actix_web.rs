//! Drives the `actix_web_app` example over HTTP, against every server kind: create, list, get,
//! update, delete, and the error statuses (404, 409, 400) with bodies that leak nothing.
#![cfg(feature = "actix-web")]
mod support;

#[path = "../examples/actix_web_app/app.rs"]
#[allow(dead_code)]
mod app;

use std::time::Duration;

use actix_mysql::{Client, Opts, Pool, PoolOpts};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpServer};
use app::Item;
use serde_json::{json, Value};

/// Starts the app on a free port against `db` on `srv`; returns its base URL, the pool and
/// the server handle.
async fn start_app(
    srv: &support::TestServer,
    db: &str,
) -> (String, Pool, actix_web::dev::ServerHandle) {
    let admin = Client::from_url(&srv.url()).unwrap();
    admin
        .execute(format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    admin.close().await.unwrap();
    let pool = Pool::new(
        Opts::from_url(&srv.url_with_db(db)).unwrap(),
        PoolOpts::new()
            .with_max_size(4)
            .with_wait_timeout(Duration::from_secs(5)),
    );
    app::init_schema(&pool).await.unwrap();
    let data = web::Data::new(pool.clone());
    let server =
        HttpServer::new(move || App::new().app_data(data.clone()).configure(app::configure))
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    (format!("http://{addr}"), pool, handle)
}

async fn call(
    http: &awc::Client,
    method: &str,
    url: &str,
    body: Option<&str>,
) -> (StatusCode, String) {
    let req = http
        .request(method.parse().unwrap(), url)
        .insert_header(("content-type", "application/json"));
    let mut res = match body {
        Some(b) => req.send_body(b.to_string()).await.unwrap(),
        None => req.send().await.unwrap(),
    };
    let bytes = res.body().await.unwrap();
    (res.status(), String::from_utf8(bytes.to_vec()).unwrap())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[actix_rt::test]
async fn crud_and_error_statuses_over_http() {
    for srv in support::servers() {
        let db = support::unique_name("web_app");
        let (base, pool, handle) = start_app(srv, &db).await;
        let http = awc::Client::default();
        let items = format!("{base}/items");
        let ctx = &srv.name;

        // Create two.
        let (status, body) = call(
            &http,
            "POST",
            &items,
            Some(r#"{"name":"tea","quantity":3}"#),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{ctx}: {body}");
        let tea: Item = serde_json::from_str(&body).unwrap();
        assert_eq!((tea.name.as_str(), tea.quantity), ("tea", 3), "{ctx}");
        let (status, body) = call(
            &http,
            "POST",
            &items,
            Some(r#"{"name":"O'Brien's \"scones\""}"#),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{ctx}: {body}");
        let scones: Item = serde_json::from_str(&body).unwrap();
        assert_eq!(scones.name, r#"O'Brien's "scones""#, "{ctx}");
        assert_eq!(scones.quantity, 0, "{ctx}");

        // List and get.
        let (status, body) = call(&http, "GET", &items, None).await;
        assert_eq!(status, StatusCode::OK, "{ctx}: {body}");
        let list: Vec<Item> = serde_json::from_str(&body).unwrap();
        assert_eq!(list, vec![tea.clone(), scones.clone()], "{ctx}");
        let (status, body) = call(&http, "GET", &format!("{items}/{}", scones.id), None).await;
        assert_eq!(status, StatusCode::OK, "{ctx}: {body}");
        assert_eq!(
            serde_json::from_str::<Item>(&body).unwrap(),
            scones,
            "{ctx}"
        );

        // Update, also with nothing changed (affected_rows 0 must not read as "not found").
        let tea_url = format!("{items}/{}", tea.id);
        for _ in 0..2 {
            let (status, body) = call(
                &http,
                "PUT",
                &tea_url,
                Some(r#"{"name":"green tea","quantity":7}"#),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{ctx}: {body}");
            assert_eq!(
                json(&body),
                json!({"id": tea.id, "name": "green tea", "quantity": 7}),
                "{ctx}"
            );
        }

        // 409: a duplicate name, on create and on update; nothing of the row or SQL leaks.
        for (method, url) in [("POST", items.as_str()), ("PUT", tea_url.as_str())] {
            let (status, body) = call(
                &http,
                method,
                url,
                Some(r#"{"name":"O'Brien's \"scones\""}"#),
            )
            .await;
            assert_eq!(status, StatusCode::CONFLICT, "{ctx} {method}: {body}");
            assert_eq!(json(&body), json!({"error": "conflict"}), "{ctx}");
        }

        // 400: malformed JSON, a missing field, an empty name (checked by the app), a value
        // the table's CHECK constraint refuses, and a name too long (checked by the app).
        for bad in [
            r#"{"name":"#,
            r#"{"quantity":1}"#,
            r#"{"name":"  "}"#,
            r#"{"name":"negative","quantity":-1}"#,
            r#"{"name":"toolongtoolongtoolongtoolongtoolongtoolongtoolongtoolongtoolongtoolong"}"#,
            r#"{"name":"big","quantity":99999999999}"#,
        ] {
            let (status, body) = call(&http, "POST", &items, Some(bad)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{ctx} {bad}: {body}");
            assert_eq!(json(&body)["error"], "invalid input", "{ctx} {bad}");
            assert!(!body.contains("INSERT"), "{ctx}: {body}");
        }
        let (status, body) = call(
            &http,
            "PUT",
            &tea_url,
            Some(r#"{"name":"tea","quantity":-5}"#),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{ctx}: {body}");
        let (status, _) = call(&http, "GET", &format!("{items}/not-a-number"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{ctx}");

        // Delete, then 404 for get, update and delete.
        let (status, body) = call(&http, "DELETE", &tea_url, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{ctx}: {body}");
        for (method, body) in [
            ("GET", None),
            ("PUT", Some(r#"{"name":"x"}"#)),
            ("DELETE", None),
        ] {
            let (status, res) = call(&http, method, &tea_url, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{ctx} {method}: {res}");
            assert_eq!(json(&res), json!({"error": "not found"}), "{ctx}");
        }
        let (_, body) = call(&http, "GET", &items, None).await;
        assert_eq!(
            serde_json::from_str::<Vec<Item>>(&body).unwrap(),
            vec![scones],
            "{ctx}"
        );

        // Graceful shutdown: the server first, then the pool.
        handle.stop(true).await;
        pool.close(Duration::from_secs(10)).await.unwrap();
        assert!(pool.is_closed());
        let admin = Client::from_url(&srv.url()).unwrap();
        admin.execute(format!("DROP DATABASE {db}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn database_down_is_503_without_details() {
    // A pool pointing at a port nobody listens on: every request fails to connect.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pool = Pool::new(
        Opts::new()
            .with_port(port)
            .with_password("secret-pw")
            .with_connect_timeout(Duration::from_millis(300))
            .with_queue_timeout(Duration::from_secs(1)),
        PoolOpts::new().with_wait_timeout(Duration::from_secs(1)),
    );
    let data = web::Data::new(pool.clone());
    let server =
        HttpServer::new(move || App::new().app_data(data.clone()).configure(app::configure))
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
    let base = format!("http://{}", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);

    let http = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let (status, body) = call(&http, "GET", &format!("{base}/items"), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(json(&body), json!({"error": "database unavailable"}));
    assert!(
        !body.contains("secret-pw") && !body.contains("SELECT"),
        "{body}"
    );

    handle.stop(true).await;
    let _ = pool.close(Duration::from_secs(5)).await;
}
