//! Conformance checks for migration progress: a report replaces the previous one of its
//! (feature, migration), reports come back sorted by migration, a report over a bound or of an
//! unknown feature stores nothing, a feature keeps at most `MAX_MIGRATIONS_PER_FEATURE`
//! migrations (even when new ones race), and deleting a report or its feature forgets it.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ramp_core::{
    Change, MigrationPhase, MigrationProgress, Percentage, MAX_MIGRATIONS_PER_FEATURE,
};

use super::{ana, name};
use crate::{Store, StoreError};

fn time(minutes: i64) -> DateTime<Utc> {
    // A fixed time: the checks never read the wall clock.
    DateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minutes)
}

/// A report of `migration` of `feature`: `migrated` of 10,000 records, 1,250 covered.
pub fn migration_report(feature: &str, migration: &str, migrated: u64) -> MigrationProgress {
    MigrationProgress {
        feature: name(feature),
        migration: migration.to_owned(),
        instance: "worker-1".to_owned(),
        phase: MigrationPhase::Running,
        records: 10_000,
        covered: 1_250,
        migrated,
        pending_forward: 1_250u64.saturating_sub(migrated),
        pending_back: 0,
        failures: 2,
        target_percentage: Some(Percentage::new(12.5).unwrap()),
        last_error: Some("record 17: deadlock".to_owned()),
        reported_at: time(0),
    }
}

/// The reports with their time blanked: a store over a server keeps the server's time, not
/// the one sent.
fn untimed(reports: Vec<MigrationProgress>) -> Vec<MigrationProgress> {
    reports
        .into_iter()
        .map(|report| MigrationProgress {
            reported_at: time(0),
            ..report
        })
        .collect()
}

async fn create(store: &Arc<dyn Store>, feature: &str) {
    store
        .apply(&name(feature), &Change::Activate, None, &ana())
        .await
        .unwrap();
}

/// Reports come back sorted by migration; a newer one replaces its migration's whole; another
/// feature's list stays empty, and no report changes the store version.
pub async fn migration_progress_round_trips_and_is_replaced(store: Arc<dyn Store>) {
    create(&store, "orders").await;
    create(&store, "billing").await;
    assert!(store.migration_progress("orders").await.unwrap().is_empty());
    let version = store.snapshot().await.unwrap().version;
    let orders = migration_report("orders", "orders-v2", 100);
    let invoices = migration_report("orders", "invoices-v2", 1_250);
    store.put_migration_progress(&orders).await.unwrap();
    store.put_migration_progress(&invoices).await.unwrap();
    assert_eq!(
        untimed(store.migration_progress("orders").await.unwrap()),
        vec![invoices.clone(), orders]
    );
    let done = MigrationProgress {
        phase: MigrationPhase::Done,
        migrated: 1_250,
        pending_forward: 0,
        failures: 0,
        last_error: None,
        target_percentage: None,
        instance: "worker-2".to_owned(),
        ..migration_report("orders", "orders-v2", 0)
    };
    store.put_migration_progress(&done).await.unwrap();
    assert_eq!(
        untimed(store.migration_progress("orders").await.unwrap()),
        vec![invoices, done]
    );
    assert!(store
        .migration_progress("billing")
        .await
        .unwrap()
        .is_empty());
    assert!(store.migration_progress("nobody").await.unwrap().is_empty());
    assert_eq!(store.snapshot().await.unwrap().version, version);
}

/// The time a report carries is the one kept (a server sets it before storing).
pub async fn migration_progress_keeps_its_report_time(store: Arc<dyn Store>) {
    create(&store, "orders").await;
    let report = MigrationProgress {
        reported_at: time(90),
        ..migration_report("orders", "orders-v2", 10)
    };
    store.put_migration_progress(&report).await.unwrap();
    assert_eq!(
        store.migration_progress("orders").await.unwrap(),
        vec![report]
    );
}

/// A report of an unknown feature is `NotFound`, one over a bound `Invalid`; neither stores
/// anything, and a refused replacement keeps the previous report.
pub async fn bad_migration_progress_stores_nothing(store: Arc<dyn Store>) {
    let unknown = store
        .put_migration_progress(&migration_report("ghost", "ghost-v2", 1))
        .await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound { .. })),
        "{unknown:?}"
    );
    assert!(store.migration_progress("ghost").await.unwrap().is_empty());
    create(&store, "orders").await;
    let kept = migration_report("orders", "orders-v2", 5);
    store.put_migration_progress(&kept).await.unwrap();
    let broken = [
        MigrationProgress {
            covered: 10_001,
            ..kept.clone()
        },
        MigrationProgress {
            migration: " ".to_owned(),
            ..kept.clone()
        },
        MigrationProgress {
            last_error: Some("e".repeat(1_001)),
            ..kept.clone()
        },
    ];
    for report in broken {
        let refused = store.put_migration_progress(&report).await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{refused:?}"
        );
    }
    assert_eq!(
        untimed(store.migration_progress("orders").await.unwrap()),
        vec![kept]
    );
}

/// A feature keeps at most `MAX_MIGRATIONS_PER_FEATURE` migrations: one more is refused, a
/// known one is still replaced, and deleting one makes room.
pub async fn migrations_per_feature_are_capped(store: Arc<dyn Store>) {
    create(&store, "orders").await;
    for index in 0..MAX_MIGRATIONS_PER_FEATURE {
        let report = migration_report("orders", &format!("m{index:02}"), 1);
        store.put_migration_progress(&report).await.unwrap();
    }
    let extra = migration_report("orders", "one-too-many", 1);
    let refused = store.put_migration_progress(&extra).await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
    store
        .put_migration_progress(&migration_report("orders", "m07", 99))
        .await
        .unwrap();
    let reports = store.migration_progress("orders").await.unwrap();
    assert_eq!(reports.len(), MAX_MIGRATIONS_PER_FEATURE);
    assert_eq!(reports[7].migrated, 99);
    assert!(store
        .delete_migration_progress("orders", "m00")
        .await
        .unwrap());
    store.put_migration_progress(&extra).await.unwrap();
    assert_eq!(
        store.migration_progress("orders").await.unwrap().len(),
        MAX_MIGRATIONS_PER_FEATURE
    );
}

/// New migrations reported at once never take a feature past the cap.
pub async fn concurrent_new_migrations_respect_the_cap(store: Arc<dyn Store>) {
    const RACERS: usize = 10;
    create(&store, "orders").await;
    let room = 4;
    for index in 0..MAX_MIGRATIONS_PER_FEATURE - room {
        let report = migration_report("orders", &format!("m{index:02}"), 1);
        store.put_migration_progress(&report).await.unwrap();
    }
    let mut tasks = Vec::new();
    for racer in 0..RACERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let report = migration_report("orders", &format!("racer-{racer}"), 1);
            store.put_migration_progress(&report).await
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => accepted += 1,
            Err(StoreError::Invalid(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(accepted, room);
    assert_eq!(
        store.migration_progress("orders").await.unwrap().len(),
        MAX_MIGRATIONS_PER_FEATURE
    );
}

/// Deleting a report forgets it (and says whether there was one); deleting the feature
/// forgets all of its reports, so a feature created again under the name starts with none.
pub async fn deleting_forgets_migration_progress(store: Arc<dyn Store>) {
    create(&store, "orders").await;
    create(&store, "billing").await;
    for (feature, migration) in [
        ("orders", "orders-v2"),
        ("orders", "invoices-v2"),
        ("billing", "billing-v2"),
    ] {
        store
            .put_migration_progress(&migration_report(feature, migration, 1))
            .await
            .unwrap();
    }
    assert!(store
        .delete_migration_progress("orders", "invoices-v2")
        .await
        .unwrap());
    assert!(!store
        .delete_migration_progress("orders", "invoices-v2")
        .await
        .unwrap());
    assert!(!store
        .delete_migration_progress("nobody", "orders-v2")
        .await
        .unwrap());
    let left = store.migration_progress("orders").await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].migration, "orders-v2");
    store.delete(&name("orders"), None, &ana()).await.unwrap();
    create(&store, "orders").await;
    assert!(store.migration_progress("orders").await.unwrap().is_empty());
    assert_eq!(store.migration_progress("billing").await.unwrap().len(), 1);
}
