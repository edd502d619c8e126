//! The driver over the in-memory ledger and a list of ids: what a pass moves when a user is
//! excluded or the feature switched off, what a dry run says, and which settings it refuses.

mod migration_common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use migration_common::{covered, Feature};
use ramp_client::migration::{IterRecords, MemoryLedger, Migration, StepError};
use ramp_client::ClientError;
use ramp_rollout::Rollout;

type Calls = Arc<Mutex<Vec<(String, &'static str)>>>;

fn ledger(calls: &Calls) -> MemoryLedger {
    let (forward, back) = (calls.clone(), calls.clone());
    MemoryLedger::new(
        move |id: String| {
            let calls = forward.clone();
            async move {
                calls.lock().unwrap().push((id, "forward"));
                Ok::<(), StepError>(())
            }
        },
        move |id: String| {
            let calls = back.clone();
            async move {
                calls.lock().unwrap().push((id, "back"));
                Ok::<(), StepError>(())
            }
        },
    )
}

fn as_numbers(ids: impl IntoIterator<Item = String>) -> BTreeSet<i64> {
    ids.into_iter().map(|id| id.parse().unwrap()).collect()
}

#[tokio::test]
async fn an_excluded_user_and_a_switched_off_feature_move_records_back() {
    let feature = Feature::new("layout-v2").await;
    let calls: Calls = Arc::default();
    let mut migration = Migration::new(
        feature.client.clone(),
        feature.name,
        IterRecords::new((1..=1_000).map(|id| id.to_string())),
        ledger(&calls),
    )
    .batch_size(64)
    .concurrency(8);

    feature.set_percentage(50.0).await;
    let half = covered(feature.name, 50.0, 1_000);
    let plan = migration.plan().await.unwrap();
    assert_eq!(
        (plan.forward, plan.back, plan.migrated),
        (half.len() as u64, 0, 0)
    );
    assert!(calls.lock().unwrap().is_empty(), "a dry run called a step");
    migration.run_pass().await.unwrap();
    assert_eq!(
        as_numbers(migration.ledger().migrated_ids("layout-v2")),
        half
    );
    // The pass's end was reported through the client, here into the store it follows.
    let reported = feature.store.migration_progress("layout-v2").await.unwrap();
    assert_eq!(reported.len(), 1, "{reported:?}");
    let last = &reported[0];
    assert_eq!(last.phase, ramp_core::MigrationPhase::Done);
    assert_eq!(
        (last.records, last.covered, last.migrated),
        (1_000, half.len() as u64, half.len() as u64)
    );
    assert_eq!(
        (last.pending_forward, last.pending_back, last.failures),
        (0, 0, 0)
    );
    assert_eq!(
        last.target_percentage.map(|target| target.value()),
        Some(50.0)
    );

    let excluded = *half.iter().next().unwrap();
    Rollout::new(feature.store.clone(), "test")
        .exclude_user(feature.name, &excluded.to_string())
        .await
        .unwrap();
    let version = feature.store.snapshot().await.unwrap().version;
    migration_common::wait_for("the exclusion", 10, || {
        let seen = feature.client.version() >= version;
        async move { seen }
    })
    .await;
    calls.lock().unwrap().clear();
    let report = migration.run_pass().await.unwrap();
    assert_eq!((report.forwarded, report.moved_back), (0, 1));
    assert_eq!(*calls.lock().unwrap(), vec![(excluded.to_string(), "back")]);

    Rollout::new(feature.store.clone(), "test")
        .deactivate(feature.name)
        .await
        .unwrap();
    let version = feature.store.snapshot().await.unwrap().version;
    migration_common::wait_for("the switch-off", 10, || {
        let seen = feature.client.version() >= version;
        async move { seen }
    })
    .await;
    let report = migration.run_pass().await.unwrap();
    assert_eq!(report.moved_back, half.len() as u64 - 1);
    assert!(migration.ledger().migrated_ids("layout-v2").is_empty());
}

#[tokio::test]
async fn settings_out_of_bounds_are_refused_before_anything_runs() {
    let feature = Feature::new("layout-v2").await;
    let calls: Calls = Arc::default();
    let records = || IterRecords::new(["1", "2"]);
    let cases = [
        Migration::new(
            feature.client.clone(),
            feature.name,
            records(),
            ledger(&calls),
        )
        .batch_size(0),
        Migration::new(
            feature.client.clone(),
            feature.name,
            records(),
            ledger(&calls),
        )
        .concurrency(0),
        Migration::new(
            feature.client.clone(),
            feature.name,
            records(),
            ledger(&calls),
        )
        .name(" "),
        Migration::new(
            feature.client.clone(),
            feature.name,
            records(),
            ledger(&calls),
        )
        .rate_limit(-1.0),
        Migration::new(
            feature.client.clone(),
            "bad|name",
            records(),
            ledger(&calls),
        ),
    ];
    for mut migration in cases {
        match migration.run_pass().await {
            Err(ClientError::MigrationSetting { reason, .. }) => assert!(!reason.is_empty()),
            other => panic!("{other:?}"),
        }
    }
    assert!(calls.lock().unwrap().is_empty());
}
