//! `mysql_clear_password`: the password in clear text, NUL-terminated. Only ever sent over a
//! secure transport (TLS or a unix socket).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods_clear_text_password.html>

/// Plugin name.
pub const NAME: &str = "mysql_clear_password";

/// The password followed by a NUL byte.
pub fn password_nul(password: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(password.len() + 1);
    v.extend_from_slice(password);
    v.push(0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_terminated() {
        assert_eq!(password_nul(b"pw"), b"pw\0");
        assert_eq!(password_nul(b""), b"\0");
    }
}
