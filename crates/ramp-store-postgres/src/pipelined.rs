//! `Pipelined`: a write transaction begun and committed by hand, so that `BEGIN` travels with
//! the first statement and `COMMIT` with the last. A write then costs two round trips instead
//! of four, and the row and version locks it takes are held for one trip to the client fewer,
//! which is what bounds how many writes per second one feature can take.
//!
//! Sending `COMMIT` before the last statement's answer is safe: if that statement fails,
//! PostgreSQL skips to the `COMMIT`, which then ends the failed transaction as a rollback.
//! Statements must be prepared before they are pipelined, or their preparation would travel
//! after the `COMMIT`. A transaction abandoned midway (its future dropped by a timeout) takes
//! its connection out of the pool and closes it, which rolls it back, rather than lending a
//! connection still inside a transaction to the next operation.

use deadpool_postgres::Object;
use ramp_store::StoreError;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement};

use crate::error::{commit_error, sql, unavailable};

/// A write transaction on a pooled connection.
pub(crate) struct Pipelined {
    /// Always `Some` until dropped; an `Option` so that `Drop` can take it out of the pool.
    client: Option<Object>,
    /// Whether `BEGIN` was sent and neither `COMMIT` nor `ROLLBACK` has been answered.
    open: bool,
}

impl Pipelined {
    /// A transaction on `client`, not yet begun.
    pub(crate) fn new(client: Object) -> Self {
        Self {
            client: Some(client),
            open: false,
        }
    }

    /// The connection, to prepare statements on.
    pub(crate) fn client(&self) -> Result<&Object, StoreError> {
        self.client
            .as_ref()
            .ok_or_else(|| unavailable("writing", "the transaction's connection was closed"))
    }

    /// Begins the transaction and runs its first statement, in one round trip.
    pub(crate) async fn begin_with(
        &mut self,
        statement: &Statement,
        parameters: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        self.open = true;
        let client = self.client()?;
        let (begun, row) = futures::join!(
            client.batch_execute("BEGIN"),
            client.query_opt(statement, parameters)
        );
        begun.map_err(sql("beginning a write"))?;
        row.map_err(sql("reading a feature to change it"))
    }

    /// Runs the last statement and commits, in one round trip. The transaction is over either
    /// way; `begin_with` may start another on the same connection.
    pub(crate) async fn commit_with(
        &mut self,
        statement: &Statement,
        parameters: &[&(dyn ToSql + Sync)],
        context: &'static str,
    ) -> Result<Option<Row>, StoreError> {
        let client = self.client()?;
        let (row, committed) = futures::join!(
            client.query_opt(statement, parameters),
            client.batch_execute("COMMIT")
        );
        // A failed statement makes PostgreSQL answer the COMMIT with a rollback: either way, an
        // answered COMMIT means no transaction is open any more.
        self.open = committed.is_err();
        // A lost answer to COMMIT says nothing about whether it happened, whatever the
        // statement before it answered.
        let committed = committed.map_err(commit_error("committing a write"));
        if let Err(unknown @ StoreError::OutcomeUnknown { .. }) = committed {
            return Err(unknown);
        }
        let row = row.map_err(sql(context))?;
        committed?;
        Ok(row)
    }

    /// Ends the transaction without writing anything.
    pub(crate) async fn rollback(&mut self) -> Result<(), StoreError> {
        self.client()?
            .batch_execute("ROLLBACK")
            .await
            .map_err(sql("ending a write that changed nothing"))?;
        self.open = false;
        Ok(())
    }

    /// Rolls back, then fails with `error`.
    pub(crate) async fn abandon<T>(&mut self, error: StoreError) -> Result<T, StoreError> {
        self.rollback().await?;
        Err(error)
    }

    /// Prepares `statement` (once per connection; later calls find it in the cache).
    pub(crate) async fn prepare(&self, statement: &str) -> Result<Statement, StoreError> {
        self.client()?
            .prepare_cached(statement)
            .await
            .map_err(sql("preparing a statement"))
    }
}

impl Drop for Pipelined {
    fn drop(&mut self) {
        if self.open {
            // Closing the connection is the only rollback that needs no await.
            if let Some(client) = self.client.take() {
                drop(Object::take(client));
            }
        }
    }
}
