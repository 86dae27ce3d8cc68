//! Throwaway MySQL / MariaDB servers for integration tests and examples.
//!
//! This file depends on the standard library only, so examples can include it with
//! `#[path = "../tests/support/server.rs"] mod server;`. Integration tests get it through
//! `mod support;` (see `tests/support/mod.rs`).
//!
//! [`servers()`] starts, once per process, one server of every kind installed by
//! `scripts/install-servers.sh` (native MariaDB 10.11, and MySQL 9.x and MariaDB 11.8 in chroot
//! trees), each on a free port of 127.0.0.1 with a fresh data directory, and creates a test
//! account with all privileges. See `docs/servers.md`.
//!
//! Environment:
//! - `MYSQL_TEST_URLS`: comma-separated `mysql://user:password@host:port/` URLs of running
//!   servers to use instead; nothing is started. An entry may be prefixed with a name,
//!   `NAME=mysql://...`; the kind is guessed from that name (`mysql...` means MySQL), otherwise
//!   by asking the server for its version with a local `mariadb`/`mysql` client, otherwise
//!   MariaDB is assumed.
//! - `ACTIX_MYSQL_SERVERS`: comma-separated name prefixes (`mariadb-10.11,mysql`) limiting
//!   which installed servers are started.
//! - `ACTIX_MYSQL_SERVERS_DIR`: where the chroot trees live (default
//!   `/opt/actix-mysql/servers`).
//!
//! Every started server has TLS: a throwaway CA, a server certificate for `localhost`,
//! `127.0.0.1` and `::1`, and a client certificate are made with `openssl` in the server's
//! temporary directory (see [`TestServer::ca_pem`]). [`start_without_tls`] starts a native
//! MariaDB with TLS switched off.
//!
//! Servers die with the process: each one is watched by a small `sh` loop that polls the test
//! process and, once it is gone (normal exit, panic, Ctrl-C or SIGKILL), stops the server and
//! removes its temporary directory.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// Account created on every started server (all privileges, with grant option).
pub const TEST_USER: &str = "actix";
/// Password of [`TEST_USER`].
pub const TEST_PASSWORD: &str = "actix_test_pw";
/// Database created on every started server.
pub const TEST_DB: &str = "actix_test";
/// Where `scripts/install-servers.sh` puts the chroot trees unless `ACTIX_MYSQL_SERVERS_DIR`
/// says otherwise.
pub const DEFAULT_SERVERS_DIR: &str = "/opt/actix-mysql/servers";
/// The command that installs the servers.
pub const INSTALL_COMMAND: &str = "sudo scripts/install-servers.sh";

/// Marker file written by the install script into a finished chroot tree.
const TREE_MARKER: &str = ".actix-mysql-ready";
/// Chroot trees the install script builds, to say which ones are missing.
const KNOWN_TREES: &[&str] = &["mysql-sid", "mariadb-trixie"];
/// How long a server may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// Start attempts per server (a new port each time).
const START_ATTEMPTS: usize = 3;

/// Which server family a [`TestServer`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// MariaDB (any version).
    MariaDb,
    /// Oracle MySQL.
    MySql,
}

/// A server the tests can connect to.
#[derive(Debug, Clone)]
pub struct TestServer {
    /// `mariadb-10.11.19`, `mysql-9.7.4`, `mariadb-11.8.9`, or for `MYSQL_TEST_URLS` the given
    /// name or `external-N`.
    pub name: String,
    /// Server family.
    pub kind: ServerKind,
    /// Host to connect to, `127.0.0.1` for started servers.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Account with `ALL PRIVILEGES ON *.* ... WITH GRANT OPTION`, using the server's default
    /// authentication plugin.
    pub user: String,
    /// Password of `user` (URL-safe).
    pub password: String,
    /// Host path of the server's unix socket.
    pub socket: Option<PathBuf>,
    /// MySQL: the server's RSA public key (`datadir/public_key.pem`), for `caching_sha2_password`
    /// full authentication over plain TCP.
    pub public_key_pem: Option<PathBuf>,
    /// The CA certificate (PEM) that signed the server's TLS certificate, as the test process
    /// sees it; `None` when the server has no TLS (or for external servers without
    /// `ssl_ca=PATH` in their URL).
    pub ca_pem: Option<PathBuf>,
    /// A client certificate (PEM) signed by the same CA.
    pub client_cert_pem: Option<PathBuf>,
    /// The private key (PEM, PKCS#8) of [`client_cert_pem`](Self::client_cert_pem).
    pub client_key_pem: Option<PathBuf>,
    /// Server version as `mariadbd --version`/`mysqld --version` reports it (`10.11.19`), or
    /// empty when unknown.
    pub version: String,
    /// Process id of a started server (`None` for external ones).
    pub pid: Option<u32>,
    cli: Cli,
    relaunch: Option<Relaunch>,
}

/// How to start a started server again on the same port and data directory.
#[derive(Debug, Clone)]
struct Relaunch {
    tree: Option<PathBuf>,
    program: String,
    /// Arguments after the program.
    args: Vec<std::ffi::OsString>,
    /// The server's temporary directory (pid files for the watchdog go there).
    dir: PathBuf,
}

/// How to run the server's own command-line client.
#[derive(Debug, Clone)]
enum Cli {
    /// As root over the unix socket; `socket` is the path the client sees.
    Socket {
        tree: Option<PathBuf>,
        program: String,
        socket: String,
    },
    /// A local client over TCP with the test account (external servers).
    Tcp {
        program: String,
    },
    None,
}

impl TestServer {
    /// `mysql://user:password@host:port/`, plus `?server_public_key=<path>` when
    /// [`public_key_pem`](Self::public_key_pem) is known.
    pub fn url(&self) -> String {
        self.url_with_db("")
    }

    /// Like [`url`](Self::url) with `db` as the default database.
    pub fn url_with_db(&self, db: &str) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let mut url = format!(
            "mysql://{}:{}@{}:{}/{}",
            percent_encode(&self.user, false),
            percent_encode(&self.password, false),
            host,
            self.port,
            percent_encode(db, false)
        );
        if let Some(key) = &self.public_key_pem {
            url.push_str("?server_public_key=");
            url.push_str(&percent_encode(&key.to_string_lossy(), true));
        }
        url
    }

    /// Whether this is a MySQL server.
    pub fn is_mysql(&self) -> bool {
        self.kind == ServerKind::MySql
    }

    /// Whether this is a MariaDB server.
    pub fn is_mariadb(&self) -> bool {
        self.kind == ServerKind::MariaDb
    }

    /// Runs `sql` with the server's own command-line client (as root over the unix socket for
    /// started servers, with the test account over TCP for external ones) and returns its
    /// output in batch mode: one line per row, columns separated by tabs, no header.
    pub fn admin_sql(&self, sql: &str) -> Result<String, String> {
        self.run_cli(false, sql)
    }

    /// Runs `sql` with the server's own command-line client logged in as
    /// [`user`](Self::user) over TCP (output as for [`admin_sql`](Self::admin_sql)).
    pub fn user_sql(&self, sql: &str) -> Result<String, String> {
        self.run_cli(true, sql)
    }

    fn run_cli(&self, tcp: bool, sql: &str) -> Result<String, String> {
        let mut cmd = match &self.cli {
            Cli::Socket {
                tree,
                program,
                socket,
            } => {
                let mut cmd = command(tree.as_deref(), program);
                cmd.arg("--no-defaults");
                if !tcp {
                    cmd.args(["-uroot", "-S", socket]);
                }
                cmd
            }
            Cli::Tcp { program } => {
                let mut cmd = command(None, program);
                cmd.arg("--no-defaults");
                cmd
            }
            Cli::None => return Err(format!("{}: no command-line client available", self.name)),
        };
        if tcp || matches!(self.cli, Cli::Tcp { .. }) {
            cmd.arg(format!("-u{}", self.user))
                .arg(format!("-h{}", self.host))
                .arg(format!("-P{}", self.port))
                .arg("--protocol=TCP");
            if !self.password.is_empty() {
                cmd.arg(format!("-p{}", self.password));
            }
        }
        cmd.args(["-N", "-B", "-e", sql]);
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{}: cannot run the client: {e}", self.name))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
        } else {
            Err(format!(
                "{}: `{sql}` failed: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Kills a started server with SIGKILL (no shutdown, like a crash) and waits until it is
    /// gone. [`start_again`](Self::start_again) brings it back on the same port and data.
    pub fn kill(&self) {
        if let Some(pid) = self.pid {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
            wait_gone(pid);
            // MySQL refuses to start while the socket lock names a process that still exists;
            // the killed server stays a zombie of this process, so remove the lock.
            if let Some(socket) = &self.socket {
                let mut lock = socket.clone().into_os_string();
                lock.push(".lock");
                let _ = fs::remove_file(lock);
            }
        }
    }

    /// Starts a killed or stopped server again with the same command line (same port, same
    /// data directory) and waits until it answers.
    pub fn start_again(&mut self) -> Result<(), String> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let relaunch = self
            .relaunch
            .clone()
            .ok_or_else(|| format!("{}: not a server this process started", self.name))?;
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let stderr = fs::File::create(relaunch.dir.join(format!("again-{n}.log")))
            .map_err(|e| format!("{}: {e}", self.name))?;
        let mut cmd = command(relaunch.tree.as_deref(), &relaunch.program);
        cmd.args(&relaunch.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        detach(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("{}: cannot start again: {e}", self.name))?;
        let pid = child.id();
        let _ = fs::write(
            relaunch.dir.join(format!("server-again-{n}.pid")),
            pid.to_string(),
        );
        self.pid = Some(pid);
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let logs: Vec<String> = fs::read_dir(&relaunch.dir)
                    .map(|d| {
                        d.filter_map(|e| e.ok())
                            .map(|e| e.path())
                            .filter(|p| p.to_string_lossy().ends_with(".log"))
                            .map(|p| format!("{}:\n{}", p.display(), tail(&p, 15)))
                            .collect()
                    })
                    .unwrap_or_default();
                return Err(format!(
                    "{}: exited ({status}) when started again; logs:\n{}",
                    self.name,
                    logs.join("\n")
                ));
            }
            if self.admin_sql("SELECT 1").is_ok() {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "{}: not ready after being started again",
                    self.name
                ));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops a started server now (SIGTERM), instead of when the process exits. Its
    /// temporary directory is still removed when the process exits. Does nothing for external
    /// servers.
    pub fn stop(&self) {
        if let Some(pid) = self.pid {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
            wait_gone(pid);
        }
    }
}

/// Waits (up to 30 s) until process `pid` has exited (or is a zombie).
fn wait_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        if fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(false)
        {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The servers for this process, started on first use. Panics (naming the install command)
/// when no server is installed and `MYSQL_TEST_URLS` is not set, or when one fails to start.
pub fn servers() -> &'static [TestServer] {
    match try_servers() {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// Like [`servers`], returning the reason instead of panicking.
pub fn try_servers() -> Result<&'static [TestServer], String> {
    static SERVERS: OnceLock<Result<Vec<TestServer>, String>> = OnceLock::new();
    SERVERS
        .get_or_init(init_servers)
        .as_ref()
        .map(|v| v.as_slice())
        .map_err(Clone::clone)
}

/// Starts one throwaway server of the first available kind (native MariaDB first, honouring
/// `ACTIX_MYSQL_SERVERS`), or returns the first `MYSQL_TEST_URLS` entry. For examples: the
/// server stays up for as long as the process runs (a long-running example just keeps
/// running) and is stopped and removed when it exits; [`TestServer::stop`] ends it earlier.
/// Panics with the install command when nothing is installed.
pub fn start_throwaway() -> TestServer {
    if let Some(urls) = external_urls() {
        return match parse_external_list(&urls) {
            Ok(mut list) => list.remove(0),
            Err(e) => panic!("{e}"),
        };
    }
    let candidates = match candidates() {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    match start(&candidates[0], true) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

fn external_urls() -> Option<String> {
    std::env::var("MYSQL_TEST_URLS")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// Starts a fresh server of every installed kind for one test alone, so that the test may
/// kill and restart it. Empty when `MYSQL_TEST_URLS` is set (external servers cannot be
/// restarted from here).
pub fn start_private() -> Result<Vec<TestServer>, String> {
    if external_urls().is_some() {
        return Ok(Vec::new());
    }
    start_all(candidates()?)
}

fn init_servers() -> Result<Vec<TestServer>, String> {
    if let Some(urls) = external_urls() {
        return parse_external_list(&urls);
    }
    start_all(candidates()?)
}

fn start_all(candidates: Vec<Candidate>) -> Result<Vec<TestServer>, String> {
    let handles: Vec<_> = candidates
        .into_iter()
        .map(|c| thread::spawn(move || start(&c, true)))
        .collect();
    let mut started = Vec::new();
    let mut errors = Vec::new();
    for h in handles {
        match h.join() {
            Ok(Ok(s)) => started.push(s),
            Ok(Err(e)) => errors.push(e),
            Err(_) => errors.push("a server start thread panicked".to_string()),
        }
    }
    if errors.is_empty() {
        Ok(started)
    } else {
        Err(format!(
            "could not start every installed test server:\n{}",
            errors.join("\n\n")
        ))
    }
}

// ------------------------------------------------------------------ installed servers

/// An installed server that can be started.
#[derive(Debug, Clone)]
struct Candidate {
    name: String,
    kind: ServerKind,
    version: String,
    /// Chroot tree, or `None` for the native server.
    tree: Option<PathBuf>,
}

impl Candidate {
    fn server_program(&self) -> &'static str {
        match self.kind {
            ServerKind::MariaDb => "/usr/sbin/mariadbd",
            ServerKind::MySql => "/usr/sbin/mysqld",
        }
    }

    fn client_program(&self) -> &'static str {
        match self.kind {
            ServerKind::MariaDb => "/usr/bin/mariadb",
            ServerKind::MySql => "/usr/bin/mysql",
        }
    }
}

fn servers_dir() -> PathBuf {
    std::env::var_os("ACTIX_MYSQL_SERVERS_DIR")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SERVERS_DIR))
}

/// Installed servers, native first, filtered by `ACTIX_MYSQL_SERVERS`; never empty.
fn candidates() -> Result<Vec<Candidate>, String> {
    let mut found = Vec::new();
    let native = Path::new("/usr/sbin/mariadbd");
    if native.exists() && Path::new("/usr/bin/mariadb-install-db").exists() {
        if let Ok(out) = Command::new(native).arg("--version").output() {
            let version = parse_version(&String::from_utf8_lossy(&out.stdout));
            found.push(Candidate {
                name: format!("mariadb-{version}"),
                kind: ServerKind::MariaDb,
                version,
                tree: None,
            });
        }
    }
    let dir = servers_dir();
    let mut trees: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    trees.sort();
    let root = is_root();
    for tree in trees {
        let Ok(marker) = fs::read_to_string(tree.join(TREE_MARKER)) else {
            continue;
        };
        if !root {
            note(format_args!(
                "test servers: skipping {} (running a server in a chroot tree needs root)",
                tree.display()
            ));
            continue;
        }
        let kind = if tree.join("usr/sbin/mariadbd").exists() {
            ServerKind::MariaDb
        } else if tree.join("usr/sbin/mysqld").exists() {
            ServerKind::MySql
        } else {
            continue;
        };
        let version = parse_version(&marker);
        let prefix = match kind {
            ServerKind::MariaDb => "mariadb",
            ServerKind::MySql => "mysql",
        };
        found.push(Candidate {
            name: format!("{prefix}-{version}"),
            kind,
            version,
            tree: Some(tree),
        });
    }
    for known in KNOWN_TREES {
        if !dir.join(known).join(TREE_MARKER).exists() {
            note(format_args!(
                "test servers: {known} is not installed in {} (run `{INSTALL_COMMAND}`); \
                 testing without it",
                dir.display()
            ));
        }
    }
    if found.is_empty() {
        return Err(format!(
            "no MySQL/MariaDB server is installed for the tests: run `{INSTALL_COMMAND}` \
             (or set MYSQL_TEST_URLS=mysql://user:password@host:port/ to use running servers)"
        ));
    }
    if let Ok(filter) = std::env::var("ACTIX_MYSQL_SERVERS") {
        let prefixes: Vec<&str> = filter
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if !prefixes.is_empty() {
            let all: Vec<String> = found.iter().map(|c| c.name.clone()).collect();
            found.retain(|c| prefixes.iter().any(|p| c.name.starts_with(p)));
            for name in &all {
                if !found.iter().any(|c| &c.name == name) {
                    note(format_args!(
                        "test servers: {name} skipped (ACTIX_MYSQL_SERVERS={filter})"
                    ));
                }
            }
            if found.is_empty() {
                return Err(format!(
                    "ACTIX_MYSQL_SERVERS={filter} matches none of the installed servers: {}",
                    all.join(", ")
                ));
            }
        }
    }
    Ok(found)
}

/// Whether this process runs as root (real uid 0), read from `/proc/self/status`.
fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// `mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for ...` -> `10.11.19`.
fn parse_version(text: &str) -> String {
    text.split_whitespace()
        .skip_while(|w| *w != "Ver")
        .nth(1)
        .map(|v| v.split('-').next().unwrap_or(v).to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

// ------------------------------------------------------------------ starting a server

/// A command run inside `tree` (with a clean environment) or natively.
fn command(tree: Option<&Path>, program: &str) -> Command {
    let mut cmd = match tree {
        Some(tree) => {
            let mut c = Command::new("chroot");
            c.arg(tree).arg(program);
            c.env_clear()
                .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
                .env("HOME", "/root")
                .env("LANG", "C");
            c
        }
        None => Command::new(program),
    };
    for var in [
        "MYSQL_PWD",
        "MYSQL_HOST",
        "MYSQL_TCP_PORT",
        "MYSQL_UNIX_PORT",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Writes a line straight to the process's stderr, so the test harness's output capture does
/// not hide it.
fn note(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{args}");
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

/// Starts the watchdog: once this process is gone, it stops every server whose pid is in
/// `dir/server-*.pid` and removes `dir`.
fn spawn_watchdog(dir: &Path) -> Result<(), String> {
    const SCRIPT: &str = r#"
parent=$1 dir=$2
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
for f in "$dir"/server-*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null || continue
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 240 ]; do sleep 0.25; i=$((i + 1)); done
    kill -KILL "$pid" 2>/dev/null
done
rm -rf "$dir"
"#;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg("actix-mysql-watchdog")
        .arg(std::process::id().to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    detach(&mut cmd);
    cmd.spawn()
        .map(drop)
        .map_err(|e| format!("cannot start the watchdog: {e}"))
}

/// Own process group: a Ctrl-C in the terminal must not reach the server or the watchdog
/// directly (the watchdog then shuts the server down properly).
fn detach(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Removes `actix-mysql-PID-N` directories in `base` whose process is gone (left behind if the
/// machine stopped before a watchdog could clean up), or that carry this process's pid (left
/// by an earlier process with the same pid).
fn remove_stale(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("actix-mysql-")) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let ours = pid == std::process::id()
            && !STARTED_DIRS
                .lock()
                .map(|d| d.contains(&entry.path()))
                .unwrap_or(true);
        if ours || !Path::new(&format!("/proc/{pid}")).exists() {
            // Its watchdog did not run (killed with its session): stop the servers it left
            // before removing their directory.
            stop_recorded_servers(&entry.path());
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Kills the servers whose pids are recorded in `dir/server-*.pid`, if those processes are
/// still database servers (a pid may have been reused).
fn stop_recorded_servers(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with("server-") && name.ends_with(".pid")) {
            continue;
        }
        let Some(pid) = fs::read_to_string(entry.path())
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        else {
            continue;
        };
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if matches!(comm.trim(), "mariadbd" | "mysqld") {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Temporary directories this process has made (and must not treat as stale).
static STARTED_DIRS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Starts a native MariaDB without TLS (`--skip-ssl`): its greeting does not offer
/// `CLIENT_SSL`. Stopped when the process exits.
pub fn start_without_tls() -> Result<TestServer, String> {
    let c = candidates()?
        .into_iter()
        .find(|c| c.kind == ServerKind::MariaDb && c.tree.is_none())
        .ok_or_else(|| "no native MariaDB installed".to_string())?;
    start(&c, false)
}

/// File names of the TLS material in a server's directory.
const CA_PEM: &str = "ca.pem";
const SERVER_CERT_PEM: &str = "server-cert.pem";
const SERVER_KEY_PEM: &str = "server-key.pem";
const CLIENT_CERT_PEM: &str = "client-cert.pem";
const CLIENT_KEY_PEM: &str = "client-key.pem";

/// X.509 v3 extensions of the CA, server and client certificates.
const CERT_EXTENSIONS: &str = "\
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// Makes a CA, a server certificate and a client certificate with `openssl` in `dir`.
fn make_certificates(dir: &Path) -> Result<(), String> {
    let run = |args: &[&str]| -> Result<(), String> {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run openssl: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "openssl {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    fs::write(dir.join("ext.cnf"), CERT_EXTENSIONS)
        .map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    let serial = |n: u32| format!("{}", u64::from(std::process::id()) << 8 | u64::from(n));
    let new_key = |key: &str, csr: &str, cn: &str| -> Result<(), String> {
        run(&[
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-subj", cn, "-out",
            csr,
        ])
    };
    new_key("ca-key.pem", "ca.csr", "/CN=actix-mysql test CA")?;
    run(&[
        "x509",
        "-req",
        "-in",
        "ca.csr",
        "-signkey",
        "ca-key.pem",
        "-days",
        "3650",
        "-set_serial",
        &serial(1),
        "-extfile",
        "ext.cnf",
        "-extensions",
        "ca",
        "-out",
        CA_PEM,
    ])?;
    for (name, cn, key, cert, serial_no) in [
        (
            "server",
            "/CN=localhost",
            SERVER_KEY_PEM,
            SERVER_CERT_PEM,
            2,
        ),
        (
            "client",
            "/CN=actix-mysql test client",
            CLIENT_KEY_PEM,
            CLIENT_CERT_PEM,
            3,
        ),
    ] {
        let csr = format!("{name}.csr");
        new_key(key, &csr, cn)?;
        run(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            CA_PEM,
            "-CAkey",
            "ca-key.pem",
            "-days",
            "3650",
            "-set_serial",
            &serial(serial_no),
            "-extfile",
            "ext.cnf",
            "-extensions",
            name,
            "-out",
            cert,
        ])?;
    }
    Ok(())
}

fn start(c: &Candidate, tls: bool) -> Result<TestServer, String> {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let t0 = Instant::now();
    let dir_name = format!(
        "actix-mysql-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    // `host` is the directory as this process sees it, `inside` as the server sees it.
    let (host, inside) = match &c.tree {
        Some(tree) => (
            tree.join("tmp").join(&dir_name),
            PathBuf::from("/tmp").join(&dir_name),
        ),
        None => {
            let p = std::env::temp_dir().join(&dir_name);
            (p.clone(), p)
        }
    };
    if let Some(base) = host.parent() {
        remove_stale(base);
    }
    if let Ok(mut dirs) = STARTED_DIRS.lock() {
        dirs.push(host.clone());
    }
    for sub in ["data", "tmp", "files"] {
        fs::create_dir_all(host.join(sub))
            .map_err(|e| format!("{}: cannot create {}: {e}", c.name, host.display()))?;
    }
    spawn_watchdog(&host).map_err(|e| format!("{}: {e}", c.name))?;
    let certs_made = if tls {
        match make_certificates(&host) {
            Ok(()) => true,
            Err(e) => {
                note(format_args!("{}: started without TLS: {e}", c.name));
                false
            }
        }
    } else {
        false
    };
    let p = |s: &str| inside.join(s).to_string_lossy().into_owned();
    let tree = c.tree.as_deref();
    // Running as root needs `--user=root`; otherwise the server runs as the current user.
    let user_arg: &[&str] = if is_root() { &["--user=root"] } else { &[] };

    // Initialise the data directory.
    let mut init = match c.kind {
        ServerKind::MariaDb => {
            let mut cmd = command(tree, "/usr/bin/mariadb-install-db");
            cmd.arg("--no-defaults")
                .arg(format!("--datadir={}", p("data")))
                .args(user_arg)
                .args([
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--skip-name-resolve",
                ]);
            cmd
        }
        ServerKind::MySql => {
            let mut cmd = command(tree, c.server_program());
            cmd.args(["--no-defaults", "--initialize-insecure"])
                .args(user_arg)
                .arg(format!("--datadir={}", p("data")));
            cmd
        }
    };
    let out = init
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: cannot run the initialisation: {e}", c.name))?;
    if !out.status.success() {
        return Err(format!(
            "{}: initialising the data directory failed ({}):\n{}{}",
            c.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    let cli = Cli::Socket {
        tree: c.tree.clone(),
        program: c.client_program().to_string(),
        socket: p("mysqld.sock"),
    };
    let mut last_error = String::new();
    for attempt in 0..START_ATTEMPTS {
        let port = free_port()?;
        let log = host.join(format!("error-{attempt}.log"));
        let mut cmd = command(tree, c.server_program());
        cmd.arg("--no-defaults")
            .args(user_arg)
            .arg(format!("--datadir={}", p("data")))
            .arg(format!("--tmpdir={}", p("tmp")))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", p("mysqld.sock")))
            .arg(format!("--pid-file={}", p("mysqld.pid")))
            .arg(format!(
                "--log-error={}",
                p(&format!("error-{attempt}.log"))
            ))
            .arg("--skip-name-resolve")
            .arg("--max-allowed-packet=64M");
        if certs_made {
            cmd.arg(format!("--ssl-ca={}", p(CA_PEM)))
                .arg(format!("--ssl-cert={}", p(SERVER_CERT_PEM)))
                .arg(format!("--ssl-key={}", p(SERVER_KEY_PEM)));
        } else if !tls {
            cmd.arg("--skip-ssl");
        }
        if c.kind == ServerKind::MySql {
            cmd.arg("--mysqlx=OFF")
                .arg("--disable-log-bin")
                .arg(format!("--secure-file-priv={}", p("files")));
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        detach(&mut cmd);
        // Under chroot the first two arguments are the tree and the program.
        let skip = if tree.is_some() { 2 } else { 0 };
        let relaunch = Relaunch {
            tree: c.tree.clone(),
            program: c.server_program().to_string(),
            args: cmd.get_args().skip(skip).map(|a| a.to_owned()).collect(),
            dir: host.clone(),
        };
        let mut child: Child = cmd
            .spawn()
            .map_err(|e| format!("{}: cannot start {}: {e}", c.name, c.server_program()))?;
        let pid = child.id();
        let pid_file = host.join(format!("server-{attempt}.pid"));
        let _ = fs::write(&pid_file, pid.to_string());

        let mut server = TestServer {
            name: c.name.clone(),
            kind: c.kind,
            host: "127.0.0.1".to_string(),
            port,
            user: TEST_USER.to_string(),
            password: TEST_PASSWORD.to_string(),
            socket: Some(host.join("mysqld.sock")),
            public_key_pem: None,
            ca_pem: certs_made.then(|| host.join(CA_PEM)),
            client_cert_pem: certs_made.then(|| host.join(CLIENT_CERT_PEM)),
            client_key_pem: certs_made.then(|| host.join(CLIENT_KEY_PEM)),
            version: c.version.clone(),
            pid: Some(pid),
            cli: cli.clone(),
            relaunch: Some(relaunch),
        };
        let attempt_start = Instant::now();
        let ready = loop {
            if let Ok(Some(status)) = child.try_wait() {
                let _ = fs::remove_file(&pid_file);
                break Err(format!(
                    "{}: server exited ({status}) on port {port}; error log {}:\n{}",
                    c.name,
                    log.display(),
                    tail(&log, 25)
                ));
            }
            if server.admin_sql("SELECT 1").is_ok() {
                break Ok(());
            }
            if attempt_start.elapsed() > READY_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                let _ = fs::remove_file(&pid_file);
                break Err(format!(
                    "{}: not ready after {} s; error log {}:\n{}",
                    c.name,
                    READY_TIMEOUT.as_secs(),
                    log.display(),
                    tail(&log, 25)
                ));
            }
            thread::sleep(Duration::from_millis(100));
        };
        if let Err(e) = ready {
            last_error = e;
            continue;
        }

        let pw = TEST_PASSWORD;
        let mut sql = String::new();
        for host_pattern in ["%", "localhost"] {
            let _ = write!(
                sql,
                "CREATE USER '{TEST_USER}'@'{host_pattern}' IDENTIFIED BY '{pw}'; \
                 GRANT ALL PRIVILEGES ON *.* TO '{TEST_USER}'@'{host_pattern}' WITH GRANT OPTION; "
            );
        }
        let _ = write!(sql, "CREATE DATABASE {TEST_DB};");
        server.admin_sql(&sql)?;

        if c.kind == ServerKind::MySql {
            let key = host.join("data").join("public_key.pem");
            if key.exists() {
                server.public_key_pem = Some(key);
            }
        }
        note(format_args!(
            "test server {} on 127.0.0.1:{} ready in {:.1} s",
            server.name,
            server.port,
            t0.elapsed().as_secs_f64()
        ));
        // The child is not waited for: it lives until this process exits.
        drop(child);
        return Ok(server);
    }
    Err(last_error)
}

// ------------------------------------------------------------------ external servers

/// Parses a `MYSQL_TEST_URLS` value (what [`servers`] does when that variable is set).
pub fn parse_test_urls(urls: &str) -> Result<Vec<TestServer>, String> {
    parse_external_list(urls)
}

fn parse_external_list(urls: &str) -> Result<Vec<TestServer>, String> {
    let list: Vec<TestServer> = urls
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, spec)| parse_external(i + 1, spec))
        .collect::<Result<_, _>>()?;
    if list.is_empty() {
        return Err("MYSQL_TEST_URLS holds no URL".to_string());
    }
    Ok(list)
}

/// `[NAME=]mysql://user:password@host:port/db?server_public_key=PATH&socket=PATH&ssl_ca=PATH`
fn parse_external(index: usize, spec: &str) -> Result<TestServer, String> {
    let bad = |why: &str| format!("MYSQL_TEST_URLS entry `{spec}`: {why}");
    let scheme_at = spec
        .find("://")
        .ok_or_else(|| bad("expected mysql://user:password@host:port/"))?;
    let (name, url) = match spec[..scheme_at].find('=') {
        Some(eq) => (Some(spec[..eq].trim().to_string()), &spec[eq + 1..]),
        None => (None, spec),
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
    if scheme != "mysql" && scheme != "mariadb" {
        return Err(bad("the scheme must be mysql:// or mariadb://"));
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, q),
        None => (rest, ""),
    };
    let authority = rest.split('/').next().unwrap_or("");
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (u, h),
        None => ("", authority),
    };
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (percent_decode(u)?, percent_decode(p)?),
        None => (percent_decode(userinfo)?, String::new()),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        (h.to_string(), after.strip_prefix(':').unwrap_or(""))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (hostport.to_string(), ""),
        }
    };
    let port = if port.is_empty() {
        3306
    } else {
        port.parse().map_err(|_| bad("bad port"))?
    };
    let host = if host.is_empty() {
        "127.0.0.1".to_string()
    } else {
        host
    };
    let mut public_key_pem = None;
    let mut socket = None;
    let mut ca_pem = None;
    for pair in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "server_public_key" => public_key_pem = Some(PathBuf::from(percent_decode(v)?)),
            "socket" => socket = Some(PathBuf::from(percent_decode(v)?)),
            "ssl_ca" => ca_pem = Some(PathBuf::from(percent_decode(v)?)),
            _ => {}
        }
    }
    let program = ["/usr/bin/mariadb", "/usr/bin/mysql"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let mut server = TestServer {
        name: name.unwrap_or_else(|| format!("external-{index}")),
        kind: ServerKind::MariaDb,
        host,
        port,
        user: if user.is_empty() {
            "root".to_string()
        } else {
            user
        },
        password,
        socket,
        public_key_pem,
        ca_pem,
        client_cert_pem: None,
        client_key_pem: None,
        version: String::new(),
        pid: None,
        relaunch: None,
        cli: match program {
            Some(p) => Cli::Tcp {
                program: p.to_string(),
            },
            None => Cli::None,
        },
    };
    let lower = server.name.to_ascii_lowercase();
    if lower.contains("mariadb") {
        server.kind = ServerKind::MariaDb;
    } else if lower.contains("mysql") {
        server.kind = ServerKind::MySql;
    } else if let Ok(v) = server.admin_sql("SELECT VERSION()") {
        server.kind = if v.contains("MariaDB") {
            ServerKind::MariaDb
        } else {
            ServerKind::MySql
        };
        server.version = v.split('-').next().unwrap_or("").to_string();
    } else if scheme == "mariadb" {
        server.kind = ServerKind::MariaDb;
    }
    Ok(server)
}

fn percent_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-encoding in `{s}`"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("`{s}` does not decode to UTF-8"))
}
