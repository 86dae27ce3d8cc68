//! The implicit transaction of a blocking connection.
//!
//! Like [`Transaction`](crate::Transaction), it claims the connection actor for its statements,
//! so that a lost connection fails them with
//! [`ErrorKind::TransactionAborted`](crate::ErrorKind::TransactionAborted) instead of running
//! them on a new connection outside the transaction. Unlike it, it sends
//! [`QueryMulti`] with bound parameters, which a DB-API cursor needs: every result of a
//! statement, with the columns of an empty result set and the OK packet of a write.
use std::sync::atomic::{AtomicU64, Ordering};

use crate::actor::messages::{Claim, Execute, QueryMulti, Release};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::protocol::value::Value;
use crate::row::QueryResult;
use crate::transaction::IsolationLevel;

/// Transaction ids of blocking connections; a range apart from those of
/// [`Transaction`](crate::Transaction).
static NEXT_ID: AtomicU64 = AtomicU64::new(1 << 62);

/// An open transaction that owns the connection until it ends. Dropped without
/// [`commit`](Self::commit) or [`rollback`](Self::rollback), it rolls back.
#[derive(Debug)]
pub(super) struct Txn {
    client: Client,
    id: u64,
    /// The server's id of the connection the transaction runs on.
    connection_id: Option<u32>,
    done: bool,
}

pub(super) fn isolation_sql(level: IsolationLevel) -> &'static str {
    match level {
        IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
        IsolationLevel::ReadCommitted => "READ COMMITTED",
        IsolationLevel::RepeatableRead => "REPEATABLE READ",
        IsolationLevel::Serializable => "SERIALIZABLE",
    }
}

impl Txn {
    /// Claims the connection and starts a transaction.
    pub(super) async fn begin(client: Client, isolation: Option<IsolationLevel>) -> Result<Txn> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        client.addr().send(Claim(id)).await??;
        // From here on, dropping `txn` rolls back and gives the connection back.
        let mut txn = Txn {
            client,
            id,
            connection_id: None,
            done: false,
        };
        if let Some(level) = isolation {
            txn.execute(format!(
                "SET TRANSACTION ISOLATION LEVEL {}",
                isolation_sql(level)
            ))
            .await?;
        }
        txn.execute("START TRANSACTION".to_string()).await?;
        txn.connection_id = txn.current_connection_id().await?;
        txn.check_connection(false).await?;
        Ok(txn)
    }

    async fn execute(&self, sql: String) -> Result<()> {
        let msg = Execute::new(sql).in_txn(Some(self.id), false);
        self.client.addr().send(msg).await?.map(drop)
    }

    /// Runs a statement with bound parameters in the transaction; every result.
    pub(super) async fn query_multi_with(
        &self,
        sql: String,
        params: Vec<Value>,
    ) -> Result<Vec<QueryResult>> {
        self.check_connection(false).await?;
        let msg = QueryMulti::new(sql)
            .bind(params)
            .in_txn(Some(self.id), false);
        let results = self.client.addr().send(msg).await??;
        self.check_connection(true).await?;
        Ok(results)
    }

    async fn current_connection_id(&self) -> Result<Option<u32>> {
        Ok(self
            .client
            .connection_info()
            .await?
            .map(|info| info.connection_id))
    }

    /// Fails when the connection the transaction began on is gone.
    ///
    /// The actor fails the transaction's commands when the connection breaks under one of
    /// them, but a connection the server closes while the transaction is idle (`KILL`,
    /// `wait_timeout`) is reopened for its next statement, outside the transaction. Checked
    /// before a statement, that statement is not sent; checked after it, the statement may
    /// have run on a new connection, outside the transaction.
    async fn check_connection(&self, after_statement: bool) -> Result<()> {
        let now = self.current_connection_id().await?;
        if now.is_some() && now == self.connection_id {
            return Ok(());
        }
        Err(
            Error::transaction_aborted(after_statement).with_detail(if after_statement {
                "the connection was lost during the transaction; the statement may have run \
             outside it, on a new connection"
            } else {
                "the connection was lost during the transaction"
            }),
        )
    }

    /// `COMMIT`, then gives the connection back.
    pub(super) async fn commit(mut self) -> Result<()> {
        self.done = true;
        let msg = Execute::new("COMMIT").in_txn(Some(self.id), true);
        let res = self.client.addr().send(msg).await;
        let released = self.client.addr().send(Release(self.id)).await;
        res??;
        released?
    }

    /// `ROLLBACK`, then gives the connection back.
    pub(super) async fn rollback(mut self) -> Result<()> {
        self.done = true;
        let res = self.execute("ROLLBACK".to_string()).await;
        let released = self.client.addr().send(Release(self.id)).await;
        res?;
        released?
    }
}

impl Drop for Txn {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let addr = self.client.addr();
        addr.do_send(Execute::new("ROLLBACK").in_txn(Some(self.id), false));
        addr.do_send(Release(self.id));
    }
}
