//! The `Ledger` trait: which records of a migration are migrated, and moving one record
//! forward or back together with its mark.
//!
//! Moving and marking are one operation on purpose: a ledger that can commit both in one
//! transaction makes the migration exactly-once, and no caller can call `forward` without
//! the mark following it (or the other way round).

use std::collections::HashSet;
use std::fmt;
use std::future::Future;

use crate::ClientError;

/// The error a `forward` or `back` returns: any error of the application's.
pub type StepError = Box<dyn std::error::Error + Send + Sync>;

/// Which way a record moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The feature covers the record now and it is not migrated: `forward`.
    Forward,
    /// The record is migrated and the feature no longer covers it: `back`.
    Back,
}

impl fmt::Display for Direction {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Direction::Forward => "forward",
            Direction::Back => "back",
        })
    }
}

/// What moving one record came to.
#[derive(Debug)]
pub enum Outcome {
    /// The application's step ran and the record's mark changed with it.
    Moved,
    /// Another migrator moved it first (its mark already says so): nothing ran.
    AlreadyMoved,
    /// The application's step failed: the record is as it was, and the next pass retries it.
    Failed(StepError),
}

/// Where a migration's state lives, and how a record moves with it.
///
/// Implementations: [`MemoryLedger`](super::MemoryLedger), and with cargo features
/// `PostgresLedger` and `SqliteLedger`.
pub trait Ledger: Send + Sync {
    /// Of `ids`, those migrated in `migration`.
    fn migrated(
        &self,
        migration: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<HashSet<String>, ClientError>> + Send;

    /// Runs the application's `forward` (or `back`) for `id` and marks it migrated (or not),
    /// as one operation. An `Err` is the ledger's own failure (its database is down), which
    /// stops the pass; a failing step is `Ok(Outcome::Failed)`.
    fn apply(
        &self,
        migration: &str,
        id: &str,
        direction: Direction,
    ) -> impl Future<Output = Result<Outcome, ClientError>> + Send;
}

/// A ledger's or record source's database failed (the driver adds the migration's name).
#[cfg(any(feature = "migration-postgres", feature = "migration-sqlite"))]
pub(super) fn storage(
    action: &'static str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> ClientError {
    ClientError::MigrationStorage {
        migration: String::new(),
        action,
        source: Box::new(error),
    }
}
