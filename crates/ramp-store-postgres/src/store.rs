//! `PostgresStore`: the `Store` trait over one schema of a PostgreSQL database.
//!
//! Operations borrow a connection from a pool and run one transaction (or one statement) each;
//! every one is bounded by `OPERATION_TIMEOUT`, so a server that stops answering makes them
//! fail with `Unavailable` rather than hang. Nothing here blocks a runtime thread: the driver is
//! asynchronous throughout.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use ramp_core::{
    Attribution, Change, Feature, FeatureName, GroupName, HistoryEvent, LifecycleSettings,
    MigrationProgress, Snapshot, StoredGroup,
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
use tokio::sync::{broadcast, watch};

use crate::connection::{
    connect_deadline, pool, pooled, session_config, store_version, OPERATION_TIMEOUT,
};
use crate::error::{unavailable, TimedOut, BACKEND};
use crate::shared::Shared;
use crate::{
    code_references, credentials, exposures, groups, history, import, listener, migrate,
    migration_progress as progress, reads, settings, writes, PostgresUrl,
};

/// A store in one schema of a PostgreSQL database, shareable by any number of processes.
///
/// Opening needs a tokio runtime (with time and I/O enabled), and so do its operations.
///
/// ```no_run
/// # async fn demo() -> Result<(), ramp_store::StoreError> {
/// use ramp_core::{Attribution, Change, FeatureName};
/// use ramp_store::Store;
/// use ramp_store_postgres::PostgresStore;
///
/// let store = PostgresStore::open_url("postgres://postgres@127.0.0.1:5432/test?schema=demo").await?;
/// let chat = FeatureName::new("chat")?;
/// store.apply(&chat, &Change::Activate, None, &Attribution::new("ana")).await?;
/// assert!(store.snapshot().await?.features.iter().any(|feature| feature.name == chat));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct PostgresStore {
    shared: Arc<Shared>,
}

impl PostgresStore {
    /// Opens the store `url` names, creating its schema and tables if needed and applying any
    /// newer migrations (see [`PostgresUrl`] for the form).
    ///
    /// A malformed URL is `InvalidUrl`; a server that cannot be reached within the connect
    /// timeout is `Unavailable`; a schema migrated by a newer Ramp, or holding another
    /// program's tables, is `Corrupt`.
    pub async fn open(url: &PostgresUrl) -> Result<Self, StoreError> {
        let config = session_config(url);
        migrate::migrate(&config, url.schema()).await?;
        let pool = pool(config.clone())?;
        let version = {
            let client = pooled(&pool).await?;
            store_version(&**client).await?
        };
        let (notices, _) = broadcast::channel(1024);
        let (closing, _) = watch::channel(());
        let (listening, _) = watch::channel(false);
        let shared = Shared {
            pool,
            schema: url.schema().to_owned(),
            randomize_percentage: url.randomize_percentage(),
            channel: format!("ramp_changes_{}", url.schema()),
            origin: random_origin(),
            notices,
            announced: AtomicU64::new(version),
            listen_config: config,
            listener: Mutex::new(None),
            closing,
            listening,
            ingest: tokio::sync::Mutex::new(()),
        };
        Ok(Self {
            shared: Arc::new(shared),
        })
    }

    /// Opens the store a `postgres://` URL names; see [`PostgresStore::open`].
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        Self::open(&PostgresUrl::parse(url)?).await
    }

    /// The schema that holds this store's tables.
    pub fn schema(&self) -> &str {
        &self.shared.schema
    }

    /// Subscribes like [`Store::subscribe`], then waits until the listener's `LISTEN` is in
    /// force, so that every write committed from now on, by any process, is heard. For servers
    /// that want to know that notifications work before they report ready, and for tests.
    pub async fn listen(&self) -> Result<broadcast::Receiver<ChangeNotice>, StoreError> {
        let receiver = self.subscribe();
        let mut listening = self.shared.listening.subscribe();
        // Time for one connection attempt, one retry and the LISTEN itself.
        let deadline = connect_deadline(&self.shared.listen_config) * 2;
        let up = tokio::time::timeout(deadline, listening.wait_for(|up| *up))
            .await
            .is_ok_and(|waited| waited.is_ok());
        if up {
            Ok(receiver)
        } else {
            Err(unavailable(
                "listening for other processes' changes",
                TimedOut(deadline),
            ))
        }
    }

    /// Runs an operation, failing it as `Unavailable` when the server does not answer in time.
    async fn timed<T>(
        &self,
        operation: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(OPERATION_TIMEOUT, operation)
            .await
            .unwrap_or_else(|_| {
                Err(unavailable(
                    "waiting for PostgreSQL",
                    TimedOut(OPERATION_TIMEOUT),
                ))
            })
    }
}

/// A random id for this store's notifications: unique enough among the processes sharing a
/// schema, with no dependency on a random-number crate.
fn random_origin() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    if let Ok(elapsed) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(elapsed.as_nanos());
    }
    format!("{:016x}", hasher.finish())
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        self.timed(async {
            let mut client = self.shared.client().await?;
            reads::snapshot(&mut client, self.shared.randomize_percentage).await
        })
        .await
    }

    async fn feature(&self, name: &FeatureName) -> Result<Option<Feature>, StoreError> {
        self.timed(async { reads::feature(&self.shared.client().await?, name).await })
            .await
    }

    async fn apply(
        &self,
        name: &FeatureName,
        change: &Change,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<Applied, StoreError> {
        self.timed(writes::apply(
            &self.shared,
            name,
            change,
            expected_version,
            attribution,
        ))
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
        self.timed(writes::delete(
            &self.shared,
            name,
            expected_version,
            attribution,
        ))
        .await
    }

    async fn groups(&self) -> Result<Vec<VersionedGroup>, StoreError> {
        self.timed(groups::groups(&self.shared)).await
    }

    async fn put_group(
        &self,
        group: &StoredGroup,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedGroup, StoreError> {
        // NUL and the like: refused the same way by every backend, before taking a connection
        // (the write checks the group and the attribution again, as every backend does).
        group.validate()?;
        self.timed(groups::put_group(
            &self.shared,
            group,
            expected_version,
            attribution,
        ))
        .await
    }

    async fn delete_group(
        &self,
        name: &GroupName,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        self.timed(groups::delete_group(
            &self.shared,
            name,
            expected_version,
            attribution,
        ))
        .await
    }

    async fn import(
        &self,
        features: &[ImportedFeature],
        groups: &[StoredGroup],
        attribution: &Attribution,
    ) -> Result<ImportSummary, StoreError> {
        self.timed(import::import(&self.shared, features, groups, attribution))
            .await
    }

    async fn import_history(&self, events: &[HistoryEvent]) -> Result<usize, StoreError> {
        self.timed(import::import_history(&self.shared, events))
            .await
    }

    async fn history(&self, query: &HistoryQuery) -> Result<Vec<HistoryEvent>, StoreError> {
        self.timed(async { history::read_events(&self.shared.client().await?, query).await })
            .await
    }

    async fn history_event(&self, id: u64) -> Result<Option<HistoryEvent>, StoreError> {
        self.timed(async { history::read_event(&self.shared.client().await?, id).await })
            .await
    }

    async fn latest_events(
        &self,
        features: &[FeatureName],
    ) -> Result<HashMap<FeatureName, HistoryEvent>, StoreError> {
        self.timed(async { history::latest_events(&self.shared.client().await?, features).await })
            .await
    }

    async fn lifecycle_settings(&self) -> Result<VersionedSettings, StoreError> {
        self.timed(settings::lifecycle_settings(&self.shared)).await
    }

    async fn put_lifecycle_settings(
        &self,
        settings: &LifecycleSettings,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedSettings, StoreError> {
        // Checked before taking a connection, as every write's input is.
        settings.validate()?;
        attribution.validate()?;
        self.timed(settings::put_lifecycle_settings(
            &self.shared,
            settings,
            expected_version,
            attribution,
        ))
        .await
    }

    async fn credentials(&self) -> Result<Vec<Credential>, StoreError> {
        self.timed(credentials::credentials(&self.shared)).await
    }

    async fn create_credential(&self, credential: &Credential) -> Result<(), StoreError> {
        self.timed(credentials::create(&self.shared, credential))
            .await
    }

    async fn delete_credential(&self, kind: CredentialKind, name: &str) -> Result<(), StoreError> {
        self.timed(credentials::delete(&self.shared, kind, name))
            .await
    }

    /// Notices of this store's commits at once, and of every other process's commits to the
    /// same schema as PostgreSQL delivers them (LISTEN/NOTIFY, a few milliseconds). The
    /// listener starts with the first subscriber, needs a tokio runtime, reconnects by itself
    /// after the server restarts (then sends a notice without a feature: reload, since
    /// notifications may have been missed), and stops with the store.
    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        let receiver = self.shared.notices.subscribe();
        listener::start(&self.shared);
        receiver
    }

    fn announced_version(&self) -> Option<u64> {
        Some(self.shared.announced.load(Ordering::SeqCst))
    }
    async fn record_exposures(&self, batches: &[ExposureBatch]) -> Result<Vec<bool>, StoreError> {
        self.timed(exposures::record(&self.shared, batches)).await
    }

    async fn exposure_buckets(
        &self,
        feature: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ExposureBucket>, StoreError> {
        self.timed(async {
            exposures::buckets(&self.shared.client().await?, feature, from, to).await
        })
        .await
    }

    async fn exposure_activity(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bin: Resolution,
    ) -> Result<Vec<FeatureActivity>, StoreError> {
        self.timed(async { exposures::activity(&self.shared.client().await?, from, to, bin).await })
            .await
    }

    async fn exposure_features(&self) -> Result<Vec<FeatureSeen>, StoreError> {
        self.timed(async { exposures::features(&self.shared.client().await?).await })
            .await
    }

    async fn exposure_applications(
        &self,
        feature: &str,
    ) -> Result<Vec<ApplicationSeen>, StoreError> {
        self.timed(async { exposures::applications(&self.shared.client().await?, feature).await })
            .await
    }

    async fn exposure_totals(&self) -> Result<ExposureTotals, StoreError> {
        self.timed(async { exposures::totals(&self.shared.client().await?).await })
            .await
    }

    async fn compact_exposures(
        &self,
        retention: &ExposureRetention,
        now: DateTime<Utc>,
    ) -> Result<Compacted, StoreError> {
        self.timed(exposures::compact(&self.shared, retention, now))
            .await
    }

    async fn merge_user_sketches(&self, sketches: &[DailyUsers]) -> Result<(), StoreError> {
        self.timed(exposures::merge_users(&self.shared, sketches))
            .await
    }

    async fn user_sketches(
        &self,
        feature: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyUsers>, StoreError> {
        self.timed(async {
            exposures::users(&self.shared.client().await?, feature, from, to).await
        })
        .await
    }

    async fn forget_user_sketches(&self, before: NaiveDate) -> Result<u64, StoreError> {
        self.timed(exposures::forget_users(&self.shared, before))
            .await
    }

    async fn put_code_references(&self, scan: &ramp_core::CodeScan) -> Result<(), StoreError> {
        self.timed(code_references::put(&self.shared, scan)).await
    }

    async fn code_references(
        &self,
        feature: &str,
    ) -> Result<Vec<ramp_core::FeatureReference>, StoreError> {
        self.timed(code_references::read(&self.shared, feature))
            .await
    }

    async fn code_reference_summary(&self) -> Result<ramp_store::CodeReferenceSummary, StoreError> {
        self.timed(code_references::summary(&self.shared)).await
    }

    async fn put_migration_progress(&self, progress: &MigrationProgress) -> Result<(), StoreError> {
        self.timed(progress::put(&self.shared, progress)).await
    }

    async fn migration_progress(
        &self,
        feature: &str,
    ) -> Result<Vec<MigrationProgress>, StoreError> {
        self.timed(progress::read(&self.shared, feature)).await
    }

    async fn delete_migration_progress(
        &self,
        feature: &str,
        migration: &str,
    ) -> Result<bool, StoreError> {
        self.timed(progress::delete(&self.shared, feature, migration))
            .await
    }
}
