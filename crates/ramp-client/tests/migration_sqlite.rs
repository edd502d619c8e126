//! The SQLite ledger: a table in the application's own SQLite file follows the feature, each
//! record's change committed with its ledger row, a failing step rolled back and retried.

mod migration_common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use migration_common::{covered, Feature};
use ramp_client::migration::{IterRecords, Migration, SqliteLedger, StepError};
use rusqlite::Connection;

const ROWS: i64 = 2_000;

fn open(path: &Path, failing: Arc<AtomicBool>) -> SqliteLedger {
    let connection = Connection::open(path).unwrap();
    // Durability against a power cut is not what this tests; an fsync per move is slow.
    connection
        .execute_batch("PRAGMA synchronous = OFF")
        .unwrap();
    connection
        .execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY, layout INTEGER NOT NULL DEFAULT 1);
             INSERT OR IGNORE INTO records (id) SELECT value FROM generate_series(1, {ROWS});"
        ))
        .or_else(|_| {
            // Without the generate_series extension: a recursive query.
            connection.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY, layout INTEGER NOT NULL DEFAULT 1);
                 WITH RECURSIVE n(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM n WHERE id < {ROWS})
                 INSERT OR IGNORE INTO records (id) SELECT id FROM n;"
            ))
        })
        .unwrap();
    SqliteLedger::open(
        connection,
        move |transaction, id| {
            transaction.execute("UPDATE records SET layout = 2 WHERE id = ?1", [id])?;
            if failing.load(Ordering::SeqCst) && id.parse::<i64>()? % 5 == 0 {
                return Err(StepError::from("the archive is read-only"));
            }
            Ok(())
        },
        |transaction, id| {
            transaction.execute("UPDATE records SET layout = 1 WHERE id = ?1", [id])?;
            Ok(())
        },
    )
    .unwrap()
}

fn migrated_rows(ledger: &SqliteLedger) -> (BTreeSet<i64>, BTreeSet<i64>) {
    ledger.with_connection(|connection| {
        let read = |query: &str| -> BTreeSet<i64> {
            let mut statement = connection.prepare(query).unwrap();
            let rows = statement.query_map([], |row| row.get::<_, i64>(0)).unwrap();
            rows.map(Result::unwrap).collect()
        };
        (
            read("SELECT id FROM records WHERE layout = 2"),
            read("SELECT CAST(record_id AS INTEGER) FROM ramp_migrated"),
        )
    })
}

#[tokio::test]
async fn a_sqlite_table_follows_the_feature_exactly_and_retries_a_failed_step() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("app.db");
    let feature = Feature::new("layout-v2").await;
    let failing = Arc::new(AtomicBool::new(true));
    let ids: Vec<String> = (1..=ROWS).map(|id| id.to_string()).collect();
    let mut migration = Migration::new(
        feature.client.clone(),
        feature.name,
        IterRecords::new(ids.clone()),
        open(&path, failing.clone()),
    )
    .batch_size(250);

    feature.set_percentage(40.0).await;
    let now = covered(feature.name, 40.0, ROWS);
    let fives: BTreeSet<i64> = now.iter().copied().filter(|id| id % 5 == 0).collect();
    let report = migration.run_pass().await.unwrap();
    assert_eq!(report.failures, fives.len() as u64);
    assert!(report
        .last_error
        .unwrap()
        .ends_with("the archive is read-only"));
    let expected: BTreeSet<i64> = now.difference(&fives).copied().collect();
    assert_eq!(
        migrated_rows(migration.ledger()),
        (expected.clone(), expected)
    );

    failing.store(false, Ordering::SeqCst);
    let report = migration.run_pass().await.unwrap();
    assert_eq!((report.forwarded, report.failures), (fives.len() as u64, 0));
    assert_eq!(
        migrated_rows(migration.ledger()),
        (now.clone(), now.clone())
    );

    // Lowered: the difference moves back. A new ledger on the same file (a restarted
    // process) knows what the old one did.
    drop(migration);
    let mut migration = Migration::new(
        feature.client.clone(),
        feature.name,
        IterRecords::new(ids),
        open(&path, failing),
    );
    feature.set_percentage(15.0).await;
    let lower = covered(feature.name, 15.0, ROWS);
    let plan = migration.plan().await.unwrap();
    assert_eq!(
        (plan.forward, plan.back),
        (0, (now.len() - lower.len()) as u64)
    );
    let report = migration.run_pass().await.unwrap();
    assert_eq!(
        (report.forwarded, report.moved_back),
        (0, (now.len() - lower.len()) as u64)
    );
    assert_eq!(migrated_rows(migration.ledger()), (lower.clone(), lower));
}
