//! Health's rules, table by table, with fixed times.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::{FeatureName, Percentage, UserId};

/// Day 0 of every test: a fixed time, never the wall clock.
fn day(number: i64) -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::days(number)
}

/// A feature created on day 0 and last changed on `changed`.
fn feature(kind: FeatureKind, stage: Stage, percentage: f64, changed: i64) -> Feature {
    let mut feature = Feature::new(FeatureName::new("chat").unwrap(), day(0));
    feature.kind = kind;
    feature.stage = stage;
    feature.percentage = Percentage::new(percentage).unwrap();
    feature.updated_at = day(changed);
    feature
}

struct Case {
    feature: Feature,
    now: i64,
    last_checked: Option<i64>,
    analytics_started: bool,
    code: CodeEvidence,
}

impl Case {
    fn new(feature: Feature, now: i64) -> Self {
        Self {
            feature,
            now,
            last_checked: None,
            analytics_started: true,
            code: CodeEvidence {
                references: 0,
                repositories: 1,
            },
        }
    }

    fn health_with(&self, settings: &LifecycleSettings) -> Health {
        health(&HealthInput {
            feature: &self.feature,
            settings,
            now: day(self.now),
            last_checked: self.last_checked.map(day),
            analytics_started: self.analytics_started,
            code: self.code,
            stage_since: day(2),
        })
    }

    fn health(&self) -> Health {
        self.health_with(&LifecycleSettings::default())
    }

    fn states(&self) -> Vec<HealthState> {
        self.health()
            .states
            .iter()
            .map(|finding| finding.state)
            .collect()
    }
}

fn checked(mut case: Case, on: i64) -> Case {
    case.last_checked = Some(on);
    case
}

#[test]
fn a_release_flag_is_stale_after_forty_days_not_at_forty() {
    let at_forty = checked(
        Case::new(feature(FeatureKind::Release, Stage::Beta, 10.0, 40), 40),
        40,
    );
    assert!(at_forty.states().is_empty());
    let case = checked(
        Case::new(feature(FeatureKind::Release, Stage::Beta, 10.0, 52), 52),
        52,
    );
    let health = case.health();
    assert_eq!(health.states.len(), 1);
    let finding = &health.states[0];
    assert_eq!(finding.state, HealthState::Stale);
    assert_eq!(
        finding.message,
        "created 52 days ago; release flags are expected to live 40 days"
    );
    assert_eq!(finding.evidence.age_days, Some(52));
    assert_eq!(finding.evidence.expected_life_days, Some(40));
    assert_eq!(finding.evidence.kind, Some(FeatureKind::Release));
}

#[test]
fn expected_life_follows_the_kind_and_the_settings() {
    let operational = checked(
        Case::new(feature(FeatureKind::Operational, Stage::Beta, 10.0, 8), 8),
        8,
    );
    assert_eq!(operational.states(), vec![HealthState::Stale]);
    for permanent in [FeatureKind::KillSwitch, FeatureKind::Permission] {
        let old = checked(
            Case::new(feature(permanent, Stage::Beta, 10.0, 999), 999),
            999,
        );
        assert!(old.states().is_empty(), "{permanent}");
    }
    let mut settings = LifecycleSettings::default();
    settings
        .expected_life_days
        .insert(FeatureKind::Release, Some(60));
    settings
        .expected_life_days
        .insert(FeatureKind::Permission, Some(100));
    let release = checked(
        Case::new(feature(FeatureKind::Release, Stage::Beta, 10.0, 52), 52),
        52,
    );
    assert!(release.health_with(&settings).states.is_empty());
    let permission = checked(
        Case::new(
            feature(FeatureKind::Permission, Stage::Beta, 10.0, 101),
            101,
        ),
        101,
    );
    assert!(permission.health_with(&settings).has(HealthState::Stale));
    settings
        .expected_life_days
        .insert(FeatureKind::Release, None);
    let forever = checked(
        Case::new(feature(FeatureKind::Release, Stage::Beta, 10.0, 500), 500),
        500,
    );
    assert!(forever.health_with(&settings).states.is_empty());
}

#[test]
fn graduated_features_are_never_stale() {
    let mut case = checked(
        Case::new(
            feature(FeatureKind::Release, Stage::Graduated, 100.0, 90),
            90,
        ),
        90,
    );
    case.code.references = 3;
    assert!(case.states().is_empty());
}

#[test]
fn ready_to_graduate_needs_everyone_nobody_excluded_and_the_window() {
    // Checked every day, young enough not to be stale: only graduation readiness is tested.
    let ready = |kind, stage, percentage: f64, changed: i64, now: i64| {
        checked(
            Case::new(feature(kind, stage, percentage, changed), now),
            now,
        )
        .states()
            == vec![HealthState::ReadyToGraduate]
    };
    assert!(ready(FeatureKind::Release, Stage::Everyone, 100.0, 10, 24));
    assert!(
        !ready(FeatureKind::Release, Stage::Everyone, 100.0, 11, 24),
        "13 days"
    );
    assert!(!ready(
        FeatureKind::Release,
        Stage::RollingOut,
        99.0,
        10,
        24
    ));
    assert!(!ready(
        FeatureKind::Release,
        Stage::Graduated,
        100.0,
        10,
        24
    ));
    assert!(!ready(
        FeatureKind::KillSwitch,
        Stage::Everyone,
        100.0,
        10,
        24
    ));
    let mut excluded = checked(
        Case::new(
            feature(FeatureKind::Release, Stage::Everyone, 100.0, 10),
            24,
        ),
        24,
    );
    excluded.feature.excluded_users = vec![UserId::new("7").unwrap()];
    assert!(excluded.states().is_empty());
    let finding = &checked(
        Case::new(
            feature(FeatureKind::Experiment, Stage::Everyone, 100.0, 10),
            30,
        ),
        30,
    )
    .health()
    .states[0];
    assert_eq!(
        finding.message,
        "on for everyone and unchanged for 20 days (ready after 14 days)"
    );
    assert_eq!(finding.evidence.unchanged_days, Some(20));
    assert_eq!(finding.evidence.window_days, Some(14));
}

#[test]
fn unused_needs_the_window_without_checks_and_some_analytics() {
    let base = || Case::new(feature(FeatureKind::KillSwitch, Stage::Beta, 0.0, 0), 100);
    let last_seen_on_70 = checked(base(), 70);
    let unused = last_seen_on_70.health();
    assert_eq!(unused.states.len(), 1);
    assert_eq!(
        unused.states[0].message,
        "last checked 30 days ago (unused after 30 days)"
    );
    assert_eq!(unused.states[0].evidence.last_checked, Some(day(70)));
    assert!(checked(base(), 71).states().is_empty(), "29 days");
    let never = base().health();
    assert_eq!(
        never.states[0].message,
        "never checked in the 100 days since it was created (unused after 30 days)"
    );
    assert_eq!(never.states[0].evidence.created_at, Some(day(0)));
    let young = Case::new(feature(FeatureKind::KillSwitch, Stage::Beta, 0.0, 0), 29);
    assert!(young.states().is_empty(), "too new to tell");
    let mut no_analytics = base();
    no_analytics.analytics_started = false;
    assert!(no_analytics.states().is_empty(), "cannot tell");
}

#[test]
fn safe_to_delete_needs_graduation_no_references_and_no_checks() {
    let graduated = || {
        Case::new(
            feature(FeatureKind::Permission, Stage::Graduated, 100.0, 2),
            40,
        )
    };
    let safe = checked(graduated(), 5).health();
    // Unused too: it has not been checked for 35 days.
    assert_eq!(
        safe.states.iter().map(|f| f.state).collect::<Vec<_>>(),
        vec![HealthState::SafeToDelete, HealthState::Unused]
    );
    let finding = &safe.states[0];
    assert_eq!(
        finding.message,
        "graduated 38 days ago; no code references in 1 scanned repository; last checked 35 days ago"
    );
    assert_eq!(finding.evidence.code_references, Some(0));
    assert_eq!(finding.evidence.repositories_scanned, Some(1));
    assert_eq!(finding.evidence.stage_since, Some(day(2)));
    assert!(safe.notes.is_empty());

    let mut referenced = checked(graduated(), 5);
    referenced.code.references = 2;
    let health = referenced.health();
    assert!(!health.has(HealthState::SafeToDelete));
    assert_eq!(
        health.notes,
        vec!["not safe to delete: 2 code references remain"]
    );

    let mut unscanned = checked(graduated(), 5);
    unscanned.code.repositories = 0;
    let health = unscanned.health();
    assert!(!health.has(HealthState::SafeToDelete));
    assert!(
        health.notes[0].contains("no code scan uploaded"),
        "{:?}",
        health.notes
    );

    let recently = checked(graduated(), 20).health();
    assert!(!recently.has(HealthState::SafeToDelete));
    assert_eq!(
        recently.notes,
        vec!["not safe to delete: last checked 20 days ago; it needs 30 days without checks"]
    );

    let mut no_analytics = graduated();
    no_analytics.analytics_started = false;
    let health = no_analytics.health();
    assert!(health.states.is_empty());
    assert!(health.notes[0].contains("no checks were ever reported"));

    let never_checked = graduated().health();
    assert!(never_checked.has(HealthState::SafeToDelete));
    assert!(never_checked.states[0]
        .message
        .ends_with("never checked in the 40 days since it was created"));
}

#[test]
fn a_clock_behind_the_feature_gives_no_negative_days() {
    let case = Case::new(feature(FeatureKind::Release, Stage::Beta, 0.0, 0), -5);
    assert!(case.states().is_empty());
}

#[test]
fn states_round_trip_and_unknown_ones_name_the_choices() {
    for state in HealthState::ALL {
        assert_eq!(state.as_str().parse::<HealthState>().unwrap(), state);
        assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
    }
    let error = "old".parse::<HealthState>().unwrap_err().to_string();
    assert!(error.contains("safe_to_delete"), "{error}");
}

#[test]
fn evidence_serializes_only_what_the_state_used() {
    let case = checked(
        Case::new(feature(FeatureKind::Release, Stage::Beta, 10.0, 52), 52),
        52,
    );
    let json = serde_json::to_value(case.health()).unwrap();
    let evidence = &json["states"][0]["evidence"];
    assert_eq!(evidence["age_days"], 52);
    assert_eq!(evidence["kind"], "release");
    assert!(evidence.get("last_checked").is_none());
    assert!(json.get("notes").is_none());
    let back: Health = serde_json::from_value(json).unwrap();
    assert_eq!(back, case.health());
}
