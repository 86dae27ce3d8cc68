//! Parameters, prepared statements, binary rows, streaming and multi-statements against real
//! servers.
mod support;

use std::time::Duration;

use actix_mysql::{
    params, Client, Date, DateTime, Decimal, ErrorKind, Opts, QueryResult, Time, Value,
};
use futures_util::StreamExt;
use support::{client, servers};

async fn table(c: &Client, test: &str, columns: &str) -> String {
    let t = support::unique_name(test);
    c.execute(format!(
        "CREATE TABLE {t} ({columns}) DEFAULT CHARSET = utf8mb4"
    ))
    .await
    .unwrap();
    t
}

async fn session_status(c: &Client, name: &str) -> u64 {
    let row = c
        .query_one(format!("SHOW SESSION STATUS LIKE '{name}'"))
        .await
        .unwrap();
    row.get::<String>(1).parse().unwrap()
}

#[actix_rt::test]
async fn should_round_trip_every_type_through_text_and_binary_protocol() {
    for srv in servers() {
        let c = client(srv);
        c.execute("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'")
            .await
            .unwrap();
        let t = table(
            &c,
            "types",
            "id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED, \
             mi MEDIUMINT, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, f FLOAT, d DOUBLE, \
             de DECIMAL(65,30), s VARCHAR(100), b LONGBLOB, bits BIT(64), dt DATE, tm TIME, \
             tm6 TIME(6), dtt DATETIME(6), ts TIMESTAMP(6) NULL, y YEAR, j JSON, n INT NULL",
        )
        .await;
        let dec: Decimal = "-12345678901234567890123456789012345.123456789012345678901234567890"
            .parse()
            .unwrap();
        let row1: Vec<Value> = vec![
            1.into(),
            Value::Int(-128),
            Value::UInt(255),
            Value::Int(i16::MIN as i64),
            Value::UInt(u16::MAX as u64),
            Value::Int(-8_388_608),
            Value::Int(i32::MIN as i64),
            Value::UInt(u32::MAX as u64),
            Value::Int(i64::MIN),
            Value::UInt(u64::MAX),
            Value::Float(1.5),
            Value::Double(-2.25e-300),
            Value::Decimal(dec.clone()),
            Value::from("héllo 'wörld' \\ ✓ 🦀"),
            Value::from(vec![0u8, 1, 0xFF, b'\'', b'\\', 0x1a]),
            Value::Bit(u64::MAX),
            Value::Date(Date {
                year: 0,
                month: 0,
                day: 0,
            }),
            Value::Time(Time {
                negative: true,
                hours: 838,
                minutes: 59,
                seconds: 59,
                micros: 0,
            }),
            Value::Time(Time {
                negative: false,
                hours: 100,
                minutes: 1,
                seconds: 2,
                micros: 345_678,
            }),
            Value::DateTime(DateTime {
                date: Date {
                    year: 9999,
                    month: 12,
                    day: 31,
                },
                hour: 23,
                minute: 59,
                second: 59,
                micros: 999_999,
            }),
            Value::DateTime(DateTime {
                date: Date {
                    year: 2038,
                    month: 1,
                    day: 19,
                },
                hour: 3,
                minute: 14,
                second: 7,
                micros: 1,
            }),
            Value::Year(2155),
            Value::from(r#"{"k": [1, "two", null]}"#),
            Value::Null,
        ];
        let placeholders = vec!["?"; row1.len()].join(", ");
        let insert = c
            .prepare(format!("INSERT INTO {t} VALUES ({placeholders})"))
            .await
            .unwrap();
        assert_eq!(insert.param_count(), row1.len());
        c.exec_drop(&insert, row1.clone()).await.unwrap();
        // The same values through client-side interpolation.
        let mut row2 = row1.clone();
        row2[0] = 2.into();
        c.execute_with(format!("INSERT INTO {t} VALUES ({placeholders})"), row2)
            .await
            .unwrap();

        let select = format!("SELECT * FROM {t} WHERE id = ?");
        let stmt = c.prepare(select.clone()).await.unwrap();
        for id in [1, 2] {
            let binary = c.exec(&stmt, params![id]).await.unwrap();
            let text = c.query_with(select.clone(), params![id]).await.unwrap();
            for (which, rows) in [("binary", &binary), ("text", &text)] {
                let r = &rows[0];
                let ctx = format!("{} {which} row {id}", srv.name);
                assert_eq!(r.get::<i8>("ti"), -128, "{ctx}");
                assert_eq!(r.get::<u8>("tu"), 255, "{ctx}");
                assert_eq!(r.get::<i16>("si"), i16::MIN, "{ctx}");
                assert_eq!(r.get::<u16>("su"), u16::MAX, "{ctx}");
                assert_eq!(r.get::<i32>("mi"), -8_388_608, "{ctx}");
                assert_eq!(r.get::<i32>("i"), i32::MIN, "{ctx}");
                assert_eq!(r.get::<u32>("iu"), u32::MAX, "{ctx}");
                assert_eq!(r.get::<i64>("bi"), i64::MIN, "{ctx}");
                assert_eq!(r.get::<u64>("bu"), u64::MAX, "{ctx}");
                assert_eq!(r.get::<f32>("f"), 1.5, "{ctx}");
                assert_eq!(r.get::<f64>("d"), -2.25e-300, "{ctx}");
                assert_eq!(r.get::<Decimal>("de"), dec, "{ctx}");
                assert_eq!(r.get::<String>("s"), "héllo 'wörld' \\ ✓ 🦀", "{ctx}");
                assert_eq!(
                    r.get::<Vec<u8>>("b"),
                    vec![0u8, 1, 0xFF, b'\'', b'\\', 0x1a],
                    "{ctx}"
                );
                assert_eq!(r.get::<u64>("bits"), u64::MAX, "{ctx}");
                assert!(r.get::<Date>("dt").is_zero(), "{ctx}");
                assert_eq!(r.get::<Time>("tm").to_string(), "-838:59:59", "{ctx}");
                assert_eq!(
                    r.get::<Time>("tm6").to_string(),
                    "100:01:02.345678",
                    "{ctx}"
                );
                assert_eq!(
                    r.get::<DateTime>("dtt").to_string(),
                    "9999-12-31 23:59:59.999999",
                    "{ctx}"
                );
                assert_eq!(
                    r.get::<DateTime>("ts").to_string(),
                    "2038-01-19 03:14:07.000001",
                    "{ctx}"
                );
                assert_eq!(r.get::<u16>("y"), 2155, "{ctx}");
                let j: String = r.get("j");
                assert_eq!(j.replace(' ', ""), r#"{"k":[1,"two",null]}"#, "{ctx}");
                assert_eq!(r.get::<Option<i32>>("n"), None, "{ctx}");
            }
        }
    }
}

#[actix_rt::test]
async fn should_move_a_20_mb_blob_through_a_prepared_statement() {
    const LEN: usize = 20 * 1024 * 1024;
    for srv in servers() {
        let c = client(srv);
        let t = table(&c, "blob", "id INT PRIMARY KEY, b LONGBLOB").await;
        let blob: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
        let insert = c
            .prepare(format!("INSERT INTO {t} VALUES (?, ?)"))
            .await
            .unwrap();
        let long_before = session_status(&c, "Com_stmt_send_long_data").await;
        c.exec_drop(&insert, params![1, blob.clone()])
            .await
            .unwrap();
        // 20 MiB went as long data chunks of 4 MiB.
        assert_eq!(
            session_status(&c, "Com_stmt_send_long_data").await - long_before,
            5,
            "{}",
            srv.name
        );
        let resets = session_status(&c, "Com_stmt_reset").await;
        c.reset_statement(&insert).await.unwrap();
        assert_eq!(session_status(&c, "Com_stmt_reset").await - resets, 1);
        let select = c
            .prepare(format!("SELECT b FROM {t} WHERE id = ?"))
            .await
            .unwrap();
        let rows = c.exec(&select, params![1]).await.unwrap();
        assert!(rows[0].get::<Vec<u8>>(0) == blob, "{}", srv.name);
    }
}

const INJECTIONS: &[&str] = &[
    "' OR 1=1 -- ",
    "\\' OR 1=1 #",
    "'; DROP TABLE t; --",
    "\\",
    "\\\\'",
    "''",
    "\"",
    "\0",
    "\x1a",
    "?",
    "/* ? */",
    "`",
    "\n\r\t",
];

#[actix_rt::test]
async fn should_escape_every_byte_and_injection_string_under_each_session_mode() {
    for srv in servers() {
        for (mode, setup) in [
            ("utf8mb4", vec!["SET NAMES utf8mb4"]),
            ("latin1", vec!["SET NAMES latin1"]),
            (
                "no_backslash_escapes",
                vec![
                    "SET NAMES utf8mb4",
                    "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'",
                ],
            ),
        ] {
            let c = client(srv);
            let t = table(
                &c,
                "esc",
                "id INT PRIMARY KEY, v VARBINARY(600), s VARBINARY(600)",
            )
            .await;
            for sql in setup {
                c.execute(sql).await.unwrap();
            }
            let ctx = format!("{} {mode}", srv.name);
            let every_byte: Vec<u8> = (0..=255u8).collect();
            c.execute_with(
                format!("INSERT INTO {t} (id, v) VALUES (?, ?)"),
                params![0, every_byte.clone()],
            )
            .await
            .unwrap();
            let got: Vec<u8> = c
                .query_one(format!("SELECT v FROM {t} WHERE id = 0"))
                .await
                .unwrap()
                .get(0);
            assert_eq!(got, every_byte, "{ctx}");
            // Each byte alone, as text where it is valid UTF-8.
            for b in 0..=127u8 {
                let s = (b as char).to_string();
                let id = 1000 + b as i32;
                c.execute_with(
                    format!("INSERT INTO {t} (id, s) VALUES (?, ?)"),
                    params![id, s.clone()],
                )
                .await
                .unwrap_or_else(|e| panic!("{ctx}: byte {b}: {e}"));
                let back: Vec<u8> = c
                    .query_with(format!("SELECT s FROM {t} WHERE id = ?"), params![id])
                    .await
                    .unwrap()[0]
                    .get(0);
                assert_eq!(back, s.as_bytes(), "{ctx}: byte {b}");
            }
            for (i, inj) in INJECTIONS.iter().enumerate() {
                let id = 2000 + i as i32;
                c.execute_with(
                    format!("INSERT INTO {t} (id, s) VALUES (?, ?)"),
                    params![id, *inj],
                )
                .await
                .unwrap_or_else(|e| panic!("{ctx}: {inj:?}: {e}"));
                let rows = c
                    .query_with(
                        format!("SELECT s FROM {t} WHERE s = ? AND id >= 2000"),
                        params![*inj],
                    )
                    .await
                    .unwrap();
                assert_eq!(rows.len(), 1, "{ctx}: {inj:?} matched {} rows", rows.len());
                assert_eq!(rows[0].get::<Vec<u8>>(0), inj.as_bytes(), "{ctx}");
            }
            // The table is still there: nothing was injected.
            let n: i64 = c
                .query_one(format!("SELECT COUNT(*) FROM {t}"))
                .await
                .unwrap()
                .get(0);
            assert_eq!(n, 1 + 128 + INJECTIONS.len() as i64, "{ctx}");
        }
    }
}

#[actix_rt::test]
async fn should_refuse_text_parameters_under_an_unsafe_charset() {
    for srv in servers() {
        let c = client(srv);
        c.execute("SET NAMES gbk").await.unwrap();
        let e = c
            .query_with("SELECT ?", params!["\u{00bf}' OR 1=1"])
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage, "{}: {e}", srv.name);
        // Numbers are still fine, and prepared statements work under any charset.
        let rows = c.query_with("SELECT ? + 1", params![41]).await.unwrap();
        assert_eq!(rows[0].get::<i64>(0), 42);
        let stmt = c.prepare("SELECT ?").await.unwrap();
        let rows = c.exec(&stmt, params!["abc"]).await.unwrap();
        assert_eq!(rows[0].get::<String>(0), "abc");
    }
}

#[actix_rt::test]
async fn should_scan_placeholders_and_check_their_count() {
    for srv in servers() {
        let c = client(srv);
        let rows = c
            .query_with(
                "SELECT '?' AS a, \"?\" AS b, ? AS c /* ? */, `x?` FROM (SELECT 1 AS `x?`) AS t -- ?\n",
                params!["value"],
            )
            .await
            .unwrap();
        let r = &rows[0];
        assert_eq!(r.get::<String>("a"), "?", "{}", srv.name);
        assert_eq!(r.get::<String>("b"), "?");
        assert_eq!(r.get::<String>("c"), "value");
        let e = c.query_with("SELECT ?, ?", params![1]).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage);
        let e = c.query_with("SELECT 1", params![1]).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage);
        let stmt = c.prepare("SELECT ?, ?").await.unwrap();
        let e = c.exec(&stmt, params![1]).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage);
        // The connection is fine afterwards.
        assert_eq!(
            c.exec(&stmt, params![1, 2]).await.unwrap()[0].get::<i32>(1),
            2
        );
    }
}

#[actix_rt::test]
async fn should_free_evicted_and_closed_statements_on_the_server() {
    for srv in servers() {
        let c = Client::new(
            Opts::from_url(&srv.url_with_db("actix_test"))
                .unwrap()
                .with_stmt_cache_size(2),
        );
        let before = session_status(&c, "Com_stmt_close").await;
        let mut stmts = Vec::new();
        for i in 0..5 {
            let s = c.prepare(format!("SELECT {i} + ?")).await.unwrap();
            assert_eq!(
                c.exec(&s, params![1]).await.unwrap()[0].get::<i64>(0),
                i + 1
            );
            stmts.push(s);
        }
        // Three evicted, closed before the next command.
        assert_eq!(
            session_status(&c, "Com_stmt_close").await - before,
            3,
            "{}",
            srv.name
        );
        // An evicted statement is prepared again transparently.
        let prepares = session_status(&c, "Com_stmt_prepare").await;
        assert_eq!(
            c.exec(&stmts[0], params![1]).await.unwrap()[0].get::<i64>(0),
            1
        );
        assert_eq!(session_status(&c, "Com_stmt_prepare").await - prepares, 1);
        // A cached one is not.
        let prepares = session_status(&c, "Com_stmt_prepare").await;
        c.exec(&stmts[0], params![1]).await.unwrap();
        assert_eq!(session_status(&c, "Com_stmt_prepare").await - prepares, 0);
        let closes = session_status(&c, "Com_stmt_close").await;
        c.close_statement(&stmts[0]).await.unwrap();
        assert_eq!(session_status(&c, "Com_stmt_close").await - closes, 1);
    }
}

#[actix_rt::test]
async fn should_prepare_again_after_a_forced_reconnect() {
    for srv in servers() {
        let c = client(srv);
        let admin = client(srv);
        let stmt = c.prepare("SELECT ? * 2").await.unwrap();
        assert_eq!(
            c.exec(&stmt, params![21]).await.unwrap()[0].get::<i64>(0),
            42
        );
        let id = c.connection_info().await.unwrap().unwrap().connection_id;
        admin.execute(format!("KILL {id}")).await.unwrap();
        let mut answered = None;
        for _ in 0..20 {
            match c.exec(&stmt, params![5]).await {
                Ok(rows) => {
                    answered = Some(rows[0].get::<i64>(0));
                    break;
                }
                Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{e}"),
            }
        }
        assert_eq!(answered, Some(10), "{}", srv.name);
        assert_ne!(
            c.connection_info().await.unwrap().unwrap().connection_id,
            id
        );
    }
}

#[actix_rt::test]
async fn should_stream_a_million_rows_to_a_slow_consumer() {
    for srv in servers() {
        let c = client(srv);
        let limit = if srv.is_mysql() {
            "cte_max_recursion_depth"
        } else {
            "max_recursive_iterations"
        };
        c.execute(format!("SET SESSION {limit} = 1000001"))
            .await
            .unwrap();
        let mut stream = c
            .query_stream(
                "WITH RECURSIVE s (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1000000) \
                 SELECT n FROM s",
            )
            .await
            .unwrap();
        let mut expected: u64 = 1;
        while let Some(row) = stream.next().await {
            let n: u64 = row.unwrap().get(0);
            assert_eq!(n, expected, "{}", srv.name);
            expected += 1;
            if n % 250_000 == 0 {
                // A slow consumer: the connection waits for it.
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        assert_eq!(expected, 1_000_001, "{}", srv.name);
        assert_eq!(c.query_one("SELECT 7").await.unwrap().get::<i32>(0), 7);
    }
}

#[actix_rt::test]
async fn should_discard_the_rest_of_a_dropped_stream_and_report_errors_in_it() {
    for srv in servers() {
        let c = client(srv);
        let mut stream = c
            .query_stream("SELECT REPEAT('x', 1000) FROM information_schema.COLUMNS")
            .await
            .unwrap();
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(first.get::<String>(0).len(), 1000);
        drop(stream);
        assert_eq!(
            c.query_one("SELECT 8").await.unwrap().get::<i32>(0),
            8,
            "{}",
            srv.name
        );

        let mut stream = c
            .query_stream("SELECT * FROM no_such_table_here")
            .await
            .unwrap();
        let e = stream.next().await.unwrap().unwrap_err();
        assert_eq!(e.code(), Some(1146), "{}", srv.name);
        assert!(stream.next().await.is_none());
    }
}

#[actix_rt::test]
async fn should_run_multi_statements_only_when_enabled() {
    for srv in servers() {
        let c = client(srv);
        let e = c.query_multi("SELECT 1; SELECT 2").await.unwrap_err();
        assert_eq!(e.code(), Some(1064), "{}: {e}", srv.name);

        let c = Client::new(
            Opts::from_url(&srv.url_with_db("actix_test"))
                .unwrap()
                .with_multi_statements(true),
        );
        let results = c
            .query_multi("SELECT 1 AS a; DO 0; SELECT 'x' AS b")
            .await
            .unwrap();
        assert_eq!(results.len(), 3, "{}: {results:?}", srv.name);
        assert!(
            matches!(&results[0], QueryResult::Rows { rows, .. } if rows[0].get::<i32>(0) == 1)
        );
        assert!(matches!(results[1], QueryResult::Exec(_)));
        assert!(
            matches!(&results[2], QueryResult::Rows { rows, .. } if rows[0].get::<String>(0) == "x")
        );
        // An error in a later statement fails the call; the connection stays in step.
        let e = c.query_multi("SELECT 1; SELEC 2").await.unwrap_err();
        assert_eq!(e.code(), Some(1064));
        assert_eq!(c.query_one("SELECT 3").await.unwrap().get::<i32>(0), 3);
    }
}

#[actix_rt::test]
async fn should_use_statements_and_parameters_inside_a_transaction() {
    for srv in servers() {
        let c = client(srv);
        let t = table(&c, "txstmt", "k INT PRIMARY KEY, v VARCHAR(10)").await;
        let tx = c.begin().await.unwrap();
        let stmt = tx
            .prepare(format!("INSERT INTO {t} VALUES (?, ?)"))
            .await
            .unwrap();
        tx.exec_drop(&stmt, params![1, "one"]).await.unwrap();
        tx.execute_with(format!("INSERT INTO {t} VALUES (?, ?)"), params![2, "two"])
            .await
            .unwrap();
        let rows = tx
            .query_with(format!("SELECT v FROM {t} WHERE k = ?"), params![2])
            .await
            .unwrap();
        assert_eq!(rows[0].get::<String>(0), "two", "{}", srv.name);
        tx.rollback().await.unwrap();
        let n: i64 = c
            .query_one(format!("SELECT COUNT(*) FROM {t}"))
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0);
    }
}

/// MariaDB 10.6+ (`MARIADB_CLIENT_CACHE_METADATA`) leaves the column definitions out of an
/// execution's reply when they did not change; the client takes them from its statement cache,
/// and picks up new ones when the table changes.
#[actix_rt::test]
async fn should_reuse_cached_result_metadata_and_follow_changes() {
    for srv in servers() {
        let upstream = format!("{}:{}", srv.host, srv.port).parse().unwrap();
        let proxy = support::proxy::Proxy::start(upstream).await;
        let c = Client::new(
            Opts::from_url(&srv.url_with_db("actix_test"))
                .unwrap()
                .with_port(proxy.port()),
        );
        let t = table(
            &c,
            "t_st_meta",
            "id INT PRIMARY KEY, a_rather_long_column_name VARCHAR(20), \
             another_long_column_name DOUBLE",
        )
        .await;
        c.execute(format!("INSERT INTO {t} VALUES (1, 'x', 1.5)"))
            .await
            .unwrap();
        let stmt = c
            .prepare(format!("SELECT * FROM {t} WHERE id = ?"))
            .await
            .unwrap();
        let info = c.connection_info().await.unwrap().unwrap();
        let caches = info.is_mariadb && {
            let v = info.server_version.trim_start_matches("5.5.5-");
            let mut parts = v.split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
            (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (10, 6)
        };

        let mut reply_bytes = Vec::new();
        for _ in 0..3 {
            let before = proxy.bytes().1;
            let rows = c.exec(&stmt, (1,)).await.unwrap();
            reply_bytes.push(proxy.bytes().1 - before);
            assert_eq!(rows[0].get::<String>("a_rather_long_column_name"), "x");
            assert_eq!(rows[0].get::<f64>("another_long_column_name"), 1.5);
        }
        // With definitions (three, with long names) a reply is well over 120 bytes; without,
        // it is the column count, one row and an OK.
        if caches {
            assert!(
                reply_bytes.iter().all(|&n| n < 80),
                "{}: {reply_bytes:?}",
                srv.name
            );
        } else {
            assert!(
                reply_bytes.iter().all(|&n| n > 120),
                "{}: {reply_bytes:?}",
                srv.name
            );
        }

        // The table changes: the server sends the new definitions once, then leaves them out.
        c.execute(format!(
            "ALTER TABLE {t} ADD COLUMN added_later INT NOT NULL DEFAULT 5"
        ))
        .await
        .unwrap();
        let mut reply_bytes = Vec::new();
        for _ in 0..3 {
            let before = proxy.bytes().1;
            let rows = c.exec(&stmt, (1,)).await.unwrap();
            reply_bytes.push(proxy.bytes().1 - before);
            assert_eq!(rows[0].columns().len(), 4, "{}", srv.name);
            assert_eq!(rows[0].get::<i32>("added_later"), 5, "{}", srv.name);
            assert_eq!(rows[0].get::<f64>("another_long_column_name"), 1.5);
        }
        if caches {
            assert!(
                reply_bytes[0] > 150 && reply_bytes[1..].iter().all(|&n| n < 90),
                "{}: {reply_bytes:?}",
                srv.name
            );
        }
        c.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}
