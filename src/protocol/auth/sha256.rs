//! `sha256_password`, and the RSA encryption of the password it shares with
//! `caching_sha2_password`.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods_sha256_password_authentication.html>
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Oaep, RsaPublicKey};

use super::AuthError;

/// Plugin name.
pub const NAME: &str = "sha256_password";
/// Client request for the server's RSA public key.
pub const REQUEST_PUBLIC_KEY: u8 = 0x01;

/// Parses an RSA public key in PEM form: SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`) or PKCS#1
/// (`BEGIN RSA PUBLIC KEY`). Trailing NULs and whitespace are ignored.
pub fn parse_public_key(pem: &[u8]) -> Result<RsaPublicKey, AuthError> {
    let text = std::str::from_utf8(pem)
        .map_err(|_| AuthError::InvalidPublicKey("PEM is not valid UTF-8".into()))?;
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    if text.contains("BEGIN RSA PUBLIC KEY") {
        RsaPublicKey::from_pkcs1_pem(text).map_err(|e| AuthError::InvalidPublicKey(e.to_string()))
    } else {
        RsaPublicKey::from_public_key_pem(text)
            .map_err(|e| AuthError::InvalidPublicKey(e.to_string()))
    }
}

/// `(password + NUL) XOR scramble` (the scramble repeated as needed): the plaintext the server
/// expects inside the RSA envelope.
pub fn xor_with_scramble(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    let mut plain = Vec::with_capacity(password.len() + 1);
    plain.extend_from_slice(password);
    plain.push(0);
    if !scramble.is_empty() {
        for (b, s) in plain.iter_mut().zip(scramble.iter().cycle()) {
            *b ^= s;
        }
    }
    plain
}

/// Encrypts `(password + NUL) XOR scramble` with RSA-OAEP (SHA-1) under the PEM key.
pub fn encrypt_password(
    password: &[u8],
    scramble: &[u8],
    pem: &[u8],
) -> Result<Vec<u8>, AuthError> {
    let key = parse_public_key(pem)?;
    let plain = xor_with_scramble(password, scramble);
    key.encrypt(&mut rand::rngs::OsRng, Oaep::new::<sha1::Sha1>(), &plain)
        .map_err(|e| AuthError::InvalidPublicKey(format!("cannot encrypt the password: {e}")))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    use rsa::RsaPrivateKey;
    use std::sync::OnceLock;

    /// A test key pair (generated once per test run).
    pub(crate) fn keypair() -> &'static (RsaPrivateKey, String, String) {
        static KEY: OnceLock<(RsaPrivateKey, String, String)> = OnceLock::new();
        KEY.get_or_init(|| {
            let key = RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
            let public = key.to_public_key();
            let spki = public.to_public_key_pem(LineEnding::LF).unwrap();
            let pkcs1 = public.to_pkcs1_pem(LineEnding::LF).unwrap();
            (key, spki, pkcs1)
        })
    }

    pub(crate) fn decrypt(ciphertext: &[u8]) -> Vec<u8> {
        keypair()
            .0
            .decrypt(Oaep::new::<sha1::Sha1>(), ciphertext)
            .unwrap()
    }

    #[test]
    fn xor_cycles_scramble() {
        assert_eq!(
            xor_with_scramble(b"abc", &[1, 2]),
            vec![b'a' ^ 1, b'b' ^ 2, b'c' ^ 1, 2]
        );
        assert_eq!(xor_with_scramble(b"", &[7]), vec![7]);
        assert_eq!(xor_with_scramble(b"a", &[]), b"a\0");
    }

    #[test]
    fn rsa_round_trip_spki_and_pkcs1() {
        let (_, spki, pkcs1) = keypair();
        let scramble: Vec<u8> = (1..=20).collect();
        let password = b"a rather long password, longer than the scramble";
        for pem in [spki, pkcs1] {
            let mut pem = pem.clone().into_bytes();
            pem.push(0); // servers may send a trailing NUL
            let ct = encrypt_password(password, &scramble, &pem).unwrap();
            assert_eq!(ct.len(), 128);
            let plain = decrypt(&ct);
            assert_eq!(plain, xor_with_scramble(password, &scramble));
            let unmasked: Vec<u8> = plain
                .iter()
                .zip(scramble.iter().cycle())
                .map(|(a, b)| a ^ b)
                .collect();
            assert_eq!(&unmasked[..password.len()], password);
            assert_eq!(unmasked[password.len()], 0);
        }
    }

    #[test]
    fn invalid_keys() {
        assert!(matches!(
            parse_public_key(b"\xff\xfe"),
            Err(AuthError::InvalidPublicKey(_))
        ));
        assert!(matches!(
            parse_public_key(b"not a key"),
            Err(AuthError::InvalidPublicKey(_))
        ));
        let bad = b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert!(matches!(
            parse_public_key(bad),
            Err(AuthError::InvalidPublicKey(_))
        ));
        let bad = b"-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n";
        assert!(matches!(
            parse_public_key(bad),
            Err(AuthError::InvalidPublicKey(_))
        ));
    }

    #[test]
    fn password_too_long_for_key() {
        let (_, spki, _) = keypair();
        let long = vec![b'x'; 200];
        assert!(matches!(
            encrypt_password(&long, b"s", spki.as_bytes()),
            Err(AuthError::InvalidPublicKey(_))
        ));
    }
}
