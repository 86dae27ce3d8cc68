//! Session state set by the caller's own SQL and reported by the server (session tracking),
//! restored on a new connection.
use crate::protocol::constants::status::SERVER_SESSION_STATE_CHANGED;
use crate::protocol::response::OkPacket;
use crate::protocol::session::{parse_session_changes, SessionChange};

/// What the server reported about the session.
#[derive(Debug, Default)]
pub(crate) struct TrackedSession {
    /// System variables in the order they were first set (`SET NAMES`, `SET time_zone`, ...).
    variables: Vec<(String, String)>,
    /// The server reported a change it does not describe (temporary tables, user variables):
    /// it cannot be restored.
    pub(crate) untracked_change: bool,
}

/// What a reply's session tracking data says of `character_set_client`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Charset {
    Unchanged,
    Changed(String),
    /// The data could not be read: it may have changed.
    Unreadable,
}

/// One statement that restores a tracked variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Replay {
    pub(crate) variable: String,
    pub(crate) sql: String,
}

impl TrackedSession {
    /// Records the session changes an OK packet reports; a schema change goes to `current_db`.
    /// Returns what it says of `character_set_client`.
    pub(crate) fn track(&mut self, ok: &OkPacket, current_db: &mut Option<String>) -> Charset {
        if ok.status & SERVER_SESSION_STATE_CHANGED == 0 || ok.session_state.is_empty() {
            return Charset::Unchanged;
        }
        let mut charset = Charset::Unchanged;
        match parse_session_changes(&ok.session_state) {
            Ok(changes) => {
                for change in changes {
                    if let SessionChange::SystemVariable { name, value } = &change {
                        if name.eq_ignore_ascii_case("character_set_client") {
                            charset = Charset::Changed(value.clone());
                        }
                    }
                    self.apply(change, current_db);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "unreadable session state change");
                charset = Charset::Unreadable;
            }
        }
        charset
    }

    fn apply(&mut self, change: SessionChange, current_db: &mut Option<String>) {
        match change {
            SessionChange::Schema(db) => *current_db = Some(db),
            SessionChange::SystemVariable { name, value } => {
                match self.variables.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 = value,
                    None => self.variables.push((name, value)),
                }
            }
            SessionChange::StateChanged => self.untracked_change = true,
            _ => {}
        }
    }

    /// Stops restoring a variable (the server refused its replay).
    pub(crate) fn forget(&mut self, variable: &str) {
        self.variables.retain(|(n, _)| n != variable);
    }

    /// One `SET SESSION` statement per tracked variable, each with the value written as the
    /// server accepts it: numbers as numbers, an empty character set or collation as `NULL`,
    /// anything else as a string. Each runs on its own, so that one the server refuses does
    /// not keep the others (or the connection) from being restored.
    pub(crate) fn replay(&self) -> Vec<Replay> {
        self.variables
            .iter()
            .filter_map(|(name, value)| {
                let name_ok = !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                let literal = literal(name, value);
                match (name_ok, literal) {
                    (true, Some(literal)) => Some(Replay {
                        variable: name.clone(),
                        sql: format!("SET SESSION {name} = {literal}"),
                    }),
                    _ => {
                        tracing::warn!(variable = %name, "session variable not restorable");
                        None
                    }
                }
            })
            .collect()
    }
}

/// The SQL literal that sets `name` back to the `value` the server reported; `None` when the
/// value cannot be written without knowing the session's escaping rules.
fn literal(name: &str, value: &str) -> Option<String> {
    let numeric = {
        let digits = value.strip_prefix('-').unwrap_or(value);
        let mut parts = digits.splitn(2, '.');
        let int = parts.next().unwrap_or("");
        let frac = parts.next();
        !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
    };
    if numeric {
        return Some(value.to_string());
    }
    if value.is_empty() && (name.starts_with("character_set_") || name.starts_with("collation_")) {
        // The server reports NULL as an empty string; '' is not a character set.
        return Some("NULL".to_string());
    }
    if value.contains(['\\', '\0']) {
        return None;
    }
    Some(format!("'{}'", value.replace('\'', "''")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(vars: &[(&str, &str)]) -> TrackedSession {
        TrackedSession {
            variables: vars
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            untracked_change: false,
        }
    }

    #[test]
    fn should_replay_numbers_as_numbers_and_empty_charsets_as_null() {
        let s = session(&[
            ("wait_timeout", "100"),
            ("character_set_results", ""),
            ("time_zone", "+01:00"),
            ("sql_mode", ""),
            ("long_query_time", "1.500000"),
            ("lc_messages", "it's"),
            ("bad", "a\\b"),
        ]);
        let sql: Vec<String> = s.replay().into_iter().map(|r| r.sql).collect();
        assert_eq!(
            sql,
            [
                "SET SESSION wait_timeout = 100",
                "SET SESSION character_set_results = NULL",
                "SET SESSION time_zone = '+01:00'",
                "SET SESSION sql_mode = ''",
                "SET SESSION long_query_time = 1.500000",
                "SET SESSION lc_messages = 'it''s'",
            ]
        );
    }

    #[test]
    fn should_stop_replaying_a_forgotten_variable() {
        let mut s = session(&[("wait_timeout", "100"), ("time_zone", "SYSTEM")]);
        s.forget("wait_timeout");
        assert_eq!(s.replay().len(), 1);
    }
}
