//! The watcher's life: it stops when its store is dropped, and a store used from a second
//! runtime after the first shut down still hears of other processes' writes.

use std::time::Duration;

use ramp_core::{Attribution, Change, FeatureName};
use ramp_store::{ChangeNotice, Store};
use ramp_store_sqlite::{SqliteStore, POLL_INTERVAL};
use tokio::sync::broadcast::error::RecvError;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Writes through `writer` and waits for `notices` to hear it: proof that the watcher behind
/// `notices` is running.
async fn heard(writer: &SqliteStore, notices: &mut tokio::sync::broadcast::Receiver<ChangeNotice>) {
    writer
        .apply(
            &FeatureName::new("probe").unwrap(),
            &Change::Activate,
            None,
            &Attribution::new("ana"),
        )
        .await
        .unwrap();
    let notice = tokio::time::timeout(POLL_INTERVAL * 50, notices.recv())
        .await
        .expect("the watcher hears another process's write")
        .unwrap();
    assert_eq!(notice.version, writer.snapshot().await.unwrap().version);
}

#[tokio::test]
async fn the_watcher_stops_with_its_store() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let store = SqliteStore::open(&path, false).unwrap();
    let other_process = SqliteStore::open(&path, false).unwrap();
    let mut notices = store.subscribe();
    heard(&other_process, &mut notices).await;
    drop(store);
    // The watcher holds no strong reference: the store, and with it the sender, is gone.
    let closed = tokio::time::timeout(Duration::from_secs(2), notices.recv())
        .await
        .unwrap();
    assert!(matches!(closed, Err(RecvError::Closed)), "{closed:?}");
}

#[test]
fn a_watcher_ended_by_its_runtime_is_restarted_by_the_next_subscriber() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ramp.db");
    let server = SqliteStore::open(&path, false).unwrap();
    let cli = SqliteStore::open(&path, false).unwrap();
    let first = runtime();
    first.block_on(async {
        let mut notices = server.subscribe();
        heard(&cli, &mut notices).await;
    });
    drop(first);

    runtime().block_on(async {
        let mut notices = server.subscribe();
        cli.apply(
            &FeatureName::new("chat").unwrap(),
            &Change::Activate,
            None,
            &Attribution::new("ana"),
        )
        .await
        .unwrap();
        let notice = tokio::time::timeout(Duration::from_secs(5), notices.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            notice,
            ChangeNotice {
                version: 2,
                feature: None
            }
        );
    });
}
