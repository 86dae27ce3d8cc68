//! `client_ed25519` (MariaDB): the client signs the server's 32-byte nonce with an Ed25519 key
//! derived from the password; the server keeps only the public key.
//!
//! The key is derived as standard Ed25519 derives it from a 32-byte seed, except that the
//! SHA-512 is taken of the whole password (any length) instead of the seed: its first half,
//! clamped, is the secret scalar, its second half the nonce prefix. The password never leaves
//! the client, so this plugin is safe over plain TCP.
//!
//! <https://mariadb.com/kb/en/authentication-plugin-ed25519/>
use ed25519_dalek::hazmat::{raw_sign, ExpandedSecretKey};
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha512};

/// Plugin name.
pub const NAME: &str = "client_ed25519";

/// Length of the nonce the server sends.
pub const NONCE_LEN: usize = 32;

fn expanded_key(password: &[u8]) -> ExpandedSecretKey {
    let hash: [u8; 64] = Sha512::digest(password).into();
    ExpandedSecretKey::from_bytes(&hash)
}

/// The public key the server stores for `password` (MariaDB shows it base64-encoded, without
/// padding, as the account's authentication string).
pub fn public_key(password: &[u8]) -> [u8; 32] {
    VerifyingKey::from(&expanded_key(password)).to_bytes()
}

/// The 64-byte signature of `nonce` with the key derived from `password`.
pub fn sign(password: &[u8], nonce: &[u8]) -> Vec<u8> {
    let key = expanded_key(password);
    let public = VerifyingKey::from(&key);
    raw_sign::<Sha512>(&key, nonce, &public).to_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Signer, SigningKey};

    const NONCE: &[u8; 32] = b"0123456789abcdef0123456789ABCDEF";

    #[test]
    fn signature_verifies_with_the_derived_public_key() {
        for password in [
            &b""[..],
            b"pw",
            b"a much longer password than thirty-two bytes, really",
        ] {
            let sig = sign(password, NONCE);
            assert_eq!(sig.len(), 64);
            let key = VerifyingKey::from_bytes(&public_key(password)).unwrap();
            let sig = Signature::from_slice(&sig).unwrap();
            key.verify_strict(NONCE, &sig).unwrap();
            assert!(key.verify_strict(b"another nonce", &sig).is_err());
        }
    }

    #[test]
    fn same_as_standard_ed25519_for_a_32_byte_password() {
        // Standard Ed25519 hashes its 32-byte seed with SHA-512: the same derivation.
        let password = b"exactly thirty-two bytes long!!!";
        assert_eq!(password.len(), 32);
        let standard = SigningKey::from_bytes(password);
        assert_eq!(standard.verifying_key().to_bytes(), public_key(password));
        assert_eq!(
            standard.sign(NONCE).to_bytes().to_vec(),
            sign(password, NONCE)
        );
    }

    #[test]
    fn known_public_key() {
        // RFC 8032 test 1: the secret key 9d61b19d...7f60 gives the public key d75a9801...511a.
        let seed: [u8; 32] = [
            0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec,
            0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03,
            0x1c, 0xae, 0x7f, 0x60,
        ];
        let public: [u8; 32] = [
            0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64,
            0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68,
            0xf7, 0x07, 0x51, 0x1a,
        ];
        assert_eq!(public_key(&seed), public);
        // RFC 8032 test 1 signs the empty message.
        let sig = sign(&seed, b"");
        assert_eq!(&sig[..4], &[0xe5, 0x56, 0x43, 0x00]);
        assert_eq!(&sig[60..], &[0x8e, 0x7a, 0x10, 0x0b][..]);
    }
}
