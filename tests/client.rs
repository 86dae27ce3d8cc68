//! The client against real servers: queries, every column type, errors, auth, transports.
mod support;

use actix_mysql::{Client, Date, DateTime, ErrorKind, Opts, QueryResult, Time, Value};
use support::{servers, ServerKind, TestServer};

fn client(srv: &TestServer) -> Client {
    Client::from_url(&srv.url_with_db("actix_test")).unwrap()
}

/// A table name unique to one test on one server.
fn table(srv: &TestServer, test: &str) -> String {
    let name: String = srv
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("t_{test}_{name}")
}

#[actix_rt::test]
async fn should_select_literals_and_report_columns() {
    for srv in servers() {
        let c = client(srv);
        let rows = c
            .query("SELECT 1 AS one, 'two' AS two, NULL AS three, -4.5 AS four")
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{}", srv.name);
        let row = &rows[0];
        assert_eq!(row.get::<i64>("one"), 1);
        assert_eq!(row.get::<String>("two"), "two");
        assert_eq!(row.get::<Option<i32>>("three"), None);
        assert_eq!(row.get::<String>(3), "-4.5");
        let names: Vec<&str> = row.columns().iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["one", "two", "three", "four"]);
    }
}

#[actix_rt::test]
async fn should_return_empty_result_sets_and_exec_results() {
    for srv in servers() {
        let c = client(srv);
        let t = table(srv, "exec");
        c.execute(format!("DROP TABLE IF EXISTS {t}"))
            .await
            .unwrap();
        c.execute(format!(
            "CREATE TABLE {t} (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))"
        ))
        .await
        .unwrap();
        assert!(c
            .query(format!("SELECT * FROM {t}"))
            .await
            .unwrap()
            .is_empty());

        let r = c
            .execute(format!("INSERT INTO {t} (v) VALUES ('a'), ('b'), ('c')"))
            .await
            .unwrap();
        assert_eq!(r.affected_rows, 3, "{}", srv.name);
        assert_eq!(r.insert_id, 1);
        assert!(r.info.contains("Records: 3"), "info: {:?}", r.info);
        assert_eq!(r.warning_count, 0);
        assert_ne!(
            r.server_status & actix_mysql::protocol::constants::status::SERVER_STATUS_AUTOCOMMIT,
            0
        );

        let r = c
            .execute(format!("INSERT INTO {t} (v) VALUES ('d')"))
            .await
            .unwrap();
        assert_eq!(r.insert_id, 4);

        let r = c
            .execute(format!("UPDATE {t} SET v = 'z' WHERE id <= 2"))
            .await
            .unwrap();
        assert_eq!(r.affected_rows, 2);
        assert!(r.info.contains("Rows matched: 2"), "info: {:?}", r.info);

        // A value too long for the column under a non-strict sql_mode gives a warning.
        c.execute("SET SESSION sql_mode = ''").await.unwrap();
        let r = c
            .execute(format!("INSERT INTO {t} (v) VALUES (REPEAT('x', 30))"))
            .await
            .unwrap();
        assert_eq!(r.warning_count, 1, "{}", srv.name);

        let rows = c
            .query(format!("SELECT id, v FROM {t} ORDER BY id"))
            .await
            .unwrap();
        let got: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(got[0], (1, "z".to_string()));
        assert_eq!(got[3], (4, "d".to_string()));
        assert_eq!(got[4].1.len(), 20);
        c.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_decode_every_column_type() {
    for srv in servers() {
        let c = client(srv);
        let t = table(srv, "types");
        c.execute(format!("DROP TABLE IF EXISTS {t}"))
            .await
            .unwrap();
        let json_type = match srv.kind {
            ServerKind::MySql => "JSON",
            ServerKind::MariaDb => "JSON",
        };
        c.execute(format!(
            "CREATE TABLE {t} (
                ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
                mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
                bi BIGINT, biu BIGINT UNSIGNED,
                f FLOAT, d DOUBLE, dec1 DECIMAL(65,30), dec2 DECIMAL(10,2),
                s VARCHAR(50), tx TEXT, b BLOB, bits BIT(12), bit1 BIT(1), bit64 BIT(64),
                dt DATE, tm TIME, tm6 TIME(6), dtt DATETIME, dtt6 DATETIME(6), ts TIMESTAMP(6) NULL,
                y YEAR, j {json_type}, e ENUM('a','b'), st SET('x','y')
            ) DEFAULT CHARSET = utf8mb4"
        ))
        .await
        .unwrap();
        c.execute("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'")
            .await
            .unwrap();
        c.execute(format!(
            "INSERT INTO {t} VALUES (
                -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
                -9223372036854775808, 18446744073709551615,
                1.5, -2.25, '-12345678901234567890123456789012345.123456789012345678901234567890', 12345678.91,
                'héllo wörld ✓', 'text', X'00FF10', b'101010101010', b'1', b'1111111111111111111111111111111111111111111111111111111111111111',
                '2024-02-29', '-838:59:59', '837:59:59.999999', '1999-12-31 23:59:59', '2000-01-01 00:00:00.000001', '2038-01-19 03:14:07.999999',
                2155, '{{\"a\": [1, 2]}}', 'b', 'x,y'
            )"
        ))
        .await
        .unwrap();
        c.execute(format!("INSERT INTO {t} (ti) VALUES (NULL)"))
            .await
            .unwrap();

        let rows = c.query(format!("SELECT * FROM {t}")).await.unwrap();
        assert_eq!(rows.len(), 2);
        let r = &rows[0];
        assert_eq!(r.get::<i8>("ti"), -128);
        assert_eq!(r.get::<u8>("tiu"), 255);
        assert_eq!(r.get::<i16>("si"), i16::MIN);
        assert_eq!(r.get::<u16>("siu"), u16::MAX);
        assert_eq!(r.get::<i32>("mi"), -8_388_608);
        assert_eq!(r.get::<u32>("miu"), 16_777_215);
        assert_eq!(r.get::<i32>("i"), i32::MIN);
        assert_eq!(r.get::<u32>("iu"), u32::MAX);
        assert_eq!(r.get::<i64>("bi"), i64::MIN);
        assert_eq!(r.get::<u64>("biu"), u64::MAX);
        assert_eq!(r.get::<f32>("f"), 1.5);
        assert_eq!(r.get::<f64>("d"), -2.25);
        assert_eq!(
            r.get::<String>("dec1"),
            "-12345678901234567890123456789012345.123456789012345678901234567890"
        );
        assert_eq!(
            r.get::<actix_mysql::Decimal>("dec2").to_string(),
            "12345678.91"
        );
        assert_eq!(r.get::<String>("s"), "héllo wörld ✓");
        assert_eq!(r.get::<String>("tx"), "text");
        assert_eq!(r.get::<Vec<u8>>("b"), vec![0x00, 0xFF, 0x10]);
        assert_eq!(r.get::<u64>("bits"), 0b1010_1010_1010);
        assert!(r.get::<bool>("bit1"));
        assert_eq!(r.get::<u64>("bit64"), u64::MAX);
        assert_eq!(
            r.get::<Date>("dt"),
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
        );
        assert_eq!(
            r.get::<Time>("tm"),
            Time {
                negative: true,
                hours: 838,
                minutes: 59,
                seconds: 59,
                micros: 0
            }
        );
        assert_eq!(r.get::<Time>("tm6").micros, 999_999);
        assert_eq!(r.get::<DateTime>("dtt").to_string(), "1999-12-31 23:59:59");
        assert_eq!(r.get::<DateTime>("dtt6").micros, 1);
        assert_eq!(
            r.get::<DateTime>("ts").to_string(),
            "2038-01-19 03:14:07.999999"
        );
        assert_eq!(r.get::<u16>("y"), 2155);
        let j: String = r.get("j");
        assert!(j.replace(' ', "") == r#"{"a":[1,2]}"#, "{j}");
        assert_eq!(r.get::<String>("e"), "b");
        assert_eq!(r.get::<String>("st"), "x,y");

        // Every column of the second row is NULL but the first.
        let r = &rows[1];
        assert_eq!(r.get::<Option<i8>>("ti"), None);
        for v in &r.values()[1..] {
            assert_eq!(v, &Value::Null);
        }

        // Overflow is a typed decode error naming the column.
        let err = rows[0].try_get::<i8>("siu").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert!(err.to_string().contains("siu"), "{err}");
        c.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_represent_zero_dates_explicitly() {
    for srv in servers() {
        let c = client(srv);
        c.execute("SET SESSION sql_mode = ''").await.unwrap();
        let rows = c
            .query("SELECT CAST('0000-00-00' AS DATE) AS d, CAST('0000-00-00 00:00:00' AS DATETIME) AS dt")
            .await
            .unwrap();
        let r = &rows[0];
        match r.values()[0] {
            Value::Date(d) => assert!(d.is_zero(), "{}: {d:?}", srv.name),
            // Some servers turn an invalid cast into NULL with a warning.
            Value::Null => {}
            ref other => panic!("{}: unexpected {other:?}", srv.name),
        }
        let t = table(srv, "zero");
        c.execute(format!("DROP TABLE IF EXISTS {t}"))
            .await
            .unwrap();
        c.execute(format!("CREATE TABLE {t} (d DATE, dt DATETIME)"))
            .await
            .unwrap();
        c.execute(format!(
            "INSERT INTO {t} VALUES ('0000-00-00', '0000-00-00 00:00:00')"
        ))
        .await
        .unwrap();
        let rows = c.query(format!("SELECT d, dt FROM {t}")).await.unwrap();
        assert!(rows[0].get::<Date>("d").is_zero());
        assert!(rows[0].get::<DateTime>("dt").date.is_zero());
        assert_eq!(rows[0].get::<String>("d"), "0000-00-00");
        c.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_return_multiple_result_sets_from_a_procedure() {
    for srv in servers() {
        let c = client(srv);
        let p = table(srv, "proc");
        c.execute(format!("DROP PROCEDURE IF EXISTS {p}"))
            .await
            .unwrap();
        c.execute(format!(
            "CREATE PROCEDURE {p}() BEGIN SELECT 1 AS a; SELECT 'x' AS b, 'y' AS c UNION ALL SELECT 'z', 'w'; END"
        ))
        .await
        .unwrap();
        let results = c.query_multi(format!("CALL {p}()")).await.unwrap();
        assert_eq!(results.len(), 3, "{}: {results:?}", srv.name);
        match &results[0] {
            QueryResult::Rows { rows, .. } => assert_eq!(rows[0].get::<i32>("a"), 1),
            other => panic!("{other:?}"),
        }
        match &results[1] {
            QueryResult::Rows { rows, columns, .. } => {
                assert_eq!(columns.len(), 2);
                assert_eq!(rows.len(), 2);
                assert_eq!(rows[1].get::<String>("c"), "w");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(results[2], QueryResult::Exec(_)));
        // `query` returns the first result set; the connection is in step afterwards.
        let rows = c.query(format!("CALL {p}()")).await.unwrap();
        assert_eq!(rows[0].get::<i32>("a"), 1);
        assert_eq!(c.query("SELECT 2").await.unwrap()[0].get::<i32>(0), 2);
        c.execute(format!("DROP PROCEDURE {p}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_move_20_mb_values_across_the_packet_boundary_both_ways() {
    const LEN: usize = 20 * 1024 * 1024;
    for srv in servers() {
        let c = client(srv);
        let t = table(srv, "big");
        c.execute(format!("DROP TABLE IF EXISTS {t}"))
            .await
            .unwrap();
        c.execute(format!("CREATE TABLE {t} (id INT PRIMARY KEY, b LONGBLOB)"))
            .await
            .unwrap();
        // Client to server: a 20 MB statement is split into two packets.
        let payload: String = (0..LEN).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        let r = c
            .execute(format!("INSERT INTO {t} VALUES (1, '{payload}')"))
            .await
            .unwrap();
        assert_eq!(r.affected_rows, 1, "{}", srv.name);
        // Server to client: a 20 MB row is split too.
        let rows = c
            .query(format!("SELECT b, LENGTH(b) FROM {t} WHERE id = 1"))
            .await
            .unwrap();
        assert_eq!(rows[0].get::<u64>(1), LEN as u64);
        let got: Vec<u8> = rows[0].get(0);
        assert_eq!(got.len(), LEN);
        assert!(got == payload.as_bytes());
        // Exactly one maximal packet plus an empty one.
        let rows = c
            .query(format!("SELECT LENGTH(REPEAT('x', {}))", 0xFF_FFFF))
            .await
            .unwrap();
        assert_eq!(rows[0].get::<u64>(0), 0xFF_FFFF);
        c.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_report_server_errors_with_code_state_and_query() {
    for srv in servers() {
        let c = client(srv);
        let err = c.query("SELEC 1").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{}", srv.name);
        assert_eq!(err.code(), Some(1064));
        assert_eq!(err.sql_state(), Some("42000"));
        assert_eq!(err.query(), Some("SELEC 1"));
        assert!(err.to_string().contains("1064"), "{err}");

        let err = c
            .query("SELECT * FROM no_such_table_here")
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(1146));
        assert_eq!(err.sql_state(), Some("42S02"));
        let server = err.as_server_error().unwrap();
        assert!(server.message.contains("no_such_table_here"));

        // The connection stays usable after a server error.
        assert_eq!(c.query("SELECT 7").await.unwrap()[0].get::<i32>(0), 7);
    }
}

#[actix_rt::test]
async fn should_fail_with_1045_on_a_wrong_password() {
    for srv in servers() {
        let opts = Opts::from_url(&srv.url())
            .unwrap()
            .with_password("definitely-wrong");
        let c = Client::new(opts);
        let err = c.query("SELECT 1").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{}: {err}", srv.name);
        assert_eq!(err.code(), Some(1045));
        assert_eq!(err.sql_state(), Some("28000"));
        assert!(!err.to_string().contains("definitely-wrong"));
    }
}

#[actix_rt::test]
async fn should_fail_with_1049_on_an_unknown_database() {
    for srv in servers() {
        let c = Client::from_url(&srv.url_with_db("no_such_db_anywhere")).unwrap();
        let err = c.query("SELECT 1").await.unwrap_err();
        assert_eq!(err.code(), Some(1049), "{}: {err}", srv.name);
        assert_eq!(err.kind(), ErrorKind::Server);
        // A later select_db on the same client also fails cleanly; an existing one works.
        let c = client(srv);
        let err = c.select_db("no_such_db_anywhere").await.unwrap_err();
        assert_eq!(err.code(), Some(1049));
        c.select_db("mysql").await.unwrap();
        let rows = c.query("SELECT DATABASE()").await.unwrap();
        assert_eq!(rows[0].get::<String>(0), "mysql");
    }
}

#[actix_rt::test]
async fn should_use_the_database_from_the_options_at_connect() {
    for srv in servers() {
        let c = client(srv);
        let rows = c.query("SELECT DATABASE()").await.unwrap();
        assert_eq!(rows[0].get::<String>(0), "actix_test", "{}", srv.name);
        let c = Client::from_url(&srv.url()).unwrap();
        let rows = c.query("SELECT DATABASE()").await.unwrap();
        assert_eq!(rows[0].get::<Option<String>>(0), None);
    }
}

#[actix_rt::test]
async fn should_connect_over_a_unix_socket() {
    for srv in servers() {
        let Some(socket) = &srv.socket else { continue };
        let opts = Opts::new()
            .with_socket(socket.clone())
            .with_user(srv.user.clone())
            .with_password(srv.password.clone());
        let c = Client::new(opts);
        let rows = c.query("SELECT 1 + 1").await.unwrap();
        assert_eq!(rows[0].get::<i32>(0), 2, "{}", srv.name);
        c.ping().await.unwrap();
    }
}

#[actix_rt::test]
async fn should_ping_and_report_connection_info() {
    for srv in servers() {
        let c = client(srv);
        assert!(c.connection_info().await.unwrap().is_none());
        c.ping().await.unwrap();
        let info = c.connection_info().await.unwrap().unwrap();
        assert!(info.connection_id > 0);
        assert_eq!(
            info.is_mariadb,
            srv.kind == ServerKind::MariaDb,
            "{}",
            srv.name
        );
        let rows = c.query("SELECT CONNECTION_ID()").await.unwrap();
        assert_eq!(rows[0].get::<u32>(0), info.connection_id);
    }
}

#[actix_rt::test]
async fn should_keep_order_across_many_concurrent_senders() {
    for srv in servers() {
        let c = client(srv);
        let futs = (0..200).map(|i| {
            let c = c.clone();
            async move { c.query(format!("SELECT {i}")).await.unwrap()[0].get::<i64>(0) }
        });
        let got = futures_util::future::join_all(futs).await;
        assert_eq!(got, (0..200).collect::<Vec<i64>>(), "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_reconnect_after_the_connection_is_killed() {
    for srv in servers() {
        let c = client(srv);
        let admin = client(srv);
        c.execute("SET @marker = 1").await.unwrap();
        let id = c.connection_info().await.unwrap().unwrap().connection_id;
        admin.execute(format!("KILL {id}")).await.unwrap();
        // The kill closes the socket while nothing is in flight: the next query reconnects.
        let mut ok = false;
        for _ in 0..20 {
            match c.query("SELECT CONNECTION_ID()").await {
                Ok(rows) => {
                    assert_ne!(rows[0].get::<u32>(0), id, "{}", srv.name);
                    ok = true;
                    break;
                }
                Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{e}"),
            }
        }
        assert!(ok, "{}: no reconnect", srv.name);
        // Session variables set by raw SQL are not restored.
        let rows = c.query("SELECT @marker").await.unwrap();
        assert_eq!(rows[0].get::<Option<i64>>(0), None);
    }
}

#[actix_rt::test]
async fn should_drop_a_future_mid_result_and_stay_usable() {
    for srv in servers() {
        let c = client(srv);
        let big = c.query("SELECT REPEAT('x', 5000000) UNION ALL SELECT REPEAT('y', 5000000)");
        // Poll once so the query is sent, then drop it.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(1), big).await;
        let rows = c.query("SELECT 42").await.unwrap();
        assert_eq!(rows[0].get::<i32>(0), 42, "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_reset_the_session_to_its_options() {
    for srv in servers() {
        let opts = Opts::from_url(&srv.url_with_db("actix_test"))
            .unwrap()
            .with_init_sql("SET @from_init = 'yes'");
        let c = Client::new(opts);
        let id = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get::<u32>(0);
        c.execute("SET @leak = 'secret'").await.unwrap();
        c.execute("SET SESSION time_zone = '+05:00'").await.unwrap();
        c.select_db("mysql").await.unwrap();
        c.execute("CREATE TEMPORARY TABLE tmp_reset (x INT)")
            .await
            .unwrap();
        c.reset_connection().await.unwrap();
        let rows = c
            .query("SELECT @leak, @from_init, DATABASE(), @@SESSION.time_zone = @@GLOBAL.time_zone, CONNECTION_ID()")
            .await
            .unwrap();
        let r = &rows[0];
        assert_eq!(r.get::<Option<String>>(0), None, "{}", srv.name);
        assert_eq!(r.get::<String>(1), "yes");
        assert_eq!(r.get::<String>(2), "actix_test");
        assert_eq!(r.get::<i64>(3), 1);
        assert_eq!(r.get::<u32>(4), id, "same connection");
        let e = c.query("SELECT * FROM mysql.tmp_reset").await.unwrap_err();
        assert_eq!(e.code(), Some(1146));
    }
}

#[actix_rt::test]
async fn should_close_the_connection_when_closed_or_dropped() {
    for srv in servers() {
        let admin = client(srv);
        let exists = |id: u32| {
            let admin = admin.clone();
            async move {
                !admin
                    .query(format!(
                        "SELECT ID FROM information_schema.PROCESSLIST WHERE ID = {id}"
                    ))
                    .await
                    .unwrap()
                    .is_empty()
            }
        };
        let gone = |id: u32| async move {
            for _ in 0..100 {
                if !exists(id).await {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            false
        };

        // Explicit close: queued work finishes first, later commands are refused.
        let c = client(srv);
        let id = c
            .query_one("SELECT CONNECTION_ID()")
            .await
            .unwrap()
            .get::<u32>(0);
        let slow = {
            let c = c.clone();
            actix_rt::spawn(async move { c.query("SELECT SLEEP(0.3), 1").await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        c.close().await.unwrap();
        assert!(slow.await.unwrap().is_ok(), "{}", srv.name);
        assert!(gone(id).await, "{}: still connected after close", srv.name);
        let e = c.query("SELECT 1").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Closed);

        // Dropping every handle closes the connection too.
        let c = client(srv);
        let id = c
            .query_one("SELECT CONNECTION_ID()")
            .await
            .unwrap()
            .get::<u32>(0);
        drop(c);
        assert!(gone(id).await, "{}: still connected after drop", srv.name);
    }
}

#[actix_rt::test]
async fn should_load_local_files_only_through_the_users_handler() {
    for srv in servers() {
        let admin = client(srv);
        if srv.kind == ServerKind::MySql {
            admin.execute("SET GLOBAL local_infile = 1").await.unwrap();
        }
        let t = table(srv, "infile");
        admin
            .execute(format!("DROP TABLE IF EXISTS {t}"))
            .await
            .unwrap();
        admin
            .execute(format!(
                "CREATE TABLE {t} (id INT PRIMARY KEY, name VARCHAR(20))"
            ))
            .await
            .unwrap();
        let load = |file: &str| {
            format!(
                "LOAD DATA LOCAL INFILE '{file}' INTO TABLE {t} FIELDS TERMINATED BY ',' (id, name)"
            )
        };
        let count = || async {
            admin
                .query_one(format!("SELECT COUNT(*) FROM {t}"))
                .await
                .unwrap()
                .get::<i64>(0)
        };

        // Off by default.
        let e = admin.execute(load("users.csv")).await.unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Usage | ErrorKind::Server),
            "{}: {e}",
            srv.name
        );
        assert_eq!(count().await, 0);

        let opts = Opts::from_url(&srv.url_with_db("actix_test"))
            .unwrap()
            .with_local_infile_handler(|name: &str| {
                if name == "users.csv" {
                    Ok(b"1,alice\n2,bob\n".to_vec())
                } else {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::PermissionDenied,
                        "not this one",
                    ))
                }
            });
        let c = Client::new(opts);
        let r = c.execute(load("users.csv")).await.unwrap();
        assert_eq!(r.affected_rows, 2, "{}", srv.name);
        let e = c.execute(load("/etc/passwd")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage, "{}: {e}", srv.name);
        assert!(e.to_string().contains("/etc/passwd"), "{e}");
        assert_eq!(count().await, 2);
        // The connection is in step afterwards.
        assert_eq!(c.query_one("SELECT 5").await.unwrap().get::<i32>(0), 5);
        admin.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}
