//! `RedisStore`: the `Store` trait over a Redis database shared with Ruby applications that use
//! the rollout gem. This file holds what the operations share; the operations themselves live
//! in `reads`, `writes` and `imports` (exposure counts in `exposure_records` and `exposures`,
//! daily user sketches in `user_sketches`), the change watcher in `watcher`.

use std::collections::HashMap;
use std::hash::BuildHasher;
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
use ramp_store::redact_url;
use ramp_store::{
    Applied, AppliedGroup, ChangeNotice, Credential, CredentialKind, HistoryQuery, ImportSummary,
    ImportedFeature, Store, StoreError, VersionedGroup,
};
use ramp_store::{AppliedSettings, VersionedSettings};
use tokio::sync::{broadcast, watch, RwLock};
use tokio::task::JoinHandle;

use crate::error::{gave_up, BACKEND};
use crate::keys::Keys;
use crate::pool::Pool;
use crate::scripts::Scripts;
use crate::{
    code_references, credentials, exposure_records, exposures, groups, history_copies,
    history_reads, imports, migration_progress, reads, settings, user_sketches, watcher, writes,
    RedisUrl,
};

/// A store in Redis, in the rollout gem's format, shareable with Ruby applications and with
/// other Ramp processes.
///
/// Opening never connects: operations connect when they need to, fail fast with
/// `StoreError::Unavailable` while Redis is unreachable, and work again by themselves when it
/// is back.
///
/// ```no_run
/// # async fn demo() -> Result<(), ramp_store::StoreError> {
/// use ramp_core::{Attribution, Change, FeatureName};
/// use ramp_store::Store;
///
/// let store = ramp_store_redis::RedisStore::open_url("redis://127.0.0.1:6379/0").await?;
/// let chat = FeatureName::new("chat")?;
/// store.apply(&chat, &Change::Activate, None, &Attribution::new("ana")).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RedisStore {
    shared: Arc<Shared>,
}

/// What a store's operations and its watcher share.
pub(crate) struct Shared {
    pub(crate) url: RedisUrl,
    pub(crate) pool: Pool,
    pub(crate) keys: Keys,
    pub(crate) scripts: Scripts,
    /// Identifies this store in the notices it publishes, so it ignores its own echoes.
    pub(crate) origin: String,
    /// A broadcast channel because any number of subscribers want every notice, and a slow
    /// one should miss notices rather than hold up writers.
    pub(crate) notices: broadcast::Sender<ChangeNotice>,
    /// The highest version a notice was sent for.
    announced: AtomicU64,
    /// Writers hold it shared from their commit to their notice; the watcher holds it alone
    /// while it compares the stored version with `announced`, so it never mistakes a local
    /// write in flight for one it missed (its notice cannot name the feature).
    pub(crate) gate: RwLock<()>,
    /// One lock per stripe of feature names: this process's writers of one feature take turns
    /// instead of failing each other's WATCH (16 writers of one feature would retry most
    /// attempts). Other processes are still kept apart by WATCH.
    writers: Vec<tokio::sync::Mutex<()>>,
    /// The watcher task, if one was started (see `watcher`).
    pub(crate) watcher: Mutex<Option<JoinHandle<()>>>,
    /// Never sent on: dropping it with the store wakes the watcher at once to stop.
    pub(crate) closing: watch::Sender<()>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Shared")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

const WRITER_STRIPES: usize = 64;

impl Shared {
    /// Tells this process's subscribers of a change (other processes hear it from Redis).
    pub(crate) fn announce(&self, version: u64, feature: Option<FeatureName>) {
        self.announced.fetch_max(version, Ordering::SeqCst);
        // No subscriber is not an error.
        let _ = self.notices.send(ChangeNotice { version, feature });
    }

    /// The highest version announced so far.
    pub(crate) fn announced(&self) -> u64 {
        self.announced.load(Ordering::SeqCst)
    }

    /// The lock this process's writers of `name` take turns on.
    pub(crate) fn writer_lock(&self, name: &str) -> &tokio::sync::Mutex<()> {
        let hash = foldhash::fast::FixedState::default().hash_one(name);
        &self.writers[(hash % WRITER_STRIPES as u64) as usize]
    }
}

/// Now, to the microsecond: times are stored in microseconds, and a write must return exactly
/// what a later read gives.
pub(crate) fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Runs CPU-heavy work (parsing or writing megabytes of user ids) on tokio's blocking pool
/// when it is big, so that it never stalls the async runtime; small work runs inline.
pub(crate) async fn off_runtime<T, F>(size: usize, work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    const INLINE_BYTES: usize = 256 * 1024;
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Ok(work());
    };
    if size < INLINE_BYTES {
        return Ok(work());
    }
    match runtime.spawn_blocking(work).await {
        Ok(value) => Ok(value),
        // A panic is a bug: let it reach the caller as if the work had run inline.
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(StoreError::Unavailable {
            backend: BACKEND,
            source: Box::new(error),
        }),
    }
}

/// A random id for this store's notices: not secret, only distinct between processes.
fn new_origin() -> String {
    let seed = (std::process::id(), Utc::now().timestamp_nanos_opt());
    format!(
        "{:016x}",
        std::collections::hash_map::RandomState::new().hash_one(seed)
    )
}

impl RedisStore {
    /// Opens the store a `redis://` URL names (see [`RedisUrl`]); a malformed URL is
    /// `StoreError::InvalidUrl`. Does not connect (see the type's documentation).
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        Self::open(RedisUrl::parse(url)?)
    }

    /// Opens the store a parsed URL names.
    pub fn open(url: RedisUrl) -> Result<Self, StoreError> {
        let client = redis::Client::open(url.driver_url()).map_err(|error| {
            // The driver's message may quote the URL it was given, password and all.
            StoreError::invalid_url(url.address(), redact_url(&error.to_string()))
        })?;
        let (notices, _) = broadcast::channel(1024);
        let (closing, _) = watch::channel(());
        let shared = Shared {
            keys: Keys::new(&url.prefix),
            url,
            pool: Pool::new(client),
            scripts: Scripts::new(),
            origin: new_origin(),
            notices,
            announced: AtomicU64::new(0),
            gate: RwLock::new(()),
            writers: (0..WRITER_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            watcher: Mutex::new(None),
            closing,
        };
        Ok(Self {
            shared: Arc::new(shared),
        })
    }

    /// The URL's settings (prefix, randomize, history limit).
    pub fn url(&self) -> &RedisUrl {
        &self.shared.url
    }

    /// Looks for changes made by programs that publish none (Ruby applications) now, rather
    /// than at the watcher's next poll; returns how many features changed. Subscribers hear of
    /// any change found.
    pub async fn check_for_outside_changes(&self) -> Result<u64, StoreError> {
        let (version, changed) = reads::check(&self.shared).await?;
        if changed > 0 {
            self.shared.announce(version, None);
        }
        Ok(changed)
    }
}

#[async_trait]
impl Store for RedisStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        reads::snapshot(&self.shared).await
    }

    async fn feature(&self, name: &FeatureName) -> Result<Option<Feature>, StoreError> {
        reads::feature(&self.shared, name).await
    }

    async fn apply(
        &self,
        name: &FeatureName,
        change: &Change,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<Applied, StoreError> {
        writes::apply(&self.shared, name, change, expected_version, attribution).await
    }

    async fn delete(
        &self,
        name: &FeatureName,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        // Checked before the lock: the event a deletion records must be storable anywhere.
        attribution.validate()?;
        writes::delete(&self.shared, name, expected_version, attribution).await
    }

    async fn groups(&self) -> Result<Vec<VersionedGroup>, StoreError> {
        groups::groups(&self.shared).await
    }

    async fn put_group(
        &self,
        group: &StoredGroup,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedGroup, StoreError> {
        // NUL and the like: refused the same way by every backend, before any I/O.
        group.validate()?;
        attribution.validate()?;
        let (version, event) = groups::write_group(
            &self.shared,
            &group.name,
            Some(group),
            expected_version,
            attribution,
        )
        .await?;
        Ok(AppliedGroup { version, event })
    }

    async fn delete_group(
        &self,
        name: &GroupName,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        attribution.validate()?;
        let (_, event) =
            groups::write_group(&self.shared, name, None, expected_version, attribution).await?;
        // A deletion always records what the group held.
        event.ok_or_else(|| crate::reply::unexpected("deleting a stored group"))
    }

    async fn import(
        &self,
        features: &[ImportedFeature],
        groups: &[StoredGroup],
        attribution: &Attribution,
    ) -> Result<ImportSummary, StoreError> {
        imports::import(&self.shared, features, groups, attribution).await
    }

    async fn import_history(&self, events: &[HistoryEvent]) -> Result<usize, StoreError> {
        history_copies::import_history(&self.shared, events).await
    }

    async fn history(&self, query: &HistoryQuery) -> Result<Vec<HistoryEvent>, StoreError> {
        history_reads::history(&self.shared, query).await
    }

    async fn history_event(&self, id: u64) -> Result<Option<HistoryEvent>, StoreError> {
        history_reads::history_event(&self.shared, id).await
    }

    async fn latest_events(
        &self,
        features: &[FeatureName],
    ) -> Result<HashMap<FeatureName, HistoryEvent>, StoreError> {
        history_reads::latest_events(&self.shared, features).await
    }

    async fn lifecycle_settings(&self) -> Result<VersionedSettings, StoreError> {
        settings::lifecycle_settings(&self.shared).await
    }

    async fn put_lifecycle_settings(
        &self,
        settings: &LifecycleSettings,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedSettings, StoreError> {
        settings::put_lifecycle_settings(&self.shared, settings, expected_version, attribution)
            .await
    }

    async fn credentials(&self) -> Result<Vec<Credential>, StoreError> {
        credentials::credentials(&self.shared).await
    }

    async fn create_credential(&self, credential: &Credential) -> Result<(), StoreError> {
        credentials::create(&self.shared, credential).await
    }

    async fn delete_credential(&self, kind: CredentialKind, name: &str) -> Result<(), StoreError> {
        credentials::delete(&self.shared, kind, name).await
    }

    /// Notices of this process's changes at once; of other Ramp processes' changes as Redis
    /// delivers their Pub/Sub messages; of Ruby applications' changes (which publish nothing)
    /// within `POLL_INTERVAL`, carrying no feature name. Watching starts with the first
    /// subscriber, needs a tokio runtime, and stops with the store or the last subscriber.
    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        let receiver = self.shared.notices.subscribe();
        watcher::start(&self.shared);
        receiver
    }

    fn announced_version(&self) -> Option<u64> {
        Some(self.shared.announced())
    }

    async fn record_exposures(&self, batches: &[ExposureBatch]) -> Result<Vec<bool>, StoreError> {
        exposure_records::record(&self.shared, batches).await
    }

    async fn exposure_buckets(
        &self,
        feature: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ExposureBucket>, StoreError> {
        exposures::buckets(&self.shared, feature, from, to).await
    }

    async fn exposure_activity(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bin: Resolution,
    ) -> Result<Vec<FeatureActivity>, StoreError> {
        exposures::activity(&self.shared, from, to, bin).await
    }

    async fn exposure_features(&self) -> Result<Vec<FeatureSeen>, StoreError> {
        exposures::features(&self.shared).await
    }

    async fn exposure_applications(
        &self,
        feature: &str,
    ) -> Result<Vec<ApplicationSeen>, StoreError> {
        exposures::applications(&self.shared, feature).await
    }

    async fn exposure_totals(&self) -> Result<ExposureTotals, StoreError> {
        exposures::totals(&self.shared).await
    }

    async fn compact_exposures(
        &self,
        retention: &ExposureRetention,
        now: DateTime<Utc>,
    ) -> Result<Compacted, StoreError> {
        exposures::compact(&self.shared, retention, now).await
    }

    async fn merge_user_sketches(&self, sketches: &[DailyUsers]) -> Result<(), StoreError> {
        user_sketches::merge(&self.shared, sketches).await
    }

    async fn user_sketches(
        &self,
        feature: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyUsers>, StoreError> {
        user_sketches::read(&self.shared, feature, from, to).await
    }

    async fn forget_user_sketches(&self, before: NaiveDate) -> Result<u64, StoreError> {
        user_sketches::forget(&self.shared, before).await
    }

    async fn put_code_references(&self, scan: &ramp_core::CodeScan) -> Result<(), StoreError> {
        code_references::put(&self.shared, scan).await
    }

    async fn code_references(
        &self,
        feature: &str,
    ) -> Result<Vec<ramp_core::FeatureReference>, StoreError> {
        code_references::read(&self.shared, feature).await
    }

    async fn code_reference_summary(&self) -> Result<ramp_store::CodeReferenceSummary, StoreError> {
        code_references::summary(&self.shared).await
    }

    async fn put_migration_progress(&self, progress: &MigrationProgress) -> Result<(), StoreError> {
        migration_progress::put(&self.shared, progress).await
    }

    async fn migration_progress(
        &self,
        feature: &str,
    ) -> Result<Vec<MigrationProgress>, StoreError> {
        migration_progress::read(&self.shared, feature).await
    }

    async fn delete_migration_progress(
        &self,
        feature: &str,
        migration: &str,
    ) -> Result<bool, StoreError> {
        migration_progress::delete(&self.shared, feature, migration).await
    }
}

/// An `Unavailable` for a write that kept losing to other writers.
pub(crate) fn contention(what: &str, attempts: usize) -> StoreError {
    gave_up(crate::error::GaveUp::Contention {
        what: what.to_owned(),
        attempts,
    })
}
