//! Ramp's pure core: the feature-flag model, evaluation with the rollout gem's exact semantics
//! (plus exclusions), the gem's percentage bucketing, compiled snapshots, and the diff and patch
//! of snapshots that servers and clients apply changes with.
//!
//! This crate never does I/O, never reads a clock (times are parameters) and never spawns tasks,
//! so every store, the server and the client share one definition of "is this feature on".
//!
//! ```
//! use ramp_core::{CodeGroups, CompiledSnapshot, Context, Feature, FeatureName, Percentage, Snapshot};
//!
//! let mut chat = Feature::new(FeatureName::new("chat")?, chrono::DateTime::UNIX_EPOCH);
//! chat.percentage = Percentage::new(20.0)?;
//! let snapshot = CompiledSnapshot::compile(&Snapshot { features: vec![chat], ..Snapshot::default() });
//!
//! // The gem's bucketing: user 2 is in the first 20 %, user 1 is not.
//! assert!(snapshot.is_active("chat", &Context::user("2"), &CodeGroups::new()));
//! assert!(!snapshot.is_active("chat", &Context::user("1"), &CodeGroups::new()));
//! assert_eq!(snapshot.evaluate("chat", &Context::user("2"), &CodeGroups::new()).reason.as_str(), "percentage");
//! # Ok::<(), ramp_core::CoreError>(())
//! ```
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod as_of;
pub mod bucket;
mod change;
mod code_groups;
mod code_references;
mod compiled;
mod context;
mod decision;
mod error;
mod feature;
mod field;
mod graduation;
mod group;
mod group_history;
mod health;
pub mod history;
mod kind;
mod lifecycle;
mod migration_progress;
mod name;
mod name_index;
pub mod outcome;
mod percentage;
mod removal_checklist;
mod snapshot;
mod snapshot_diff;
mod sorted_merge;
mod stage;
mod stage_mismatch;
mod stamp;
mod subject;
mod text;
mod text_enum;
mod user_id;
mod user_set;
mod user_set_buckets;
mod user_sketch;

pub use as_of::snapshot_at;
pub use change::Change;
pub use code_groups::{CodeGroups, GroupPredicate};
pub use code_references::{
    sort_feature_references, CodeReference, CodeScan, FeatureReference, MAX_COMMIT_BYTES,
    MAX_CONTEXT_CHARS, MAX_FILE_BYTES, MAX_REFERENCED_NAME_BYTES, MAX_REFERENCES,
    MAX_REPOSITORY_BYTES,
};
pub use compiled::CompiledSnapshot;
pub use context::Context;
pub use decision::{Check, Decision, Reason, ReasonKind};
pub use error::CoreError;
pub use feature::{Feature, FeatureState, RESERVED_DATA_KEY};
pub use field::{HealthWindow, ListField, ValueField};
pub use graduation::{graduation_refusal, GraduationProblem};
pub use group::{Condition, Rule, StoredGroup};
pub use group_history::group_before;
pub use health::{
    health, CodeEvidence, Health, HealthEvidence, HealthFinding, HealthInput, HealthState,
};
pub use history::{Action, Attribution, FieldChange, HistoryEvent};
pub use kind::FeatureKind;
pub use lifecycle::{LifecycleSettings, WipLimitReached, MAX_LIFECYCLE_DAYS, MAX_WIP_LIMIT};
pub use migration_progress::{
    MigrationPhase, MigrationProgress, MAX_MIGRATIONS_PER_FEATURE, MAX_MIGRATION_ERROR_CHARS,
    MAX_MIGRATION_INSTANCE_BYTES, MAX_MIGRATION_NAME_BYTES,
};
pub use name::{FeatureName, GroupName, MAX_NAME_LENGTH};
pub use percentage::Percentage;
pub use removal_checklist::{is_routing_file, removal_checklist, ChecklistFile, ChecklistLine};
pub use snapshot::Snapshot;
pub use snapshot_diff::SnapshotDiff;
pub use stage::Stage;
pub use stage_mismatch::StageMismatch;
pub use stamp::Stamp;
pub use subject::{SettingsName, Subject, SubjectKind};
pub use text::check_data;
pub use user_id::{check_user_id, UserId, MAX_USER_ID_BYTES};
pub use user_set::UserSet;
pub use user_sketch::{register_of, user_hash, UserSketch, SKETCH_PRECISION, SKETCH_REGISTERS};

#[cfg(test)]
mod evaluation_tests;
#[cfg(test)]
mod outside_percentage_tests;
#[cfg(test)]
mod position_tests;
