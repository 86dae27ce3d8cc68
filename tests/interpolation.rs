//! Client-side interpolation (`query_with`) refuses statements whose text changes how the
//! server reads the literals, and never takes one statement's settings for the session's.
mod support;

use actix_mysql::{Client, ErrorKind, Opts};
use support::{client, servers, table_name, TestServer};

/// A table with three known rows; a payload that escapes its literal would match them all.
async fn known_rows(c: &Client, srv: &TestServer, test: &str) -> String {
    let t = table_name("interp", srv, test);
    c.execute(format!("DROP TABLE IF EXISTS {t}"))
        .await
        .unwrap();
    c.execute(format!("CREATE TABLE {t} (v VARCHAR(40) PRIMARY KEY)"))
        .await
        .unwrap();
    c.execute(format!("INSERT INTO {t} VALUES ('a'), ('b'), ('c')"))
        .await
        .unwrap();
    t
}

#[actix_rt::test]
async fn should_refuse_to_interpolate_into_text_that_changes_the_escaping_rules() {
    for srv in servers() {
        let opts = Opts::from_url(&srv.url_with_db(support::TEST_DB))
            .unwrap()
            .with_multi_statements(true);
        let c = Client::new(opts);
        let t = known_rows(&c, srv, "refuse").await;
        let payload = "x' OR 1=1 -- ";
        for sql in [
            format!("SELECT v FROM {t} WHERE v = /*! ? */ 'a'"),
            format!("SELECT v FROM {t} WHERE v = /*!50000 ? */"),
            format!("SELECT v FROM {t} WHERE v = /*M! ? */"),
            format!("SET NAMES gbk; SELECT v FROM {t} WHERE v = ?"),
            format!("SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT v FROM {t} WHERE v = ?"),
            format!(
                "SET STATEMENT sql_mode = 'NO_BACKSLASH_ESCAPES' FOR SELECT v FROM {t} WHERE v = ?"
            ),
            format!(
                "SELECT /*+ SET_VAR(sql_mode = 'NO_BACKSLASH_ESCAPES') */ v FROM {t} WHERE v = ?"
            ),
        ] {
            let e = c.query_with(sql.clone(), (payload,)).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Usage, "{}: {sql}: {e}", srv.name);
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            assert!(
                text.contains("prepared statement"),
                "{}: the error names the alternative: {text}",
                srv.name
            );
        }
        // Nothing was sent: the session is as it was, and binding still works.
        let rows = c
            .query_with(format!("SELECT v FROM {t} WHERE v = ?"), (payload,))
            .await
            .unwrap();
        assert!(rows.is_empty(), "{}", srv.name);
        let rows = c
            .query_with(format!("SELECT v FROM {t} WHERE v = ?"), ("b",))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{}", srv.name);
    }
}

/// MariaDB reports `NO_BACKSLASH_ESCAPES` in the status flags of a `SET STATEMENT ... FOR`
/// reply that sets it for that statement only; the session still escapes with backslashes.
#[actix_rt::test]
async fn should_not_take_a_per_statement_sql_mode_for_the_sessions() {
    for srv in servers().iter().filter(|s| s.is_mariadb()) {
        let c = client(srv);
        let t = known_rows(&c, srv, "per_statement").await;
        c.query("SET STATEMENT sql_mode = 'NO_BACKSLASH_ESCAPES' FOR SELECT 1")
            .await
            .unwrap();
        for payload in [r"\' OR 1=1 -- ", r"\\' OR 1=1 -- ", "' OR 1=1 -- "] {
            let rows = c
                .query_with(format!("SELECT v FROM {t} WHERE v = ?"), (payload,))
                .await
                .unwrap();
            assert!(
                rows.is_empty(),
                "{}: {payload:?} matched {} rows",
                srv.name,
                rows.len()
            );
            // The value round-trips unchanged.
            let back: String = c.query_with("SELECT ?", (payload,)).await.unwrap()[0].get(0);
            assert_eq!(back, payload, "{}", srv.name);
        }
    }
}
