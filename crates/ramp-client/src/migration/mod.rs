//! Gradual data migrations that follow a feature: the set of migrated records is made equal to
//! the set the feature covers now, so raising the percentage migrates more records, and
//! lowering it, excluding a user or switching the feature off moves records back.
//!
//! A [`Migration`] walks the ids of a [`RecordSource`] in batches. A record is covered when
//! the feature is active for a user whose id is the record's id ([`Client::covers`](crate::Client::covers):
//! the same bucketing as every check, so Ruby applications using the gem agree), never
//! counted as a check. Which records are migrated is the application's state, kept by a
//! [`Ledger`], which also runs the application's `forward` and `back`:
//!
//! - [`PostgresLedger`] / [`SqliteLedger`] (cargo features `migration-postgres`,
//!   `migration-sqlite`) keep one row per migrated id in a table `ramp_migrated` of the
//!   application's own database, and hand `forward` / `back` the open transaction that
//!   writes that row: the record's change and its mark commit together or not at all, so a
//!   migrator killed at any point and restarted migrates every record exactly once.
//! - [`MemoryLedger`] runs callbacks whose effect is anywhere (a queue, another service): it
//!   cannot commit with them, so it is at-least-once, and its state lives as long as it does.
//!
//! A `forward` or `back` that fails leaves its record as it was (the transaction is rolled
//! back), counts it in the pass's `failures` and `last_error`, and the next pass retries it.
//!
//! ```no_run
//! # #[cfg(feature = "migration-postgres")]
//! # async fn run(client: ramp_client::Client, pool: deadpool_postgres::Pool) -> Result<(), ramp_client::ClientError> {
//! use ramp_client::migration::{Migration, PostgresLedger, PostgresRecords};
//!
//! let ledger = PostgresLedger::open(
//!     pool.clone(),
//!     |transaction, id| Box::pin(async move {
//!         transaction.execute("UPDATE orders SET layout = 2 WHERE id = $1::text::bigint", &[&id]).await?;
//!         Ok(())
//!     }),
//!     |transaction, id| Box::pin(async move {
//!         transaction.execute("UPDATE orders SET layout = 1 WHERE id = $1::text::bigint", &[&id]).await?;
//!         Ok(())
//!     }),
//! ).await?;
//! let records = PostgresRecords::integer_ids(pool, "orders", "id")?;
//! let mut migration = Migration::new(client, "orders-v2", records, ledger).batch_size(5_000);
//! println!("{:?}", migration.plan().await?);   // how many forward, how many back
//! let report = migration.run_pass().await?;     // migrates the difference
//! assert_eq!(report.failures, 0);
//! # Ok(())
//! # }
//! ```

mod driver;
mod ledger;
mod memory;
mod pace;
mod report;
mod source;
mod watch;

#[cfg(feature = "migration-postgres")]
mod postgres;
#[cfg(feature = "migration-postgres")]
mod postgres_records;
#[cfg(feature = "migration-sqlite")]
mod sqlite;

pub use driver::Migration;
pub use ledger::{Direction, Ledger, Outcome, StepError};
pub use memory::MemoryLedger;
pub use report::{PassReport, Plan};
pub use source::{IterRecords, RecordSource};

#[cfg(feature = "migration-postgres")]
pub use postgres::{PostgresLedger, PostgresStep};
#[cfg(feature = "migration-postgres")]
pub use postgres_records::PostgresRecords;
#[cfg(feature = "migration-sqlite")]
pub use sqlite::{SqliteLedger, SqliteStep};

/// The table every ledger keeps its rows in, in the application's database.
pub const LEDGER_TABLE: &str = "ramp_migrated";
