//! Health: what a feature's facts say should happen to it next, each state with the evidence
//! that led to it (machine-readable) and a sentence for people. Shown wherever features are
//! listed and gathered on the Cleanup screen.
//!
//! The rules, all measured against the `now` given (never a clock):
//! - **stale**: older (from `created_at`) than its kind's expected life
//!   ([`LifecycleSettings::expected_life_days`]). Permanent kinds are never stale, and
//!   graduated features are not either: they are waiting to be deleted, which is what
//!   safe to delete says.
//! - **ready to graduate**: at 100 % with nobody excluded, not graduated, and unchanged
//!   (`updated_at`) for at least the `ready_to_graduate_after_days` window. Permanent kinds
//!   (kill switches, permissions by default) never graduate: being on for everyone is their
//!   normal life.
//! - **unused**: not checked within the `unused_after_days` window, from the exposure
//!   analytics' last seen. A feature never checked counts only once it is older than the
//!   window (a new flag is not yet deployed), and only when the analytics has received
//!   anything at all: a system that sends no checks cannot tell unused from unreported.
//! - **safe to delete**: graduated, no reference in any uploaded code scan, and no check
//!   within the `safe_to_delete_after_days` window (never checked counts under the same
//!   conditions as for unused). With no scan uploaded, or no analytics, it is never safe: the
//!   missing evidence is said in [`Health::notes`] instead.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Feature, FeatureKind, HealthWindow, LifecycleSettings, Stage};

/// One health state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Past its kind's expected life.
    Stale,
    /// On for everyone and unchanged long enough to graduate.
    ReadyToGraduate,
    /// Nobody has checked it for a while.
    Unused,
    /// Graduated, gone from the code and unchecked: its definition can go.
    SafeToDelete,
}

impl HealthState {
    /// Every state, in the order the Cleanup screen shows them.
    pub const ALL: [HealthState; 4] = [
        HealthState::SafeToDelete,
        HealthState::ReadyToGraduate,
        HealthState::Stale,
        HealthState::Unused,
    ];

    /// The state's name as typed and in JSON (`ready_to_graduate`).
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Stale => "stale",
            HealthState::ReadyToGraduate => "ready_to_graduate",
            HealthState::Unused => "unused",
            HealthState::SafeToDelete => "safe_to_delete",
        }
    }

    /// The state for people (`ready to graduate`).
    pub fn label(self) -> &'static str {
        match self {
            HealthState::Stale => "stale",
            HealthState::ReadyToGraduate => "ready to graduate",
            HealthState::Unused => "unused",
            HealthState::SafeToDelete => "safe to delete",
        }
    }
}

crate::text_enum::text_enum!(HealthState, InvalidHealthState);

/// What the uploaded code scans say about one feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CodeEvidence {
    /// References naming the feature, over every repository's latest scan.
    pub references: usize,
    /// How many repositories have uploaded a scan; 0 means the code was never looked at.
    pub repositories: usize,
}

/// Everything health is computed from, for one feature.
#[derive(Debug, Clone, Copy)]
pub struct HealthInput<'a> {
    /// The feature.
    pub feature: &'a Feature,
    /// The admins' lifecycle settings (expected lives, windows).
    pub settings: &'a LifecycleSettings,
    /// The time to measure against.
    pub now: DateTime<Utc>,
    /// When the analytics last saw a check of it; `None` if never (or forgotten).
    pub last_checked: Option<DateTime<Utc>>,
    /// Whether the analytics has ever seen a check of any feature.
    pub analytics_started: bool,
    /// Its code references.
    pub code: CodeEvidence,
    /// Since when it has been in its stage.
    pub stage_since: DateTime<Utc>,
}

/// The facts behind a state; only those the state used are present.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HealthEvidence {
    /// The feature's kind (stale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FeatureKind>,
    /// When it was created (stale; unused and safe to delete when never checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// Whole days since it was created (stale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<i64>,
    /// The kind's expected life in days (stale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_life_days: Option<u32>,
    /// When it last changed (ready to graduate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Whole days without a change (ready to graduate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchanged_days: Option<i64>,
    /// The window the state was measured with, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<u32>,
    /// When it was last checked (unused, safe to delete); absent when never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checked: Option<DateTime<Utc>>,
    /// Whole days without a check (unused, safe to delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchecked_days: Option<i64>,
    /// Since when it has been graduated (safe to delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_since: Option<DateTime<Utc>>,
    /// References left in code (safe to delete: 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_references: Option<usize>,
    /// Repositories whose scans were searched (safe to delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repositories_scanned: Option<usize>,
}

/// One state a feature is in, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthFinding {
    /// The state.
    pub state: HealthState,
    /// The evidence, for people: "created 52 days ago; release flags are expected to live 40 days".
    pub message: String,
    /// The evidence, for programs.
    pub evidence: HealthEvidence,
}

/// A feature's health.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Health {
    /// The states it is in, in [`HealthState::ALL`] order; empty when healthy.
    pub states: Vec<HealthFinding>,
    /// For a graduated feature not (yet) safe to delete: what is missing ("no code scan
    /// uploaded", "2 code references remain").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Health {
    /// Whether it is in `state`.
    pub fn has(&self, state: HealthState) -> bool {
        self.states.iter().any(|finding| finding.state == state)
    }
}

/// Whole days from `from` to `to`, never negative (a clock set back must not say "-1 days").
fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_days().max(0)
}

fn days(count: i64) -> String {
    if count == 1 {
        "1 day".into()
    } else {
        format!("{count} days")
    }
}

/// How long the feature has gone unchecked, if that is at least `window` days and can be
/// told: `Some((days, last_checked))`.
fn unchecked_for(input: &HealthInput<'_>, window: u32) -> Option<(i64, Option<DateTime<Utc>>)> {
    if !input.analytics_started {
        return None;
    }
    let since = input.last_checked.unwrap_or(input.feature.created_at);
    let quiet = days_between(since, input.now);
    (quiet >= i64::from(window)).then_some((quiet, input.last_checked))
}

fn unchecked_words(quiet: i64, last_checked: Option<DateTime<Utc>>) -> String {
    match last_checked {
        Some(_) => format!("last checked {} ago", days(quiet)),
        None => format!("never checked in the {} since it was created", days(quiet)),
    }
}

/// The feature's health (see the module's rules).
pub fn health(input: &HealthInput<'_>) -> Health {
    let feature = input.feature;
    let settings = input.settings;
    let life = settings.expected_life_days(feature.kind);
    let graduated = feature.stage == Stage::Graduated;
    let mut health = Health::default();
    for state in HealthState::ALL {
        let finding = match state {
            HealthState::Stale => stale(input, life, graduated),
            HealthState::ReadyToGraduate => ready_to_graduate(input, life, graduated),
            HealthState::Unused => unused(input),
            HealthState::SafeToDelete if graduated => safe_to_delete(input, &mut health.notes),
            HealthState::SafeToDelete => None,
        };
        health.states.extend(finding);
    }
    health
}

fn stale(input: &HealthInput<'_>, life: Option<u32>, graduated: bool) -> Option<HealthFinding> {
    let life = life.filter(|_| !graduated)?;
    let feature = input.feature;
    let age = days_between(feature.created_at, input.now);
    if input.now - feature.created_at <= chrono::Duration::days(i64::from(life)) {
        return None;
    }
    Some(HealthFinding {
        state: HealthState::Stale,
        message: format!(
            "created {} ago; {} flags are expected to live {}",
            days(age),
            feature.kind.as_str().replace('_', " "),
            days(i64::from(life))
        ),
        evidence: HealthEvidence {
            kind: Some(feature.kind),
            created_at: Some(feature.created_at),
            age_days: Some(age),
            expected_life_days: Some(life),
            ..HealthEvidence::default()
        },
    })
}

fn ready_to_graduate(
    input: &HealthInput<'_>,
    life: Option<u32>,
    graduated: bool,
) -> Option<HealthFinding> {
    let feature = input.feature;
    let permanent = life.is_none();
    if graduated
        || permanent
        || !feature.percentage.is_everyone()
        || !feature.excluded_users.is_empty()
    {
        return None;
    }
    let window = input.settings.window(HealthWindow::ReadyToGraduate);
    let unchanged = days_between(feature.updated_at, input.now);
    if unchanged < i64::from(window) {
        return None;
    }
    Some(HealthFinding {
        state: HealthState::ReadyToGraduate,
        message: format!(
            "on for everyone and unchanged for {} (ready after {})",
            days(unchanged),
            days(i64::from(window))
        ),
        evidence: HealthEvidence {
            updated_at: Some(feature.updated_at),
            unchanged_days: Some(unchanged),
            window_days: Some(window),
            ..HealthEvidence::default()
        },
    })
}

fn unused(input: &HealthInput<'_>) -> Option<HealthFinding> {
    let window = input.settings.window(HealthWindow::Unused);
    let (quiet, last_checked) = unchecked_for(input, window)?;
    Some(HealthFinding {
        state: HealthState::Unused,
        message: format!(
            "{} (unused after {})",
            unchecked_words(quiet, last_checked),
            days(i64::from(window))
        ),
        evidence: HealthEvidence {
            created_at: last_checked.is_none().then_some(input.feature.created_at),
            last_checked,
            unchecked_days: Some(quiet),
            window_days: Some(window),
            ..HealthEvidence::default()
        },
    })
}

/// Safe to delete, or `None` with what is missing pushed to `notes`.
fn safe_to_delete(input: &HealthInput<'_>, notes: &mut Vec<String>) -> Option<HealthFinding> {
    let window = input.settings.window(HealthWindow::SafeToDelete);
    let code = input.code;
    if code.repositories == 0 {
        notes.push("not safe to delete: no code scan uploaded (run `ramp scan --upload`)".into());
    } else if code.references > 0 {
        notes.push(format!(
            "not safe to delete: {} code reference{} remain",
            code.references,
            if code.references == 1 { "" } else { "s" }
        ));
    }
    let unchecked = unchecked_for(input, window);
    if unchecked.is_none() {
        notes.push(if input.analytics_started {
            let quiet = match input.last_checked {
                Some(checked) => format!("last checked {} ago", days(days_between(checked, input.now))),
                None => format!(
                    "never checked, but created only {} ago",
                    days(days_between(input.feature.created_at, input.now))
                ),
            };
            format!(
                "not safe to delete: {quiet}; it needs {} without checks",
                days(i64::from(window))
            )
        } else {
            "not safe to delete: no checks were ever reported, so whether code still checks it is unknown".into()
        });
    }
    let (quiet, last_checked) = unchecked?;
    if code.repositories == 0 || code.references > 0 {
        return None;
    }
    let graduated_days = days_between(input.stage_since, input.now);
    Some(HealthFinding {
        state: HealthState::SafeToDelete,
        message: format!(
            "graduated {} ago; no code references in {} scanned repositor{}; {}",
            days(graduated_days),
            code.repositories,
            if code.repositories == 1 { "y" } else { "ies" },
            unchecked_words(quiet, last_checked)
        ),
        evidence: HealthEvidence {
            created_at: last_checked.is_none().then_some(input.feature.created_at),
            last_checked,
            unchecked_days: Some(quiet),
            window_days: Some(window),
            stage_since: Some(input.stage_since),
            code_references: Some(0),
            repositories_scanned: Some(code.repositories),
            ..HealthEvidence::default()
        },
    })
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
