//! `LifecycleSettings`: the admins' settings for features' lives, kept by every store as one
//! document with a version, and the rule they drive: a stage's WIP limit (how many features
//! may sit in it at once), which refuses a move into a full stage unless an admin overrides it
//! with a reason.
//!
//! One serde struct whose fields all default, so later settings (per-kind expected lifetimes)
//! are one more field: documents stored before them still decode. Pure: no I/O, no clock.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{CoreError, FieldChange, Stage, ValueField};

/// The largest WIP limit accepted: far above any real board, small enough to catch a typo
/// (`1000000`) and to fit every store's integer.
pub const MAX_WIP_LIMIT: u32 = 10_000;

/// The admins' lifecycle settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LifecycleSettings {
    /// Per stage, how many features may be in it at once; a stage absent has no limit. A
    /// map rather than five fields so the stored JSON and the API name stages the same way.
    #[serde(default)]
    pub wip_limits: BTreeMap<Stage, u32>,
}

/// A move refused because the stage is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WipLimitReached {
    /// The stage moved into.
    pub stage: Stage,
    /// How many features are in it now.
    pub count: usize,
    /// Its limit.
    pub limit: u32,
}

impl WipLimitReached {
    /// What to tell a person.
    pub fn message(&self) -> String {
        format!(
            "the {} stage is full: {} features are in it and its WIP limit is {}; an admin may move it anyway with an override reason",
            self.stage, self.count, self.limit
        )
    }
}

impl LifecycleSettings {
    /// Checks what types cannot: limits from 0 to [`MAX_WIP_LIMIT`].
    pub fn validate(&self) -> Result<(), CoreError> {
        for (stage, limit) in &self.wip_limits {
            if *limit > MAX_WIP_LIMIT {
                return Err(CoreError::InvalidChange {
                    reason: format!(
                        "wip_limits.{stage} is {limit}: a WIP limit must be from 0 to {MAX_WIP_LIMIT}"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The stage's limit, if it has one.
    pub fn wip_limit(&self, stage: Stage) -> Option<u32> {
        self.wip_limits.get(&stage).copied()
    }

    /// Whether moving one more feature into `stage`, which holds `count` features now, breaks
    /// its limit: refused when the column is already full (`count >= limit`).
    pub fn wip_refusal(&self, stage: Stage, count: usize) -> Option<WipLimitReached> {
        let limit = self.wip_limit(stage)?;
        (count >= limit as usize).then_some(WipLimitReached {
            stage,
            count,
            limit,
        })
    }

    /// What history records for a change from `before` to `self`: one value per stage whose
    /// limit changed (`wip_limits.beta` from 3 to 5; `null` is "no limit").
    pub fn changes_from(&self, before: &LifecycleSettings) -> Vec<FieldChange> {
        Stage::ALL
            .into_iter()
            .filter_map(|stage| {
                let old = before.wip_limit(stage);
                let new = self.wip_limit(stage);
                (old != new).then(|| {
                    FieldChange::value(
                        ValueField::WipLimit(stage),
                        old.map_or(Value::Null, Value::from),
                        new.map_or(Value::Null, Value::from),
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn limits(pairs: &[(Stage, u32)]) -> LifecycleSettings {
        LifecycleSettings {
            wip_limits: pairs.iter().copied().collect(),
        }
    }

    #[test]
    fn a_full_stage_refuses_and_one_with_room_or_no_limit_does_not() {
        let settings = limits(&[(Stage::Beta, 2)]);
        assert_eq!(settings.wip_refusal(Stage::Beta, 1), None);
        let refused = settings.wip_refusal(Stage::Beta, 2).unwrap();
        assert_eq!((refused.count, refused.limit), (2, 2));
        assert!(
            refused.message().contains("beta stage is full"),
            "{}",
            refused.message()
        );
        assert!(settings.wip_refusal(Stage::Beta, 3).is_some());
        assert_eq!(settings.wip_refusal(Stage::RollingOut, 100), None);
        assert!(limits(&[(Stage::Beta, 0)])
            .wip_refusal(Stage::Beta, 0)
            .is_some());
    }

    #[test]
    fn json_names_stages_and_an_old_document_without_fields_decodes() {
        let settings = limits(&[(Stage::RollingOut, 3)]);
        let text = serde_json::to_string(&settings).unwrap();
        assert_eq!(text, r#"{"wip_limits":{"rolling_out":3}}"#);
        assert_eq!(
            serde_json::from_str::<LifecycleSettings>(&text).unwrap(),
            settings
        );
        assert_eq!(
            serde_json::from_str::<LifecycleSettings>("{}").unwrap(),
            LifecycleSettings::default()
        );
        assert!(serde_json::from_str::<LifecycleSettings>(r#"{"wip_limits":{"done":1}}"#).is_err());
        assert!(
            serde_json::from_str::<LifecycleSettings>(r#"{"wip_limits":{"beta":-1}}"#).is_err()
        );
    }

    #[test]
    fn limits_above_the_maximum_are_refused_naming_the_field() {
        let error = limits(&[(Stage::Beta, MAX_WIP_LIMIT + 1)])
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("wip_limits.beta"), "{error}");
        assert!(limits(&[(Stage::Beta, MAX_WIP_LIMIT)]).validate().is_ok());
    }

    #[test]
    fn history_records_only_the_limits_that_changed() {
        let before = limits(&[(Stage::Beta, 3), (Stage::Everyone, 9)]);
        let after = limits(&[
            (Stage::Beta, 5),
            (Stage::Everyone, 9),
            (Stage::Graduated, 1),
        ]);
        let changes = after.changes_from(&before);
        assert_eq!(
            changes,
            vec![
                FieldChange::value(ValueField::WipLimit(Stage::Beta), json!(3), json!(5)),
                FieldChange::value(
                    ValueField::WipLimit(Stage::Graduated),
                    json!(null),
                    json!(1)
                ),
            ]
        );
        assert!(after.changes_from(&after).is_empty());
    }
}
