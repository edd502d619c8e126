//! `Decision`: whether a feature is active for a context, and the reason why.

use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// Why a feature is or is not active. The order of checks is: excluded, everyone (100 %), user,
/// group, percentage, off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The user is on the feature's deny list.
    Excluded,
    /// The user is on the allow list.
    User,
    /// The user belongs to this group.
    Group(Arc<str>),
    /// The user's bucket is within the percentage.
    Percentage,
    /// The percentage is 100: on for everyone, with or without a user.
    Everyone,
    /// No rule let the user in.
    Off,
    /// No feature has this name.
    NotFound,
}

impl Reason {
    /// The reason's name as the CLI and API print it (`group`, not the group's name).
    pub fn as_str(&self) -> &'static str {
        match self {
            Reason::Excluded => "excluded",
            Reason::User => "user",
            Reason::Group(_) => "group",
            Reason::Percentage => "percentage",
            Reason::Everyone => "everyone",
            Reason::Off => "off",
            Reason::NotFound => "not_found",
        }
    }

    /// The group that let the user in, for `Reason::Group`.
    pub fn group(&self) -> Option<&str> {
        match self {
            Reason::Group(name) => Some(name),
            _ => None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Group(name) => write!(formatter, "group {name}"),
            other => formatter.write_str(other.as_str()),
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The answer to "is this feature active for this context?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether the feature is on.
    pub active: bool,
    /// Why.
    pub reason: Reason,
}

impl Decision {
    pub(crate) const fn on(reason: Reason) -> Self {
        Self {
            active: true,
            reason,
        }
    }

    pub(crate) const fn off(reason: Reason) -> Self {
        Self {
            active: false,
            reason,
        }
    }
}
