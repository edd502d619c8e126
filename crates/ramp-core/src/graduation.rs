//! Whether a feature may move to `graduated` without an explicit reason: graduating says "the
//! old code path can go", which is only true when everyone gets the feature, so it needs 100 %
//! and no excluded users. Anything else needs a reason that history records (the server and
//! the command line refuse the move without one). Deciding here keeps every edge in step.
//!
//! This is stricter than the mismatch badge (`stage_mismatch.rs`), which also accepts the `all`
//! group as "everyone": a group needs a user id, so checks without one would still be off.

use serde::Serialize;

use crate::{Feature, Percentage};

/// Why a feature is not ready to graduate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum GraduationProblem {
    /// Below 100 %.
    BelowFull {
        /// The feature's percentage.
        #[serde(serialize_with = "percentage_value")]
        percentage: Percentage,
    },
    /// Some users are excluded.
    ExcludedUsers {
        /// How many.
        count: usize,
    },
}

fn percentage_value<S: serde::Serializer>(
    percentage: &Percentage,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(percentage.value())
}

impl GraduationProblem {
    /// What to tell a person.
    pub fn message(&self) -> String {
        match self {
            GraduationProblem::BelowFull { percentage } => {
                format!("it is at {percentage} %, not 100 %")
            }
            GraduationProblem::ExcludedUsers { count: 1 } => "1 user is excluded".to_owned(),
            GraduationProblem::ExcludedUsers { count } => format!("{count} users are excluded"),
        }
    }
}

impl Feature {
    /// Why the feature may not graduate without a reason; empty when it may.
    pub fn graduation_problems(&self) -> Vec<GraduationProblem> {
        let mut problems = Vec::new();
        if !self.percentage.is_everyone() {
            problems.push(GraduationProblem::BelowFull {
                percentage: self.percentage,
            });
        }
        if !self.excluded_users.is_empty() {
            problems.push(GraduationProblem::ExcludedUsers {
                count: self.excluded_users.len(),
            });
        }
        problems
    }
}

/// The sentence naming every problem: "chat cannot graduate without a reason: it is at 25 %,
/// not 100 %; 2 users are excluded".
pub fn graduation_refusal(feature: &str, problems: &[GraduationProblem]) -> String {
    let problems: Vec<String> = problems.iter().map(GraduationProblem::message).collect();
    format!(
        "{feature} cannot graduate without a reason: {}",
        problems.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::{FeatureName, UserId};

    fn feature(percentage: f64, excluded: &[&str]) -> Feature {
        let mut feature = Feature::new(FeatureName::new("chat").unwrap(), DateTime::UNIX_EPOCH);
        feature.percentage = Percentage::new(percentage).unwrap();
        feature.excluded_users = excluded
            .iter()
            .map(|id| UserId::new(*id).unwrap())
            .collect();
        feature
    }

    #[test]
    fn only_everyone_without_exclusions_is_ready() {
        assert_eq!(feature(100.0, &[]).graduation_problems(), []);
        let below = feature(25.0, &[]).graduation_problems();
        assert_eq!(below.len(), 1);
        assert_eq!(below[0].message(), "it is at 25 %, not 100 %");
        let excluded = feature(100.0, &["1", "2"]).graduation_problems();
        assert_eq!(excluded, [GraduationProblem::ExcludedUsers { count: 2 }]);
        let both = feature(99.9, &["1"]).graduation_problems();
        assert_eq!(
            graduation_refusal("chat", &both),
            "chat cannot graduate without a reason: it is at 99.9 %, not 100 %; 1 user is excluded"
        );
        assert_eq!(
            serde_json::to_value(both[0]).unwrap(),
            serde_json::json!({"problem": "below_full", "percentage": 99.9})
        );
    }
}
