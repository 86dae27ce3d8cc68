//! Authentication plugins against real servers.
mod support;

use actix_mysql::{Client, ErrorKind, Opts};
use support::{servers, ServerKind, TestServer};

static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Creates a user that has never logged in (so the server has no cached credentials for it).
async fn fresh_user(srv: &TestServer, plugin: Option<&str>) -> (String, String) {
    let admin = Client::from_url(&srv.url()).unwrap();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let user = format!("u{}_{}", std::process::id(), n);
    let password = format!("pw-{n}-secret");
    let with = match (plugin, srv.kind) {
        (Some(p), ServerKind::MySql) => format!("IDENTIFIED WITH {p} BY '{password}'"),
        (Some(p), ServerKind::MariaDb) => {
            format!("IDENTIFIED VIA {p} USING PASSWORD('{password}')")
        }
        (None, _) => format!("IDENTIFIED BY '{password}'"),
    };
    for host in ["%", "localhost"] {
        admin
            .execute(format!("CREATE USER '{user}'@'{host}' {with}"))
            .await
            .unwrap();
        admin
            .execute(format!("GRANT SELECT ON *.* TO '{user}'@'{host}'"))
            .await
            .unwrap();
    }
    (user, password)
}

fn tcp_opts(srv: &TestServer, user: &str, password: &str) -> Opts {
    Opts::new()
        .with_host(srv.host.clone())
        .with_port(srv.port)
        .with_user(user)
        .with_password(password)
}

async fn whoami(c: &Client) -> Result<String, actix_mysql::Error> {
    let rows = c.query("SELECT CURRENT_USER()").await?;
    Ok(rows[0].get::<String>(0))
}

#[actix_rt::test]
async fn should_log_in_with_the_servers_default_plugin() {
    for srv in servers() {
        let (user, pw) = fresh_user(srv, None).await;
        let mut opts = tcp_opts(srv, &user, &pw);
        if let Some(key) = &srv.public_key_pem {
            opts = opts.with_server_public_key_file(key.clone());
        }
        let c = Client::new(opts);
        assert!(whoami(&c).await.unwrap().starts_with(&user), "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_log_in_with_mysql_native_password_on_mariadb() {
    for srv in servers().iter().filter(|s| s.kind == ServerKind::MariaDb) {
        let (user, pw) = fresh_user(srv, Some("mysql_native_password")).await;
        let c = Client::new(tcp_opts(srv, &user, &pw));
        assert!(whoami(&c).await.unwrap().starts_with(&user), "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_log_in_with_an_empty_password() {
    for srv in servers() {
        let admin = Client::from_url(&srv.url()).unwrap();
        let user = format!("nopw{}", std::process::id());
        for host in ["%", "localhost"] {
            admin
                .execute(format!("CREATE USER IF NOT EXISTS '{user}'@'{host}'"))
                .await
                .unwrap();
        }
        let c = Client::new(tcp_opts(srv, &user, ""));
        assert!(whoami(&c).await.unwrap().starts_with(&user), "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_refuse_caching_sha2_full_auth_over_plain_tcp_without_a_key() {
    for srv in servers().iter().filter(|s| s.kind == ServerKind::MySql) {
        let (user, pw) = fresh_user(srv, Some("caching_sha2_password")).await;
        let c = Client::new(tcp_opts(srv, &user, &pw));
        let err = whoami(&c).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{}: {err}", srv.name);
        assert!(err.to_string().contains("authentication"), "{err}");
        let msg = format!("{err} {:?}", std::error::Error::source(&err));
        assert!(!msg.contains(&pw), "password leaked: {msg}");
    }
}

#[actix_rt::test]
async fn should_do_caching_sha2_full_auth_with_a_pinned_key_then_fast_auth() {
    for srv in servers().iter().filter(|s| s.kind == ServerKind::MySql) {
        let key = srv
            .public_key_pem
            .clone()
            .expect("mysql test servers have a key");
        let (user, pw) = fresh_user(srv, Some("caching_sha2_password")).await;
        let c = Client::new(tcp_opts(srv, &user, &pw).with_server_public_key_file(key));
        assert!(whoami(&c).await.unwrap().starts_with(&user), "{}", srv.name);
        // The server now caches the credentials: fast auth needs no key.
        let c = Client::new(tcp_opts(srv, &user, &pw));
        assert!(whoami(&c).await.unwrap().starts_with(&user));
    }
}

#[actix_rt::test]
async fn should_do_caching_sha2_full_auth_with_public_key_retrieval() {
    for srv in servers().iter().filter(|s| s.kind == ServerKind::MySql) {
        let (user, pw) = fresh_user(srv, Some("caching_sha2_password")).await;
        let c = Client::new(tcp_opts(srv, &user, &pw).with_allow_public_key_retrieval(true));
        assert!(whoami(&c).await.unwrap().starts_with(&user), "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_do_caching_sha2_full_auth_over_a_unix_socket() {
    for srv in servers().iter().filter(|s| s.kind == ServerKind::MySql) {
        let Some(socket) = &srv.socket else { continue };
        let (user, pw) = fresh_user(srv, Some("caching_sha2_password")).await;
        let opts = Opts::new()
            .with_socket(socket.clone())
            .with_user(user.clone())
            .with_password(pw);
        let c = Client::new(opts);
        assert!(whoami(&c).await.unwrap().starts_with(&user), "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_do_sha256_password_with_public_key_retrieval() {
    for srv in servers().iter().filter(|s| s.kind == ServerKind::MySql) {
        let admin = Client::from_url(&srv.url()).unwrap();
        let has_plugin = admin
            .query("SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'sha256_password'")
            .await
            .unwrap();
        if has_plugin.is_empty() {
            eprintln!("{}: sha256_password not available, skipped", srv.name);
            continue;
        }
        let (user, pw) = fresh_user(srv, Some("sha256_password")).await;
        let c = Client::new(tcp_opts(srv, &user, &pw).with_allow_public_key_retrieval(true));
        assert!(whoami(&c).await.unwrap().starts_with(&user), "{}", srv.name);
    }
}

/// Standard base64 without padding, as MariaDB shows an ed25519 account's public key.
fn base64_unpadded(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[actix_rt::test]
async fn should_log_in_with_ed25519_on_mariadb() {
    let mut tested = 0;
    for srv in servers().iter().filter(|s| s.kind == ServerKind::MariaDb) {
        let admin = Client::from_url(&srv.url()).unwrap();
        if admin
            .execute("INSTALL SONAME 'auth_ed25519'")
            .await
            .is_err()
        {
            let rows = admin
                .query("SELECT 1 FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519'")
                .await
                .unwrap();
            if rows.is_empty() {
                eprintln!("{}: ed25519 not available, skipped", srv.name);
                continue;
            }
        }
        let (user, pw) = fresh_user(srv, Some("ed25519")).await;
        // The server stores the public key derived from the password: the same as ours.
        let stored: String = admin
            .query(format!(
                "SELECT authentication_string FROM mysql.user WHERE user = '{user}' AND host = '%'"
            ))
            .await
            .unwrap()[0]
            .get(0);
        let ours = actix_mysql::protocol::auth::ed25519::public_key(pw.as_bytes());
        assert_eq!(stored, base64_unpadded(&ours), "{}", srv.name);

        let c = Client::new(tcp_opts(srv, &user, &pw));
        assert!(whoami(&c).await.unwrap().starts_with(&user), "{}", srv.name);
        // A wrong password is refused by the server, as usual.
        let c = Client::new(tcp_opts(srv, &user, "wrong"));
        let err = whoami(&c).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{}: {err}", srv.name);
        assert_eq!(err.code(), Some(1045));
        tested += 1;
    }
    eprintln!("ed25519 tested on {tested} server(s)");
}
