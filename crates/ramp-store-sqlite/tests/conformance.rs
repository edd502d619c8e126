//! The shared conformance suite, run against `SqliteStore` on a fresh file per test.
//!
//! The factory returns a store that owns its temporary directory, so that the directory lives
//! exactly as long as the store and no test leaves files behind.

use std::sync::Arc;

use async_trait::async_trait;
use ramp_core::{
    Attribution, Change, Feature, FeatureName, GroupName, HistoryEvent, Snapshot, StoredGroup,
};
use ramp_store::{
    Applied, ChangeNotice, HistoryQuery, ImportSummary, ImportedFeature, Store, StoreError,
};
use ramp_store_sqlite::SqliteStore;
use tempfile::TempDir;
use tokio::sync::broadcast;

/// A `SqliteStore` together with the directory holding its file.
struct TemporaryStore {
    store: SqliteStore,
    // Dropped after `store` (fields drop in declaration order): the file closes first.
    _directory: TempDir,
}

fn temporary_store() -> Arc<dyn Store> {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(directory.path().join("ramp.db"), false).unwrap();
    Arc::new(TemporaryStore {
        store,
        _directory: directory,
    })
}

ramp_store::conformance_tests!(|| async { temporary_store() });

#[async_trait]
impl Store for TemporaryStore {
    fn backend(&self) -> &'static str {
        self.store.backend()
    }
    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        self.store.snapshot().await
    }
    async fn feature(&self, name: &FeatureName) -> Result<Option<Feature>, StoreError> {
        self.store.feature(name).await
    }
    async fn apply(
        &self,
        name: &FeatureName,
        change: &Change,
        expected: Option<u64>,
        attribution: &Attribution,
    ) -> Result<Applied, StoreError> {
        self.store.apply(name, change, expected, attribution).await
    }
    async fn delete(
        &self,
        name: &FeatureName,
        expected: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        self.store.delete(name, expected, attribution).await
    }
    async fn groups(&self) -> Result<Vec<StoredGroup>, StoreError> {
        self.store.groups().await
    }
    async fn put_group(&self, group: &StoredGroup) -> Result<(), StoreError> {
        self.store.put_group(group).await
    }
    async fn delete_group(&self, name: &GroupName) -> Result<(), StoreError> {
        self.store.delete_group(name).await
    }
    async fn import(
        &self,
        features: &[ImportedFeature],
        groups: &[StoredGroup],
        attribution: &Attribution,
    ) -> Result<ImportSummary, StoreError> {
        self.store.import(features, groups, attribution).await
    }
    async fn history(&self, query: &HistoryQuery) -> Result<Vec<HistoryEvent>, StoreError> {
        self.store.history(query).await
    }
    async fn history_event(&self, id: u64) -> Result<Option<HistoryEvent>, StoreError> {
        self.store.history_event(id).await
    }
    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        self.store.subscribe()
    }
}
