//! Whether a feature's stage tells the truth about who gets it: a card in Development that a
//! share of all users already has, an "everyone" feature below 100 %, a graduated feature
//! that is not fully on. Shown as a badge everywhere a feature is listed, so the whole business
//! sees which features are really in which state.
//!
//! Listed users and groups in Development are not a mismatch: teams test on themselves there.

use serde::Serialize;

use crate::{Feature, FeatureState, GroupName, Percentage, Stage, UserId};

/// How a feature's state contradicts its stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageMismatch {
    /// In development, yet a percentage of all users (or the `all` group) has it.
    DevelopmentReachesUsers,
    /// At "everyone", yet below 100 %.
    EveryoneBelowFull,
    /// Graduated, yet not on for everyone (below 100 %, or some users excluded).
    GraduatedNotFullyOn,
}

impl StageMismatch {
    /// The word the API and `--json` use.
    pub fn as_str(self) -> &'static str {
        match self {
            StageMismatch::DevelopmentReachesUsers => "development_reaches_users",
            StageMismatch::EveryoneBelowFull => "everyone_below_full",
            StageMismatch::GraduatedNotFullyOn => "graduated_not_fully_on",
        }
    }

    /// What to tell a person.
    pub fn message(self) -> &'static str {
        match self {
            StageMismatch::DevelopmentReachesUsers => {
                "in Development, but a share of all users already has it"
            }
            StageMismatch::EveryoneBelowFull => "at Everyone, but below 100 %",
            StageMismatch::GraduatedNotFullyOn => {
                "Graduated, but not on for everyone (below 100 % or with excluded users)"
            }
        }
    }
}

fn mismatch(
    stage: Stage,
    percentage: Percentage,
    groups: &[GroupName],
    excluded_users: &[UserId],
) -> Option<StageMismatch> {
    let everyone = percentage.value() >= 100.0 || groups.iter().any(GroupName::is_all);
    match stage {
        Stage::Development if percentage.value() > 0.0 || groups.iter().any(GroupName::is_all) => {
            Some(StageMismatch::DevelopmentReachesUsers)
        }
        Stage::Everyone if !everyone => Some(StageMismatch::EveryoneBelowFull),
        Stage::Graduated if !everyone || !excluded_users.is_empty() => {
            Some(StageMismatch::GraduatedNotFullyOn)
        }
        _ => None,
    }
}

impl Feature {
    /// How the feature's state contradicts its stage, if it does.
    pub fn stage_mismatch(&self) -> Option<StageMismatch> {
        mismatch(
            self.stage,
            self.percentage,
            &self.groups,
            &self.excluded_users,
        )
    }
}

impl FeatureState {
    /// How the state contradicts its stage, if it does.
    pub fn stage_mismatch(&self) -> Option<StageMismatch> {
        mismatch(
            self.stage,
            self.percentage,
            &self.groups,
            &self.excluded_users,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(stage: Stage, percentage: f64, groups: &[&str], excluded: &[&str]) -> FeatureState {
        FeatureState {
            stage,
            percentage: Percentage::new(percentage).unwrap(),
            groups: groups
                .iter()
                .map(|name| GroupName::new(*name).unwrap())
                .collect(),
            excluded_users: excluded
                .iter()
                .map(|id| UserId::new(*id).unwrap())
                .collect(),
            users: vec![UserId::new("me").unwrap()],
            ..FeatureState::default()
        }
    }

    #[test]
    fn each_rule_and_its_exceptions() {
        use StageMismatch::*;
        let cases = [
            (state(Stage::Development, 0.0, &["staff"], &[]), None),
            (
                state(Stage::Development, 25.0, &[], &[]),
                Some(DevelopmentReachesUsers),
            ),
            (
                state(Stage::Development, 0.0, &["all"], &[]),
                Some(DevelopmentReachesUsers),
            ),
            (state(Stage::Beta, 10.0, &["beta"], &[]), None),
            (state(Stage::RollingOut, 30.0, &[], &["x"]), None),
            (
                state(Stage::Everyone, 99.9, &[], &[]),
                Some(EveryoneBelowFull),
            ),
            (state(Stage::Everyone, 100.0, &[], &["x"]), None),
            (state(Stage::Everyone, 0.0, &["all"], &[]), None),
            (state(Stage::Graduated, 100.0, &[], &[]), None),
            (
                state(Stage::Graduated, 100.0, &[], &["x"]),
                Some(GraduatedNotFullyOn),
            ),
            (
                state(Stage::Graduated, 50.0, &[], &[]),
                Some(GraduatedNotFullyOn),
            ),
        ];
        for (state, expected) in cases {
            assert_eq!(state.stage_mismatch(), expected, "{state:?}");
        }
        let words: Vec<&str> = [
            DevelopmentReachesUsers,
            EveryoneBelowFull,
            GraduatedNotFullyOn,
        ]
        .iter()
        .map(|mismatch| mismatch.as_str())
        .collect();
        assert_eq!(
            serde_json::to_value(DevelopmentReachesUsers).unwrap(),
            words[0]
        );
    }
}
