//! `PostgresLedger`: a migration's ledger in the application's PostgreSQL, exactly-once.
//!
//! Each move is one transaction: the ledger row is written first (inserted for `forward`,
//! deleted for `back`), then the application's step runs on the same transaction, then it
//! commits. A crash or `kill -9` anywhere before the commit leaves neither; after it, both.
//! Writing the row first also serializes migrators racing for one record: the second waits
//! on the row lock, then finds the work done (`Outcome::AlreadyMoved`) and runs nothing.

use std::collections::HashSet;
use std::sync::Arc;

use deadpool_postgres::Pool;
use futures::future::BoxFuture;
use tokio_postgres::Transaction;

use super::ledger::{storage, Direction, Ledger, Outcome, StepError};
use crate::ClientError;

/// A `forward` or `back` for PostgreSQL: changes one record (by id) on the ledger's open
/// transaction, and commits nothing itself.
pub type PostgresStep = Arc<
    dyn for<'a> Fn(&'a Transaction<'a>, &'a str) -> BoxFuture<'a, Result<(), StepError>>
        + Send
        + Sync,
>;

/// The ledger table, created by [`PostgresLedger::open`] if missing.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS ramp_migrated (
    migration text NOT NULL,
    record_id text NOT NULL,
    migrated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (migration, record_id)
)";

/// Migrated records as rows of `ramp_migrated` in the application's PostgreSQL (the pool's
/// `search_path` decides the schema), moved by steps that run on the row's own transaction.
pub struct PostgresLedger {
    pool: Pool,
    forward: PostgresStep,
    back: PostgresStep,
}

impl PostgresLedger {
    /// Creates the table if missing. `forward` and `back` receive the open transaction and
    /// the record's id; write through the transaction only, so the change commits with the
    /// ledger row. A step that returns an error rolls both back.
    pub async fn open<Forward, Back>(
        pool: Pool,
        forward: Forward,
        back: Back,
    ) -> Result<Self, ClientError>
    where
        Forward: for<'a> Fn(&'a Transaction<'a>, &'a str) -> BoxFuture<'a, Result<(), StepError>>
            + Send
            + Sync
            + 'static,
        Back: for<'a> Fn(&'a Transaction<'a>, &'a str) -> BoxFuture<'a, Result<(), StepError>>
            + Send
            + Sync
            + 'static,
    {
        let connection = pool
            .get()
            .await
            .map_err(|error| storage("connecting to the ledger", error))?;
        connection
            .batch_execute(CREATE_TABLE)
            .await
            .map_err(|error| storage("creating the ledger table", error))?;
        Ok(Self {
            pool,
            forward: Arc::new(forward),
            back: Arc::new(back),
        })
    }

    /// The pool the ledger uses, for the application's own reads.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }
}

impl Ledger for PostgresLedger {
    async fn migrated(
        &self,
        migration: &str,
        ids: &[String],
    ) -> Result<HashSet<String>, ClientError> {
        let connection = self
            .pool
            .get()
            .await
            .map_err(|error| storage("connecting to the ledger", error))?;
        let rows = connection
            .query(
                "SELECT record_id FROM ramp_migrated WHERE migration = $1 AND record_id = ANY($2)",
                &[&migration, &ids],
            )
            .await
            .map_err(|error| storage("reading the ledger", error))?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    async fn apply(
        &self,
        migration: &str,
        id: &str,
        direction: Direction,
    ) -> Result<Outcome, ClientError> {
        let mut connection = self
            .pool
            .get()
            .await
            .map_err(|error| storage("connecting to the ledger", error))?;
        let transaction = connection
            .transaction()
            .await
            .map_err(|error| storage("starting a transaction", error))?;
        let mark = match direction {
            Direction::Forward => {
                "INSERT INTO ramp_migrated (migration, record_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING"
            }
            Direction::Back => "DELETE FROM ramp_migrated WHERE migration = $1 AND record_id = $2",
        };
        let changed = transaction
            .execute(mark, &[&migration, &id])
            .await
            .map_err(|error| storage("writing the ledger", error))?;
        if changed == 0 {
            // Dropping the transaction rolls it back.
            return Ok(Outcome::AlreadyMoved);
        }
        let step = match direction {
            Direction::Forward => &self.forward,
            Direction::Back => &self.back,
        };
        if let Err(error) = step(&transaction, id).await {
            let _ = transaction.rollback().await;
            return Ok(Outcome::Failed(error));
        }
        transaction
            .commit()
            .await
            .map_err(|error| storage("committing a move", error))?;
        Ok(Outcome::Moved)
    }
}
