//! `ramp migrate status NAME`: the reports a migrator left, as a table and as JSON, over the
//! store and through `ramp serve` (`--server`); "no migration has reported" when there are
//! none; a bad feature name is refused.

mod common;

use chrono::{DateTime, Utc};
use common::served::Served;
use common::Ramp;
use ramp_core::{FeatureName, MigrationPhase, MigrationProgress, Percentage};

fn report(migration: &str, migrated: u64) -> MigrationProgress {
    MigrationProgress {
        feature: FeatureName::new("orders").unwrap(),
        migration: migration.to_owned(),
        instance: "worker-7".to_owned(),
        phase: MigrationPhase::Running,
        records: 10_000,
        covered: 10_000,
        migrated,
        pending_forward: 10_000 - migrated,
        pending_back: 12,
        failures: 3,
        target_percentage: Some(Percentage::new(12.5).unwrap()),
        last_error: Some("record 17: deadlock".to_owned()),
        // Long before any run of this test: the table says how long ago in days.
        reported_at: "2020-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap(),
    }
}

/// Writes reports straight into the SQLite file, as a direct migrator would.
fn put_reports(store_url: &str, reports: &[MigrationProgress]) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = ramp_rollout::open_store(store_url).await.unwrap();
        for report in reports {
            store.put_migration_progress(report).await.unwrap();
        }
    });
}

#[test]
fn status_over_a_store_shows_each_migrations_progress() {
    let ramp = Ramp::new();
    ramp.run(&["activate", "orders"]);
    let none = ramp.run(&["migrate", "status", "orders"]);
    assert!(none.contains("no migration has reported"), "{none}");
    let url = format!("sqlite://{}", ramp.path("ramp.db").display());
    put_reports(
        &url,
        &[report("orders-v2", 8_230), report("invoices-v2", 10)],
    );

    let table = ramp.run(&["migrate", "status", "orders"]);
    let lines: Vec<&str> = table.lines().collect();
    for column in [
        "MIGRATION",
        "PHASE",
        "MIGRATED/COVERED",
        "PENDING FORWARD",
        "PENDING BACK",
        "FAILURES",
        "TARGET",
        "REPORTED",
        "INSTANCE",
    ] {
        assert!(lines[0].contains(column), "{table}");
    }
    // Sorted by migration name.
    assert!(lines[1].starts_with("invoices-v2"), "{table}");
    let orders = lines[2];
    for cell in [
        "orders-v2",
        "running",
        "8,230/10,000",
        "1,770",
        "12.5 %",
        "days ago",
        "worker-7",
    ] {
        assert!(orders.contains(cell), "{cell}: {table}");
    }
    assert!(
        table.contains("orders-v2: last error: record 17: deadlock"),
        "{table}"
    );

    let listed = ramp.json(&["migrate", "status", "orders"]);
    assert_eq!(listed["feature"], "orders");
    assert_eq!(listed["migrations"][1]["migrated"], 8_230);
    assert_eq!(
        listed["migrations"][1]["reported_at"],
        "2020-01-01T00:00:00Z"
    );

    let refused = ramp.fails(&["migrate", "status", "no,commas"], None);
    assert!(refused.contains("no,commas"), "{refused}");
}

#[test]
fn status_through_a_server_reads_the_same_reports() {
    let served = Served::start();
    served.run(&["activate", "orders"]);
    let none = served.run(&["migrate", "status", "orders"]);
    assert!(none.contains("no migration has reported"), "{none}");
    let url = format!(
        "sqlite://{}",
        served.directory.path().join("ramp.db").display()
    );
    put_reports(&url, &[report("orders-v2", 8_230)]);
    let table = served.run(&["migrate", "status", "orders"]);
    assert!(table.contains("8,230/10,000"), "{table}");
    let listed = served.json(&["migrate", "status", "orders"]);
    assert_eq!(listed["migrations"][0]["migration"], "orders-v2");
    assert_eq!(listed["migrations"][0]["instance"], "worker-7");
    served.stop();
}
