//! `Feature`: one flag as stored, and `FeatureState`, the part of it a person edits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::text::check_data;
use crate::{CoreError, FeatureKind, FeatureName, GroupName, Percentage, Stage, UserId};

/// The data key kept for Ramp's own use: the Redis store keeps the fields the gem has no place
/// for under it. Only this exact key is refused (a gem user's `__rampage` is fine).
pub const RESERVED_DATA_KEY: &str = "__ramp";

/// What a person can set on a feature: everything but its name, times and version.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FeatureState {
    /// Share of users (by the gem's bucketing) that have the feature.
    #[serde(default)]
    pub percentage: Percentage,
    /// The allow list, in the order users were added, without duplicates.
    #[serde(default)]
    pub users: Vec<UserId>,
    /// The deny list: beats every other rule.
    #[serde(default)]
    pub excluded_users: Vec<UserId>,
    /// Groups whose members have the feature.
    #[serde(default)]
    pub groups: Vec<GroupName>,
    /// Free-form metadata: description, owner, links.
    #[serde(default)]
    pub data: Map<String, Value>,
    /// Where the feature is in its life.
    #[serde(default)]
    pub stage: Stage,
    /// What the feature is for, which says how long it should live.
    #[serde(default)]
    pub kind: FeatureKind,
}

impl FeatureState {
    /// Checks what types cannot: no duplicate users or groups, data a store can keep (see
    /// [`check_data`]).
    pub fn validate(&self) -> Result<(), CoreError> {
        check_unique("users", self.users.iter().map(UserId::as_str))?;
        check_unique(
            "excluded_users",
            self.excluded_users.iter().map(UserId::as_str),
        )?;
        check_unique("groups", self.groups.iter().map(GroupName::as_str))?;
        check_data(&self.data)
    }
}

fn check_unique<'a>(field: &str, items: impl Iterator<Item = &'a str>) -> Result<(), CoreError> {
    let mut seen = std::collections::HashSet::new();
    for item in items {
        if !seen.insert(item) {
            return Err(CoreError::InvalidChange {
                reason: format!("{field} lists {item:?} twice"),
            });
        }
    }
    Ok(())
}

/// One feature as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    /// The feature's name.
    pub name: FeatureName,
    /// Share of users (by the gem's bucketing) that have the feature.
    pub percentage: Percentage,
    /// The allow list, in the order users were added, without duplicates.
    pub users: Vec<UserId>,
    /// The deny list: beats every other rule.
    #[serde(default)]
    pub excluded_users: Vec<UserId>,
    /// Groups whose members have the feature.
    pub groups: Vec<GroupName>,
    /// Free-form metadata: description, owner, links.
    pub data: Map<String, Value>,
    /// Where the feature is in its life.
    #[serde(default)]
    pub stage: Stage,
    /// What the feature is for, which says how long it should live.
    #[serde(default)]
    pub kind: FeatureKind,
    /// When the feature was first saved.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Grows by one on every change; what `If-Match` compares.
    pub version: u64,
    /// Why the stored payload could not be read, when it could not (a store shared with other
    /// programs may hold one). A damaged feature is shown, evaluates off, and never breaks the
    /// rest of the snapshot; the next write replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damaged: Option<String>,
}

impl Feature {
    /// A new, inactive feature (percentage 0, nobody listed), as the gem reads a missing key.
    pub fn new(name: FeatureName, now: DateTime<Utc>) -> Self {
        Self::from_state(name, FeatureState::default(), now)
    }

    /// A feature built from a state, at version 0 (the store counts versions from its first save).
    pub fn from_state(name: FeatureName, state: FeatureState, now: DateTime<Utc>) -> Self {
        Self {
            name,
            percentage: state.percentage,
            users: state.users,
            excluded_users: state.excluded_users,
            groups: state.groups,
            data: state.data,
            stage: state.stage,
            kind: state.kind,
            created_at: now,
            updated_at: now,
            version: 0,
            damaged: None,
        }
    }

    /// A copy of the editable part.
    pub fn state(&self) -> FeatureState {
        FeatureState {
            percentage: self.percentage,
            users: self.users.clone(),
            excluded_users: self.excluded_users.clone(),
            groups: self.groups.clone(),
            data: self.data.clone(),
            stage: self.stage,
            kind: self.kind,
        }
    }

    /// Replaces the editable part, keeping name, times and version.
    pub fn set_state(&mut self, state: FeatureState) {
        self.percentage = state.percentage;
        self.users = state.users;
        self.excluded_users = state.excluded_users;
        self.groups = state.groups;
        self.data = state.data;
        self.stage = state.stage;
        self.kind = state.kind;
    }

    /// The description kept in the data, if any (`data.description`).
    pub fn description(&self) -> Option<&str> {
        self.data.get("description").and_then(Value::as_str)
    }
}
