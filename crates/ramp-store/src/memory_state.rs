//! The memory store's data, all behind the store's one lock, and how an import writes into a
//! working copy of it.

use std::collections::BTreeMap;

use ramp_core::{CodeScan, Feature, FeatureName, GroupName, HistoryEvent};

use crate::import::ImportTarget;
use crate::memory_exposures::MemoryExposures;
use crate::memory_migrations::MemoryMigrations;
use crate::prepare::PreparedWrite;
use crate::{Credential, StoreError, VersionedGroup, VersionedSettings};

/// Everything a memory store holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    pub(crate) version: u64,
    pub(crate) features: BTreeMap<FeatureName, Feature>,
    pub(crate) groups: BTreeMap<GroupName, VersionedGroup>,
    /// Oldest first; ids are positions plus one.
    pub(crate) history: Vec<HistoryEvent>,
    /// Keyed by `Credential::sort_key`, so iterating lists them in the trait's order. Outside
    /// `version`: credentials are not part of any snapshot.
    pub(crate) credentials: BTreeMap<(&'static str, String), Credential>,
    /// Outside `version` too: counts are not part of any snapshot.
    pub(crate) exposures: MemoryExposures,
    /// Each repository's latest scan, by name. Outside `version` too.
    pub(crate) code_scans: BTreeMap<String, CodeScan>,
    /// Outside `version`: settings are not part of any snapshot.
    pub(crate) lifecycle: VersionedSettings,
    /// Each feature's migration progress reports. Outside `version` too.
    pub(crate) migrations: MemoryMigrations,
}

impl State {
    pub(crate) fn record(&mut self, mut event: HistoryEvent) -> HistoryEvent {
        event.id = self.history.len() as u64 + 1;
        self.history.push(event.clone());
        event
    }
}

/// An import's working copy.
impl ImportTarget for State {
    fn stored(&mut self, name: &FeatureName) -> Result<Option<Feature>, StoreError> {
        Ok(self.features.get(name).cloned())
    }

    fn write(&mut self, write: PreparedWrite) -> Result<(), StoreError> {
        self.features
            .insert(write.feature.name.clone(), write.feature);
        self.record(write.event);
        Ok(())
    }
}
