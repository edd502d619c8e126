//! Progress of a gradual data migration, as a migrator reports it: how many of the records it
//! walks the feature covers, how many are migrated, how many are still to move either way.
//!
//! A migrator (`ramp_client::migration`, or any program through the API) owns its records and
//! their migrated state; Ramp only keeps the latest report of each (feature, migration) to show
//! on the feature page and in `ramp migrate status`. A newer report replaces the older one whole.
//!
//! Pure: the report's time is set by whoever received it (the server's clock), never read here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{CoreError, FeatureName, Percentage};

/// The longest migration name, in bytes.
pub const MAX_MIGRATION_NAME_BYTES: usize = 100;
/// The longest instance name (which migrator process reported), in bytes.
pub const MAX_MIGRATION_INSTANCE_BYTES: usize = 200;
/// The longest error message kept with a report, in characters.
pub const MAX_MIGRATION_ERROR_CHARS: usize = 1_000;
/// The most migrations kept per feature; a report of one more is refused.
pub const MAX_MIGRATIONS_PER_FEATURE: usize = 50;

/// What a migrator is doing, as of its latest report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationPhase {
    /// A pass is under way: the counts are as far as it got.
    Running,
    /// The last pass finished: the migrated records are exactly the covered ones, except
    /// `failures`.
    Done,
    /// The migrator stopped on an error (`last_error` says which).
    Failed,
}

/// The latest report of one migration of one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationProgress {
    /// The feature whose coverage the migration follows.
    pub feature: FeatureName,
    /// The migration's name (one feature may drive several: `orders-v2`, `invoices-v2`).
    pub migration: String,
    /// Which migrator process reported (`HOSTNAME-PID` by default).
    pub instance: String,
    /// What it is doing.
    pub phase: MigrationPhase,
    /// Records the migrator walks (the last complete pass's count, or this pass's so far).
    pub records: u64,
    /// Of those, the records the feature covers now.
    pub covered: u64,
    /// Records migrated now.
    pub migrated: u64,
    /// Covered records not yet migrated.
    pub pending_forward: u64,
    /// Migrated records no longer covered, not yet moved back.
    pub pending_back: u64,
    /// Records whose `forward` or `back` failed in the last pass.
    pub failures: u64,
    /// The feature's percentage when the pass started, when it has one.
    #[serde(default)]
    pub target_percentage: Option<Percentage>,
    /// The last error, when there was one.
    #[serde(default)]
    pub last_error: Option<String>,
    /// When the server received the report (set by the server; what a client sends is ignored,
    /// and may be left out).
    #[serde(default)]
    pub reported_at: DateTime<Utc>,
}

impl MigrationProgress {
    /// Checks every bound; a report that breaks one must store nothing.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_name("migration", &self.migration, MAX_MIGRATION_NAME_BYTES)?;
        check_name("instance", &self.instance, MAX_MIGRATION_INSTANCE_BYTES)?;
        if let Some(error) = &self.last_error {
            if error.chars().count() > MAX_MIGRATION_ERROR_CHARS {
                return Err(invalid(
                    "last_error",
                    format!("is longer than {MAX_MIGRATION_ERROR_CHARS} characters"),
                ));
            }
        }
        if self.covered > self.records {
            return Err(invalid(
                "covered",
                format!(
                    "is {} but only {} records were counted",
                    self.covered, self.records
                ),
            ));
        }
        Ok(())
    }
}

/// A migration or instance name: 1 to `limit` bytes, no control characters, not blank.
fn check_name(field: &'static str, text: &str, limit: usize) -> Result<(), CoreError> {
    if text.trim().is_empty() {
        return Err(invalid(field, "must not be empty".to_owned()));
    }
    if text.len() > limit {
        return Err(invalid(field, format!("is longer than {limit} bytes")));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "must not hold control characters".to_owned(),
        ));
    }
    Ok(())
}

fn invalid(field: &'static str, reason: String) -> CoreError {
    CoreError::InvalidMigrationProgress { field, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> MigrationProgress {
        MigrationProgress {
            feature: FeatureName::new("orders-v2").unwrap(),
            migration: "orders-v2".to_owned(),
            instance: "worker-1".to_owned(),
            phase: MigrationPhase::Done,
            records: 10_000,
            covered: 1_250,
            migrated: 1_250,
            pending_forward: 0,
            pending_back: 0,
            failures: 0,
            target_percentage: Some(Percentage::new(12.5).unwrap()),
            last_error: None,
            reported_at: DateTime::from_timestamp(1_796_547_600, 0).unwrap(),
        }
    }

    #[test]
    fn a_plain_report_is_valid_and_round_trips() {
        let report = report();
        report.validate().unwrap();
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains(r#""phase":"done""#), "{json}");
        assert_eq!(
            serde_json::from_str::<MigrationProgress>(&json).unwrap(),
            report
        );
    }

    #[test]
    fn each_bound_names_its_field() {
        type Spoil = fn(&mut MigrationProgress);
        let cases: [(&str, Spoil); 5] = [
            ("migration", |report| report.migration = " ".to_owned()),
            ("migration", |report| report.migration = "m".repeat(101)),
            ("instance", |report| report.instance = "a\nb".to_owned()),
            ("last_error", |report| {
                report.last_error = Some("e".repeat(1_001))
            }),
            ("covered", |report| report.covered = report.records + 1),
        ];
        for (field, spoil) in cases {
            let mut report = report();
            spoil(&mut report);
            match report.validate() {
                Err(CoreError::InvalidMigrationProgress { field: named, .. }) => {
                    assert_eq!(named, field)
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
