//! The names of the fields history records: a feature's `percentage`, `stage` and `data.KEY`
//! (single values), `users`, `excluded_users` and `groups` (lists); a stored group's
//! `description` and `rules` (single values) and `members` (a list); the lifecycle settings'
//! `wip_limits.STAGE`, `expected_life_days.KIND` and `health.WINDOW` (single values); a
//! feature's `kind` (a single value).
//!
//! Two enums rather than one string, so that a value change can never name a list and undo can
//! match every field without an "unknown field" branch. In JSON they are the same strings as
//! always (`"field": "percentage"`, `"field": "data.color"`), so stored history and the API do
//! not change; a name that is not one of them does not decode.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{FeatureKind, Stage};

/// The prefix of a data key's field name (`data.color`).
const DATA_PREFIX: &str = "data.";

/// The prefix of a stage's WIP limit's field name (`wip_limits.beta`).
const WIP_LIMIT_PREFIX: &str = "wip_limits.";

/// The prefix of a kind's expected life's field name (`expected_life_days.release`).
const EXPECTED_LIFE_PREFIX: &str = "expected_life_days.";

/// The prefix of a health window's field name (`health.unused_after_days`).
const HEALTH_PREFIX: &str = "health.";

/// A field holding one value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueField {
    /// The percentage of users (a number).
    Percentage,
    /// The stage (a stage name).
    Stage,
    /// One key of the free-form data (any JSON value; `null` means absent).
    Data(String),
    /// A stored group's description (a string).
    Description,
    /// A stored group's rules (an array of rules; `null` means none).
    Rules,
    /// The lifecycle settings' WIP limit of a stage (a number; `null` means no limit).
    WipLimit(Stage),
    /// The feature's kind (a kind name).
    Kind,
    /// The lifecycle settings' expected life of a kind, in days (a number; `null` means
    /// permanent; a kind absent from the settings has its default).
    ExpectedLife(FeatureKind),
    /// One of the lifecycle settings' health windows, in days (a number).
    HealthWindow(HealthWindow),
}

/// The lifecycle settings' windows that health is computed with, each a number of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HealthWindow {
    /// How long a feature on for everyone must stay unchanged to be ready to graduate.
    ReadyToGraduate,
    /// How long without checks makes a feature unused.
    Unused,
    /// How long a graduated feature must go unchecked (and unreferenced) to be safe to delete.
    SafeToDelete,
}

impl HealthWindow {
    /// Every window.
    pub const ALL: [HealthWindow; 3] = [
        HealthWindow::ReadyToGraduate,
        HealthWindow::Unused,
        HealthWindow::SafeToDelete,
    ];

    /// The window's name in the settings' JSON and in history (`unused_after_days`).
    pub fn as_str(self) -> &'static str {
        match self {
            HealthWindow::ReadyToGraduate => "ready_to_graduate_after_days",
            HealthWindow::Unused => "unused_after_days",
            HealthWindow::SafeToDelete => "safe_to_delete_after_days",
        }
    }
}

/// A field holding a list, recorded as the members added and removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListField {
    /// The users the feature is on for.
    Users,
    /// The users the feature is off for, whatever else says.
    ExcludedUsers,
    /// The groups the feature is on for.
    Groups,
    /// A stored group's members.
    Members,
}

impl ValueField {
    /// The name history records (`percentage`, `data.color`).
    pub fn name(&self) -> Cow<'_, str> {
        match self {
            ValueField::Percentage => Cow::Borrowed("percentage"),
            ValueField::Stage => Cow::Borrowed("stage"),
            ValueField::Data(key) => Cow::Owned(format!("{DATA_PREFIX}{key}")),
            ValueField::Description => Cow::Borrowed("description"),
            ValueField::Rules => Cow::Borrowed("rules"),
            ValueField::WipLimit(stage) => Cow::Owned(format!("{WIP_LIMIT_PREFIX}{stage}")),
            ValueField::Kind => Cow::Borrowed("kind"),
            ValueField::ExpectedLife(kind) => Cow::Owned(format!("{EXPECTED_LIFE_PREFIX}{kind}")),
            ValueField::HealthWindow(window) => {
                Cow::Owned(format!("{HEALTH_PREFIX}{}", window.as_str()))
            }
        }
    }

    /// The field a recorded name stands for; `None` for a name that is not a value field.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "percentage" => Some(ValueField::Percentage),
            "stage" => Some(ValueField::Stage),
            "description" => Some(ValueField::Description),
            "rules" => Some(ValueField::Rules),
            "kind" => Some(ValueField::Kind),
            _ if name.starts_with(EXPECTED_LIFE_PREFIX) => name[EXPECTED_LIFE_PREFIX.len()..]
                .parse()
                .ok()
                .map(ValueField::ExpectedLife),
            _ if name.starts_with(HEALTH_PREFIX) => HealthWindow::ALL
                .into_iter()
                .find(|window| window.as_str() == &name[HEALTH_PREFIX.len()..])
                .map(ValueField::HealthWindow),
            _ if name.starts_with(WIP_LIMIT_PREFIX) => name[WIP_LIMIT_PREFIX.len()..]
                .parse()
                .ok()
                .map(ValueField::WipLimit),
            _ => name
                .strip_prefix(DATA_PREFIX)
                .map(|key| ValueField::Data(key.to_owned())),
        }
    }
}

impl ListField {
    /// A feature's list fields, in the order history lists them.
    pub const OF_FEATURES: [ListField; 3] = [
        ListField::Users,
        ListField::ExcludedUsers,
        ListField::Groups,
    ];

    /// Every list field, features' and then groups'.
    pub const ALL: [ListField; 4] = [
        ListField::Users,
        ListField::ExcludedUsers,
        ListField::Groups,
        ListField::Members,
    ];

    /// The name history records (`users`, `excluded_users`, `groups`).
    pub fn name(self) -> &'static str {
        match self {
            ListField::Users => "users",
            ListField::ExcludedUsers => "excluded_users",
            ListField::Groups => "groups",
            ListField::Members => "members",
        }
    }

    /// The field a recorded name stands for; `None` for a name that is not a list field.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.name() == name)
    }
}

impl fmt::Display for ValueField {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.name())
    }
}

impl fmt::Display for ListField {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl Serialize for ValueField {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl Serialize for ListField {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ValueField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Cow::<str>::deserialize(deserializer)?;
        ValueField::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown value field {name:?}: expected percentage, stage, kind, data.KEY, description, rules, wip_limits.STAGE, expected_life_days.KIND or health.WINDOW"
            ))
        })
    }
}

impl<'de> Deserialize<'de> for ListField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Cow::<str>::deserialize(deserializer)?;
        ListField::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown list field {name:?}: expected users, excluded_users, groups or members"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_as_the_strings_history_always_held() {
        let values = [
            (ValueField::Percentage, "\"percentage\""),
            (ValueField::Stage, "\"stage\""),
            (ValueField::Data("color".into()), "\"data.color\""),
            (ValueField::Data("a.b".into()), "\"data.a.b\""),
            (ValueField::Description, "\"description\""),
            (ValueField::Rules, "\"rules\""),
            (
                ValueField::WipLimit(Stage::RollingOut),
                "\"wip_limits.rolling_out\"",
            ),
            (ValueField::Kind, "\"kind\""),
            (
                ValueField::ExpectedLife(FeatureKind::KillSwitch),
                "\"expected_life_days.kill_switch\"",
            ),
            (
                ValueField::HealthWindow(HealthWindow::Unused),
                "\"health.unused_after_days\"",
            ),
        ];
        for (field, json) in values {
            assert_eq!(serde_json::to_string(&field).unwrap(), json);
            assert_eq!(serde_json::from_str::<ValueField>(json).unwrap(), field);
        }
        for field in ListField::ALL {
            let json = serde_json::to_string(&field).unwrap();
            assert_eq!(json, format!("\"{}\"", field.name()));
            assert_eq!(serde_json::from_str::<ListField>(&json).unwrap(), field);
        }
    }

    #[test]
    fn a_name_of_the_wrong_kind_does_not_decode() {
        assert!(serde_json::from_str::<ValueField>("\"users\"").is_err());
        assert!(serde_json::from_str::<ValueField>("\"colour\"").is_err());
        assert!(serde_json::from_str::<ListField>("\"percentage\"").is_err());
        assert!(serde_json::from_str::<ValueField>("\"health.forever\"").is_err());
        assert!(serde_json::from_str::<ValueField>("\"expected_life_days.flag\"").is_err());
    }
}
