//! Pool options and the `pool_*` URL parameters.
use std::time::Duration;

use crate::error::{Error, Result};

/// Options of a [`Pool`](crate::Pool): how many connections, how long to wait for one, and how
/// connections are kept healthy.
///
/// Build them with [`PoolOpts::new`] (or `Default`) and the `with_*` setters; every option has a
/// getter of the same name.
///
/// | option | meaning | default | URL parameter |
/// |---|---|---|---|
/// | [`min_idle`](PoolOpts::with_min_idle) | connections opened (and pinged) eagerly when the pool is created | `0` (fully lazy) | `pool_min` |
/// | [`max_size`](PoolOpts::with_max_size) | most connections the pool opens | `10` | `pool_max` |
/// | [`wait_timeout`](PoolOpts::with_wait_timeout) | how long a caller waits for a connection when all are leased | `30s` | `pool_wait_timeout` |
/// | [`max_waiters`](PoolOpts::with_max_waiters) | callers that may wait at once; past it, [`ErrorKind::QueueFull`](crate::ErrorKind::QueueFull) | `10000` | `pool_max_waiters` |
/// | [`max_lifetime`](PoolOpts::with_max_lifetime) | a connection older than this is replaced when it is next idle | none | `pool_max_lifetime` (`0` = none) |
/// | [`idle_timeout`](PoolOpts::with_idle_timeout) | each connection closes its socket after this long unused (the next use reopens it) | `10m` | `pool_idle_timeout` (`0` = never) |
/// | [`health_check`](PoolOpts::with_health_check) | a lease unused for longer than this is pinged before it is handed out | `30s` | `pool_health_check` (`0` = never) |
/// | [`reset_on_return`](PoolOpts::with_reset_on_return) | reset the session of a returned lease (`COM_RESET_CONNECTION`) | `true` | `pool_reset_on_return` |
///
/// ```
/// use std::time::Duration;
/// use actix_mysql::PoolOpts;
///
/// let opts = PoolOpts::new()
///     .with_max_size(16)
///     .with_min_idle(2)
///     .with_wait_timeout(Duration::from_secs(5));
/// assert_eq!(opts.max_size(), 16);
/// assert_eq!(opts.idle_timeout(), Some(Duration::from_secs(600)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOpts {
    min_idle: usize,
    max_size: usize,
    wait_timeout: Duration,
    max_waiters: usize,
    max_lifetime: Option<Duration>,
    idle_timeout: Option<Duration>,
    health_check: Option<Duration>,
    reset_on_return: bool,
}

impl Default for PoolOpts {
    fn default() -> Self {
        PoolOpts {
            min_idle: 0,
            max_size: 10,
            wait_timeout: Duration::from_secs(30),
            max_waiters: 10_000,
            max_lifetime: None,
            idle_timeout: Some(Duration::from_secs(600)),
            health_check: Some(Duration::from_secs(30)),
            reset_on_return: true,
        }
    }
}

impl PoolOpts {
    /// The default options (see the table above).
    pub fn new() -> Self {
        Self::default()
    }

    /// Connections opened eagerly, each with a ping, when the pool is created (default 0).
    /// Capped at `max_size`.
    pub fn with_min_idle(mut self, n: usize) -> Self {
        self.min_idle = n;
        self
    }
    /// Most connections the pool opens (default 10, at least 1).
    pub fn with_max_size(mut self, n: usize) -> Self {
        self.max_size = n.max(1);
        self
    }
    /// How long [`Pool::get`](crate::Pool::get) (and a dispatched command when every connection
    /// is leased) waits before failing with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout)
    /// (default 30 s).
    pub fn with_wait_timeout(mut self, timeout: Duration) -> Self {
        self.wait_timeout = timeout;
        self
    }
    /// Callers that may wait for a connection at once (default 10,000); one more fails at once
    /// with [`ErrorKind::QueueFull`](crate::ErrorKind::QueueFull).
    pub fn with_max_waiters(mut self, n: usize) -> Self {
        self.max_waiters = n;
        self
    }
    /// Replaces a connection older than this when it is next idle (default: never).
    pub fn with_max_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.max_lifetime = lifetime;
        self
    }
    /// Each connection closes its socket after this long unused (default 10 min; `None` keeps
    /// sockets open). This replaces the `idle_timeout` of the connection options.
    pub fn with_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }
    /// Pings a connection before leasing it out when it has been unused for longer than this
    /// (default 30 s; `None` never pings).
    pub fn with_health_check(mut self, after: Option<Duration>) -> Self {
        self.health_check = after;
        self
    }
    /// Resets the session of a returned lease before it serves anyone else (default true).
    pub fn with_reset_on_return(mut self, reset: bool) -> Self {
        self.reset_on_return = reset;
        self
    }

    /// Connections opened when the pool is created.
    pub fn min_idle(&self) -> usize {
        self.min_idle.min(self.max_size)
    }
    /// Most connections the pool opens.
    pub fn max_size(&self) -> usize {
        self.max_size
    }
    /// Wait bound for a connection.
    pub fn wait_timeout(&self) -> Duration {
        self.wait_timeout
    }
    /// Bound on waiting callers.
    pub fn max_waiters(&self) -> usize {
        self.max_waiters
    }
    /// Connection lifetime bound, when set.
    pub fn max_lifetime(&self) -> Option<Duration> {
        self.max_lifetime
    }
    /// Per-connection idle timeout, when set.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }
    /// Unused time after which a lease is pinged first, when set.
    pub fn health_check(&self) -> Option<Duration> {
        self.health_check
    }
    /// Whether returned leases are reset.
    pub fn reset_on_return(&self) -> bool {
        self.reset_on_return
    }

    /// Splits the `pool_*` parameters off a connection URL: returns the pool options (defaults
    /// for the parameters not given) and the URL without them, for
    /// [`Opts::from_url`](crate::Opts::from_url).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a malformed URL, an unknown `pool_*`
    /// parameter or a bad value.
    pub fn split_url(url: &str) -> Result<(PoolOpts, String)> {
        let mut parsed = url::Url::parse(url)
            .map_err(|e| Error::config(format!("invalid connection URL: {e}")))?;
        let mut opts = PoolOpts::new();
        let mut rest = Vec::new();
        for (key, value) in parsed.query_pairs() {
            let (key, value) = (key.into_owned(), value.into_owned());
            let Some(name) = key.strip_prefix("pool_") else {
                rest.push((key, value));
                continue;
            };
            match name {
                "min" | "min_idle" => opts.min_idle = parse_count(&key, &value)?,
                "max" | "max_size" => opts = opts.with_max_size(parse_count(&key, &value)?),
                "wait_timeout" => opts.wait_timeout = parse_duration(&key, &value)?,
                "max_waiters" => opts.max_waiters = parse_count(&key, &value)?,
                "max_lifetime" => opts.max_lifetime = nonzero(parse_duration(&key, &value)?),
                "idle_timeout" => opts.idle_timeout = nonzero(parse_duration(&key, &value)?),
                "health_check" => opts.health_check = nonzero(parse_duration(&key, &value)?),
                "reset_on_return" => opts.reset_on_return = parse_bool(&key, &value)?,
                _ => return Err(Error::config(format!("unknown URL parameter {key:?}"))),
            }
        }
        if rest.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(rest);
        }
        Ok((opts, parsed.into()))
    }
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

fn parse_count(key: &str, value: &str) -> Result<usize> {
    value
        .parse()
        .map_err(|_| Error::config(format!("{key}: not a count: {value:?}")))
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::config(format!("{key}: not a boolean: {value:?}"))),
    }
}

/// `250ms`, `5s`, `2m`, `1h` or plain seconds, as for the connection parameters.
fn parse_duration(key: &str, value: &str) -> Result<Duration> {
    let bad = || Error::config(format!("{key}: not a duration: {value:?} (e.g. 5s, 500ms)"));
    let split = value
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(value.len());
    let (num, unit) = value.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, Opts};

    #[test]
    fn defaults() {
        let o = PoolOpts::default();
        assert_eq!(o.min_idle(), 0);
        assert_eq!(o.max_size(), 10);
        assert_eq!(o.wait_timeout(), Duration::from_secs(30));
        assert_eq!(o.max_waiters(), 10_000);
        assert_eq!(o.max_lifetime(), None);
        assert_eq!(o.idle_timeout(), Some(Duration::from_secs(600)));
        assert_eq!(o.health_check(), Some(Duration::from_secs(30)));
        assert!(o.reset_on_return());
        assert_eq!(PoolOpts::new().with_max_size(0).max_size(), 1);
        assert_eq!(
            PoolOpts::new().with_max_size(2).with_min_idle(5).min_idle(),
            2
        );
    }

    #[test]
    fn splits_pool_parameters_off_the_url() {
        let (p, rest) = PoolOpts::split_url(
            "mysql://u:p%40w@h:3307/db?pool_min=2&connect_timeout=5s&pool_max=20&pool_wait_timeout=250ms&pool_max_waiters=7&pool_max_lifetime=1h&pool_idle_timeout=0&pool_health_check=2m&pool_reset_on_return=false&init=SET%20a%3D1",
        )
        .unwrap();
        assert_eq!(p.min_idle(), 2);
        assert_eq!(p.max_size(), 20);
        assert_eq!(p.wait_timeout(), Duration::from_millis(250));
        assert_eq!(p.max_waiters(), 7);
        assert_eq!(p.max_lifetime(), Some(Duration::from_secs(3600)));
        assert_eq!(p.idle_timeout(), None);
        assert_eq!(p.health_check(), Some(Duration::from_secs(120)));
        assert!(!p.reset_on_return());
        let o = Opts::from_url(&rest).unwrap();
        assert_eq!(o.connect_timeout(), Duration::from_secs(5));
        assert_eq!(o.init_sql(), ["SET a=1"]);
        assert_eq!(o.db(), Some("db"));
        assert_eq!(o.password_bytes(), b"p@w");

        let (p, rest) = PoolOpts::split_url("mysql://h/?pool_max=3").unwrap();
        assert_eq!(p.max_size(), 3);
        assert!(!rest.contains('?'), "{rest}");
        Opts::from_url(&rest).unwrap();
    }

    #[test]
    fn rejects_unknown_pool_parameters_and_bad_values() {
        for url in [
            "mysql://h/?pool_bogus=1",
            "mysql://h/?pool_max=many",
            "mysql://h/?pool_wait_timeout=soon",
            "mysql://h/?pool_reset_on_return=maybe",
            "not a url",
        ] {
            let e = PoolOpts::split_url(url).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{url}");
        }
    }
}
