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
