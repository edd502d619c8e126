//! The one error type of the core: every way a value from outside can be rejected.
//!
//! Values are validated once, at the edge, into types that cannot be wrong (`FeatureName`,
//! `Percentage`, ...). Each variant names what was rejected so that a CLI line or an HTTP body can
//! say it in plain words.

/// Why a value was rejected by the core.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A feature name broke the naming rules.
    #[error("invalid feature name {name:?}: {reason}")]
    InvalidFeatureName {
        /// The name as given.
        name: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// A group name broke the naming rules.
    #[error("invalid group name {name:?}: {reason}")]
    InvalidGroupName {
        /// The name as given.
        name: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// A user id broke the rules for ids.
    #[error("invalid user id {id:?}: {reason}")]
    InvalidUserId {
        /// The id as given (possibly shortened).
        id: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// A percentage outside 0..=100 or not a finite number.
    #[error("invalid percentage {given}: must be a number from 0 to 100")]
    InvalidPercentage {
        /// The value as given.
        given: String,
    },
    /// An unknown stage name.
    #[error("unknown stage {given:?}: expected one of development, beta, rolling_out, everyone, graduated")]
    InvalidStage {
        /// The value as given.
        given: String,
    },
    /// An unknown feature kind.
    #[error("unknown kind {given:?}: expected one of release, experiment, operational, kill_switch, permission")]
    InvalidKind {
        /// The value as given.
        given: String,
    },
    /// An unknown health state.
    #[error("unknown health state {given:?}: expected one of safe_to_delete, ready_to_graduate, stale, unused")]
    InvalidHealthState {
        /// The value as given.
        given: String,
    },
    /// A stored group's rule that cannot be parsed or is ill-formed.
    #[error("invalid rule {rule:?}: {reason}")]
    InvalidRule {
        /// The rule as given.
        rule: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A distinct-users sketch that is not in the form `UserSketch::encode` writes.
    #[error("invalid user sketch: {reason}")]
    InvalidSketch {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Feature data that is not a JSON object, or a key that is not allowed.
    #[error("invalid feature data: {reason}")]
    InvalidData {
        /// What is wrong with it.
        reason: String,
    },
    /// A history event records a value of the wrong type for its field (a percentage that is
    /// not a number, a stage that is not a name), so the change cannot be undone.
    #[error("history cannot be undone: {field} was recorded as {value}, which is not {expected}")]
    InvalidHistoryValue {
        /// The field's name as history records it (`percentage`, `stage`).
        field: String,
        /// The recorded value, as JSON (possibly shortened).
        value: String,
        /// What undo needed there (`a number`, `a stage name`).
        expected: &'static str,
    },
    /// A change that makes no sense for the feature it targets.
    #[error("invalid change: {reason}")]
    InvalidChange {
        /// What is wrong with it.
        reason: String,
    },
    /// Text that is not a stamp (`NAME@VERSION-MILLIS-on`).
    #[error("{text:?} is not a stamp: expected NAME@VERSION-MILLIS-on (or -off), e.g. new-checkout@7-1796547600123-on")]
    InvalidStamp {
        /// The text given (cut to 300 characters).
        text: String,
    },
    /// A code scan (references uploaded by `ramp scan --upload`) over one of its bounds.
    #[error("invalid code scan: {field} {reason}")]
    InvalidCodeScan {
        /// The field at fault (`repository`, `references.context`, ...).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A migration's progress report over one of its bounds.
    #[error("invalid migration progress: {field} {reason}")]
    InvalidMigrationProgress {
        /// The field at fault (`migration`, `instance`, `last_error`, `covered`).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// An outcome (a tracked event's value or totals) outside its bounds.
    #[error("invalid outcome: {field} {reason}")]
    InvalidOutcome {
        /// The field at fault (`value`, `totals`).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}
