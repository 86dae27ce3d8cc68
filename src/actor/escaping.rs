//! What a connection knows of the session's escaping rules: the character set the server reads
//! statements in and whether `NO_BACKSLASH_ESCAPES` is on. Client-side interpolation
//! (`query_with`) goes ahead only under rules known this way.
//!
//! The rules are read from the server once a connection is open (after the init statements and
//! the replay of the session, so that they say what those did), and kept current from each
//! reply: its status flags carry `NO_BACKSLASH_ESCAPES`, and session tracking reports a new
//! `character_set_client` when the server tracks that variable. When it does not (or a
//! statement may have changed the rules without a report: one with settings of its own, one
//! that changes what is tracked, a session reset), the character set is unknown and is read
//! again before the next string is interpolated.
use super::command::{overrides_for_itself, Command};
use super::session::Charset;
use crate::protocol::constants::status::SERVER_STATUS_NO_BACKSLASH_ESCAPES;
use crate::protocol::value::escape::EscapeContext;
use crate::row::Row;

/// The statement that reads the session's escaping rules.
pub(crate) const READ_ESCAPING: &str = "SELECT @@session.character_set_client, \
     @@session.character_set_connection, @@session.sql_mode, \
     @@session.session_track_system_variables";

/// The session's escaping rules, as far as they are known.
#[derive(Debug, Clone, Default)]
pub(crate) struct Escaping {
    /// `character_set_client`, or `None` while it is not known.
    charset: Option<String>,
    /// The server reports changes of `character_set_client` (session tracking covers it).
    tracked: bool,
    /// `NO_BACKSLASH_ESCAPES` is in the session's `sql_mode`.
    no_backslash_escapes: bool,
    /// A read was tried since the rules became unknown, and failed: interpolation is refused
    /// until they are known again (rather than reading in a loop).
    read_failed: bool,
}

/// What interpolating a statement needs first.
#[derive(Debug)]
pub(crate) enum Need<'a> {
    /// The rules are known: interpolate under them.
    Known(EscapeContext<'a>),
    /// Read the rules first ([`READ_ESCAPING`]).
    Read,
    /// They could not be found out.
    Unknown,
}

impl Escaping {
    /// Rules of which only the status flags of the last reply are known.
    pub(crate) fn from_status(status: u16) -> Self {
        Escaping {
            no_backslash_escapes: status & SERVER_STATUS_NO_BACKSLASH_ESCAPES != 0,
            ..Escaping::default()
        }
    }

    /// Rules known in full (a server that tracks the character set).
    #[cfg(test)]
    pub(crate) fn known(charset: &str) -> Self {
        Escaping {
            charset: Some(charset.to_string()),
            tracked: true,
            ..Escaping::default()
        }
    }

    /// Takes the answer to [`READ_ESCAPING`]: the character sets, `sql_mode` and the list of
    /// tracked variables. `None` (an unreadable answer, or an error) leaves the character set
    /// unknown, and interpolation refused.
    pub(crate) fn learn(&mut self, row: Option<&Row>) {
        let text = |i: usize| {
            row.and_then(|r| r.try_get::<Option<String>>(i).ok())
                .flatten()
        };
        let (Some(client), Some(mode)) = (text(0), text(2)) else {
            self.charset = None;
            self.read_failed = true;
            return;
        };
        self.no_backslash_escapes = mode
            .split(',')
            .any(|m| m.trim().eq_ignore_ascii_case("NO_BACKSLASH_ESCAPES"));
        self.tracked = text(3).is_some_and(|list| {
            list.split(',').any(|v| {
                let v = v.trim();
                v == "*" || v.eq_ignore_ascii_case("character_set_client")
            })
        });
        // The server reads a statement's tokens, string literals included, in
        // `character_set_client`; `character_set_connection` only converts literals already read.
        tracing::debug!(character_set_client = %client, character_set_connection = ?text(1), sql_mode = %mode, tracked = self.tracked, "session escaping rules");
        self.charset = Some(client);
        self.read_failed = false;
    }

    /// A command is written: whatever it may change without telling is now unknown.
    pub(crate) fn on_write(&mut self, cmd: &Command) {
        let user_statement = matches!(
            cmd,
            Command::Query(_) | Command::QueryWith(..) | Command::Exec(..)
        );
        if !user_statement {
            return;
        }
        let changes_tracking = cmd
            .sql()
            .is_some_and(|sql| sql.to_ascii_lowercase().contains("session_track"));
        if !self.tracked || changes_tracking || overrides_for_itself(cmd) {
            self.forget();
        }
    }

    /// The status flags of a reply to `cmd` (those of a statement with settings of its own
    /// describe that statement only).
    pub(crate) fn on_status(&mut self, status: u16, cmd: &Command) {
        if !overrides_for_itself(cmd) {
            self.no_backslash_escapes = status & SERVER_STATUS_NO_BACKSLASH_ESCAPES != 0;
        }
    }

    /// What session tracking reported of `character_set_client` in the reply to `cmd`.
    pub(crate) fn on_tracked(&mut self, report: Charset, cmd: &Command) {
        match report {
            Charset::Unchanged => {}
            Charset::Changed(charset) if self.tracked && !overrides_for_itself(cmd) => {
                self.charset = Some(charset);
            }
            Charset::Changed(_) | Charset::Unreadable => self.forget(),
        }
    }

    /// The session was reset, or may have changed in ways nothing reported: read it again.
    pub(crate) fn forget(&mut self) {
        self.charset = None;
        self.read_failed = false;
    }

    /// `NO_BACKSLASH_ESCAPES` is on, as the last reply's status flags said.
    pub(crate) fn no_backslash_escapes(&self) -> bool {
        self.no_backslash_escapes
    }

    /// What interpolating `params` needs: only string and JSON values depend on the
    /// character set (numbers, dates and `NULL` are ASCII under every one a client can use).
    pub(crate) fn need(&self, strings: bool) -> Need<'_> {
        let charset = match (&self.charset, strings) {
            (Some(c), _) => c.as_str(),
            // Numbers alone are written the same under any character set.
            (None, false) => "binary",
            (None, true) if self.read_failed => return Need::Unknown,
            (None, true) => return Need::Read,
        };
        Need::Known(EscapeContext {
            no_backslash_escapes: self.no_backslash_escapes,
            charset,
            hex_strings: false,
        })
    }

    /// `character_set_client`, or `None` while it is not known.
    pub(crate) fn charset(&self) -> Option<&str> {
        self.charset.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_need_a_read_for_strings_only_while_the_charset_is_unknown() {
        let mut e = Escaping::from_status(0);
        assert!(matches!(e.need(false), Need::Known(_)));
        assert!(matches!(e.need(true), Need::Read));
        e.learn(None);
        assert!(matches!(e.need(true), Need::Unknown));
        e.forget();
        assert!(matches!(e.need(true), Need::Read));
    }

    #[test]
    fn should_forget_the_charset_after_each_statement_when_it_is_not_tracked() {
        let mut e = Escaping::known("utf8mb4");
        e.tracked = false;
        e.on_write(&Command::Ping);
        assert_eq!(e.charset(), Some("utf8mb4"));
        e.on_write(&Command::Query("SELECT 1".into()));
        assert_eq!(e.charset(), None);
    }

    #[test]
    fn should_forget_the_charset_after_statements_that_may_change_it_unreported() {
        for sql in [
            "SET STATEMENT character_set_client = 'utf8mb4' FOR SELECT 1",
            "SELECT /*+ SET_VAR(sql_mode = '') */ 1",
            "SET session_track_system_variables = ''",
        ] {
            let mut e = Escaping::known("utf8mb4");
            e.on_write(&Command::Query(sql.into()));
            assert_eq!(e.charset(), None, "{sql}");
        }
        let mut e = Escaping::known("utf8mb4");
        e.on_write(&Command::Query("SET NAMES latin1".into()));
        e.on_tracked(
            Charset::Changed("latin1".into()),
            &Command::Query("SET NAMES latin1".into()),
        );
        assert_eq!(e.charset(), Some("latin1"));
    }

    #[test]
    fn should_not_take_a_per_statement_report_for_the_sessions() {
        let cmd =
            Command::Query("SET STATEMENT sql_mode = 'NO_BACKSLASH_ESCAPES' FOR SELECT 1".into());
        let mut e = Escaping::known("gbk");
        e.on_tracked(Charset::Changed("utf8mb4".into()), &cmd);
        e.on_status(SERVER_STATUS_NO_BACKSLASH_ESCAPES, &cmd);
        assert_eq!(e.charset(), None, "read again, not taken");
        assert!(!e.no_backslash_escapes());
    }
}
