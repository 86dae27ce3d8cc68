//! An exclusively leased pool connection.
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::Inner;
use crate::client::Client;

/// One connection of a [`Pool`](crate::Pool), leased with [`Pool::get`](crate::Pool::get) for
/// the caller alone.
///
/// It derefs to [`Client`], so every client method works on it, and commands from clones of
/// that client keep their order. While it is leased, commands dispatched through the pool go
/// to other connections.
///
/// Dropping it returns the connection: with
/// [`reset_on_return`](crate::PoolOpts::with_reset_on_return) its session is reset first
/// ([`Client::reset_connection`]: an open transaction is rolled back, user and session
/// variables and temporary tables are gone, the database and init statements of the options are
/// restored), in the background, before it serves anyone else. A connection whose reset fails,
/// or that is older than [`max_lifetime`](crate::PoolOpts::with_max_lifetime), is replaced by a
/// new one.
///
/// Clones of the inner client taken with `(*conn).clone()` outlive the lease but no longer
/// own the connection: do not keep them.
pub struct PooledConn {
    client: Client,
    inner: Arc<Inner>,
    slot: usize,
    broken: bool,
    /// False for a grant that never reached its caller (the pool undid it already).
    armed: bool,
}

impl PooledConn {
    pub(super) fn new(inner: Arc<Inner>, slot: usize, client: Client) -> Self {
        PooledConn {
            client,
            inner,
            slot,
            broken: false,
            armed: true,
        }
    }

    pub(super) fn disarm(&mut self) {
        self.armed = false;
    }

    /// Marks the connection as unfit for reuse: when dropped it is replaced by a new one
    /// instead of being reset.
    pub fn mark_broken(&mut self) {
        self.broken = true;
    }

    /// The leased client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl Deref for PooledConn {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl fmt::Debug for PooledConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConn")
            .field("slot", &self.slot)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.inner
            .return_lease(self.slot, self.client.clone(), self.broken);
    }
}
