//! `SqliteStore`: the `Store` trait over one SQLite file.
//!
//! Every operation runs its blocking SQLite work on tokio's blocking pool, never on the async
//! runtime's threads. One connection behind a mutex does all reads and writes of a store: that
//! serializes this process's writers, while `BEGIN IMMEDIATE` plus the busy timeout serializes
//! writers across processes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use ramp_core::{
    Attribution, Change, CodeScan, Feature, FeatureName, FeatureReference, GroupName, HistoryEvent,
    LifecycleSettings, MigrationProgress, Snapshot, StoredGroup,
};
use ramp_store::daily_users::DailyUsers;
use ramp_store::exposure::{
    ApplicationSeen, Compacted, ExposureBatch, ExposureBucket, ExposureRetention, ExposureTotals,
    FeatureActivity, FeatureSeen, Resolution,
};
use ramp_store::{
    Applied, AppliedGroup, ChangeNotice, Credential, CredentialKind, HistoryQuery, ImportSummary,
    ImportedFeature, Store, StoreError, VersionedGroup,
};
use ramp_store::{AppliedSettings, VersionedSettings};
use rusqlite::{Connection, Transaction};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::connection::{open_writer, store_version};
use crate::error::{sql, BACKEND};
use crate::{
    code_references, credentials, exposure_reads, exposures, migration_progress, operations,
    settings, user_sketches, watcher, SqliteUrl,
};

/// A store in one SQLite file, shareable by several processes (a server and the CLI).
///
/// Inside a tokio runtime its operations run on the blocking pool; under another executor
/// they run inline (they are short, but they do block).
///
/// ```
/// # async fn demo() -> Result<(), ramp_store::StoreError> {
/// use ramp_core::{Attribution, Change, FeatureName};
/// use ramp_store::Store;
///
/// let directory = tempfile::tempdir().expect("a temporary directory");
/// let store = ramp_store_sqlite::SqliteStore::open(directory.path().join("ramp.db"), false)?;
/// let chat = FeatureName::new("chat")?;
/// store.apply(&chat, &Change::Activate, None, &Attribution::new("ana")).await?;
/// assert_eq!(store.snapshot().await?.features.len(), 1);
/// # Ok(())
/// # }
/// # tokio::runtime::Runtime::new().expect("a runtime").block_on(demo()).expect("the demo");
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    shared: Arc<Shared>,
}

/// What a store's operations and its watcher share.
pub(crate) struct Shared {
    /// The file, made absolute at open so that the watcher finds it even if the working
    /// directory changes later.
    pub(crate) path: PathBuf,
    connection: Mutex<Connection>,
    randomize_percentage: bool,
    /// A broadcast channel because any number of subscribers (server streams) want every
    /// notice, and a slow one should miss notices rather than hold up writers.
    pub(crate) notices: broadcast::Sender<ChangeNotice>,
    /// The highest store version a notice was sent for. Writers hold this lock across their
    /// commit, and the watcher while it reads the version, so the watcher never announces a
    /// local write before the writer does (its notice names the feature; the watcher's cannot).
    pub(crate) announced: Mutex<u64>,
    /// The watcher task, if one was started. A handle rather than a flag: a task whose runtime
    /// shut down is finished, and the next subscriber (in another runtime) starts a new one.
    pub(crate) watcher: Mutex<Option<JoinHandle<()>>>,
    /// Never sent on: dropping it with the store wakes the watcher at once to stop.
    pub(crate) closing: watch::Sender<()>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Shared")
            .field("path", &self.path)
            .field("randomize_percentage", &self.randomize_percentage)
            .finish_non_exhaustive()
    }
}

/// Locks a mutex whatever a panicking holder left: every guarded value here is consistent
/// between statements (the connection is checked separately below).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// The connection, outside any transaction.
    pub(crate) fn connection(&self) -> MutexGuard<'_, Connection> {
        let connection = lock(&self.connection);
        if !connection.is_autocommit() {
            // Only a panic mid-transaction gets here: undo its half-done write.
            if let Err(error) = connection.execute_batch("ROLLBACK") {
                tracing::warn!(%error, "could not roll back a transaction left open by a panic");
            }
        }
        connection
    }

    /// Whether snapshots bucket by user id plus feature name.
    pub(crate) fn randomize_percentage(&self) -> bool {
        self.randomize_percentage
    }

    /// Commits a write that brought the store to `version`, then tells subscribers.
    pub(crate) fn commit(
        &self,
        transaction: Transaction<'_>,
        version: u64,
        feature: Option<FeatureName>,
    ) -> Result<(), StoreError> {
        let mut announced = lock(&self.announced);
        transaction.commit().map_err(sql("committing a write"))?;
        *announced = (*announced).max(version);
        // No subscriber is not an error.
        let _ = self.notices.send(ChangeNotice { version, feature });
        Ok(())
    }
}

impl SqliteStore {
    /// Opens the store in `path`, creating the file and its schema if needed, and applying any
    /// newer migrations. `randomize_percentage` is the gem's setting of that name.
    ///
    /// This is a plain blocking call (a few milliseconds), so that programs without an async
    /// runtime can open a store too. A file of another program, or one written by a newer Ramp,
    /// is refused with `StoreError::Corrupt`; a file that cannot be opened is `Unavailable`.
    pub fn open(path: impl AsRef<Path>, randomize_percentage: bool) -> Result<Self, StoreError> {
        let connection = open_writer(path.as_ref())?;
        let version = store_version(&connection)?;
        let path =
            std::fs::canonicalize(path.as_ref()).unwrap_or_else(|_| path.as_ref().to_path_buf());
        let (notices, _) = broadcast::channel(1024);
        let (closing, _) = watch::channel(());
        let shared = Shared {
            path,
            connection: Mutex::new(connection),
            randomize_percentage,
            notices,
            announced: Mutex::new(version),
            watcher: Mutex::new(None),
            closing,
        };
        Ok(Self {
            shared: Arc::new(shared),
        })
    }

    /// Opens the store a `sqlite://` URL names (see [`SqliteUrl`]); a malformed URL is
    /// `StoreError::InvalidUrl`. Blocking, like [`SqliteStore::open`].
    pub fn open_url(url: &str) -> Result<Self, StoreError> {
        let url = SqliteUrl::parse(url)?;
        Self::open(url.path, url.randomize_percentage)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Runs blocking SQLite work off the async runtime (inline when there is no runtime).
    async fn run<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Shared) -> Result<T, StoreError> + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        let task = move || operation(&shared);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return task();
        };
        match runtime.spawn_blocking(task).await {
            Ok(result) => result,
            // A panic is a bug: let it reach the caller as if the work had run inline.
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => Err(StoreError::Unavailable {
                backend: BACKEND,
                source: Box::new(error),
            }),
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        self.run(operations::snapshot).await
    }

    async fn feature(&self, name: &FeatureName) -> Result<Option<Feature>, StoreError> {
        let name = name.clone();
        self.run(move |shared| operations::feature(shared, &name))
            .await
    }

    async fn apply(
        &self,
        name: &FeatureName,
        change: &Change,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<Applied, StoreError> {
        let (name, change, attribution) = (name.clone(), change.clone(), attribution.clone());
        self.run(move |shared| {
            operations::apply(shared, &name, &change, expected_version, &attribution)
        })
        .await
    }

    async fn delete(
        &self,
        name: &FeatureName,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        // Checked before the lock: the event a deletion records must be storable anywhere.
        attribution.validate()?;
        let (name, attribution) = (name.clone(), attribution.clone());
        self.run(move |shared| operations::delete(shared, &name, expected_version, &attribution))
            .await
    }

    async fn groups(&self) -> Result<Vec<VersionedGroup>, StoreError> {
        self.run(operations::groups).await
    }

    async fn put_group(
        &self,
        group: &StoredGroup,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedGroup, StoreError> {
        // NUL and the like: refused the same way by every backend, before any transaction.
        group.validate()?;
        attribution.validate()?;
        let (group, attribution) = (group.clone(), attribution.clone());
        self.run(move |shared| {
            operations::put_group(shared, &group, expected_version, &attribution)
        })
        .await
    }

    async fn delete_group(
        &self,
        name: &GroupName,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        let (name, attribution) = (name.clone(), attribution.clone());
        self.run(move |shared| {
            operations::delete_group(shared, &name, expected_version, &attribution)
        })
        .await
    }

    async fn import(
        &self,
        features: &[ImportedFeature],
        groups: &[StoredGroup],
        attribution: &Attribution,
    ) -> Result<ImportSummary, StoreError> {
        let (features, groups, attribution) =
            (features.to_vec(), groups.to_vec(), attribution.clone());
        self.run(move |shared| operations::import(shared, &features, &groups, &attribution))
            .await
    }

    async fn import_history(&self, events: &[HistoryEvent]) -> Result<usize, StoreError> {
        let events = events.to_vec();
        self.run(move |shared| operations::import_history(shared, &events))
            .await
    }

    async fn history(&self, query: &HistoryQuery) -> Result<Vec<HistoryEvent>, StoreError> {
        let query = query.clone();
        self.run(move |shared| operations::history(shared, &query))
            .await
    }

    async fn history_event(&self, id: u64) -> Result<Option<HistoryEvent>, StoreError> {
        self.run(move |shared| operations::history_event(shared, id))
            .await
    }

    async fn latest_events(
        &self,
        features: &[FeatureName],
    ) -> Result<HashMap<FeatureName, HistoryEvent>, StoreError> {
        let features = features.to_vec();
        self.run(move |shared| crate::history::latest_events(&shared.connection(), &features))
            .await
    }

    async fn lifecycle_settings(&self) -> Result<VersionedSettings, StoreError> {
        self.run(settings::lifecycle_settings).await
    }

    async fn put_lifecycle_settings(
        &self,
        settings: &LifecycleSettings,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedSettings, StoreError> {
        let (settings, attribution) = (settings.clone(), attribution.clone());
        self.run(move |shared| {
            settings::put_lifecycle_settings(shared, &settings, expected_version, &attribution)
        })
        .await
    }

    async fn credentials(&self) -> Result<Vec<Credential>, StoreError> {
        self.run(credentials::credentials).await
    }

    async fn create_credential(&self, credential: &Credential) -> Result<(), StoreError> {
        let credential = credential.clone();
        self.run(move |shared| credentials::create(shared, &credential))
            .await
    }

    async fn delete_credential(&self, kind: CredentialKind, name: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.run(move |shared| credentials::delete(shared, kind, &name))
            .await
    }

    /// Notices of this process's commits at once, and of other processes' commits to the same
    /// file within about 200 ms (those carry no feature name). Watching other processes starts
    /// with the first subscriber, needs a tokio runtime, and stops with the store.
    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        let receiver = self.shared.notices.subscribe();
        watcher::start(&self.shared);
        receiver
    }

    fn announced_version(&self) -> Option<u64> {
        Some(*lock(&self.shared.announced))
    }

    async fn record_exposures(&self, batches: &[ExposureBatch]) -> Result<Vec<bool>, StoreError> {
        let batches = batches.to_vec();
        self.run(move |shared| exposures::record(shared, &batches))
            .await
    }

    async fn exposure_buckets(
        &self,
        feature: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ExposureBucket>, StoreError> {
        let feature = feature.to_owned();
        self.run(move |shared| exposure_reads::buckets(shared, &feature, from, to))
            .await
    }

    async fn exposure_activity(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bin: Resolution,
    ) -> Result<Vec<FeatureActivity>, StoreError> {
        self.run(move |shared| exposure_reads::activity(shared, from, to, bin))
            .await
    }

    async fn exposure_features(&self) -> Result<Vec<FeatureSeen>, StoreError> {
        self.run(exposure_reads::features).await
    }

    async fn exposure_applications(
        &self,
        feature: &str,
    ) -> Result<Vec<ApplicationSeen>, StoreError> {
        let feature = feature.to_owned();
        self.run(move |shared| exposure_reads::applications(shared, &feature))
            .await
    }

    async fn exposure_totals(&self) -> Result<ExposureTotals, StoreError> {
        self.run(exposure_reads::totals).await
    }

    async fn compact_exposures(
        &self,
        retention: &ExposureRetention,
        now: DateTime<Utc>,
    ) -> Result<Compacted, StoreError> {
        let retention = *retention;
        self.run(move |shared| exposures::compact(shared, &retention, now))
            .await
    }

    async fn merge_user_sketches(&self, sketches: &[DailyUsers]) -> Result<(), StoreError> {
        let sketches = sketches.to_vec();
        self.run(move |shared| user_sketches::merge(shared, &sketches))
            .await
    }

    async fn user_sketches(
        &self,
        feature: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyUsers>, StoreError> {
        let feature = feature.to_owned();
        self.run(move |shared| user_sketches::read(shared, &feature, from, to))
            .await
    }

    async fn forget_user_sketches(&self, before: NaiveDate) -> Result<u64, StoreError> {
        self.run(move |shared| user_sketches::forget(shared, before))
            .await
    }

    async fn put_code_references(&self, scan: &CodeScan) -> Result<(), StoreError> {
        let scan = scan.clone();
        self.run(move |shared| code_references::put(shared, &scan))
            .await
    }

    async fn code_references(&self, feature: &str) -> Result<Vec<FeatureReference>, StoreError> {
        let feature = feature.to_owned();
        self.run(move |shared| code_references::read(shared, &feature))
            .await
    }

    async fn code_reference_summary(&self) -> Result<ramp_store::CodeReferenceSummary, StoreError> {
        self.run(code_references::summary).await
    }

    async fn put_migration_progress(&self, progress: &MigrationProgress) -> Result<(), StoreError> {
        let progress = progress.clone();
        self.run(move |shared| migration_progress::put(shared, &progress))
            .await
    }

    async fn migration_progress(
        &self,
        feature: &str,
    ) -> Result<Vec<MigrationProgress>, StoreError> {
        let feature = feature.to_owned();
        self.run(move |shared| migration_progress::read(shared, &feature))
            .await
    }

    async fn delete_migration_progress(
        &self,
        feature: &str,
        migration: &str,
    ) -> Result<bool, StoreError> {
        let (feature, migration) = (feature.to_owned(), migration.to_owned());
        self.run(move |shared| migration_progress::delete(shared, &feature, &migration))
            .await
    }
}
