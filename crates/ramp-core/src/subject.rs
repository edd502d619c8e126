//! What a history event is about: a feature, a stored group (whose edits change who gets
//! every feature that lists it, so they are recorded and undone like feature changes), or a
//! settings document (the lifecycle settings: WIP limits), recorded but never undone.
//!
//! In JSON the subject is one key of the event, `"feature": NAME`, `"group": NAME` or
//! `"settings": "lifecycle"`, so a feature's events read exactly as they did before groups had
//! history.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{FeatureName, GroupName};

/// The feature or stored group an event changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A feature.
    Feature(FeatureName),
    /// A stored group.
    Group(GroupName),
    /// A settings document.
    Settings(SettingsName),
}

/// Which settings document an event changed. An enum, not a string: stores keep the name in
/// the subject's name column, and only these names decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingsName {
    /// The lifecycle settings (`LifecycleSettings`).
    Lifecycle,
}

impl SettingsName {
    /// `lifecycle`: the name stores keep.
    pub fn as_str(self) -> &'static str {
        match self {
            SettingsName::Lifecycle => "lifecycle",
        }
    }
}

/// Which kind of subject, without its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// Features.
    Feature,
    /// Stored groups.
    Group,
    /// Settings documents.
    Settings,
}

impl Subject {
    /// The feature's or group's name.
    pub fn name(&self) -> &str {
        match self {
            Subject::Feature(name) => name.as_str(),
            Subject::Group(name) => name.as_str(),
            Subject::Settings(name) => name.as_str(),
        }
    }

    /// Feature, group or settings.
    pub fn kind(&self) -> SubjectKind {
        match self {
            Subject::Feature(_) => SubjectKind::Feature,
            Subject::Group(_) => SubjectKind::Group,
            Subject::Settings(_) => SubjectKind::Settings,
        }
    }

    /// The feature, if the subject is one.
    pub fn feature(&self) -> Option<&FeatureName> {
        match self {
            Subject::Feature(name) => Some(name),
            Subject::Group(_) | Subject::Settings(_) => None,
        }
    }

    /// The stored group, if the subject is one.
    pub fn group(&self) -> Option<&GroupName> {
        match self {
            Subject::Group(name) => Some(name),
            Subject::Feature(_) | Subject::Settings(_) => None,
        }
    }
}

impl SubjectKind {
    /// `feature`, `group` or `settings`: the word stores keep and the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Feature => "feature",
            SubjectKind::Group => "group",
            SubjectKind::Settings => "settings",
        }
    }

    /// The kind a stored word names; `None` for any other word.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "feature" => Some(SubjectKind::Feature),
            "group" => Some(SubjectKind::Group),
            "settings" => Some(SubjectKind::Settings),
            _ => None,
        }
    }

    /// The subject of this kind with this name, checked by the name rules of its kind.
    pub fn subject(self, name: &str) -> Result<Subject, crate::CoreError> {
        Ok(match self {
            SubjectKind::Feature => Subject::Feature(FeatureName::new(name)?),
            SubjectKind::Group => Subject::Group(GroupName::new(name)?),
            SubjectKind::Settings => match name {
                "lifecycle" => Subject::Settings(SettingsName::Lifecycle),
                _ => {
                    return Err(crate::CoreError::InvalidChange {
                        reason: format!("unknown settings {name:?}: expected lifecycle"),
                    })
                }
            },
        })
    }
}

impl From<FeatureName> for Subject {
    fn from(name: FeatureName) -> Self {
        Subject::Feature(name)
    }
}

impl From<GroupName> for Subject {
    fn from(name: GroupName) -> Self {
        Subject::Group(name)
    }
}

impl fmt::Display for Subject {
    /// `feature chat`, `group beta`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.kind().as_str(), self.name())
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}
