//! `Decision`: whether a feature is active for a context, and the reason why.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};

/// Why a feature is or is not active. The order of checks is: excluded, everyone (100 %), user,
/// group, percentage, then outside the percentage or off.
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
    /// The user has an id and the feature reaches a share of users (a percentage above 0 and
    /// below 100), but this user's bucket is not within it: "not in the 25 %", which says the
    /// feature is rolling out, unlike `Off`.
    OutsidePercentage,
    /// No rule let the user in, and the feature's percentage could not have either: it is 0 %
    /// (even when it lists users or groups the user is not in), or the check has no user id
    /// and the feature is below 100 %.
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
            Reason::OutsidePercentage => "outside_percentage",
            Reason::Off => "off",
            Reason::NotFound => "not_found",
        }
    }

    /// The reason without the group's name.
    pub fn kind(&self) -> ReasonKind {
        match self {
            Reason::Excluded => ReasonKind::Excluded,
            Reason::User => ReasonKind::User,
            Reason::Group(_) => ReasonKind::Group,
            Reason::Percentage => ReasonKind::Percentage,
            Reason::Everyone => ReasonKind::Everyone,
            Reason::OutsidePercentage => ReasonKind::OutsidePercentage,
            Reason::Off => ReasonKind::Off,
            Reason::NotFound => ReasonKind::NotFound,
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

/// A [`Reason`] without the group's name: small, `Copy`, and a dense index (0..8), so counts
/// per reason fit in an array. The reasons of a feature that exists come first (0..7);
/// `NotFound` is last. The index is not a storage format: stores keep counts by name (SQL
/// columns) or by their own fixed numbering (Redis), so inserting a kind here is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum ReasonKind {
    /// No rule let the user in.
    Off,
    /// The user is on the feature's deny list.
    Excluded,
    /// The percentage is 100.
    Everyone,
    /// The user is on the allow list.
    User,
    /// The user belongs to one of the feature's groups.
    Group,
    /// The user's bucket is within the percentage.
    Percentage,
    /// The user's bucket is outside a percentage between 0 and 100.
    OutsidePercentage,
    /// No feature has this name.
    NotFound,
}

impl ReasonKind {
    /// Every kind, in index order.
    pub const ALL: [ReasonKind; 8] = [
        ReasonKind::Off,
        ReasonKind::Excluded,
        ReasonKind::Everyone,
        ReasonKind::User,
        ReasonKind::Group,
        ReasonKind::Percentage,
        ReasonKind::OutsidePercentage,
        ReasonKind::NotFound,
    ];

    /// How many kinds a feature that exists can be decided by (every kind but `NotFound`).
    pub const OF_FOUND: usize = 7;

    /// The position of this kind in [`ReasonKind::ALL`].
    #[inline(always)]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Whether a check decided by this reason is active.
    #[inline(always)]
    pub const fn is_active(self) -> bool {
        !matches!(
            self,
            ReasonKind::Off
                | ReasonKind::Excluded
                | ReasonKind::OutsidePercentage
                | ReasonKind::NotFound
        )
    }

    /// The name as `Reason::as_str` prints it.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReasonKind::Off => "off",
            ReasonKind::Excluded => "excluded",
            ReasonKind::Everyone => "everyone",
            ReasonKind::User => "user",
            ReasonKind::Group => "group",
            ReasonKind::Percentage => "percentage",
            ReasonKind::OutsidePercentage => "outside_percentage",
            ReasonKind::NotFound => "not_found",
        }
    }

    /// The kind named `name` (as `as_str` prints it).
    pub fn parse(name: &str) -> Option<ReasonKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for ReasonKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// What [`CompiledSnapshot::check`](crate::CompiledSnapshot::check) answers: the reason kind
/// and the feature's position in the snapshot (what counting checks per feature needs), found
/// with the one name lookup the check makes anyway. Eight bytes, returned in a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// `u32::MAX` when no feature has the name.
    position: u32,
    reason: ReasonKind,
}

impl Check {
    /// The check of a name no feature has.
    pub const NOT_FOUND: Check = Check {
        position: u32::MAX,
        reason: ReasonKind::NotFound,
    };

    #[inline(always)]
    pub(crate) const fn found(position: u32, reason: ReasonKind) -> Check {
        Check { position, reason }
    }

    /// Whether the feature is active.
    #[inline(always)]
    pub const fn is_active(self) -> bool {
        self.reason.is_active()
    }

    /// Why, without the group's name.
    #[inline(always)]
    pub const fn reason(self) -> ReasonKind {
        self.reason
    }

    /// The feature's position in the snapshot (see
    /// [`CompiledSnapshot::feature_name`](crate::CompiledSnapshot::feature_name)), or `None`
    /// when no feature has the name.
    #[inline(always)]
    pub const fn position(self) -> Option<usize> {
        if self.position == u32::MAX {
            None
        } else {
            Some(self.position as usize)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_dense_and_named_like_reasons() {
        for (index, kind) in ReasonKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), index);
            assert_eq!(ReasonKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ReasonKind::NotFound.index(), ReasonKind::OF_FOUND);
        let group = Reason::Group("staff".into());
        assert_eq!(group.kind().as_str(), group.as_str());
        assert!(group.kind().is_active());
        assert!(!Reason::Excluded.kind().is_active());
        assert!(!Reason::OutsidePercentage.kind().is_active());
        assert_eq!(
            Reason::OutsidePercentage.kind().as_str(),
            Reason::OutsidePercentage.as_str()
        );
        assert!(!Check::NOT_FOUND.is_active());
        assert_eq!(Check::NOT_FOUND.position(), None);
    }
}
