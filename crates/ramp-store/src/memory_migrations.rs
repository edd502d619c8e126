//! The memory store's migration progress reports: the latest report of each (feature,
//! migration), the reference the other backends follow.

use std::collections::BTreeMap;

use ramp_core::{MigrationProgress, MAX_MIGRATIONS_PER_FEATURE};

use crate::StoreError;

/// Feature name -> migration name -> its latest report. Outside the store version: reports are
/// not part of any snapshot.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemoryMigrations {
    reports: BTreeMap<String, BTreeMap<String, MigrationProgress>>,
}

impl MemoryMigrations {
    /// Keeps `progress` (validated first), unless it would be one migration too many. The
    /// caller has checked that the feature exists.
    pub(crate) fn put(&mut self, progress: &MigrationProgress) -> Result<(), StoreError> {
        progress.validate()?;
        let feature = progress.feature.as_str();
        let reports = self.reports.entry(feature.to_owned()).or_default();
        if !reports.contains_key(&progress.migration) && reports.len() >= MAX_MIGRATIONS_PER_FEATURE
        {
            return Err(StoreError::too_many_migrations(feature));
        }
        reports.insert(progress.migration.clone(), progress.clone());
        Ok(())
    }

    /// The feature's reports, by migration name (a `BTreeMap` keeps them sorted).
    pub(crate) fn of(&self, feature: &str) -> Vec<MigrationProgress> {
        self.reports
            .get(feature)
            .map(|reports| reports.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets one report; whether there was one.
    pub(crate) fn delete(&mut self, feature: &str, migration: &str) -> bool {
        let Some(reports) = self.reports.get_mut(feature) else {
            return false;
        };
        let deleted = reports.remove(migration).is_some();
        if reports.is_empty() {
            self.reports.remove(feature);
        }
        deleted
    }

    /// Forgets every report of a deleted feature.
    pub(crate) fn forget_feature(&mut self, feature: &str) {
        self.reports.remove(feature);
    }
}
