//! `Client::report_migration` against a real server (a reader's token, the server's clock on
//! the stored report, the server's words when it refuses) and in direct mode (the report goes
//! into the store the client follows).

mod common;

use std::sync::Arc;

use common::{quick_policy, TestServer};
use ramp_client::{Client, ClientError};
use ramp_core::{FeatureName, MigrationPhase, MigrationProgress, Percentage};
use ramp_store::Store;

fn report(feature: &str, migration: &str, migrated: u64) -> MigrationProgress {
    MigrationProgress {
        feature: FeatureName::new(feature).unwrap(),
        migration: migration.to_owned(),
        instance: "worker-1".to_owned(),
        phase: MigrationPhase::Running,
        records: 10_000,
        covered: 1_250,
        migrated,
        pending_forward: 1_250 - migrated,
        pending_back: 0,
        failures: 0,
        target_percentage: Some(Percentage::new(12.5).unwrap()),
        last_error: None,
        reported_at: chrono::DateTime::UNIX_EPOCH,
    }
}

#[tokio::test]
async fn a_server_client_reports_with_a_readers_token() {
    let server = TestServer::memory().await;
    server.set_percentage("orders", 12.5).await;
    let token = server.reader_token("migrator").await;
    let client = Client::builder(&server.base, token)
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    // A name that must be percent-encoded in the path.
    client
        .report_migration(&report("orders", "orders v2/eu", 823))
        .await
        .unwrap();
    client
        .report_migration(&report("orders", "orders v2/eu", 1_000))
        .await
        .unwrap();
    let stored = server.store.migration_progress("orders").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].migration, "orders v2/eu");
    assert_eq!(stored[0].migrated, 1_000);
    // The server's clock, not the epoch the client sent.
    assert!(stored[0].reported_at > chrono::DateTime::UNIX_EPOCH);

    let unknown = client
        .report_migration(&report("ghost", "ghost-v2", 1))
        .await;
    match unknown {
        Err(ClientError::Refused {
            status, message, ..
        }) => {
            assert_eq!(status, 404);
            assert!(message.contains("ghost"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let mut broken = report("orders", "orders v2/eu", 1);
    broken.covered = broken.records + 1;
    let refused = client.report_migration(&broken).await;
    assert!(
        matches!(refused, Err(ClientError::Invalid(_))),
        "{refused:?}"
    );
    assert_eq!(
        server.store.migration_progress("orders").await.unwrap()[0].migrated,
        1_000
    );
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_not_a_hang() {
    let address = common::closed_address();
    let client = Client::builder(format!("http://{address}"), "token")
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    let failed = client
        .report_migration(&report("orders", "orders-v2", 1))
        .await;
    assert!(
        matches!(failed, Err(ClientError::Http { .. })),
        "{failed:?}"
    );
    client.close().await;
}

#[tokio::test]
async fn a_direct_client_writes_into_its_store() {
    let store: Arc<dyn Store> = ramp_rollout::open_store("memory://").await.unwrap();
    store
        .apply(
            &FeatureName::new("orders").unwrap(),
            &ramp_core::Change::Activate,
            None,
            &ramp_core::Attribution::new("ana"),
        )
        .await
        .unwrap();
    let client = Client::with_store(store.clone()).connect().await.unwrap();
    client
        .report_migration(&report("orders", "orders-v2", 10))
        .await
        .unwrap();
    let stored = store.migration_progress("orders").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].migrated, 10);
    assert!(stored[0].reported_at > chrono::DateTime::UNIX_EPOCH);
    client.close().await;
}

/// A pass of the migration driver reports through a server client by itself: the stored report
/// is the pass's end, with the counts the pass returned.
#[tokio::test]
async fn a_migration_pass_reports_its_end_to_the_server() {
    use ramp_client::migration::{IterRecords, MemoryLedger, Migration, StepError};

    let server = TestServer::memory().await;
    server.set_percentage("orders", 50.0).await;
    let token = server.reader_token("migrator").await;
    let client = Client::builder(&server.base, token)
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    assert!(client.contains("orders"), "the client has the feature");
    let steps = || |_id: String| async { Ok::<(), StepError>(()) };
    let mut migration = Migration::new(
        client.clone(),
        "orders",
        IterRecords::new((1..=500).map(|id| id.to_string())),
        MemoryLedger::new(steps(), steps()),
    )
    .name("orders-v2")
    .instance("worker-7")
    .batch_size(100);
    let report = migration.run_pass().await.unwrap();
    assert!(report.migrated > 0 && report.migrated < 500, "{report:?}");

    let stored = server.store.migration_progress("orders").await.unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let last = &stored[0];
    assert_eq!(
        (last.migration.as_str(), last.instance.as_str(), last.phase),
        ("orders-v2", "worker-7", MigrationPhase::Done)
    );
    assert_eq!(
        (
            last.records,
            last.covered,
            last.migrated,
            last.pending_forward
        ),
        (500, report.covered, report.migrated, 0)
    );

    // Switched off, a pass reports nothing.
    server
        .store
        .delete_migration_progress("orders", "orders-v2")
        .await
        .unwrap();
    let mut silent = Migration::new(
        client.clone(),
        "orders",
        IterRecords::new((1..=10).map(|id| id.to_string())),
        MemoryLedger::new(steps(), steps()),
    )
    .name("orders-v2")
    .report_progress(false);
    silent.run_pass().await.unwrap();
    assert!(server
        .store
        .migration_progress("orders")
        .await
        .unwrap()
        .is_empty());
    client.close().await;
}
