//! Client-side interpolation (`query_with`) refuses statements whose text changes how the
//! server reads the literals, and never takes one statement's settings for the session's.
mod support;

use actix_mysql::{Client, ErrorKind, Opts};
use support::{client, fresh_table, servers, table_name, TestServer};

/// A table with three known rows; a payload that escapes its literal would match them all.
async fn known_rows(c: &Client, srv: &TestServer, test: &str) -> String {
    let t = table_name("interp", srv, test);
    fresh_table(c, &t, "v VARBINARY(40) PRIMARY KEY").await;
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

// ------------------------------------------------------------------ session modes

/// How a test puts a session into a mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    /// The statement, run by the caller.
    Query,
    /// The statement as init SQL.
    InitSql,
    /// The statement as init SQL in the URL (`?init=`).
    Url,
    /// Session tracking turned off, then the statement.
    TrackingOff,
    /// The statement, then a statement with settings of its own (`SET STATEMENT ... FOR` on
    /// MariaDB, a `SET_VAR` hint on MySQL).
    PerStatement,
    /// The statement, then the connection killed by the server and opened again.
    Reconnect,
    /// The statement as init SQL, then the session reset (as a pool does on return).
    Reset,
}

const WAYS: [Way; 7] = [
    Way::Query,
    Way::InitSql,
    Way::Url,
    Way::TrackingOff,
    Way::PerStatement,
    Way::Reconnect,
    Way::Reset,
];

/// A client whose session was put into the mode `set` the `way` says, on a connection with
/// multi-statements on (so that an injected `; DROP TABLE` would run).
async fn client_in_mode(srv: &TestServer, set: &str, way: Way) -> Client {
    let url = srv.url_with_db(support::TEST_DB);
    let url = match way {
        Way::Url => {
            let sep = if url.contains('?') { '&' } else { '?' };
            let set = set
                .replace(' ', "%20")
                .replace('\'', "%27")
                .replace(';', "%3B");
            format!("{url}{sep}init={set}")
        }
        _ => url,
    };
    let mut opts = Opts::from_url(&url).unwrap().with_multi_statements(true);
    if matches!(way, Way::InitSql | Way::Reset) {
        opts = opts.with_init_sql(set);
    }
    let c = Client::new(opts);
    c.ping().await.unwrap();
    match way {
        Way::Query | Way::Reconnect => {
            c.execute(set).await.unwrap();
        }
        Way::TrackingOff => {
            c.execute("SET SESSION session_track_system_variables = ''")
                .await
                .unwrap();
            c.execute(set).await.unwrap();
        }
        Way::PerStatement => {
            c.execute(set).await.unwrap();
            let own = if srv.is_mariadb() {
                "SET STATEMENT sql_mode = '' FOR SELECT 1"
            } else {
                "SELECT /*+ SET_VAR(sql_mode = '') */ 1"
            };
            c.query(own).await.unwrap();
        }
        Way::InitSql | Way::Url | Way::Reset => {}
    }
    match way {
        Way::Reconnect => reconnect(srv, &c).await,
        Way::Reset => c.reset_connection().await.unwrap(),
        _ => {}
    }
    c
}

/// Has the server kill the client's connection, and waits until the client is connected again.
async fn reconnect(srv: &TestServer, c: &Client) {
    let id = c.connection_info().await.unwrap().unwrap().connection_id;
    client(srv).execute(format!("KILL {id}")).await.unwrap();
    for _ in 0..50 {
        match c.query("SELECT CONNECTION_ID()").await {
            Ok(rows) if rows[0].try_get::<u32>(0).unwrap() != id => return,
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{e}"),
        }
    }
    panic!("{}: the client did not reconnect", srv.name);
}

/// Values that would break out of a string literal escaped under the wrong rules: quotes and
/// backslashes behind every kind of prefix (multibyte characters whose last byte is a
/// backslash under GBK, SJIS or Big5, NUL, control characters), each followed by a clause that
/// matches every row or drops the table.
fn payloads(table: &str) -> Vec<Vec<u8>> {
    let prefixes: [&[u8]; 10] = [
        b"",
        b"\\",
        b"\\\\",
        "中".as_bytes(),
        "\u{bf}".as_bytes(),
        "\u{a1}\\".as_bytes(),
        b"\0",
        b"\x1a",
        b"\n",
        b"\xbf",
    ];
    let drop = format!("'; DROP TABLE {table}; -- ");
    let cores: [&[u8]; 5] = [
        b"' OR 1=1 -- ",
        b"' OR '1'='1",
        b"\" OR \"\"=\"",
        b"' OR 1=1 #",
        drop.as_bytes(),
    ];
    let mut out = Vec::new();
    for p in prefixes {
        for c in cores {
            out.push([p, c].concat());
        }
    }
    out.extend(
        [
            "?' OR 1=1 -- ",
            "' OR 1=1 -- ?",
            "*/ OR 1=1 /*",
            "/*' OR 1=1 -- */",
            "'/*! OR 1=1 */ -- ",
            "%' OR 1=1 -- ",
            "\\%' OR 1=1 -- ",
            "'' OR 1=1 -- ",
            "\\'' OR 1=1 -- ",
            "a'; SET NAMES gbk; SELECT '",
        ]
        .map(|s| s.as_bytes().to_vec()),
    );
    out
}

/// Random byte strings of up to 12 bytes, drawn mostly from the bytes that matter to escaping.
fn random_strings(n: usize, mut seed: u64) -> Vec<Vec<u8>> {
    const SPECIAL: &[u8] = b"'\"\\\0\n\r\x1a%_`?;-#/*";
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..n)
        .map(|_| {
            let len = (next() % 13) as usize;
            (0..len)
                .map(|_| match next() % 4 {
                    0 => SPECIAL[(next() % SPECIAL.len() as u64) as usize],
                    1 => b'a' + (next() % 26) as u8,
                    _ => next() as u8,
                })
                .collect()
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Sends every value through the server's parser (`SELECT HEX(?), ...`) and returns those that
/// came back altered.
async fn altered(c: &Client, values: &[Vec<u8>]) -> Vec<String> {
    let mut bad = Vec::new();
    for chunk in values.chunks(256) {
        let sql = format!("SELECT {}", vec!["HEX(?)"; chunk.len()].join(", "));
        let params: Vec<actix_mysql::Value> = chunk
            .iter()
            .map(|v| actix_mysql::Value::from(v.clone()))
            .collect();
        let rows = c
            .query_with(sql, params)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for (i, v) in chunk.iter().enumerate() {
            let got: String = rows[0].try_get(i).unwrap();
            if got != hex(v) {
                bad.push(format!("{} came back as {got}", hex(v)));
            }
        }
    }
    bad
}

/// Binds each payload in a query over a table of known rows; returns those that matched a row
/// or changed the table.
async fn injected(c: &Client, t: &str, payloads: &[Vec<u8>]) -> Vec<String> {
    let mut bad = Vec::new();
    for p in payloads {
        let rows = c
            .query_with(
                format!("SELECT COUNT(*) FROM {t} WHERE v = ?"),
                vec![actix_mysql::Value::from(p.clone())],
            )
            .await;
        match rows {
            Ok(rows) => {
                let n: i64 = rows[0].try_get(0).unwrap();
                if n != 0 {
                    bad.push(format!("{} matched {n} rows", hex(p)));
                }
            }
            Err(e) => bad.push(format!("{} failed: {e}", hex(p))),
        }
    }
    let left: i64 = c
        .query_one(format!("SELECT COUNT(*) FROM {t}"))
        .await
        .map(|r| r.try_get(0).unwrap())
        .unwrap_or(-1);
    if left != 3 {
        bad.push(format!("the table has {left} rows left of 3"));
    }
    bad
}

/// Under each session mode the crate can escape for, set in every way, every byte pair and
/// thousands of random strings come back unchanged, and no payload escapes its literal.
#[actix_rt::test]
async fn should_round_trip_every_value_and_resist_every_payload_under_each_session_mode() {
    let modes = [
        ("utf8mb4", "SET NAMES utf8mb4"),
        ("latin1", "SET NAMES latin1"),
        ("binary", "SET NAMES binary"),
        (
            "no_backslash_escapes",
            "SET sql_mode = 'NO_BACKSLASH_ESCAPES'",
        ),
    ];
    let pairs: Vec<Vec<u8>> = (0..=u16::MAX).map(|p| p.to_be_bytes().to_vec()).collect();
    let strings = random_strings(2_000, 0x5eed_cafe);
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for srv in servers() {
        let setup = client(srv);
        let t = known_rows(&setup, srv, "modes").await;
        let payloads = payloads(&t);
        for (mode, set) in modes {
            for way in WAYS {
                let c = client_in_mode(srv, set, way).await;
                let mut bad = Vec::new();
                if matches!(way, Way::Query | Way::InitSql) {
                    bad.extend(altered(&c, &pairs).await);
                    checked += pairs.len();
                }
                bad.extend(altered(&c, &strings).await);
                bad.extend(altered(&c, &payloads).await);
                bad.extend(injected(&c, &t, &payloads).await);
                checked += strings.len() + 2 * payloads.len();
                if !bad.is_empty() {
                    failures.push(format!(
                        "{} {mode} set by {way:?}: {} failures, e.g. {:?}",
                        srv.name,
                        bad.len(),
                        &bad[..bad.len().min(3)]
                    ));
                }
            }
        }
    }
    eprintln!("{checked} values and payloads checked");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Under a character set whose multibyte characters can end in a backslash (GBK, SJIS, Big5,
/// CP932, GB18030), a string parameter is refused, with nothing sent, however the session came
/// to use it; numbers still bind, and a prepared statement takes the string safely.
#[actix_rt::test]
async fn should_refuse_string_parameters_under_a_charset_it_cannot_escape_for() {
    let mut failures = Vec::new();
    for srv in servers() {
        let setup = client(srv);
        let t = known_rows(&setup, srv, "unsafe").await;
        for charset in ["gbk", "sjis", "big5", "cp932", "gb18030"] {
            let supported = setup
                .query_with("SHOW CHARACTER SET WHERE Charset = ?", (charset,))
                .await
                .unwrap();
            if supported.is_empty() {
                continue;
            }
            let ways = [
                format!("SET NAMES {charset}"),
                format!("SET character_set_client = {charset}"),
                format!("SET CHARACTER SET {charset}"),
                format!("SET CHARSET {charset}"),
                format!("SELECT 1; SET NAMES {charset}; SELECT 2"),
            ];
            let mut cases: Vec<(String, Way)> =
                ways.iter().map(|set| (set.clone(), Way::Query)).collect();
            for way in WAYS {
                cases.push((format!("SET NAMES {charset}"), way));
            }
            for (set, way) in cases {
                let c = client_in_mode(srv, &set, way).await;
                let label = format!("{} {set:?} by {way:?}", srv.name);
                let payload = "中' OR 1=1 -- ";
                match c
                    .query_with(format!("SELECT COUNT(*) FROM {t} WHERE v = ?"), (payload,))
                    .await
                {
                    Err(e) if e.kind() == ErrorKind::Usage && chain(&e).contains("prepared") => {}
                    other => failures.push(format!("{label}: not refused: {other:?}")),
                }
                match c.query_with("SELECT ? + 1", (41,)).await {
                    Ok(rows) if rows[0].try_get::<i64>(0).ok() == Some(42) => {}
                    other => failures.push(format!("{label}: a number did not bind: {other:?}")),
                }
                let stmt = c
                    .prepare(format!("SELECT COUNT(*) FROM {t} WHERE v = ?"))
                    .await
                    .unwrap();
                let rows = c.exec(&stmt, ("x' OR 1=1 -- ",)).await.unwrap();
                let n: i64 = rows[0].try_get(0).unwrap();
                if n != 0 {
                    failures.push(format!("{label}: the prepared statement matched {n}"));
                }
            }
        }
        let left: i64 = setup
            .query_one(format!("SELECT COUNT(*) FROM {t}"))
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(left, 3, "{}", srv.name);
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A pool resets a connection when a lease ends: the next user's interpolation follows the
/// session the reset left (the handshake's character set), not the one the lease had set.
#[actix_rt::test]
async fn should_follow_the_session_a_pool_reset_leaves() {
    for srv in servers() {
        let pool = actix_mysql::Pool::new(
            Opts::from_url(&srv.url_with_db(support::TEST_DB)).unwrap(),
            actix_mysql::PoolOpts::new().with_max_size(1),
        );
        let lease = pool.get().await.unwrap();
        lease.client().execute("SET NAMES gbk").await.unwrap();
        let refused = lease.client().query_with("SELECT ?", ("x",)).await;
        assert!(refused.is_err(), "{}", srv.name);
        drop(lease);
        let rows = pool.query_with("SELECT HEX(?)", ("中'\\",)).await.unwrap();
        assert_eq!(
            rows[0].try_get::<String>(0).unwrap(),
            hex("中'\\".as_bytes()),
            "{}",
            srv.name
        );
        let info = pool.connection_infos().await;
        assert_eq!(
            info[0].as_ref().and_then(|i| i.character_set.as_deref()),
            Some("utf8mb4"),
            "{}",
            srv.name
        );
    }
}

/// The error and its sources, as one line.
fn chain(e: &actix_mysql::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
