//! The `Store` trait: the one interface every backend (memory, SQLite, Redis, PostgreSQL)
//! implements, and the small types its operations exchange.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use ramp_core::{
    Attribution, Change, CodeScan, Feature, FeatureName, FeatureReference, FeatureState, GroupName,
    HistoryEvent, LifecycleSettings, MigrationProgress, Snapshot, StoredGroup,
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::daily_users::DailyUsers;
use crate::exposure::{
    ApplicationSeen, Compacted, ExposureBatch, ExposureBucket, ExposureRetention, ExposureTotals,
    FeatureActivity, FeatureSeen, Resolution,
};
use crate::{AppliedSettings, Credential, CredentialKind, StoreError, VersionedSettings};

/// The result of applying a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The feature as stored after the change.
    pub feature: Feature,
    /// The history event recorded; `None` when the change changed nothing.
    pub event: Option<HistoryEvent>,
}

/// Which history to read. Events come newest first; every filter given must hold, and the
/// store applies them all in its own query, so a page holds `limit` matches whenever that
/// many exist.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// One feature's history (no group's events).
    #[serde(default)]
    pub feature: Option<FeatureName>,
    /// One stored group's history (no feature's events). With `feature` too, nothing matches;
    /// with neither, every feature's and group's events.
    #[serde(default)]
    pub group: Option<GroupName>,
    /// Only events by this actor (the exact name).
    #[serde(default)]
    pub actor: Option<String>,
    /// Only events made at or after this time.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Only events made before this time.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// Only events with a smaller id (the previous page's last id), for paging.
    #[serde(default)]
    pub before_id: Option<u64>,
    /// At most this many events (0 means the default of 50).
    #[serde(default)]
    pub limit: usize,
}

impl HistoryQuery {
    /// The page size used when `limit` is 0.
    pub const DEFAULT_LIMIT: usize = 50;

    /// The limit to apply.
    pub fn effective_limit(&self) -> usize {
        if self.limit == 0 {
            Self::DEFAULT_LIMIT
        } else {
            self.limit
        }
    }

    /// Whether `event` passes every filter (all but the limit): the definition each backend's
    /// own query must agree with.
    pub fn keeps(&self, event: &HistoryEvent) -> bool {
        self.before_id.is_none_or(|before| event.id < before)
            && self
                .feature
                .as_ref()
                .is_none_or(|feature| event.feature() == Some(feature))
            && self
                .group
                .as_ref()
                .is_none_or(|group| event.group() == Some(group))
            && self
                .actor
                .as_deref()
                .is_none_or(|actor| event.actor == actor)
            && self.since.is_none_or(|since| event.time >= since)
            && self.until.is_none_or(|until| event.time < until)
    }
}

/// Sent to subscribers after every committed change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeNotice {
    /// The store's version after the change.
    pub version: u64,
    /// The feature that changed; `None` for stored groups or changes seen from outside.
    pub feature: Option<FeatureName>,
}

/// A stored group and its version.
///
/// The version is the store's version after the write that last wrote the group: it grows with
/// every write of the group and is never reused, even after the group is deleted and created
/// again, so a version read before a deletion never matches the group created after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionedGroup {
    /// The group.
    #[serde(flatten)]
    pub group: StoredGroup,
    /// Its version (never 0: 0 means "no such group" in an expectation).
    pub version: u64,
}

/// What writing a stored group did.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedGroup {
    /// The group's new version.
    pub version: u64,
    /// The history event recorded; `None` when the group already held exactly this.
    pub event: Option<HistoryEvent>,
}

/// One feature of an import: its name and the state to give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedFeature {
    /// The feature's name.
    pub name: FeatureName,
    /// Its settings.
    #[serde(flatten)]
    pub state: FeatureState,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Features that did not exist before.
    pub created: usize,
    /// Features that existed and changed.
    pub updated: usize,
    /// Features that already had exactly the imported state.
    pub unchanged: usize,
    /// Stored groups written.
    pub groups: usize,
}

/// Where Ramp keeps features, stored groups, history and API credentials.
///
/// Every write is a read-modify-write inside the store (a transaction, a lock, a script), so
/// concurrent writers never lose each other's updates, and a failed write changes nothing.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The backend's name, for messages (`sqlite`, `memory`, ...).
    fn backend(&self) -> &'static str;

    /// Every feature and stored group at one version, features sorted by name.
    async fn snapshot(&self) -> Result<Snapshot, StoreError>;

    /// One feature, or `None`.
    async fn feature(&self, name: &FeatureName) -> Result<Option<Feature>, StoreError>;

    /// Applies a change atomically, creating the feature if it does not exist. With
    /// `expected_version`, fails with `Conflict` unless the feature is at that version (0: it
    /// must not exist yet).
    async fn apply(
        &self,
        name: &FeatureName,
        change: &Change,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<Applied, StoreError>;

    /// Deletes a feature (`NotFound` if it does not exist) and records what it held.
    async fn delete(
        &self,
        name: &FeatureName,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError>;

    /// Every stored group with its version, sorted by name.
    async fn groups(&self) -> Result<Vec<VersionedGroup>, StoreError>;

    /// Creates or replaces a stored group, records the edit in history (a group's event:
    /// what changed, by whom; none when nothing changed) and returns its new version. With
    /// `expected_version`, fails with `Conflict` (see [`StoreError::group_conflict`]) unless the
    /// group is at that version (0: it must not exist yet). The check, the write and the event
    /// are one atomic step in the store: of concurrent writers expecting one version, in any
    /// processes, exactly one succeeds, and every write's event holds the changes from the
    /// version it replaced.
    async fn put_group(
        &self,
        group: &StoredGroup,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedGroup, StoreError>;

    /// Deletes a stored group and records what it held. With `expected_version`, checked first
    /// and atomically as in [`Store::put_group`] (a missing group is at version 0, so a version
    /// read before someone else deleted it is a `Conflict`); then `NotFound` if it does not
    /// exist.
    async fn delete_group(
        &self,
        name: &GroupName,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError>;

    /// Writes many features and groups in one all-or-nothing step; each feature or group
    /// changed gets a history event.
    async fn import(
        &self,
        features: &[ImportedFeature],
        groups: &[StoredGroup],
        attribution: &Attribution,
    ) -> Result<ImportSummary, StoreError>;

    /// Appends events copied from another store (oldest first), keeping their actor, time,
    /// comment and changes; each gets an id of this store's (a store whose ids are times, like
    /// Redis's, keeps the event's time as its id). Groups' events are copied too. An event
    /// already stored (same subject, action, actor and time) is skipped, so copying twice adds
    /// nothing. All or nothing; returns how many were added.
    async fn import_history(&self, events: &[HistoryEvent]) -> Result<usize, StoreError>;

    /// History, newest first.
    async fn history(&self, query: &HistoryQuery) -> Result<Vec<HistoryEvent>, StoreError>;

    /// One history event by id.
    async fn history_event(&self, id: u64) -> Result<Option<HistoryEvent>, StoreError>;

    /// The newest event of each of `features` that has history (the others are absent; a
    /// group of the same name is not the feature), in
    /// one query rather than one per feature: a feature list's "last changed by" column. The
    /// default reads each feature's history in turn; stores override it.
    async fn latest_events(
        &self,
        features: &[FeatureName],
    ) -> Result<HashMap<FeatureName, HistoryEvent>, StoreError> {
        let mut latest = HashMap::with_capacity(features.len());
        for feature in features {
            let query = HistoryQuery {
                feature: Some(feature.clone()),
                limit: 1,
                ..HistoryQuery::default()
            };
            if let Some(event) = self.history(&query).await?.into_iter().next() {
                latest.insert(feature.clone(), event);
            }
        }
        Ok(latest)
    }

    /// The lifecycle settings (WIP limits) and their version; the defaults at version 0 when
    /// they were never written.
    async fn lifecycle_settings(&self) -> Result<VersionedSettings, StoreError>;

    /// Replaces the lifecycle settings and records the change in history (subject
    /// `settings: lifecycle`, one value per limit changed; no event and no new version when
    /// nothing changed). With `expected_version`, fails with `Conflict` (see
    /// [`StoreError::settings_conflict`]) unless they are at that version. Validated first
    /// (`Invalid` stores nothing); the check, the write and the event are one atomic step, so
    /// of concurrent writers expecting one version exactly one succeeds. Settings are in no
    /// snapshot: the store's version does not change and no [`ChangeNotice`] is sent.
    async fn put_lifecycle_settings(
        &self,
        settings: &LifecycleSettings,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedSettings, StoreError>;

    /// Every credential, sorted by kind then name (see [`Credential::sort_key`]).
    async fn credentials(&self) -> Result<Vec<Credential>, StoreError>;

    /// Adds a credential; `Conflict` (see [`StoreError::credential_exists`]) if one of the same
    /// kind and name exists, leaving that one unchanged. Validates first
    /// ([`Credential::validate`]): `Invalid` stores nothing. Atomic: of concurrent creates of
    /// one kind and name, in any processes, exactly one succeeds.
    ///
    /// Credentials are not features: creating or deleting one changes neither the store's
    /// version nor any snapshot and sends no [`ChangeNotice`] (servers re-read credentials
    /// periodically), and the Redis store keeps them where the Ruby gem never looks.
    async fn create_credential(&self, credential: &Credential) -> Result<(), StoreError>;

    /// Removes a credential; `NotFound` if there is none of that kind and name. Like
    /// [`Store::create_credential`], changes no version and sends no notice.
    async fn delete_credential(&self, kind: CredentialKind, name: &str) -> Result<(), StoreError>;

    /// A stream of notices, one per committed change (from this process, and from others
    /// where the backend can see them). A slow subscriber may miss notices and should reload.
    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice>;

    /// The highest store version this store has sent a [`ChangeNotice`] for (or is about to:
    /// a write's version counts from its commit), or `None` when the backend cannot say. When
    /// a write returns, its version is at most this, so a server whose live snapshot is at
    /// least this version knows that snapshot holds every write this process made.
    fn announced_version(&self) -> Option<u64> {
        None
    }

    /// Adds batches of exposure counts, in one atomic step. Returns, per batch in order,
    /// whether it was counted: `false` when its id was recorded before (by an earlier call or
    /// earlier in this one), and nothing of it is added again. Per counted batch it adds each
    /// feature's counts to its minute bucket (saturating at `exposure::MAX_COUNT`), sets the
    /// feature's and the (application, instance)'s last seen to `received` if later, and adds
    /// `unnamed` and `dropped` to the totals. Concurrent calls lose nothing.
    async fn record_exposures(&self, batches: &[ExposureBatch]) -> Result<Vec<bool>, StoreError>;

    /// The feature's buckets of every resolution starting in `from..to`, oldest first (for
    /// one start, finest first); buckets with no checks may be left out.
    async fn exposure_buckets(
        &self,
        feature: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ExposureBucket>, StoreError>;

    /// Every feature's checks in buckets starting in `from..to`, summed per `bin`: a bucket
    /// counts in the bin its start falls in (bins start at multiples of the bin's length since
    /// the Unix epoch, so days are UTC days). By feature name, then bin; bins with no checks
    /// may be left out.
    async fn exposure_activity(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bin: Resolution,
    ) -> Result<Vec<FeatureActivity>, StoreError>;

    /// Every feature name with a recorded last seen, by name.
    async fn exposure_features(&self) -> Result<Vec<FeatureSeen>, StoreError>;

    /// The instances that reported the feature, most recently seen first (ties by application,
    /// then instance).
    async fn exposure_applications(
        &self,
        feature: &str,
    ) -> Result<Vec<ApplicationSeen>, StoreError>;

    /// Checks reported without a name, and dropped, since the store began.
    async fn exposure_totals(&self) -> Result<ExposureTotals, StoreError>;

    /// Rolls minute buckets into hours and hours into days as `retention.cutoffs(now)` says,
    /// deletes day buckets and applications past retention and forgets old batch ids, in one
    /// atomic step: a count is never lost or counted twice, even with batches recorded
    /// concurrently (a late batch's minute bucket is rolled by the next compaction). A
    /// feature's last seen goes with its last application.
    async fn compact_exposures(
        &self,
        retention: &ExposureRetention,
        now: DateTime<Utc>,
    ) -> Result<Compacted, StoreError>;

    /// Merges each sketch into the stored one of its (feature, day, answer), register by
    /// register (the maximum), creating it where there is none. Merging is idempotent and
    /// commutative, so a retried call, or concurrent calls from several servers, lose nothing.
    async fn merge_user_sketches(&self, sketches: &[DailyUsers]) -> Result<(), StoreError>;

    /// The feature's sketches for days `from..=to`, by day, inactive before active.
    async fn user_sketches(
        &self,
        feature: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyUsers>, StoreError>;

    /// Deletes every feature's sketches of days before `before`; returns how many it deleted.
    async fn forget_user_sketches(&self, before: NaiveDate) -> Result<u64, StoreError>;

    /// Replaces one repository's code references with `scan` (validated first with
    /// [`CodeScan::validate`]: `Invalid` stores nothing), in one atomic step: a reader sees
    /// the previous scan or this one whole, never a mix. The latest upload wins. Like
    /// credentials, references are not features: no version changes and no notice is sent.
    async fn put_code_references(&self, scan: &CodeScan) -> Result<(), StoreError>;

    /// Every stored reference naming `feature` (the exact text found in code), from every
    /// repository's latest scan, sorted by repository, file and line.
    async fn code_references(&self, feature: &str) -> Result<Vec<FeatureReference>, StoreError>;

    /// How many references name each feature, over every repository's latest scan, and how
    /// many repositories have a scan: what health needs for every feature in one read (the
    /// Cleanup screen must not ask `code_references` once per feature).
    async fn code_reference_summary(&self) -> Result<CodeReferenceSummary, StoreError>;

    /// Keeps `progress` as the latest report of its (feature, migration), replacing the
    /// previous one whole (checked first with [`MigrationProgress::validate`]: `Invalid`
    /// stores nothing). `NotFound` when the feature does not exist; `Invalid` naming
    /// `migration` when the report would be the feature's migration number
    /// [`ramp_core::MAX_MIGRATIONS_PER_FEATURE`] + 1 (a report of a known one always goes in).
    /// Reports are not feature changes: no version changes and no notice is sent. Deleting the
    /// feature deletes its reports.
    async fn put_migration_progress(&self, progress: &MigrationProgress) -> Result<(), StoreError>;

    /// The latest report of each migration of `feature`, sorted by migration name (none for
    /// an unknown feature).
    async fn migration_progress(&self, feature: &str)
        -> Result<Vec<MigrationProgress>, StoreError>;

    /// Forgets a migration's report; whether there was one.
    async fn delete_migration_progress(
        &self,
        feature: &str,
        migration: &str,
    ) -> Result<bool, StoreError>;
}

/// Code references counted per feature.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CodeReferenceSummary {
    /// How many repositories have uploaded a scan (one with no references counts too); 0
    /// means nobody ever looked at the code, so "no references" proves nothing.
    pub repositories: usize,
    /// References per flag name as found in code; a name with none is absent.
    pub counts: HashMap<String, usize>,
}

impl CodeReferenceSummary {
    /// What the scans say about `feature`, as health reads it.
    pub fn evidence(&self, feature: &str) -> ramp_core::CodeEvidence {
        ramp_core::CodeEvidence {
            references: self.counts.get(feature).copied().unwrap_or(0),
            repositories: self.repositories,
        }
    }
}
