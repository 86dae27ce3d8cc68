//! Authentication plugins and the sans-IO authentication exchange.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods.html>
// CONTRACT STUB: implemented by the protocol work.
use super::response::{ErrPacket, OkPacket};
use super::ProtocolError;

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

/// The next step of the exchange after a packet from the server.
#[derive(Debug)]
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

/// Drives the authentication exchange: create it from the greeting, send
/// [`AuthFlow::initial_response`] in the handshake response, then feed every server packet to
/// [`AuthFlow::next`] until `Done` or `Failed`.
pub struct AuthFlow {
    _private: (),
}

impl std::fmt::Debug for AuthFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthFlow").finish_non_exhaustive()
    }
}

impl AuthFlow {
    /// Starts with the server's default plugin and scramble. Returns the flow, the plugin name to
    /// put in the handshake response, and the initial auth response bytes.
    pub fn start(
        plugin: &str,
        scramble: &[u8],
        params: &AuthParams<'_>,
    ) -> Result<(Self, String, Vec<u8>), AuthError> {
        todo!("{plugin}{scramble:?}{params:?}")
    }
    /// Handles the next server packet (OK, ERR, AuthSwitchRequest 0xFE, AuthMoreData 0x01).
    pub fn next(
        &mut self,
        payload: &[u8],
        capabilities: u32,
        params: &AuthParams<'_>,
    ) -> Result<AuthStep, AuthError> {
        todo!("{payload:?}{capabilities}{params:?}")
    }
}
