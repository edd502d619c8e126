//! `MemoryStore`: everything in one process's memory, behind one lock. For tests, demos and
//! applications that load their flags from an export file; nothing survives the process.

use std::collections::btree_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use ramp_core::{
    Attribution, Change, CodeScan, Feature, FeatureName, FeatureReference, GroupName, HistoryEvent,
    LifecycleSettings, MigrationProgress, Snapshot, StoredGroup,
};
use tokio::sync::broadcast;

use crate::daily_users::DailyUsers;
use crate::exposure::{
    ApplicationSeen, Compacted, ExposureBatch, ExposureBucket, ExposureRetention, ExposureTotals,
    FeatureActivity, FeatureSeen, Resolution,
};
use crate::import::{events_to_copy, group_import_events, import_features, same_event};
use crate::memory_state::State;
use crate::prepare::{
    check_group_version, deletion_event, group_deletion_event, prepare_change, prepare_group_write,
};
use crate::settings::prepare_settings_write;
use crate::{
    Applied, AppliedGroup, ChangeNotice, Credential, CredentialKind, HistoryQuery, ImportSummary,
    ImportedFeature, Store, StoreError, VersionedGroup,
};
use crate::{AppliedSettings, VersionedSettings};

/// A store in memory.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    notices: broadcast::Sender<ChangeNotice>,
    randomize_percentage: bool,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(false)
    }
}

impl MemoryStore {
    /// An empty store; `randomize_percentage` is the gem's setting of that name.
    pub fn new(randomize_percentage: bool) -> Self {
        let (notices, _) = broadcast::channel(1024);
        Self {
            state: Mutex::new(State::default()),
            notices,
            randomize_percentage,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave half a write: writes build the new value
        // first and assign it last. So a poisoned lock still holds consistent data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn notify(&self, version: u64, feature: Option<FeatureName>) {
        // No subscriber is not an error.
        let _ = self.notices.send(ChangeNotice { version, feature });
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let state = self.lock();
        Ok(Snapshot {
            version: state.version,
            randomize_percentage: self.randomize_percentage,
            features: state.features.values().cloned().collect(),
            groups: state
                .groups
                .values()
                .map(|stored| stored.group.clone())
                .collect(),
        })
    }

    async fn feature(&self, name: &FeatureName) -> Result<Option<Feature>, StoreError> {
        Ok(self.lock().features.get(name).cloned())
    }

    fn announced_version(&self) -> Option<u64> {
        Some(self.lock().version)
    }

    async fn apply(
        &self,
        name: &FeatureName,
        change: &Change,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<Applied, StoreError> {
        let mut state = self.lock();
        let existing = state.features.get(name).cloned();
        let Some(write) = prepare_change(
            name,
            existing,
            change,
            expected_version,
            attribution,
            Utc::now(),
        )?
        else {
            let feature = state
                .features
                .get(name)
                .cloned()
                .ok_or_else(|| StoreError::feature_not_found(name.as_str()))?;
            return Ok(Applied {
                feature,
                event: None,
            });
        };
        state.features.insert(name.clone(), write.feature.clone());
        state.version += 1;
        let event = state.record(write.event);
        let version = state.version;
        drop(state);
        self.notify(version, Some(name.clone()));
        Ok(Applied {
            feature: write.feature,
            event: Some(event),
        })
    }

    async fn delete(
        &self,
        name: &FeatureName,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        // Checked before the lock: the event a deletion records must be storable anywhere.
        attribution.validate()?;
        let mut state = self.lock();
        let feature = state
            .features
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::feature_not_found(name.as_str()))?;
        crate::prepare::check_version(name, Some(&feature), expected_version)?;
        state.features.remove(name);
        state.migrations.forget_feature(name.as_str());
        state.version += 1;
        let event = state.record(deletion_event(&feature, attribution, Utc::now()));
        let version = state.version;
        drop(state);
        self.notify(version, Some(name.clone()));
        Ok(event)
    }

    async fn groups(&self) -> Result<Vec<VersionedGroup>, StoreError> {
        Ok(self.lock().groups.values().cloned().collect())
    }

    async fn put_group(
        &self,
        group: &StoredGroup,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedGroup, StoreError> {
        let mut state = self.lock();
        let existing = state.groups.get(&group.name);
        let actual = existing.map_or(0, |stored| stored.version);
        check_group_version(&group.name, actual, expected_version)?;
        let event = prepare_group_write(
            existing.map(|stored| &stored.group),
            group,
            attribution,
            Utc::now(),
        )?;
        let event = event.map(|event| state.record(event));
        state.version += 1;
        let version = state.version;
        state.groups.insert(
            group.name.clone(),
            VersionedGroup {
                group: group.clone(),
                version,
            },
        );
        drop(state);
        self.notify(version, None);
        Ok(AppliedGroup { version, event })
    }

    async fn delete_group(
        &self,
        name: &GroupName,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        let mut state = self.lock();
        let existing = state.groups.get(name);
        let actual = existing.map_or(0, |stored| stored.version);
        check_group_version(name, actual, expected_version)?;
        let existing = existing.ok_or_else(|| StoreError::group_not_found(name.as_str()))?;
        let event = group_deletion_event(&existing.group, attribution, Utc::now())?;
        state.groups.remove(name);
        let event = state.record(event);
        state.version += 1;
        let version = state.version;
        drop(state);
        self.notify(version, None);
        Ok(event)
    }

    async fn import(
        &self,
        features: &[ImportedFeature],
        groups: &[StoredGroup],
        attribution: &Attribution,
    ) -> Result<ImportSummary, StoreError> {
        let mut state = self.lock();
        // Work on a copy and swap it in at the end: all or nothing.
        let mut next = state.clone();
        let now = Utc::now();
        let mut summary = import_features(features, attribution, now, &mut next)?;
        let group_events = group_import_events(groups, attribution, now, |name| {
            Ok(next.groups.get(name).map(|stored| stored.group.clone()))
        })?;
        for event in group_events {
            next.record(event);
        }
        summary.groups = groups.len();
        next.version += 1;
        let version = next.version;
        for group in groups {
            let stored = VersionedGroup {
                group: group.clone(),
                version,
            };
            next.groups.insert(group.name.clone(), stored);
        }
        *state = next;
        drop(state);
        self.notify(version, None);
        Ok(summary)
    }

    async fn import_history(&self, events: &[HistoryEvent]) -> Result<usize, StoreError> {
        let mut state = self.lock();
        let added = events_to_copy(events, |event| {
            Ok(state.history.iter().any(|stored| same_event(stored, event)))
        })?;
        let count = added.len();
        for event in added {
            state.record(event.clone());
        }
        Ok(count)
    }

    async fn history(&self, query: &HistoryQuery) -> Result<Vec<HistoryEvent>, StoreError> {
        let state = self.lock();
        Ok(state
            .history
            .iter()
            .rev()
            .filter(|event| query.keeps(event))
            .take(query.effective_limit())
            .cloned()
            .collect())
    }

    async fn latest_events(
        &self,
        features: &[FeatureName],
    ) -> Result<HashMap<FeatureName, HistoryEvent>, StoreError> {
        let wanted: HashSet<&FeatureName> = features.iter().collect();
        let state = self.lock();
        let mut latest = HashMap::with_capacity(wanted.len());
        for event in state.history.iter().rev() {
            if latest.len() == wanted.len() {
                break;
            }
            let Some(feature) = event.feature() else {
                continue;
            };
            if wanted.contains(feature) && !latest.contains_key(feature) {
                latest.insert(feature.clone(), event.clone());
            }
        }
        Ok(latest)
    }

    async fn history_event(&self, id: u64) -> Result<Option<HistoryEvent>, StoreError> {
        let state = self.lock();
        Ok(id
            .checked_sub(1)
            .and_then(|index| state.history.get(index as usize))
            .cloned())
    }

    async fn lifecycle_settings(&self) -> Result<VersionedSettings, StoreError> {
        Ok(self.lock().lifecycle.clone())
    }

    async fn put_lifecycle_settings(
        &self,
        settings: &LifecycleSettings,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedSettings, StoreError> {
        let mut state = self.lock();
        let prepared = prepare_settings_write(
            &state.lifecycle,
            settings,
            expected_version,
            attribution,
            Utc::now(),
        )?;
        let Some(prepared) = prepared else {
            return Ok(AppliedSettings {
                version: state.lifecycle.version,
                event: None,
            });
        };
        state.lifecycle = prepared.stored;
        let event = state.record(prepared.event);
        Ok(AppliedSettings {
            version: state.lifecycle.version,
            event: Some(event),
        })
    }

    async fn credentials(&self) -> Result<Vec<Credential>, StoreError> {
        Ok(self.lock().credentials.values().cloned().collect())
    }

    async fn create_credential(&self, credential: &Credential) -> Result<(), StoreError> {
        credential.validate()?;
        let key = (credential.kind.as_str(), credential.name.clone());
        match self.lock().credentials.entry(key) {
            Entry::Occupied(_) => Err(StoreError::credential_exists(
                credential.kind,
                &credential.name,
            )),
            Entry::Vacant(slot) => {
                slot.insert(credential.clone());
                Ok(())
            }
        }
    }

    async fn delete_credential(&self, kind: CredentialKind, name: &str) -> Result<(), StoreError> {
        self.lock()
            .credentials
            .remove(&(kind.as_str(), name.to_owned()))
            .map(drop)
            .ok_or_else(|| StoreError::credential_not_found(kind, name))
    }

    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        self.notices.subscribe()
    }

    async fn record_exposures(&self, batches: &[ExposureBatch]) -> Result<Vec<bool>, StoreError> {
        Ok(self.lock().exposures.record(batches))
    }

    async fn exposure_buckets(
        &self,
        feature: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ExposureBucket>, StoreError> {
        Ok(self.lock().exposures.buckets(feature, from, to))
    }

    async fn exposure_activity(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bin: Resolution,
    ) -> Result<Vec<FeatureActivity>, StoreError> {
        Ok(self.lock().exposures.activity(from, to, bin))
    }

    async fn exposure_features(&self) -> Result<Vec<FeatureSeen>, StoreError> {
        Ok(self.lock().exposures.features())
    }

    async fn exposure_applications(
        &self,
        feature: &str,
    ) -> Result<Vec<ApplicationSeen>, StoreError> {
        Ok(self.lock().exposures.applications(feature))
    }

    async fn exposure_totals(&self) -> Result<ExposureTotals, StoreError> {
        Ok(self.lock().exposures.totals())
    }

    async fn compact_exposures(
        &self,
        retention: &ExposureRetention,
        now: DateTime<Utc>,
    ) -> Result<Compacted, StoreError> {
        Ok(self.lock().exposures.compact(retention, now))
    }

    async fn merge_user_sketches(&self, sketches: &[DailyUsers]) -> Result<(), StoreError> {
        self.lock().exposures.merge_users(sketches);
        Ok(())
    }

    async fn user_sketches(
        &self,
        feature: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyUsers>, StoreError> {
        Ok(self.lock().exposures.users(feature, from, to))
    }

    async fn forget_user_sketches(&self, before: NaiveDate) -> Result<u64, StoreError> {
        Ok(self.lock().exposures.forget_users(before))
    }

    async fn put_code_references(&self, scan: &CodeScan) -> Result<(), StoreError> {
        scan.validate()?;
        self.lock()
            .code_scans
            .insert(scan.repository.clone(), scan.clone());
        Ok(())
    }

    async fn code_references(&self, feature: &str) -> Result<Vec<FeatureReference>, StoreError> {
        let mut found: Vec<FeatureReference> = self
            .lock()
            .code_scans
            .values()
            .flat_map(|scan| scan.references_to(feature))
            .collect();
        ramp_core::sort_feature_references(&mut found);
        Ok(found)
    }

    async fn code_reference_summary(&self) -> Result<crate::CodeReferenceSummary, StoreError> {
        let inner = self.lock();
        let mut summary = crate::CodeReferenceSummary {
            repositories: inner.code_scans.len(),
            ..Default::default()
        };
        for reference in inner.code_scans.values().flat_map(|scan| &scan.references) {
            *summary.counts.entry(reference.feature.clone()).or_default() += 1;
        }
        Ok(summary)
    }

    async fn put_migration_progress(&self, progress: &MigrationProgress) -> Result<(), StoreError> {
        let mut state = self.lock();
        if !state.features.contains_key(&progress.feature) {
            return Err(StoreError::feature_not_found(progress.feature.as_str()));
        }
        state.migrations.put(progress)
    }

    async fn migration_progress(
        &self,
        feature: &str,
    ) -> Result<Vec<MigrationProgress>, StoreError> {
        Ok(self.lock().migrations.of(feature))
    }

    async fn delete_migration_progress(
        &self,
        feature: &str,
        migration: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.lock().migrations.delete(feature, migration))
    }
}
