//! The lifecycle settings as a store keeps them: one JSON document with a version of its own,
//! and the part of writing it that is the same in every backend (check the expected version,
//! validate, describe the history event). Backends wrap it in their own atomic step.
//!
//! The version counts the document's writes from 0 ("never written": the defaults). It is not
//! the store's version: settings are in no snapshot, so writing them sends no change notice.

use chrono::{DateTime, Utc};
use ramp_core::{Action, Attribution, HistoryEvent, LifecycleSettings, SettingsName, Subject};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// The lifecycle settings and their version.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VersionedSettings {
    /// The settings.
    #[serde(flatten)]
    pub settings: LifecycleSettings,
    /// How many writes changed them (0: never written, the defaults).
    pub version: u64,
}

/// What writing the settings did.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedSettings {
    /// The settings' version now.
    pub version: u64,
    /// The history event recorded; `None` when the settings already held exactly this.
    pub event: Option<HistoryEvent>,
}

/// A settings write ready to persist.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedSettings {
    /// The document to store, with its new version.
    pub stored: VersionedSettings,
    /// The event to record, with id 0 for the backend to fill in.
    pub event: HistoryEvent,
}

/// Checks `expected_version` against `current` and the new settings against the model's rules,
/// then describes the write; `None` when nothing changes (nothing to write, no event).
pub fn prepare_settings_write(
    current: &VersionedSettings,
    settings: &LifecycleSettings,
    expected_version: Option<u64>,
    attribution: &Attribution,
    now: DateTime<Utc>,
) -> Result<Option<PreparedSettings>, StoreError> {
    settings.validate()?;
    attribution.validate()?;
    if let Some(expected) = expected_version {
        if expected != current.version {
            return Err(StoreError::settings_conflict(expected, current.version));
        }
    }
    let changes = settings.changes_from(&current.settings);
    if changes.is_empty() {
        return Ok(None);
    }
    Ok(Some(PreparedSettings {
        stored: VersionedSettings {
            settings: settings.clone(),
            version: current.version + 1,
        },
        event: HistoryEvent {
            id: 0,
            subject: Subject::Settings(SettingsName::Lifecycle),
            action: Action::Updated,
            actor: attribution.actor.clone(),
            time: now,
            comment: attribution.comment.clone(),
            changes,
        },
    }))
}

/// Reads a stored document: JSON of [`LifecycleSettings`] (unknown fields, from a later Ramp,
/// are ignored) and its version. Corrupt names the backend.
pub fn decode_settings(
    backend: &'static str,
    body: &str,
    version: u64,
) -> Result<VersionedSettings, StoreError> {
    let settings: LifecycleSettings =
        serde_json::from_str(body).map_err(|error| StoreError::Corrupt {
            backend,
            detail: format!("lifecycle settings: {error}"),
        })?;
    Ok(VersionedSettings { settings, version })
}

/// The JSON a store keeps.
pub fn encode_settings(settings: &LifecycleSettings) -> String {
    // A map of stage names to integers always encodes.
    serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_owned())
}
