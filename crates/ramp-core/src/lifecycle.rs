//! `LifecycleSettings`: the admins' settings for features' lives, kept by every store as one
//! document with a version, and the rule they drive: a stage's WIP limit (how many features
//! may sit in it at once), which refuses a move into a full stage unless an admin overrides it
//! with a reason.
//!
//! The same document holds each kind's expected life (past it a feature is stale) and the
//! windows health is computed with.
//!
//! One serde struct whose fields all default, so later settings are one more field: documents
//! stored before them still decode. Pure: no I/O, no clock.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{CoreError, FeatureKind, FieldChange, HealthWindow, Stage, ValueField};

/// The largest WIP limit accepted: far above any real board, small enough to catch a typo
/// (`1000000`) and to fit every store's integer.
pub const MAX_WIP_LIMIT: u32 = 10_000;

/// The longest expected life or health window accepted, in days (ten years): longer is
/// "permanent", which an expected life says with `null`.
pub const MAX_LIFECYCLE_DAYS: u32 = 3_650;

/// The admins' lifecycle settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleSettings {
    /// Per stage, how many features may be in it at once; a stage absent has no limit. A
    /// map rather than five fields so the stored JSON and the API name stages the same way.
    #[serde(default)]
    pub wip_limits: BTreeMap<Stage, u32>,
    /// Per kind, the admins' expected life in days, overriding the kind's default; `null` is
    /// permanent. A kind absent keeps its default
    /// ([`FeatureKind::default_expected_life_days`]).
    #[serde(default)]
    pub expected_life_days: BTreeMap<FeatureKind, Option<u32>>,
    /// A feature on for everyone and unchanged this many days is ready to graduate.
    #[serde(default = "default_ready_to_graduate_after_days")]
    pub ready_to_graduate_after_days: u32,
    /// A feature nobody has checked for this many days is unused.
    #[serde(default = "default_unused_after_days")]
    pub unused_after_days: u32,
    /// A graduated feature with no code references and no checks for this many days is safe
    /// to delete.
    #[serde(default = "default_safe_to_delete_after_days")]
    pub safe_to_delete_after_days: u32,
}

fn default_ready_to_graduate_after_days() -> u32 {
    14
}

fn default_unused_after_days() -> u32 {
    30
}

fn default_safe_to_delete_after_days() -> u32 {
    30
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self {
            wip_limits: BTreeMap::new(),
            expected_life_days: BTreeMap::new(),
            ready_to_graduate_after_days: default_ready_to_graduate_after_days(),
            unused_after_days: default_unused_after_days(),
            safe_to_delete_after_days: default_safe_to_delete_after_days(),
        }
    }
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
    /// Checks what types cannot: limits from 0 to [`MAX_WIP_LIMIT`], lives and windows from 1
    /// to [`MAX_LIFECYCLE_DAYS`] days.
    pub fn validate(&self) -> Result<(), CoreError> {
        let days = self
            .expected_life_days
            .iter()
            .filter_map(|(kind, days)| Some((ValueField::ExpectedLife(*kind), (*days)?)))
            .chain(
                HealthWindow::ALL
                    .into_iter()
                    .map(|window| (ValueField::HealthWindow(window), self.window(window))),
            );
        for (field, days) in days {
            if !(1..=MAX_LIFECYCLE_DAYS).contains(&days) {
                return Err(CoreError::InvalidChange {
                    reason: format!(
                        "{field} is {days}: a number of days must be from 1 to {MAX_LIFECYCLE_DAYS}"
                    ),
                });
            }
        }
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

    /// How many days a feature of `kind` is expected to live; `None` is permanent.
    pub fn expected_life_days(&self, kind: FeatureKind) -> Option<u32> {
        match self.expected_life_days.get(&kind) {
            Some(days) => *days,
            None => kind.default_expected_life_days(),
        }
    }

    /// One health window, in days.
    pub fn window(&self, window: HealthWindow) -> u32 {
        match window {
            HealthWindow::ReadyToGraduate => self.ready_to_graduate_after_days,
            HealthWindow::Unused => self.unused_after_days,
            HealthWindow::SafeToDelete => self.safe_to_delete_after_days,
        }
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
    /// limit changed (`wip_limits.beta` from 3 to 5; `null` is "no limit"), per kind whose
    /// expected life changed (`null` is permanent) and per health window that changed.
    pub fn changes_from(&self, before: &LifecycleSettings) -> Vec<FieldChange> {
        let days = |days: Option<u32>| days.map_or(Value::Null, Value::from);
        let lives = FeatureKind::ALL.into_iter().filter_map(|kind| {
            let old = before.expected_life_days(kind);
            let new = self.expected_life_days(kind);
            (old != new)
                .then(|| FieldChange::value(ValueField::ExpectedLife(kind), days(old), days(new)))
        });
        let windows = HealthWindow::ALL.into_iter().filter_map(|window| {
            let old = before.window(window);
            let new = self.window(window);
            (old != new).then(|| {
                FieldChange::value(ValueField::HealthWindow(window), old.into(), new.into())
            })
        });
        let limits = Stage::ALL.into_iter().filter_map(|stage| {
            let old = before.wip_limit(stage);
            let new = self.wip_limit(stage);
            (old != new).then(|| {
                FieldChange::value(
                    ValueField::WipLimit(stage),
                    old.map_or(Value::Null, Value::from),
                    new.map_or(Value::Null, Value::from),
                )
            })
        });
        limits.chain(lives).chain(windows).collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn limits(pairs: &[(Stage, u32)]) -> LifecycleSettings {
        LifecycleSettings {
            wip_limits: pairs.iter().copied().collect(),
            ..LifecycleSettings::default()
        }
    }

    #[test]
    fn expected_lives_default_per_kind_and_admins_override_them() {
        let mut settings = LifecycleSettings::default();
        assert_eq!(settings.expected_life_days(FeatureKind::Release), Some(40));
        assert_eq!(settings.expected_life_days(FeatureKind::KillSwitch), None);
        settings
            .expected_life_days
            .insert(FeatureKind::Release, Some(20));
        settings
            .expected_life_days
            .insert(FeatureKind::Operational, None);
        settings
            .expected_life_days
            .insert(FeatureKind::Permission, Some(365));
        assert_eq!(settings.expected_life_days(FeatureKind::Release), Some(20));
        assert_eq!(settings.expected_life_days(FeatureKind::Operational), None);
        assert_eq!(
            settings.expected_life_days(FeatureKind::Permission),
            Some(365)
        );
        let text = serde_json::to_string(&settings).unwrap();
        assert!(
            text.contains(
                r#""expected_life_days":{"release":20,"operational":null,"permission":365}"#
            ),
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<LifecycleSettings>(&text).unwrap(),
            settings
        );
        let changes = settings.changes_from(&LifecycleSettings::default());
        assert_eq!(
            changes,
            vec![
                FieldChange::value(
                    ValueField::ExpectedLife(FeatureKind::Release),
                    json!(40),
                    json!(20)
                ),
                FieldChange::value(
                    ValueField::ExpectedLife(FeatureKind::Operational),
                    json!(7),
                    json!(null)
                ),
                FieldChange::value(
                    ValueField::ExpectedLife(FeatureKind::Permission),
                    json!(null),
                    json!(365)
                ),
            ]
        );
    }

    #[test]
    fn health_windows_default_validate_and_are_recorded() {
        let defaults = LifecycleSettings::default();
        assert_eq!(defaults.window(HealthWindow::ReadyToGraduate), 14);
        assert_eq!(defaults.window(HealthWindow::Unused), 30);
        assert_eq!(defaults.window(HealthWindow::SafeToDelete), 30);
        let settings = LifecycleSettings {
            unused_after_days: 60,
            ..LifecycleSettings::default()
        };
        assert_eq!(
            settings.changes_from(&defaults),
            vec![FieldChange::value(
                ValueField::HealthWindow(HealthWindow::Unused),
                json!(30),
                json!(60)
            )]
        );
        let zero = LifecycleSettings {
            safe_to_delete_after_days: 0,
            ..LifecycleSettings::default()
        };
        let error = zero.validate().unwrap_err().to_string();
        assert!(
            error.contains("health.safe_to_delete_after_days"),
            "{error}"
        );
        let mut long = LifecycleSettings::default();
        long.expected_life_days
            .insert(FeatureKind::Experiment, Some(MAX_LIFECYCLE_DAYS + 1));
        let error = long.validate().unwrap_err().to_string();
        assert!(error.contains("expected_life_days.experiment"), "{error}");
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
        assert!(
            text.starts_with(r#"{"wip_limits":{"rolling_out":3},"#),
            "{text}"
        );
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
