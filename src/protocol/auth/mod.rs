//! Authentication plugins and the sans-IO authentication exchange.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods.html>
use super::buf::ParseBuf;
use super::response::{ErrPacket, OkPacket};
use super::ProtocolError;

pub mod caching_sha2;
pub mod clear;
pub mod ed25519;
pub mod native;
pub mod sha256;

/// What the authentication exchange needs to know about the connection.
#[derive(Clone)]
pub struct AuthParams<'a> {
    /// The user's password (empty for none).
    pub password: &'a [u8],
    /// True over TLS or a unix socket: the password may be sent in clear text.
    pub secure_transport: bool,
    /// A server RSA public key (PEM) pinned by the user.
    pub server_public_key: Option<&'a [u8]>,
    /// Whether the server may be asked for its RSA public key.
    pub allow_public_key_retrieval: bool,
}

impl std::fmt::Debug for AuthParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthParams")
            .field("password", &"<redacted>")
            .field("secure_transport", &self.secure_transport)
            .field(
                "allow_public_key_retrieval",
                &self.allow_public_key_retrieval,
            )
            .finish_non_exhaustive()
    }
}

/// Why authentication could not proceed on the client side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The server asked for a plugin this client does not implement.
    #[error("unsupported authentication plugin {0:?}")]
    UnsupportedPlugin(String),
    /// Full authentication would send the password where it could be read.
    #[error("{0}")]
    InsecureTransport(&'static str),
    /// The server's RSA public key could not be used.
    #[error("invalid server public key: {0}")]
    InvalidPublicKey(String),
    /// The server broke the exchange.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

const INSECURE_FULL_AUTH: &str = "the server requires the password for full authentication, \
     which would be sent over an insecure connection: use TLS, a unix socket, a pinned \
     `server_public_key`, or `allow_public_key_retrieval=true`";
const INSECURE_SHA256: &str = "sha256_password would send the password over an insecure \
     connection: use TLS, a unix socket, a pinned `server_public_key`, or \
     `allow_public_key_retrieval=true`";
const INSECURE_CLEAR: &str = "mysql_clear_password sends the password in clear text and is only \
     used over TLS or a unix socket";

/// The next step of the exchange after a packet from the server.
#[non_exhaustive]
pub enum AuthStep {
    /// Send this payload to the server (next sequence id) and feed its answer to [`AuthFlow::next`].
    Send(Vec<u8>),
    /// Read the next packet and feed it to [`AuthFlow::next`] without sending anything.
    Continue,
    /// Authenticated.
    Done(OkPacket),
    /// The server refused (e.g. 1045 access denied).
    Failed(ErrPacket),
}

impl std::fmt::Debug for AuthStep {
    // `Send` may carry the password in clear text: only its length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthStep::Send(data) => write!(f, "Send(<{} bytes>)", data.len()),
            AuthStep::Continue => f.write_str("Continue"),
            AuthStep::Done(ok) => f.debug_tuple("Done").field(ok).finish(),
            AuthStep::Failed(err) => f.debug_tuple("Failed").field(err).finish(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plugin {
    Native,
    CachingSha2,
    Sha256,
    Clear,
    Ed25519,
}

impl Plugin {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            native::NAME => Plugin::Native,
            caching_sha2::NAME => Plugin::CachingSha2,
            sha256::NAME => Plugin::Sha256,
            clear::NAME => Plugin::Clear,
            ed25519::NAME => Plugin::Ed25519,
            _ => return None,
        })
    }
    fn name(self) -> &'static str {
        match self {
            Plugin::Native => native::NAME,
            Plugin::CachingSha2 => caching_sha2::NAME,
            Plugin::Sha256 => sha256::NAME,
            Plugin::Clear => clear::NAME,
            Plugin::Ed25519 => ed25519::NAME,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The plugin's first response was sent.
    Sent,
    /// caching_sha2 fast authentication succeeded: an OK packet follows.
    FastAuthOk,
    /// The server's RSA public key was requested.
    AwaitingKey,
    /// The password itself was sent (clear or encrypted).
    PasswordSent,
    /// OK or ERR received.
    Finished,
}

/// Drives the authentication exchange: create it from the greeting with [`AuthFlow::start`], send
/// the initial response it returns in the handshake response, then feed every server packet to
/// [`AuthFlow::next`] until `Done` or `Failed`.
pub struct AuthFlow {
    plugin: Plugin,
    scramble: Vec<u8>,
    state: State,
}

impl std::fmt::Debug for AuthFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthFlow")
            .field("plugin", &self.plugin.name())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// The first response of `plugin` to `scramble`, and the state it leaves the exchange in.
fn first_response(
    plugin: Plugin,
    scramble: &[u8],
    params: &AuthParams<'_>,
) -> Result<(Vec<u8>, State), AuthError> {
    let password = params.password;
    Ok(match plugin {
        Plugin::Native => (native::scramble_password(password, scramble), State::Sent),
        Plugin::CachingSha2 => (
            caching_sha2::scramble_password(password, scramble),
            State::Sent,
        ),
        Plugin::Ed25519 => {
            let nonce = scramble
                .get(..ed25519::NONCE_LEN)
                .ok_or(ProtocolError::Truncated("client_ed25519 nonce"))?;
            (ed25519::sign(password, nonce), State::PasswordSent)
        }
        Plugin::Clear => {
            if !params.secure_transport {
                return Err(AuthError::InsecureTransport(INSECURE_CLEAR));
            }
            (clear::password_nul(password), State::PasswordSent)
        }
        Plugin::Sha256 => {
            if password.is_empty() {
                (Vec::new(), State::PasswordSent)
            } else if params.secure_transport {
                (clear::password_nul(password), State::PasswordSent)
            } else if let Some(pem) = params.server_public_key {
                (
                    sha256::encrypt_password(password, scramble, pem)?,
                    State::PasswordSent,
                )
            } else if params.allow_public_key_retrieval {
                (vec![sha256::REQUEST_PUBLIC_KEY], State::AwaitingKey)
            } else {
                return Err(AuthError::InsecureTransport(INSECURE_SHA256));
            }
        }
    })
}

impl AuthFlow {
    /// Starts with the server's default plugin and scramble. Returns the flow, the plugin name to
    /// put in the handshake response, and the initial auth response bytes.
    ///
    /// When the server's default plugin is unknown (or not sent), the exchange starts with
    /// `mysql_native_password`; a server whose account uses another plugin answers with an
    /// AuthSwitchRequest, where an unknown plugin is refused.
    pub fn start(
        plugin: &str,
        scramble: &[u8],
        params: &AuthParams<'_>,
    ) -> Result<(Self, String, Vec<u8>), AuthError> {
        let plugin = match Plugin::from_name(plugin) {
            // A greeting's scramble is too short for an ed25519 nonce: the server sends one in
            // an AuthSwitchRequest.
            Some(Plugin::Ed25519) if scramble.len() < ed25519::NONCE_LEN => Plugin::Native,
            Some(p) => p,
            None => Plugin::Native,
        };
        let (response, state) = first_response(plugin, scramble, params)?;
        let flow = AuthFlow {
            plugin,
            scramble: scramble.to_vec(),
            state,
        };
        Ok((flow, plugin.name().to_owned(), response))
    }

    /// Name of the plugin currently in use.
    pub fn plugin_name(&self) -> &'static str {
        self.plugin.name()
    }

    /// True once OK or ERR has been received.
    pub fn is_finished(&self) -> bool {
        self.state == State::Finished
    }

    /// Handles the next server packet (OK, ERR, AuthSwitchRequest 0xFE, AuthMoreData 0x01).
    pub fn next(
        &mut self,
        payload: &[u8],
        capabilities: u32,
        params: &AuthParams<'_>,
    ) -> Result<AuthStep, AuthError> {
        if self.state == State::Finished {
            return Err(ProtocolError::Unexpected("packet after the end of authentication").into());
        }
        match payload.first() {
            Some(0x00) => {
                let ok = OkPacket::parse(payload, capabilities)?;
                self.state = State::Finished;
                Ok(AuthStep::Done(ok))
            }
            Some(0xFF) => {
                let err = ErrPacket::parse(payload, capabilities)?;
                self.state = State::Finished;
                Ok(AuthStep::Failed(err))
            }
            Some(0xFE) => self.switch(payload, params),
            Some(0x01) => self.more_data(payload.get(1..).unwrap_or_default(), params),
            Some(_) => {
                Err(ProtocolError::Unexpected("unknown packet during authentication").into())
            }
            None => Err(ProtocolError::Truncated("authentication packet").into()),
        }
    }

    /// AuthSwitchRequest: `0xFE`, plugin name NUL, plugin data (trailing NUL stripped).
    fn switch(&mut self, payload: &[u8], params: &AuthParams<'_>) -> Result<AuthStep, AuthError> {
        let mut p = ParseBuf::new(payload);
        p.u8("auth switch header")?;
        if p.is_empty() {
            // The pre-4.1 "old password" switch.
            return Err(AuthError::UnsupportedPlugin("mysql_old_password".into()));
        }
        let name = p.null_terminated("auth switch plugin name")?;
        let name = String::from_utf8_lossy(name);
        let plugin = Plugin::from_name(&name)
            .ok_or_else(|| AuthError::UnsupportedPlugin(name.into_owned()))?;
        let mut data = p.rest();
        if plugin == Plugin::Ed25519 {
            // The nonce is binary: a last byte 0 belongs to it.
            data = data.get(..ed25519::NONCE_LEN).unwrap_or(data);
        } else if let Some((&0, head)) = data.split_last() {
            data = head;
        }
        let (response, state) = first_response(plugin, data, params)?;
        self.plugin = plugin;
        self.scramble = data.to_vec();
        self.state = state;
        Ok(AuthStep::Send(response))
    }

    /// AuthMoreData: `0x01` followed by plugin-specific data.
    fn more_data(&mut self, data: &[u8], params: &AuthParams<'_>) -> Result<AuthStep, AuthError> {
        match (self.plugin, self.state) {
            (Plugin::CachingSha2, State::Sent) => match data {
                [caching_sha2::FAST_AUTH_SUCCESS] => {
                    self.state = State::FastAuthOk;
                    Ok(AuthStep::Continue)
                }
                [caching_sha2::PERFORM_FULL_AUTH] => self.full_auth(params),
                _ => Err(ProtocolError::Unexpected("caching_sha2_password status").into()),
            },
            (Plugin::CachingSha2 | Plugin::Sha256, State::AwaitingKey) => {
                let encrypted = sha256::encrypt_password(params.password, &self.scramble, data)?;
                self.state = State::PasswordSent;
                Ok(AuthStep::Send(encrypted))
            }
            _ => Err(ProtocolError::Unexpected("auth more data").into()),
        }
    }

    /// caching_sha2_password full authentication: the server needs the password itself.
    fn full_auth(&mut self, params: &AuthParams<'_>) -> Result<AuthStep, AuthError> {
        if params.secure_transport {
            self.state = State::PasswordSent;
            Ok(AuthStep::Send(clear::password_nul(params.password)))
        } else if let Some(pem) = params.server_public_key {
            let encrypted = sha256::encrypt_password(params.password, &self.scramble, pem)?;
            self.state = State::PasswordSent;
            Ok(AuthStep::Send(encrypted))
        } else if params.allow_public_key_retrieval {
            self.state = State::AwaitingKey;
            Ok(AuthStep::Send(vec![caching_sha2::REQUEST_PUBLIC_KEY]))
        } else {
            Err(AuthError::InsecureTransport(INSECURE_FULL_AUTH))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sha256::tests::{decrypt, keypair};
    use super::*;
    use crate::protocol::constants::capabilities::{CLIENT_PROTOCOL_41, CLIENT_TRANSACTIONS};

    const CAPS: u32 = CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS;
    const SCRAMBLE: &[u8; 20] = b"0123456789abcdefghij";
    const PASSWORD: &[u8] = b"hunter2-secret";
    const OK: &[u8] = &[0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00];

    fn params() -> AuthParams<'static> {
        AuthParams {
            password: PASSWORD,
            secure_transport: false,
            server_public_key: None,
            allow_public_key_retrieval: false,
        }
    }

    fn sent(step: AuthStep) -> Vec<u8> {
        match step {
            AuthStep::Send(v) => v,
            other => panic!("expected Send, got {other:?}"),
        }
    }

    fn assert_done(step: AuthStep) {
        assert!(
            matches!(step, AuthStep::Done(ok) if ok.status == 2),
            "expected Done"
        );
    }

    fn more_data(data: &[u8]) -> Vec<u8> {
        let mut v = vec![0x01];
        v.extend_from_slice(data);
        v
    }

    fn unmask(ct: &[u8], scramble: &[u8]) -> Vec<u8> {
        let plain = decrypt(ct);
        plain
            .iter()
            .zip(scramble.iter().cycle())
            .map(|(a, b)| a ^ b)
            .collect()
    }

    fn password_nul() -> Vec<u8> {
        clear::password_nul(PASSWORD)
    }

    #[test]
    fn native_ok() {
        let p = params();
        let (mut flow, name, resp) =
            AuthFlow::start("mysql_native_password", SCRAMBLE, &p).unwrap();
        assert_eq!(name, "mysql_native_password");
        assert_eq!(resp, native::scramble_password(PASSWORD, SCRAMBLE));
        assert_eq!(resp.len(), 20);
        assert_done(flow.next(OK, CAPS, &p).unwrap());
        assert!(flow.is_finished());
        assert!(matches!(
            flow.next(OK, CAPS, &p),
            Err(AuthError::Protocol(ProtocolError::Unexpected(_)))
        ));
    }

    #[test]
    fn unknown_default_plugin_starts_with_native() {
        let p = params();
        for name in [
            "",
            "client_ed25519",
            "authentication_ldap_sasl_client",
            "dialog",
        ] {
            let (flow, chosen, resp) = AuthFlow::start(name, SCRAMBLE, &p).unwrap();
            assert_eq!(chosen, "mysql_native_password");
            assert_eq!(flow.plugin_name(), "mysql_native_password");
            assert_eq!(resp, native::scramble_password(PASSWORD, SCRAMBLE));
        }
    }

    #[test]
    fn access_denied() {
        let p = params();
        let (mut flow, _, _) = AuthFlow::start("mysql_native_password", SCRAMBLE, &p).unwrap();
        let mut err = vec![0xFF, 0x15, 0x04, b'#'];
        err.extend_from_slice(
            b"28000Access denied for user 'root'@'localhost' (using password: YES)",
        );
        match flow.next(&err, CAPS, &p).unwrap() {
            AuthStep::Failed(e) => {
                assert_eq!(e.code, 1045);
                assert_eq!(e.sql_state, "28000");
            }
            other => panic!("{other:?}"),
        }
        assert!(flow.is_finished());
    }

    #[test]
    fn caching_sha2_fast_auth() {
        let p = params();
        let (mut flow, name, resp) =
            AuthFlow::start("caching_sha2_password", SCRAMBLE, &p).unwrap();
        assert_eq!(name, "caching_sha2_password");
        assert_eq!(resp, caching_sha2::scramble_password(PASSWORD, SCRAMBLE));
        assert!(matches!(
            flow.next(&[0x01, 0x03], CAPS, &p).unwrap(),
            AuthStep::Continue
        ));
        assert_done(flow.next(OK, CAPS, &p).unwrap());
    }

    #[test]
    fn caching_sha2_empty_password() {
        let p = AuthParams {
            password: b"",
            ..params()
        };
        let (mut flow, _, resp) = AuthFlow::start("caching_sha2_password", SCRAMBLE, &p).unwrap();
        assert!(resp.is_empty());
        assert_done(flow.next(OK, CAPS, &p).unwrap());
    }

    #[test]
    fn caching_sha2_full_auth_secure_transport() {
        let p = AuthParams {
            secure_transport: true,
            ..params()
        };
        let (mut flow, _, _) = AuthFlow::start("caching_sha2_password", SCRAMBLE, &p).unwrap();
        assert_eq!(
            sent(flow.next(&[0x01, 0x04], CAPS, &p).unwrap()),
            password_nul()
        );
        assert_done(flow.next(OK, CAPS, &p).unwrap());
    }

    #[test]
    fn caching_sha2_full_auth_pinned_key() {
        let (_, spki, _) = keypair();
        let p = AuthParams {
            server_public_key: Some(spki.as_bytes()),
            ..params()
        };
        let (mut flow, _, _) = AuthFlow::start("caching_sha2_password", SCRAMBLE, &p).unwrap();
        let ct = sent(flow.next(&[0x01, 0x04], CAPS, &p).unwrap());
        assert_eq!(unmask(&ct, SCRAMBLE), password_nul());
        assert_done(flow.next(OK, CAPS, &p).unwrap());
    }

    #[test]
    fn caching_sha2_full_auth_key_retrieval() {
        let (_, _, pkcs1) = keypair();
        let p = AuthParams {
            allow_public_key_retrieval: true,
            ..params()
        };
        let (mut flow, _, _) = AuthFlow::start("caching_sha2_password", SCRAMBLE, &p).unwrap();
        assert_eq!(
            sent(flow.next(&[0x01, 0x04], CAPS, &p).unwrap()),
            vec![0x02]
        );
        let ct = sent(flow.next(&more_data(pkcs1.as_bytes()), CAPS, &p).unwrap());
        assert_eq!(unmask(&ct, SCRAMBLE), password_nul());
        assert_done(flow.next(OK, CAPS, &p).unwrap());
    }

    #[test]
    fn caching_sha2_full_auth_refused_on_insecure_transport() {
        let p = params();
        let (mut flow, _, _) = AuthFlow::start("caching_sha2_password", SCRAMBLE, &p).unwrap();
        match flow.next(&[0x01, 0x04], CAPS, &p) {
            Err(AuthError::InsecureTransport(msg)) => {
                for needle in [
                    "TLS",
                    "unix socket",
                    "server_public_key",
                    "allow_public_key_retrieval=true",
                ] {
                    assert!(msg.contains(needle), "{msg}");
                }
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn caching_sha2_bad_server_key_and_status() {
        let p = AuthParams {
            allow_public_key_retrieval: true,
            ..params()
        };
        let (mut flow, _, _) = AuthFlow::start("caching_sha2_password", SCRAMBLE, &p).unwrap();
        assert!(matches!(
            flow.next(&[0x01, 0x07], CAPS, &p),
            Err(AuthError::Protocol(ProtocolError::Unexpected(_)))
        ));
        let (mut flow, _, _) = AuthFlow::start("caching_sha2_password", SCRAMBLE, &p).unwrap();
        sent(flow.next(&[0x01, 0x04], CAPS, &p).unwrap());
        assert!(matches!(
            flow.next(&more_data(b"garbage"), CAPS, &p),
            Err(AuthError::InvalidPublicKey(_))
        ));
    }

    #[test]
    fn sha256_branches() {
        let (_, spki, _) = keypair();
        // Secure transport: clear text.
        let p = AuthParams {
            secure_transport: true,
            ..params()
        };
        let (mut flow, name, resp) = AuthFlow::start("sha256_password", SCRAMBLE, &p).unwrap();
        assert_eq!(name, "sha256_password");
        assert_eq!(resp, password_nul());
        assert_done(flow.next(OK, CAPS, &p).unwrap());
        // Pinned key.
        let p = AuthParams {
            server_public_key: Some(spki.as_bytes()),
            ..params()
        };
        let (_, _, resp) = AuthFlow::start("sha256_password", SCRAMBLE, &p).unwrap();
        assert_eq!(unmask(&resp, SCRAMBLE), password_nul());
        // Key retrieval.
        let p = AuthParams {
            allow_public_key_retrieval: true,
            ..params()
        };
        let (mut flow, _, resp) = AuthFlow::start("sha256_password", SCRAMBLE, &p).unwrap();
        assert_eq!(resp, vec![0x01]);
        let ct = sent(flow.next(&more_data(spki.as_bytes()), CAPS, &p).unwrap());
        assert_eq!(unmask(&ct, SCRAMBLE), password_nul());
        assert_done(flow.next(OK, CAPS, &p).unwrap());
        // Neither.
        assert!(matches!(
            AuthFlow::start("sha256_password", SCRAMBLE, &params()),
            Err(AuthError::InsecureTransport(_))
        ));
        // Empty password needs no protection.
        let p = AuthParams {
            password: b"",
            ..params()
        };
        let (_, _, resp) = AuthFlow::start("sha256_password", SCRAMBLE, &p).unwrap();
        assert!(resp.is_empty());
    }

    #[test]
    fn clear_password_only_when_secure() {
        assert!(matches!(
            AuthFlow::start("mysql_clear_password", SCRAMBLE, &params()),
            Err(AuthError::InsecureTransport(_))
        ));
        let p = AuthParams {
            secure_transport: true,
            ..params()
        };
        let (_, _, resp) = AuthFlow::start("mysql_clear_password", SCRAMBLE, &p).unwrap();
        assert_eq!(resp, password_nul());
        // Also through a switch.
        let (mut flow, _, _) =
            AuthFlow::start("mysql_native_password", SCRAMBLE, &params()).unwrap();
        assert!(matches!(
            flow.next(b"\xfemysql_clear_password\0", CAPS, &params()),
            Err(AuthError::InsecureTransport(_))
        ));
        let (mut flow, _, _) = AuthFlow::start("mysql_native_password", SCRAMBLE, &p).unwrap();
        assert_eq!(
            sent(flow.next(b"\xfemysql_clear_password\0", CAPS, &p).unwrap()),
            password_nul()
        );
        assert_done(flow.next(OK, CAPS, &p).unwrap());
    }

    #[test]
    fn switch_to_native_with_new_scramble() {
        // MySQL 9 default is caching_sha2; the account uses mysql_native_password.
        let p = params();
        let (mut flow, _, _) = AuthFlow::start("caching_sha2_password", SCRAMBLE, &p).unwrap();
        let new_scramble = b"ABCDEFGHIJKLMNOPQRST";
        let mut switch = b"\xfemysql_native_password\0".to_vec();
        switch.extend_from_slice(new_scramble);
        switch.push(0);
        let resp = sent(flow.next(&switch, CAPS, &p).unwrap());
        assert_eq!(resp, native::scramble_password(PASSWORD, new_scramble));
        assert_eq!(flow.plugin_name(), "mysql_native_password");
        assert_done(flow.next(OK, CAPS, &p).unwrap());
    }

    #[test]
    fn switch_to_caching_sha2_then_full_auth_uses_new_scramble() {
        let (_, spki, _) = keypair();
        let p = AuthParams {
            server_public_key: Some(spki.as_bytes()),
            ..params()
        };
        let (mut flow, _, _) = AuthFlow::start("mysql_native_password", SCRAMBLE, &p).unwrap();
        let new_scramble = b"ABCDEFGHIJKLMNOPQRST";
        let mut switch = b"\xfecaching_sha2_password\0".to_vec();
        switch.extend_from_slice(new_scramble);
        switch.push(0);
        let resp = sent(flow.next(&switch, CAPS, &p).unwrap());
        assert_eq!(
            resp,
            caching_sha2::scramble_password(PASSWORD, new_scramble)
        );
        let ct = sent(flow.next(&[0x01, 0x04], CAPS, &p).unwrap());
        assert_eq!(unmask(&ct, new_scramble), password_nul());
        assert_done(flow.next(OK, CAPS, &p).unwrap());
    }

    #[test]
    fn switch_to_ed25519_signs_the_whole_nonce() {
        let p = params();
        let (mut flow, _, _) = AuthFlow::start("mysql_native_password", SCRAMBLE, &p).unwrap();
        // A nonce whose last byte is 0 must not lose it.
        let mut nonce = [7u8; 32];
        nonce[31] = 0;
        let mut switch = b"\xfeclient_ed25519\0".to_vec();
        switch.extend_from_slice(&nonce);
        let resp = sent(flow.next(&switch, CAPS, &p).unwrap());
        assert_eq!(resp, ed25519::sign(PASSWORD, &nonce));
        assert_eq!(resp.len(), 64);
        assert_eq!(flow.plugin_name(), "client_ed25519");
        assert_done(flow.next(OK, CAPS, &p).unwrap());
        // A short nonce is a protocol error, not a panic.
        let (mut flow, _, _) = AuthFlow::start("mysql_native_password", SCRAMBLE, &p).unwrap();
        assert!(matches!(
            flow.next(b"\xfeclient_ed25519\0short", CAPS, &p),
            Err(AuthError::Protocol(ProtocolError::Truncated(_)))
        ));
        // As the greeting's default plugin with a 32-byte scramble, it signs at once.
        let (_, name, resp) = AuthFlow::start("client_ed25519", &nonce, &p).unwrap();
        assert_eq!(name, "client_ed25519");
        assert_eq!(resp, ed25519::sign(PASSWORD, &nonce));
    }

    #[test]
    fn switch_to_unknown_plugin() {
        let p = params();
        let (mut flow, _, _) = AuthFlow::start("mysql_native_password", SCRAMBLE, &p).unwrap();
        let mut switch = b"\xfeauth_gssapi_client\0".to_vec();
        switch.extend_from_slice(&[9; 32]);
        assert_eq!(
            flow.next(&switch, CAPS, &p).unwrap_err(),
            AuthError::UnsupportedPlugin("auth_gssapi_client".into())
        );
        // The pre-4.1 switch carries no name.
        let (mut flow, _, _) = AuthFlow::start("mysql_native_password", SCRAMBLE, &p).unwrap();
        assert_eq!(
            flow.next(&[0xFE], CAPS, &p).unwrap_err(),
            AuthError::UnsupportedPlugin("mysql_old_password".into())
        );
        // A name without its NUL is truncated.
        let (mut flow, _, _) = AuthFlow::start("mysql_native_password", SCRAMBLE, &p).unwrap();
        assert!(matches!(
            flow.next(b"\xfemysql_native", CAPS, &p),
            Err(AuthError::Protocol(ProtocolError::Truncated(_)))
        ));
    }

    #[test]
    fn unexpected_packets() {
        let p = params();
        let (mut flow, _, _) = AuthFlow::start("mysql_native_password", SCRAMBLE, &p).unwrap();
        assert!(matches!(
            flow.next(&[0x01, 0x03], CAPS, &p),
            Err(AuthError::Protocol(ProtocolError::Unexpected(_)))
        ));
        assert!(matches!(
            flow.next(&[0x42], CAPS, &p),
            Err(AuthError::Protocol(ProtocolError::Unexpected(_)))
        ));
        assert!(matches!(
            flow.next(&[], CAPS, &p),
            Err(AuthError::Protocol(ProtocolError::Truncated(_)))
        ));
        assert!(matches!(
            flow.next(&[0x00], CAPS, &p),
            Err(AuthError::Protocol(ProtocolError::Truncated(_)))
        ));
        // Fast-auth success after the password was already sent is not expected.
        let p = AuthParams {
            secure_transport: true,
            ..params()
        };
        let (mut flow, _, _) = AuthFlow::start("caching_sha2_password", SCRAMBLE, &p).unwrap();
        sent(flow.next(&[0x01, 0x04], CAPS, &p).unwrap());
        assert!(matches!(
            flow.next(&[0x01, 0x03], CAPS, &p),
            Err(AuthError::Protocol(ProtocolError::Unexpected(_)))
        ));
    }

    #[test]
    fn password_never_in_debug_output() {
        let p = AuthParams {
            secure_transport: true,
            ..params()
        };
        let secret = std::str::from_utf8(PASSWORD).unwrap();
        let (mut flow, _, _) = AuthFlow::start("caching_sha2_password", SCRAMBLE, &p).unwrap();
        let step = flow.next(&[0x01, 0x04], CAPS, &p).unwrap();
        for text in [
            format!("{p:?}"),
            format!("{flow:?}"),
            format!("{step:?}"),
            format!("{step:#?}"),
        ] {
            assert!(!text.contains(secret), "{text}");
            assert!(!text.contains(&format!("{:?}", PASSWORD)), "{text}");
            assert!(!text.contains("104, 117, 110"), "{text}");
        }
        assert_eq!(
            format!("{step:?}"),
            format!("Send(<{} bytes>)", PASSWORD.len() + 1)
        );
    }
}
