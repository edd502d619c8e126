//! `Stage`: where a feature is in its life, from first code to graduation ("beta != done").

use serde::{Deserialize, Serialize};

/// A feature's stage. It is information for people (the board, reports of graduated flags);
/// evaluation never reads it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Being built; usually on for its developers only.
    #[default]
    Development,
    /// Open to a beta group.
    Beta,
    /// Reaching a growing percentage of users.
    RollingOut,
    /// On for everyone; the old code path still exists.
    Everyone,
    /// On for everyone and the old code path is gone: the flag's checks can be deleted.
    Graduated,
}

impl Stage {
    /// Every stage, in life order.
    pub const ALL: [Stage; 5] = [
        Stage::Development,
        Stage::Beta,
        Stage::RollingOut,
        Stage::Everyone,
        Stage::Graduated,
    ];

    /// The stage's name as stored and typed (`rolling_out`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Development => "development",
            Stage::Beta => "beta",
            Stage::RollingOut => "rolling_out",
            Stage::Everyone => "everyone",
            Stage::Graduated => "graduated",
        }
    }
}

crate::text_enum::text_enum!(Stage, InvalidStage);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text_and_json() {
        for stage in Stage::ALL {
            assert_eq!(stage.as_str().parse::<Stage>().unwrap(), stage);
            let json = serde_json::to_string(&stage).unwrap();
            assert_eq!(json, format!("\"{}\"", stage.as_str()));
        }
    }

    #[test]
    fn unknown_stage_is_an_error_listing_the_choices() {
        let error = "done".parse::<Stage>().unwrap_err().to_string();
        assert!(error.contains("rolling_out"), "{error}");
    }
}
