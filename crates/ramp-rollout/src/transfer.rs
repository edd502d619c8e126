//! Export and import: every feature and stored group as one JSON document.
//!
//! Import validates the whole document before writing anything, then writes it in one
//! all-or-nothing store operation.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use ramp_core::StoredGroup;
use ramp_store::{ImportSummary, ImportedFeature};
use serde::{Deserialize, Serialize};

use crate::{Rollout, RolloutError};

/// The `format` field every export carries.
pub const EXPORT_FORMAT: &str = "ramp-export";

/// An export document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// The document's layout version (1).
    pub version: u32,
    /// When it was written.
    pub exported_at: DateTime<Utc>,
    /// Every feature.
    pub features: Vec<ImportedFeature>,
    /// Every stored group.
    #[serde(default)]
    pub groups: Vec<StoredGroup>,
}

impl Export {
    /// Parses and validates a document: JSON shape, every name and id, no feature or group
    /// twice, no duplicate users. The error names what is wrong.
    pub fn parse(text: &str) -> Result<Self, RolloutError> {
        let export: Export =
            serde_json::from_str(text).map_err(|error| RolloutError::InvalidImport {
                reason: format!("line {} column {}: {error}", error.line(), error.column()),
            })?;
        if export.format != EXPORT_FORMAT || export.version != 1 {
            return Err(RolloutError::InvalidImport {
                reason: format!(
                    "expected format {EXPORT_FORMAT:?} version 1, found {:?} version {}",
                    export.format, export.version
                ),
            });
        }
        let mut names = HashSet::new();
        for feature in &export.features {
            if !names.insert(feature.name.as_str()) {
                return Err(RolloutError::InvalidImport {
                    reason: format!("feature {:?} appears twice", feature.name.as_str()),
                });
            }
            feature
                .state
                .validate()
                .map_err(|error| RolloutError::InvalidImport {
                    reason: format!("feature {:?}: {error}", feature.name.as_str()),
                })?;
        }
        let mut groups = HashSet::new();
        for group in &export.groups {
            if !groups.insert(group.name.as_str()) {
                return Err(RolloutError::InvalidImport {
                    reason: format!("group {:?} appears twice", group.name.as_str()),
                });
            }
        }
        Ok(export)
    }
}

impl Rollout {
    /// Every feature and stored group, as a document `import` accepts.
    pub async fn export(&self, now: DateTime<Utc>) -> Result<Export, RolloutError> {
        let snapshot = self.store.snapshot().await?;
        Ok(Export {
            format: EXPORT_FORMAT.into(),
            version: 1,
            exported_at: now,
            features: snapshot
                .features
                .into_iter()
                .map(|feature| ImportedFeature {
                    state: feature.state(),
                    name: feature.name,
                })
                .collect(),
            groups: snapshot.groups,
        })
    }

    /// Writes every feature and group of a validated document, all or nothing.
    pub async fn import(&self, export: &Export) -> Result<ImportSummary, RolloutError> {
        Ok(self
            .store
            .import(&export.features, &export.groups, &self.attribution)
            .await?)
    }
}
