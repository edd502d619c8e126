//! `SqliteLedger`: a migration's ledger in the application's SQLite, exactly-once.
//!
//! Like the PostgreSQL ledger: the ledger row and the application's step share one
//! transaction. SQLite calls block, so each move runs on Tokio's blocking pool, one at a time
//! (SQLite has one writer anyway).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, Transaction};

use super::ledger::{storage, Direction, Ledger, Outcome, StepError};
use crate::ClientError;

/// A `forward` or `back` for SQLite: changes one record (by id) on the ledger's open
/// transaction, and commits nothing itself.
pub type SqliteStep = Arc<dyn Fn(&Transaction<'_>, &str) -> Result<(), StepError> + Send + Sync>;

/// Migrated records as rows of `ramp_migrated` in the application's SQLite database, moved
/// by steps that run on the row's own transaction.
pub struct SqliteLedger {
    connection: Arc<Mutex<Connection>>,
    forward: SqliteStep,
    back: SqliteStep,
}

impl SqliteLedger {
    /// Takes a connection to the application's database and creates the table if missing.
    pub fn open<Forward, Back>(
        connection: Connection,
        forward: Forward,
        back: Back,
    ) -> Result<Self, ClientError>
    where
        Forward: Fn(&Transaction<'_>, &str) -> Result<(), StepError> + Send + Sync + 'static,
        Back: Fn(&Transaction<'_>, &str) -> Result<(), StepError> + Send + Sync + 'static,
    {
        connection
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS ramp_migrated (
                    migration TEXT NOT NULL,
                    record_id TEXT NOT NULL,
                    migrated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
                    PRIMARY KEY (migration, record_id)
                )",
            )
            .map_err(|error| storage("creating the ledger table", error))?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            forward: Arc::new(forward),
            back: Arc::new(back),
        })
    }

    /// Runs `read` on the connection (blocking; between moves), for the application's reads.
    pub fn with_connection<R>(&self, read: impl FnOnce(&Connection) -> R) -> R {
        read(&lock(&self.connection))
    }
}

fn lock(connection: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    connection
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Ledger for SqliteLedger {
    async fn migrated(
        &self,
        migration: &str,
        ids: &[String],
    ) -> Result<HashSet<String>, ClientError> {
        let (connection, migration, ids) =
            (self.connection.clone(), migration.to_owned(), ids.to_vec());
        blocking(move || {
            let connection = lock(&connection);
            let mut statement = connection
                .prepare_cached(
                    "SELECT 1 FROM ramp_migrated WHERE migration = ?1 AND record_id = ?2",
                )
                .map_err(|error| storage("reading the ledger", error))?;
            let mut migrated = HashSet::new();
            for id in ids {
                let found = statement
                    .exists((&migration, &id))
                    .map_err(|error| storage("reading the ledger", error))?;
                if found {
                    migrated.insert(id);
                }
            }
            Ok(migrated)
        })
        .await
    }

    async fn apply(
        &self,
        migration: &str,
        id: &str,
        direction: Direction,
    ) -> Result<Outcome, ClientError> {
        let step = match direction {
            Direction::Forward => self.forward.clone(),
            Direction::Back => self.back.clone(),
        };
        let (connection, migration, id) =
            (self.connection.clone(), migration.to_owned(), id.to_owned());
        blocking(move || {
            let mut connection = lock(&connection);
            let transaction = connection
                .transaction()
                .map_err(|error| storage("starting a transaction", error))?;
            let mark = match direction {
                Direction::Forward => {
                    "INSERT OR IGNORE INTO ramp_migrated (migration, record_id) VALUES (?1, ?2)"
                }
                Direction::Back => {
                    "DELETE FROM ramp_migrated WHERE migration = ?1 AND record_id = ?2"
                }
            };
            let changed = transaction
                .execute(mark, (&migration, &id))
                .map_err(|error| storage("writing the ledger", error))?;
            if changed == 0 {
                return Ok(Outcome::AlreadyMoved);
            }
            if let Err(error) = step(&transaction, &id) {
                // Dropping the transaction rolls it back.
                return Ok(Outcome::Failed(error));
            }
            transaction
                .commit()
                .map_err(|error| storage("committing a move", error))?;
            Ok(Outcome::Moved)
        })
        .await
    }
}

/// Runs SQLite work off the async threads.
async fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> Result<R, ClientError> + Send + 'static,
) -> Result<R, ClientError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| storage("running a blocking task", error))?
}
