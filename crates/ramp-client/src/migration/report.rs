//! What a pass or a plan found, and the running tally a pass turns into progress reports.

use chrono::{DateTime, Utc};
use ramp_core::{
    FeatureName, MigrationPhase, MigrationProgress, Percentage, MAX_MIGRATION_ERROR_CHARS,
};

use super::ledger::{Direction, Outcome};

/// What a dry run found: the moves a pass would make now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plan {
    /// Records walked.
    pub records: u64,
    /// Of those, the records the feature covers.
    pub covered: u64,
    /// Records migrated now.
    pub migrated: u64,
    /// Covered records not migrated: a pass would run `forward` for each.
    pub forward: u64,
    /// Migrated records no longer covered: a pass would run `back` for each.
    pub back: u64,
}

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Records walked.
    pub records: u64,
    /// Of those, the records the feature covered.
    pub covered: u64,
    /// Records migrated at the end of the pass.
    pub migrated: u64,
    /// `forward` calls that succeeded.
    pub forwarded: u64,
    /// `back` calls that succeeded.
    pub moved_back: u64,
    /// Records another migrator moved first.
    pub already_moved: u64,
    /// Records whose `forward` or `back` failed; the next pass retries them.
    pub failures: u64,
    /// The last failure: which record, which way, and the application's error.
    pub last_error: Option<String>,
    /// The snapshot version the pass started from.
    pub version: u64,
}

/// A pass's counts so far.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub report: PassReport,
    pub pending_forward: u64,
    pub pending_back: u64,
    pub planned_forward: u64,
    pub planned_back: u64,
}

impl Tally {
    /// Counts one record walked.
    pub fn walked(&mut self, covered: bool, migrated: bool) {
        self.report.records += 1;
        self.report.covered += u64::from(covered);
        if covered && migrated {
            self.report.migrated += 1;
        }
    }

    /// Counts a move a dry run would make.
    pub fn planned(&mut self, direction: Direction) {
        match direction {
            Direction::Forward => self.planned_forward += 1,
            Direction::Back => {
                self.planned_back += 1;
                self.report.migrated += 1;
            }
        }
    }

    /// Counts a move's outcome.
    pub fn moved(&mut self, id: &str, direction: Direction, outcome: Outcome) {
        match (outcome, direction) {
            (Outcome::Moved, Direction::Forward) => {
                self.report.forwarded += 1;
                self.report.migrated += 1;
            }
            (Outcome::Moved, Direction::Back) => self.report.moved_back += 1,
            (Outcome::AlreadyMoved, direction) => {
                self.report.already_moved += 1;
                self.report.migrated += u64::from(direction == Direction::Forward);
            }
            (Outcome::Failed(error), direction) => {
                self.report.failures += 1;
                match direction {
                    Direction::Forward => self.pending_forward += 1,
                    Direction::Back => {
                        self.pending_back += 1;
                        self.report.migrated += 1;
                    }
                }
                self.report.last_error =
                    Some(bounded(format!("{direction} of record {id}: {error}")));
            }
        }
    }

    pub fn plan(&self) -> Plan {
        Plan {
            records: self.report.records,
            covered: self.report.covered,
            migrated: self.report.migrated,
            forward: self.planned_forward,
            back: self.planned_back,
        }
    }

    /// The report to send; the time is left for the server to set.
    pub fn progress(
        &self,
        feature: &FeatureName,
        migration: &str,
        instance: &str,
        phase: MigrationPhase,
        target_percentage: Option<Percentage>,
    ) -> MigrationProgress {
        MigrationProgress {
            feature: feature.clone(),
            migration: migration.to_owned(),
            instance: instance.to_owned(),
            phase,
            records: self.report.records,
            covered: self.report.covered,
            migrated: self.report.migrated,
            pending_forward: self.pending_forward,
            pending_back: self.pending_back,
            failures: self.report.failures,
            target_percentage,
            last_error: self.report.last_error.clone(),
            reported_at: DateTime::<Utc>::default(),
        }
    }
}

/// An error message cut to what a progress report may carry.
pub(crate) fn bounded(message: String) -> String {
    if message.chars().count() <= MAX_MIGRATION_ERROR_CHARS {
        return message;
    }
    message.chars().take(MAX_MIGRATION_ERROR_CHARS).collect()
}
