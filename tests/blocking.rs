//! The blocking DB-API interface against real servers, from plain (non-async) tests.
mod support;

use std::time::Duration;

use actix_mysql::blocking::{Connection, Cursor};
use actix_mysql::protocol::constants::ColumnType;
use actix_mysql::{params, ErrorKind, Opts, Value};
use support::{for_each_server, unique_name, TestServer};

fn connect(srv: &TestServer) -> Connection {
    Connection::connect(srv.url_with_db(support::TEST_DB)).unwrap()
}

/// A fresh table `(id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), n INT)`, created in
/// autocommit mode.
fn table(srv: &TestServer, test: &str) -> String {
    let t = unique_name(&format!("blk_{test}"));
    let conn = connect(srv);
    conn.set_autocommit(true).unwrap();
    conn.cursor()
        .unwrap()
        .execute(
            &format!(
                "CREATE TABLE {t} (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), n INT)"
            ),
            (),
        )
        .unwrap();
    conn.close().unwrap();
    t
}

/// Rows of `t` as another connection in autocommit mode sees them.
fn count_from_elsewhere(srv: &TestServer, t: &str) -> i64 {
    let other = connect(srv);
    other.set_autocommit(true).unwrap();
    let mut cur = other.cursor().unwrap();
    cur.execute(&format!("SELECT COUNT(*) FROM {t}"), ())
        .unwrap();
    let n = cur.fetchone().unwrap().unwrap().get(0);
    other.close().unwrap();
    n
}

fn names(cur: &mut Cursor) -> Vec<String> {
    cur.fetchall()
        .unwrap()
        .iter()
        .map(|r| r.get::<String>("name"))
        .collect()
}

#[test]
fn should_execute_and_fetch_one_many_all_and_iterate() {
    for_each_server(|srv| {
        let t = table(srv, "fetch");
        let conn = connect(srv);
        let mut cur = conn.cursor().unwrap();
        assert_eq!(cur.rowcount(), -1);
        assert!(cur.description().is_none());
        for (i, name) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
            let n = cur
                .execute(
                    &format!("INSERT INTO {t} (name, n) VALUES (?, ?)"),
                    (*name, i),
                )
                .unwrap();
            assert_eq!(n, Some(1));
        }

        let n = cur
            .execute(
                &format!("SELECT name, n FROM {t} WHERE n >= ? ORDER BY n"),
                (0,),
            )
            .unwrap();
        assert_eq!(n, Some(6), "{}", srv.name);
        assert_eq!(cur.rowcount(), 6);
        assert_eq!(cur.rownumber(), Some(0));
        let first = cur.fetchone().unwrap().unwrap();
        assert_eq!(first.get::<String>("name"), "a");
        assert_eq!(first.get::<i64>(1), 0);
        let two = cur.fetchmany(2).unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[1].get::<String>(0), "c");
        assert_eq!(cur.arraysize(), 1);
        assert_eq!(cur.fetchmany(None).unwrap().len(), 1);
        cur.set_arraysize(10);
        assert_eq!(cur.rownumber(), Some(4));
        let rest: Vec<String> = cur
            .fetchmany(None)
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(rest, ["e", "f"]);
        assert!(cur.fetchone().unwrap().is_none());
        assert!(cur.fetchall().unwrap().is_empty());
        assert!(cur.fetchmany(3).unwrap().is_empty());

        cur.execute(&format!("SELECT name FROM {t} ORDER BY id"), ())
            .unwrap();
        let mut seen = Vec::new();
        for row in &mut cur {
            seen.push(row.unwrap().get::<String>(0));
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e", "f"]);

        // An empty result set still has a description and a rowcount of 0.
        cur.execute(&format!("SELECT name FROM {t} WHERE n > ?"), (100,))
            .unwrap();
        assert_eq!(cur.rowcount(), 0);
        assert_eq!(cur.description().unwrap()[0].name, "name");
        assert!(cur.fetchone().unwrap().is_none());

        // Values of several types as parameters.
        cur.execute(
            "SELECT ? AS s, ? AS i, ? AS f, ? AS z, ? AS q",
            params!["it's", -5i64, 1.5f64, None::<i32>, "back\\slash"],
        )
        .unwrap();
        let row = cur.fetchone().unwrap().unwrap();
        assert_eq!(row.get::<String>("s"), "it's");
        assert_eq!(row.get::<i64>("i"), -5);
        assert_eq!(row.get::<f64>("f"), 1.5);
        assert_eq!(row.values()[3], Value::Null);
        assert_eq!(row.get::<String>("q"), "back\\slash");
        conn.rollback().unwrap();
        conn.close().unwrap();
    });
}

#[test]
fn should_report_rowcount_and_lastrowid() {
    for_each_server(|srv| {
        let t = table(srv, "rowcount");
        let conn = connect(srv);
        conn.set_autocommit(true).unwrap();
        let mut cur = conn.cursor().unwrap();
        let n = cur
            .execute(
                &format!("INSERT INTO {t} (name, n) VALUES ('a', 1), ('b', 2), ('c', 3)"),
                (),
            )
            .unwrap();
        assert_eq!(n, Some(3), "{}", srv.name);
        assert_eq!(cur.rowcount(), 3);
        assert_eq!(cur.lastrowid(), Some(1));
        cur.execute(&format!("INSERT INTO {t} (name) VALUES (?)"), ("d",))
            .unwrap();
        assert_eq!(cur.lastrowid(), Some(4));

        cur.execute(&format!("UPDATE {t} SET n = n + 1 WHERE n >= ?"), (2,))
            .unwrap();
        assert_eq!(cur.rowcount(), 2);
        assert_eq!(cur.lastrowid(), None);
        assert!(cur.description().is_none());
        let err = cur.fetchone().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);

        cur.execute(&format!("DELETE FROM {t}"), ()).unwrap();
        assert_eq!(cur.rowcount(), 4);
        cur.execute(&format!("DELETE FROM {t}"), ()).unwrap();
        assert_eq!(cur.rowcount(), 0);
        conn.close().unwrap();
    });
}

#[test]
fn should_describe_columns() {
    for_each_server(|srv| {
        let t = unique_name("blk_desc");
        let conn = connect(srv);
        conn.set_autocommit(true).unwrap();
        let mut cur = conn.cursor().unwrap();
        cur.execute(
            &format!(
                "CREATE TABLE {t} (id INT NOT NULL PRIMARY KEY, price DECIMAL(10,2), \
                 label VARCHAR(20), born DATE, ratio DOUBLE)"
            ),
            (),
        )
        .unwrap();
        cur.execute(
            &format!("SELECT id, price, label AS tag, born, ratio FROM {t}"),
            (),
        )
        .unwrap();
        let d = cur.description().unwrap();
        let names: Vec<&str> = d.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["id", "price", "tag", "born", "ratio"],
            "{}",
            srv.name
        );
        assert_eq!(d[0].type_code, ColumnType::Long);
        assert_eq!(d[0].null_ok, Some(false));
        assert_eq!(d[0].scale, Some(0));
        assert_eq!(d[1].type_code, ColumnType::NewDecimal);
        assert_eq!((d[1].precision, d[1].scale), (Some(10), Some(2)));
        assert_eq!(d[1].null_ok, Some(true));
        assert_eq!(d[2].type_code, ColumnType::VarString);
        assert!(d[2].internal_size.unwrap() >= 20);
        assert_eq!((d[2].precision, d[2].scale), (None, None));
        assert_eq!(d[3].type_code, ColumnType::Date);
        assert_eq!(d[4].type_code, ColumnType::Double);
        assert_eq!(d[4].display_size, None);
        assert_eq!(cur.columns().unwrap()[2].org_name, "label");

        cur.execute(&format!("DROP TABLE {t}"), ()).unwrap();
        assert!(cur.description().is_none());
        conn.close().unwrap();
    });
}

#[test]
fn should_executemany_with_a_sequence_of_parameters() {
    for_each_server(|srv| {
        let t = table(srv, "many");
        let conn = connect(srv);
        let mut cur = conn.cursor().unwrap();
        let rows = vec![("x", 1), ("y", 2), ("z", 3)];
        let n = cur
            .executemany(&format!("INSERT INTO {t} (name, n) VALUES (?, ?)"), rows)
            .unwrap();
        assert_eq!(n, Some(3), "{}", srv.name);
        assert_eq!(cur.rowcount(), 3);
        assert_eq!(cur.lastrowid(), Some(3));

        let n = cur
            .executemany(
                &format!("UPDATE {t} SET n = n * 10 WHERE name = ?"),
                [["x"], ["z"], ["nobody"]],
            )
            .unwrap();
        assert_eq!(n, Some(2));

        let none: Vec<(i32,)> = Vec::new();
        assert_eq!(
            cur.executemany(&format!("DELETE FROM {t} WHERE n = ?"), none)
                .unwrap(),
            Some(0)
        );

        // Stops at the first failure.
        let err = cur
            .executemany(
                &format!("INSERT INTO {t} (id, name) VALUES (?, ?)"),
                [params![10, "ok"], params![10, "dup"], params![11, "never"]],
            )
            .unwrap_err();
        assert_eq!(err.code(), Some(1062), "{err}");

        cur.execute(&format!("SELECT name, n FROM {t} ORDER BY id"), ())
            .unwrap();
        let got: Vec<(String, Option<i64>)> = cur
            .fetchall()
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(
            got,
            [
                ("x".to_string(), Some(10)),
                ("y".to_string(), Some(2)),
                ("z".to_string(), Some(30)),
                ("ok".to_string(), None)
            ]
        );
        conn.commit().unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 4);
        conn.close().unwrap();
    });
}

#[test]
fn should_make_writes_visible_on_commit_and_discard_them_on_rollback() {
    for_each_server(|srv| {
        let t = table(srv, "txn");
        let conn = connect(srv);
        assert!(!conn.autocommit());
        let mut cur = conn.cursor().unwrap();
        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('committed')"), ())
            .unwrap();
        // A second cursor shares the transaction.
        let mut other_cur = conn.cursor().unwrap();
        other_cur
            .execute(&format!("SELECT COUNT(*) FROM {t}"), ())
            .unwrap();
        assert_eq!(other_cur.fetchone().unwrap().unwrap().get::<i64>(0), 1);
        assert_eq!(count_from_elsewhere(srv, &t), 0, "{}", srv.name);
        conn.commit().unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 1);

        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('discarded')"), ())
            .unwrap();
        cur.execute(&format!("UPDATE {t} SET n = 7"), ()).unwrap();
        conn.rollback().unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 1);
        cur.execute(&format!("SELECT name FROM {t} WHERE n IS NULL"), ())
            .unwrap();
        assert_eq!(names(&mut cur), ["committed"]);

        // commit and rollback without a transaction do nothing.
        conn.rollback().unwrap();
        conn.commit().unwrap();
        conn.commit().unwrap();

        // Dropping the connection rolls back what was not committed.
        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('dropped')"), ())
            .unwrap();
        drop(cur);
        drop(other_cur);
        drop(conn);
        assert_eq!(count_from_elsewhere(srv, &t), 1);
    });
}

#[test]
fn should_end_the_transaction_where_the_server_commits_implicitly() {
    for_each_server(|srv| {
        let t = table(srv, "ddl");
        let t2 = unique_name("blk_ddl2");
        let conn = connect(srv);
        let mut cur = conn.cursor().unwrap();
        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('before ddl')"), ())
            .unwrap();
        // DDL commits the open transaction on the server.
        cur.execute(&format!("CREATE TABLE {t2} (id INT)"), ())
            .unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 1, "{}", srv.name);
        // The next statement is in a new transaction, which rollback discards.
        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('after ddl')"), ())
            .unwrap();
        conn.rollback().unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 1);

        // A COMMIT sent as SQL ends it as well.
        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('sql commit')"), ())
            .unwrap();
        cur.execute("COMMIT", ()).unwrap();
        cur.execute(
            &format!("INSERT INTO {t} (name) VALUES ('rolled back')"),
            (),
        )
        .unwrap();
        conn.rollback().unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 2);
        cur.execute(&format!("DROP TABLE {t2}"), ()).unwrap();
        conn.close().unwrap();
    });
}

#[test]
fn should_run_each_statement_on_its_own_in_autocommit_mode() {
    for_each_server(|srv| {
        let t = table(srv, "auto");
        let conn = connect(srv);
        let mut cur = conn.cursor().unwrap();
        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('pending')"), ())
            .unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 0, "{}", srv.name);
        // Turning autocommit on commits the open transaction.
        conn.set_autocommit(true).unwrap();
        assert!(conn.autocommit());
        assert_eq!(count_from_elsewhere(srv, &t), 1);

        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('at once')"), ())
            .unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 2);
        conn.rollback().unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 2);

        conn.set_autocommit(false).unwrap();
        cur.execute(&format!("DELETE FROM {t}"), ()).unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 2);
        conn.rollback().unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 2);
        conn.close().unwrap();
    });
}

#[test]
fn should_report_server_errors_and_stay_usable() {
    for_each_server(|srv| {
        let t = table(srv, "errors");
        let conn = connect(srv);
        let mut cur = conn.cursor().unwrap();
        cur.execute(&format!("INSERT INTO {t} (id, name) VALUES (1, 'one')"), ())
            .unwrap();

        let err = cur.execute("SELEC 1", ()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
        assert_eq!(err.code(), Some(1064));
        assert_eq!(err.sql_state(), Some("42000"));
        assert_eq!(cur.rowcount(), -1);

        let err = cur
            .execute("SELECT * FROM blk_no_such_table", ())
            .unwrap_err();
        assert_eq!(err.code(), Some(1146), "{err}");
        let err = cur
            .execute(&format!("INSERT INTO {t} (id) VALUES (?)"), (1,))
            .unwrap_err();
        assert_eq!(err.code(), Some(1062), "{err}");

        // Parameters that do not match the placeholders.
        let err = cur.execute("SELECT ?, ?", (1,)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
        let err = cur.execute("SELECT ?", ()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage, "{err}");

        // The transaction survived the statement errors.
        cur.execute(&format!("SELECT name FROM {t}"), ()).unwrap();
        assert_eq!(names(&mut cur), ["one"]);
        conn.commit().unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 1);

        let bad = Opts::from_url(&srv.url_with_db(support::TEST_DB))
            .unwrap()
            .with_password("wrong password");
        let err = Connection::connect(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
        assert_eq!(
            Connection::connect("postgres://x").unwrap_err().kind(),
            ErrorKind::Config
        );
        conn.close().unwrap();
    });
}

#[test]
fn should_refuse_every_call_after_close() {
    for_each_server(|srv| {
        let t = table(srv, "close");
        let conn = connect(srv);
        conn.ping().unwrap();
        let mut cur = conn.cursor().unwrap();
        cur.execute(
            &format!("INSERT INTO {t} (name) VALUES ('uncommitted')"),
            (),
        )
        .unwrap();
        conn.ping().unwrap(); // inside the transaction

        // Closing a cursor leaves the connection open.
        let mut closed_cur = conn.cursor().unwrap();
        closed_cur.execute("SELECT 1", ()).unwrap();
        closed_cur.close();
        assert!(closed_cur.is_closed());
        closed_cur.close();
        for err in [
            closed_cur.execute("SELECT 1", ()).unwrap_err(),
            closed_cur.fetchone().unwrap_err(),
            closed_cur.fetchall().unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
        }
        assert!(closed_cur.next().unwrap().is_err());
        assert!(closed_cur.next().is_none());

        cur.execute("SELECT 1", ()).unwrap();
        let clone = conn.clone();
        conn.close().unwrap();
        assert!(conn.is_closed() && clone.is_closed());
        conn.close().unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 0, "{}", srv.name);

        for err in [
            cur.execute("SELECT 1", ()).unwrap_err(),
            cur.executemany("SELECT ?", [(1,)]).unwrap_err(),
            cur.fetchone().unwrap_err(),
            cur.fetchall().unwrap_err(),
            conn.cursor().unwrap_err(),
            conn.commit().unwrap_err(),
            conn.rollback().unwrap_err(),
            conn.ping().unwrap_err(),
            clone.cursor().unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
        }
    });
}

#[test]
fn should_abort_the_transaction_after_a_timeout() {
    for_each_server(|srv| {
        let t = table(srv, "timeout");
        let conn = connect(srv);
        let mut cur = conn.cursor().unwrap();
        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('lost')"), ())
            .unwrap();
        conn.set_timeout(Some(Duration::from_millis(200)));
        assert_eq!(conn.timeout(), Some(Duration::from_millis(200)));
        let err = cur.execute("SELECT SLEEP(1)", ()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        conn.set_timeout(Some(Duration::from_secs(30)));
        let err = cur.execute("SELECT 1", ()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TransactionAborted, "{err}");
        let err = conn.commit().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TransactionAborted, "{err}");

        // After the acknowledgement, a new transaction starts.
        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('kept')"), ())
            .unwrap();
        conn.commit().unwrap();
        cur.execute(&format!("SELECT name FROM {t}"), ()).unwrap();
        assert_eq!(names(&mut cur), ["kept"], "{}", srv.name);

        // The same with rollback as the acknowledgement.
        conn.set_timeout(Some(Duration::from_millis(200)));
        assert_eq!(
            cur.execute("SELECT SLEEP(1)", ()).unwrap_err().kind(),
            ErrorKind::Timeout
        );
        conn.rollback().unwrap();
        conn.set_timeout(None);
        cur.execute("SELECT 2", ()).unwrap();
        conn.close().unwrap();
    });
}

#[test]
fn should_move_through_the_results_of_a_procedure() {
    for_each_server(|srv| {
        let p = unique_name("blk_proc");
        let conn = connect(srv);
        conn.set_autocommit(true).unwrap();
        let mut cur = conn.cursor().unwrap();
        cur.execute(
            &format!("CREATE PROCEDURE {p}() BEGIN SELECT 1 AS a; SELECT 2 AS b, 3 AS c; END"),
            (),
        )
        .unwrap();
        cur.execute(&format!("CALL {p}()"), ()).unwrap();
        assert_eq!(cur.description().unwrap()[0].name, "a", "{}", srv.name);
        assert_eq!(cur.fetchone().unwrap().unwrap().get::<i64>(0), 1);
        assert!(cur.nextset().unwrap());
        assert_eq!(cur.description().unwrap().len(), 2);
        assert_eq!(cur.fetchall().unwrap()[0].get::<i64>("c"), 3);
        // The procedure's own status.
        assert!(cur.nextset().unwrap());
        assert!(cur.description().is_none());
        assert!(!cur.nextset().unwrap());
        assert_eq!(cur.rowcount(), -1);
        cur.execute(&format!("DROP PROCEDURE {p}"), ()).unwrap();
        conn.close().unwrap();
    });
}

#[test]
fn should_share_a_connection_between_threads() {
    for_each_server(|srv| {
        let conn = connect(srv);
        conn.set_autocommit(true).unwrap();
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let conn = conn.clone();
                std::thread::spawn(move || {
                    let mut cur = conn.cursor().unwrap();
                    cur.execute("SELECT ? + 1", (i,)).unwrap();
                    cur.fetchone().unwrap().unwrap().get::<i64>(0)
                })
            })
            .collect();
        let mut got: Vec<i64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, [1, 2, 3, 4], "{}", srv.name);
        conn.close().unwrap();
    });
}

#[test]
fn should_refuse_blocking_calls_inside_an_async_runtime() {
    let err = support::block_on(async {
        Connection::connect("mysql://nobody@127.0.0.1:1/").unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    assert!(err.to_string().contains("async runtime"), "{err}");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let err =
        rt.block_on(async { Connection::connect("mysql://nobody@127.0.0.1:1/").unwrap_err() });
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");

    // A connection made outside may not be used inside either, and is dropped without blocking.
    let srv = &support::servers()[0];
    let conn = connect(srv);
    let mut cur = conn.cursor().unwrap();
    let (err, cur) = rt.block_on(async move {
        let e = cur.execute("SELECT 1", ()).unwrap_err();
        (e, cur)
    });
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    rt.block_on(async move { drop(cur) });
    // Still usable from a plain thread.
    conn.ping().unwrap();
    conn.close().unwrap();
}

#[test]
fn should_start_transactions_at_the_isolation_level_chosen() {
    for_each_server(|srv| {
        let t = table(srv, "iso");
        let writer = connect(srv);
        writer.set_autocommit(true).unwrap();
        let mut w = writer.cursor().unwrap();
        w.execute(&format!("INSERT INTO {t} (id, n) VALUES (1, 0)"), ())
            .unwrap();
        w.execute("SET SESSION innodb_lock_wait_timeout = 1", ())
            .unwrap();
        let update = format!("UPDATE {t} SET n = n + 1 WHERE id = 1");

        let reader = connect(srv);
        let mut r = reader.cursor().unwrap();
        // Under SERIALIZABLE, a plain read in a transaction locks the row it read.
        reader.set_isolation_level(Some(actix_mysql::IsolationLevel::Serializable));
        r.execute(&format!("SELECT n FROM {t} WHERE id = 1"), ())
            .unwrap();
        let err = w.execute(&update, ()).unwrap_err();
        assert_eq!(err.code(), Some(1205), "{}: {err}", srv.name);
        reader.rollback().unwrap();
        w.execute(&update, ()).unwrap();

        // The session's level (REPEATABLE READ) again: a consistent, non-locking read.
        reader.set_isolation_level(None);
        r.execute(&format!("SELECT n FROM {t} WHERE id = 1"), ())
            .unwrap();
        w.execute(&update, ()).unwrap();
        reader.commit().unwrap();
        reader.close().unwrap();
        writer.close().unwrap();
    });
}

#[test]
fn should_abort_the_transaction_when_the_connection_is_lost() {
    for_each_server(|srv| {
        let t = table(srv, "lost");
        let conn = connect(srv);
        let mut cur = conn.cursor().unwrap();
        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('lost')"), ())
            .unwrap();
        cur.execute("SELECT CONNECTION_ID()", ()).unwrap();
        let id: u64 = cur.fetchone().unwrap().unwrap().get(0);

        let killer = connect(srv);
        killer.set_autocommit(true).unwrap();
        killer.cursor().unwrap().execute("KILL ?", (id,)).unwrap();
        killer.close().unwrap();
        // Let the connection actor see the close (it watches idle connections).
        std::thread::sleep(Duration::from_millis(300));

        // The server rolled the transaction back; nothing of it runs on the new connection.
        let err = cur
            .execute(&format!("INSERT INTO {t} (name) VALUES ('after')"), ())
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::TransactionAborted,
            "{}: {err}",
            srv.name
        );
        let err = cur.execute("SELECT 1", ()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TransactionAborted, "{err}");
        conn.rollback().unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 0);

        // A new transaction on a new connection.
        cur.execute(&format!("INSERT INTO {t} (name) VALUES ('new')"), ())
            .unwrap();
        conn.commit().unwrap();
        assert_eq!(count_from_elsewhere(srv, &t), 1);
        cur.execute("SELECT CONNECTION_ID()", ()).unwrap();
        assert_ne!(cur.fetchone().unwrap().unwrap().get::<u64>(0), id);
        conn.close().unwrap();
    });
}
