//! Tests of the test-server harness itself (`tests/support/`); they do not use the client
//! library.

mod support;

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use support::{servers, ServerKind, TestServer, TEST_DB};

/// Reads the first packet the server sends on a new TCP connection.
fn greeting(server: &TestServer) -> Vec<u8> {
    let mut stream = TcpStream::connect((server.host.as_str(), server.port))
        .unwrap_or_else(|e| panic!("{}: connect: {e}", server.name));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).unwrap();
    let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    assert_eq!(header[3], 0, "{}: greeting sequence id", server.name);
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).unwrap();
    payload
}

#[test]
fn every_server_reports_its_version_over_the_socket() {
    for server in servers() {
        let version = server.admin_sql("SELECT VERSION()").unwrap();
        eprintln!("{}: VERSION() = {version}", server.name);
        assert_eq!(
            version.contains("MariaDB"),
            server.kind == ServerKind::MariaDb,
            "{}: kind does not match {version}",
            server.name
        );
        assert!(
            version.starts_with(&server.version),
            "{}: {version}",
            server.name
        );
    }
}

#[test]
fn every_server_greets_with_protocol_10() {
    for server in servers() {
        let payload = greeting(server);
        assert_eq!(
            payload[0], 10,
            "{}: not a protocol 10 greeting: {payload:?}",
            server.name
        );
        let end = payload[1..].iter().position(|&b| b == 0).unwrap() + 1;
        let version = String::from_utf8_lossy(&payload[1..end]);
        // After the version: connection id (4), auth data part 1 (8), filler (1),
        // capabilities low (2), then the server's default character set.
        let charset = payload.get(end + 1 + 4 + 8 + 1 + 2).copied();
        eprintln!(
            "{}: greeting version {version:?}, character set {charset:?}",
            server.name
        );
        assert_eq!(
            version.contains("MariaDB"),
            server.kind == ServerKind::MariaDb,
            "{}: {version}",
            server.name
        );
    }
}

#[test]
fn test_account_logs_in_over_tcp_with_all_privileges() {
    for server in servers() {
        let grants = server
            .user_sql("SHOW GRANTS FOR CURRENT_USER()")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            // MySQL lists the privileges one by one instead of `ALL PRIVILEGES`.
            (grants.contains("ALL PRIVILEGES") || grants.contains("CREATE USER"))
                && grants.contains("ON *.*")
                && grants.contains("WITH GRANT OPTION"),
            "{}: {grants}",
            server.name
        );
        let dbs = server.user_sql("SHOW DATABASES").unwrap();
        assert!(dbs.lines().any(|l| l == TEST_DB), "{}: {dbs}", server.name);
        let packet = server.user_sql("SELECT @@max_allowed_packet").unwrap();
        assert_eq!(packet, "67108864", "{}", server.name);
    }
}

#[test]
fn urls_carry_the_account_and_the_public_key() {
    for server in servers() {
        let url = server.url();
        let base = format!(
            "mysql://{}:{}@{}:{}/",
            server.user, server.password, server.host, server.port
        );
        assert!(url.starts_with(&base), "{url}");
        assert!(server
            .url_with_db("actix_test")
            .starts_with(&format!("{base}actix_test")));
        assert!(!server.password.is_empty());
        if server.kind == ServerKind::MySql && server.pid.is_some() {
            let key = server.public_key_pem.as_ref().expect("MySQL public key");
            let pem = std::fs::read_to_string(key).unwrap();
            assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
            assert!(url.ends_with(&format!("?server_public_key={}", key.display())));
        }
        if let Some(socket) = &server.socket {
            assert!(socket.exists(), "{}: {}", server.name, socket.display());
        }
    }
}

#[test]
fn test_urls_are_parsed_with_std_only() {
    let list = support::parse_test_urls(
        "mysql-8.4=mysql://root:p%40ss@127.0.0.1:3307/?server_public_key=/k.pem, \
         mariadb://u@localhost",
    )
    .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].name, "mysql-8.4");
    assert_eq!(list[0].kind, ServerKind::MySql);
    assert_eq!(list[0].password, "p@ss");
    assert_eq!(list[0].port, 3307);
    assert_eq!(
        list[0].url(),
        "mysql://root:p%40ss@127.0.0.1:3307/?server_public_key=/k.pem"
    );
    assert_eq!(list[1].name, "external-2");
    assert_eq!(list[1].user, "u");
    assert_eq!(list[1].port, 3306);
    assert_eq!(list[1].kind, ServerKind::MariaDb);
}
