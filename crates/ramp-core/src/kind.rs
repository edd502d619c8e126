//! `FeatureKind`: what a flag is for, which says how long it is expected to live. A release
//! flag that is still in the code after 40 days is stale; a kill switch or a permission flag
//! is meant to stay. The lifetimes here are the defaults; admins override them per kind in
//! the lifecycle settings.

use serde::{Deserialize, Serialize};

/// A feature's kind. Like the stage, it is information for people (health, the Cleanup
/// screen); evaluation never reads it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// Hides unfinished work while it is released gradually; deleted once everyone has it.
    #[default]
    Release,
    /// Compares two versions; deleted once the comparison is decided.
    Experiment,
    /// A short-lived operational switch (a migration, a one-off load test).
    Operational,
    /// Turns a part of the system off when it misbehaves; meant to stay.
    KillSwitch,
    /// Grants something to some users (a plan, a role); meant to stay.
    Permission,
}

impl FeatureKind {
    /// Every kind, in the order menus list them.
    pub const ALL: [FeatureKind; 5] = [
        FeatureKind::Release,
        FeatureKind::Experiment,
        FeatureKind::Operational,
        FeatureKind::KillSwitch,
        FeatureKind::Permission,
    ];

    /// The kind's name as stored and typed (`kill_switch`).
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureKind::Release => "release",
            FeatureKind::Experiment => "experiment",
            FeatureKind::Operational => "operational",
            FeatureKind::KillSwitch => "kill_switch",
            FeatureKind::Permission => "permission",
        }
    }

    /// How many days a feature of this kind is expected to live before it is stale, when the
    /// admins have not said otherwise; `None` is permanent.
    pub fn default_expected_life_days(self) -> Option<u32> {
        match self {
            FeatureKind::Release | FeatureKind::Experiment => Some(40),
            FeatureKind::Operational => Some(7),
            FeatureKind::KillSwitch | FeatureKind::Permission => None,
        }
    }
}

crate::text_enum::text_enum!(FeatureKind, InvalidKind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text_and_json() {
        for kind in FeatureKind::ALL {
            assert_eq!(kind.as_str().parse::<FeatureKind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }

    #[test]
    fn unknown_kind_is_an_error_listing_the_choices() {
        let error = "flag".parse::<FeatureKind>().unwrap_err().to_string();
        assert!(error.contains("kill_switch"), "{error}");
    }

    #[test]
    fn release_flags_expire_and_kill_switches_do_not() {
        assert_eq!(FeatureKind::Release.default_expected_life_days(), Some(40));
        assert_eq!(
            FeatureKind::Operational.default_expected_life_days(),
            Some(7)
        );
        assert_eq!(FeatureKind::KillSwitch.default_expected_life_days(), None);
        assert_eq!(FeatureKind::Permission.default_expected_life_days(), None);
    }
}
