//! TLS against real servers: every `ssl_mode`, certificate checks, client certificates,
//! caching_sha2 full authentication over TLS, and failing closed against a server without TLS.
mod support;

use std::time::Duration;

use actix_mysql::{Client, ErrorKind, Opts, SslMode};
use support::{servers, start_without_tls, ServerKind, TestServer};

/// Plain options for the test account over TCP (no pinned RSA key).
fn opts(srv: &TestServer) -> Opts {
    Opts::new()
        .with_host(srv.host.clone())
        .with_port(srv.port)
        .with_user(srv.user.clone())
        .with_password(srv.password.clone())
        .with_connect_timeout(Duration::from_secs(20))
}

fn ca(srv: &TestServer) -> std::path::PathBuf {
    srv.ca_pem
        .clone()
        .unwrap_or_else(|| panic!("{}: started without TLS certificates", srv.name))
}

/// The cipher of the session as the server sees it (empty without TLS).
async fn cipher(c: &Client) -> Result<String, actix_mysql::Error> {
    let rows = c.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'").await?;
    Ok(rows.first().map(|r| r.get::<String>(1)).unwrap_or_default())
}

fn tls_servers() -> impl Iterator<Item = &'static TestServer> {
    servers().iter().filter(|s| s.ca_pem.is_some())
}

fn source_text(err: &actix_mysql::Error) -> String {
    let mut text = format!("{err}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(&format!(" / {s}"));
        source = s.source();
    }
    text
}

#[actix_rt::test]
async fn should_encrypt_with_ssl_mode_required_and_preferred() {
    for srv in servers().iter().filter(|s| s.pid.is_some()) {
        assert!(srv.ca_pem.is_some(), "{}: started without TLS", srv.name);
    }
    for srv in tls_servers() {
        for mode in [SslMode::Preferred, SslMode::Required] {
            let c = Client::new(opts(srv).with_ssl_mode(mode));
            let cipher = cipher(&c).await.unwrap();
            assert!(!cipher.is_empty(), "{} {mode:?}: no TLS", srv.name);
        }
        let c = Client::new(opts(srv));
        assert_eq!(cipher(&c).await.unwrap(), "", "{}: disabled", srv.name);
    }
}

#[actix_rt::test]
async fn should_verify_the_chain_and_the_host_name() {
    for srv in tls_servers() {
        let ca = ca(srv);
        // verify_ca: the chain is checked, the name is not.
        for name in [None, Some("db.example")] {
            let mut o = opts(srv)
                .with_ssl_mode(SslMode::VerifyCa)
                .with_ssl_ca(ca.clone());
            if let Some(name) = name {
                o = o.with_tls_server_name(name);
            }
            let c = Client::new(o);
            assert!(!cipher(&c).await.unwrap().is_empty(), "{}", srv.name);
        }
        // verify_identity: 127.0.0.1 and localhost are in the certificate.
        for host in ["127.0.0.1", "localhost"] {
            let c = Client::new(
                opts(srv)
                    .with_host(host)
                    .with_ssl_mode(SslMode::VerifyIdentity)
                    .with_ssl_ca(ca.clone()),
            );
            assert!(!cipher(&c).await.unwrap().is_empty(), "{} {host}", srv.name);
        }
        // ... another name is not.
        let c = Client::new(
            opts(srv)
                .with_ssl_mode(SslMode::VerifyIdentity)
                .with_ssl_ca(ca.clone())
                .with_tls_server_name("db.example"),
        );
        let err = cipher(&c).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls, "{}: {err}", srv.name);
        let text = source_text(&err);
        assert!(text.contains("not valid for name"), "{text}");
    }
}

#[actix_rt::test]
async fn should_refuse_a_certificate_from_an_untrusted_ca() {
    for srv in tls_servers() {
        // The system roots do not include the test CA.
        for mode in [SslMode::VerifyCa, SslMode::VerifyIdentity] {
            let c = Client::new(opts(srv).with_ssl_mode(mode));
            let err = cipher(&c).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Tls, "{} {mode:?}: {err}", srv.name);
            let source = std::error::Error::source(&err).expect("the rustls error");
            assert!(
                source.downcast_ref::<rustls::Error>().is_some(),
                "{}: {source:?}",
                srv.name
            );
        }
        // Nor does the CA of another server, nor a leaf certificate.
        let others: Vec<_> = tls_servers()
            .filter(|o| o.ca_pem != srv.ca_pem)
            .filter_map(|o| o.ca_pem.clone())
            .chain(srv.client_cert_pem.clone())
            .collect();
        for wrong in others {
            let c = Client::new(
                opts(srv)
                    .with_ssl_mode(SslMode::VerifyCa)
                    .with_ssl_ca(wrong.clone()),
            );
            let err = cipher(&c).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Tls, "{} {wrong:?}: {err}", srv.name);
        }
    }
}

#[actix_rt::test]
async fn should_accept_tls_parameters_in_the_url() {
    for srv in tls_servers() {
        let url = format!(
            "mysql://{}:{}@localhost:{}/?ssl_mode=verify_identity&ssl_ca={}",
            srv.user,
            srv.password,
            srv.port,
            ca(srv).display()
        );
        let c = Client::from_url(&url).unwrap();
        assert!(!cipher(&c).await.unwrap().is_empty(), "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_present_a_client_certificate() {
    for srv in tls_servers() {
        let admin = Client::from_url(&srv.url()).unwrap();
        let user = support::unique_name("x509");
        let pw = "x509-pw";
        for host in ["%", "localhost"] {
            admin
                .execute(format!(
                    "CREATE USER '{user}'@'{host}' IDENTIFIED BY '{pw}' REQUIRE X509"
                ))
                .await
                .unwrap();
        }
        let base = opts(srv)
            .with_user(user.clone())
            .with_password(pw)
            .with_ssl_mode(SslMode::VerifyIdentity)
            .with_ssl_ca(ca(srv));
        // Without a certificate the server refuses the account.
        let c = Client::new(base.clone());
        let err = cipher(&c).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{}: {err}", srv.name);
        let c = Client::new(base.with_ssl_client_cert(
            srv.client_cert_pem.clone().unwrap(),
            srv.client_key_pem.clone().unwrap(),
        ));
        assert!(!cipher(&c).await.unwrap().is_empty(), "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_do_caching_sha2_full_auth_over_tls_without_a_key() {
    for srv in tls_servers().filter(|s| s.kind == ServerKind::MySql) {
        let admin = Client::from_url(&srv.url()).unwrap();
        let user = support::unique_name("sha2tls");
        let pw = "full-auth-over-tls";
        for host in ["%", "localhost"] {
            admin
                .execute(format!(
                    "CREATE USER '{user}'@'{host}' IDENTIFIED WITH caching_sha2_password BY '{pw}'"
                ))
                .await
                .unwrap();
        }
        // A fresh account has no cached credentials: full authentication, password over TLS.
        let c = Client::new(
            opts(srv)
                .with_user(user.clone())
                .with_password(pw)
                .with_ssl_mode(SslMode::Required),
        );
        assert!(!cipher(&c).await.unwrap().is_empty(), "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_reconnect_over_tls() {
    for srv in tls_servers() {
        let admin = Client::from_url(&srv.url()).unwrap();
        let c = Client::new(
            opts(srv)
                .with_ssl_mode(SslMode::VerifyIdentity)
                .with_ssl_ca(ca(srv)),
        );
        let id: u64 = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get(0);
        admin.execute(format!("KILL {id}")).await.unwrap();
        // The first command may see the dead connection; the client reconnects over TLS.
        let mut last = None;
        for _ in 0..20 {
            match cipher(&c).await {
                Ok(cipher) => {
                    last = Some(cipher);
                    break;
                }
                Err(e) => {
                    assert_ne!(e.kind(), ErrorKind::Tls, "{e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        assert!(!last.expect("reconnected").is_empty(), "{}", srv.name);
        let new_id: u64 = c.query("SELECT CONNECTION_ID()").await.unwrap()[0].get(0);
        assert_ne!(id, new_id);
    }
}

#[actix_rt::test]
async fn should_not_use_tls_over_a_unix_socket() {
    for srv in tls_servers() {
        let Some(socket) = &srv.socket else { continue };
        let c = Client::new(
            Opts::new()
                .with_socket(socket.clone())
                .with_user(srv.user.clone())
                .with_password(srv.password.clone())
                .with_ssl_mode(SslMode::VerifyIdentity),
        );
        assert_eq!(cipher(&c).await.unwrap(), "", "{}", srv.name);
    }
}

#[actix_rt::test]
async fn should_fail_closed_against_a_server_without_tls() {
    let srv = match start_without_tls() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("no server without TLS could be started, skipped: {e}");
            return;
        }
    };
    for mode in [
        SslMode::Required,
        SslMode::VerifyCa,
        SslMode::VerifyIdentity,
    ] {
        let c = Client::new(opts(&srv).with_ssl_mode(mode));
        let err = cipher(&c).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls, "{mode:?}: {err}");
        assert!(err.to_string().contains("does not offer TLS"), "{err}");
    }
    // preferred goes on in plain text.
    let c = Client::new(opts(&srv).with_ssl_mode(SslMode::Preferred));
    assert_eq!(cipher(&c).await.unwrap(), "");
    srv.stop();
}
