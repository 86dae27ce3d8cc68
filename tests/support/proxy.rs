//! A fault-injecting TCP proxy between a client and a real server on 127.0.0.1.
//!
//! Faults: cut every open connection, stall forwarding (per direction), delay, cut a connection
//! after N bytes from the server, refuse new connections, half-close.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Default)]
struct Control {
    /// Stop forwarding client → server.
    stall_up: AtomicBool,
    /// Stop forwarding server → client.
    stall_down: AtomicBool,
    refuse: AtomicBool,
    delay_ms: AtomicU64,
    /// Cut a connection once this many bytes went server → client on it (0 = never).
    drop_after: AtomicU64,
    /// Half-close: shut down the write side towards the client instead of forwarding.
    half_close: AtomicBool,
    accepted: AtomicUsize,
    active: AtomicUsize,
    /// Most connections open at once so far.
    max_active: AtomicUsize,
    /// Connections ended by `cut_all`.
    cut: AtomicUsize,
    /// Connections whose upstream connect failed (server down).
    upstream_failures: AtomicUsize,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    conns: Mutex<Vec<JoinHandle<()>>>,
}

/// A running proxy. Dropping it stops accepting; open connections are cut.
pub struct Proxy {
    addr: SocketAddr,
    ctl: Arc<Control>,
    wake: watch::Sender<u64>,
    accept: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_all();
    }
}

impl Proxy {
    /// Starts a proxy on a free 127.0.0.1 port forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let ctl = Arc::new(Control::default());
        let (wake, wake_rx) = watch::channel(0u64);
        let accept_ctl = ctl.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if accept_ctl.refuse.load(Ordering::SeqCst) {
                    let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
                    drop(client);
                    continue;
                }
                accept_ctl.accepted.fetch_add(1, Ordering::SeqCst);
                let ctl = accept_ctl.clone();
                let wake_rx = wake_rx.clone();
                let handle = tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        ctl.upstream_failures.fetch_add(1, Ordering::SeqCst);
                        return;
                    };
                    let now = ctl.active.fetch_add(1, Ordering::SeqCst) + 1;
                    ctl.max_active.fetch_max(now, Ordering::SeqCst);
                    let _guard = ActiveGuard(ctl.clone());
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let up = pump(cr, sw, ctl.clone(), wake_rx.clone(), Direction::Up);
                    let down = pump(sr, cw, ctl.clone(), wake_rx, Direction::Down);
                    // Either direction ending ends the connection.
                    tokio::select! {
                        _ = up => {}
                        _ = down => {}
                    }
                });
                let mut conns = accept_ctl.conns.lock().unwrap();
                // Forget connections that ended, so a long run keeps a short list.
                conns.retain(|h| !h.is_finished());
                conns.push(handle);
            }
        });
        Proxy {
            addr,
            ctl,
            wake,
            accept,
        }
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.ctl.accepted.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn active(&self) -> usize {
        self.ctl.active.load(Ordering::SeqCst)
    }

    /// Most connections open at once since the start (or the last
    /// [`reset_max_active`](Self::reset_max_active)).
    pub fn max_active(&self) -> usize {
        self.ctl.max_active.load(Ordering::SeqCst)
    }

    /// Starts counting [`max_active`](Self::max_active) again from the connections open now.
    pub fn reset_max_active(&self) {
        self.ctl
            .max_active
            .store(self.ctl.active.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Connections ended by [`cut_all`](Self::cut_all) so far.
    pub fn cut(&self) -> usize {
        self.ctl.cut.load(Ordering::SeqCst)
    }

    /// Accepted connections dropped because the upstream server could not be reached.
    pub fn upstream_failures(&self) -> usize {
        self.ctl.upstream_failures.load(Ordering::SeqCst)
    }

    /// Bytes forwarded client → server and server → client.
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.ctl.bytes_up.load(Ordering::SeqCst),
            self.ctl.bytes_down.load(Ordering::SeqCst),
        )
    }

    /// Closes every open connection at once (both sides see the connection end).
    pub fn cut_all(&self) {
        for h in self.ctl.conns.lock().unwrap().drain(..) {
            if !h.is_finished() {
                self.ctl.cut.fetch_add(1, Ordering::SeqCst);
            }
            h.abort();
        }
    }

    /// Stops (or resumes) forwarding in both directions.
    pub fn stall(&self, on: bool) {
        self.ctl.stall_up.store(on, Ordering::SeqCst);
        self.ctl.stall_down.store(on, Ordering::SeqCst);
        self.nudge();
    }

    /// Stops (or resumes) forwarding server → client only: requests still reach the server,
    /// replies are held back.
    pub fn stall_replies(&self, on: bool) {
        self.ctl.stall_down.store(on, Ordering::SeqCst);
        self.nudge();
    }

    /// Refuses (accepts and resets) new connections.
    pub fn refuse(&self, on: bool) {
        self.ctl.refuse.store(on, Ordering::SeqCst);
    }

    /// Delays every forwarded chunk.
    pub fn delay(&self, d: Duration) {
        self.ctl
            .delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }

    /// Cuts a connection once `n` bytes went server → client on it (0 = never).
    pub fn drop_after(&self, n: u64) {
        self.ctl.drop_after.store(n, Ordering::SeqCst);
    }

    /// Half-closes towards the client instead of forwarding replies.
    pub fn half_close(&self, on: bool) {
        self.ctl.half_close.store(on, Ordering::SeqCst);
        self.nudge();
    }

    fn nudge(&self) {
        self.wake.send_modify(|v| *v += 1);
    }
}

struct ActiveGuard(Arc<Control>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Up,
    Down,
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    ctl: Arc<Control>,
    mut wake: watch::Receiver<u64>,
    dir: Direction,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut sent_on_conn: u64 = 0;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        loop {
            let stalled = match dir {
                Direction::Up => ctl.stall_up.load(Ordering::SeqCst),
                Direction::Down => ctl.stall_down.load(Ordering::SeqCst),
            };
            if !stalled {
                break;
            }
            if wake.changed().await.is_err() {
                return;
            }
        }
        let delay = ctl.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let chunk = &buf[..n];
        if dir == Direction::Down {
            if ctl.half_close.load(Ordering::SeqCst) {
                let _ = to.shutdown().await;
                // Keep the connection open, forwarding nothing, until it is cut.
                std::future::pending::<()>().await;
            }
            let limit = ctl.drop_after.load(Ordering::SeqCst);
            if limit > 0 && sent_on_conn + chunk.len() as u64 >= limit {
                let keep = (limit - sent_on_conn) as usize;
                let _ = to.write_all(&chunk[..keep]).await;
                ctl.bytes_down.fetch_add(keep as u64, Ordering::SeqCst);
                return;
            }
            sent_on_conn += chunk.len() as u64;
        }
        if to.write_all(chunk).await.is_err() {
            return;
        }
        let counter = match dir {
            Direction::Up => &ctl.bytes_up,
            Direction::Down => &ctl.bytes_down,
        };
        counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
    }
}
