//! Tests of `as_of.rs`: a recorded sequence of changes, replayed back to every instant it
//! passed through, by hand and as a property over random sequences.

use super::*;
use crate::{
    Action, Change, CodeGroups, CompiledSnapshot, Context, FeatureState, FieldChange, GroupName,
    Percentage, UserId,
};
use chrono::TimeDelta;
use proptest::prelude::*;
use serde_json::json;

/// A tiny store: applies changes as the real ones do (the core's `Change::apply`, the same
/// events), one second apart, and remembers the snapshot after each.
struct Recorder {
    snapshot: Snapshot,
    events: Vec<HistoryEvent>,
    time: DateTime<Utc>,
    /// (the time of the step's event, the snapshot right after it)
    steps: Vec<(DateTime<Utc>, Snapshot)>,
}

impl Recorder {
    fn new() -> Self {
        Self {
            snapshot: Snapshot::default(),
            events: Vec::new(),
            time: DateTime::UNIX_EPOCH + TimeDelta::days(20_000),
            steps: Vec::new(),
        }
    }

    fn record(&mut self, subject: Subject, action: Action, changes: Vec<FieldChange>) {
        self.time += TimeDelta::seconds(1);
        self.snapshot.version += 1;
        self.events.push(HistoryEvent {
            id: self.events.len() as u64 + 1,
            subject,
            action,
            actor: "ana".into(),
            time: self.time,
            comment: None,
            changes,
        });
        self.steps.push((self.time, self.snapshot.clone()));
    }

    fn change(&mut self, name: &str, change: Change) {
        let name = FeatureName::new(name).unwrap();
        let existing = self.snapshot.features.iter().find(|f| f.name == name);
        let mut feature = existing
            .cloned()
            .unwrap_or_else(|| Feature::new(name.clone(), self.time));
        let action = if existing.is_some() {
            Action::Updated
        } else {
            Action::Created
        };
        let changes = change.apply(&mut feature, self.time).unwrap();
        if changes.is_empty() && action == Action::Updated {
            return; // a change that changes nothing records nothing
        }
        self.snapshot = self.snapshot.patched(0, [feature], []);
        self.record(name.into(), action, changes);
    }

    fn delete(&mut self, name: &str) {
        let name = FeatureName::new(name).unwrap();
        let Some(feature) = self.snapshot.features.iter().find(|f| f.name == name) else {
            return;
        };
        let changes = FieldChange::between(&feature.state(), &FeatureState::default());
        self.snapshot = self.snapshot.patched(0, [], [&name]);
        self.record(name.into(), Action::Deleted, changes);
    }

    fn put_group(&mut self, name: &str, members: &[&str], rules: &[&str]) {
        let group = StoredGroup {
            name: GroupName::new(name).unwrap(),
            description: String::new(),
            members: members.iter().map(|id| UserId::new(*id).unwrap()).collect(),
            rules: rules.iter().map(|rule| rule.parse().unwrap()).collect(),
        };
        let index = self
            .snapshot
            .groups
            .iter()
            .position(|g| g.name == group.name);
        let before = index.map(|index| self.snapshot.groups.remove(index));
        let changes = FieldChange::between_groups(before.as_ref(), Some(&group));
        self.snapshot.groups.push(group.clone());
        self.snapshot.groups.sort_by(|a, b| a.name.cmp(&b.name));
        // As the stores do: creating a group is always recorded, an edit only if it changed.
        match before {
            None => self.record(group.name.into(), Action::Created, changes),
            Some(_) if !changes.is_empty() => {
                self.record(group.name.into(), Action::Updated, changes)
            }
            Some(_) => {}
        }
    }

    fn delete_group(&mut self, name: &str) {
        let name = GroupName::new(name).unwrap();
        let Some(index) = self.snapshot.groups.iter().position(|g| g.name == name) else {
            return;
        };
        let group = self.snapshot.groups.remove(index);
        let changes = FieldChange::between_groups(Some(&group), None);
        self.record(name.into(), Action::Deleted, changes);
    }

    fn newest_first(&self) -> Vec<HistoryEvent> {
        self.events.iter().rev().cloned().collect()
    }
}

/// What evaluation reads, with list order (which undo does not keep) left out.
fn content(snapshot: &Snapshot) -> (Vec<(String, FeatureState)>, Vec<StoredGroup>) {
    let features = snapshot
        .features
        .iter()
        .map(|feature| {
            let mut state = feature.state();
            state.users.sort();
            state.excluded_users.sort();
            state.groups.sort();
            (feature.name.to_string(), state)
        })
        .collect();
    let groups = snapshot
        .groups
        .iter()
        .cloned()
        .map(|mut group| {
            group.members.sort();
            group
        })
        .collect();
    (features, groups)
}

/// Every step's snapshot comes back at its own time and until the next step.
fn assert_every_step_comes_back(recorder: &Recorder) {
    let events = recorder.newest_first();
    let current = &recorder.snapshot;
    let first = recorder.steps.first().map_or(recorder.time, |step| step.0);
    let before_anything = snapshot_at(current, &events, first - TimeDelta::seconds(1)).unwrap();
    assert_eq!(content(&before_anything), content(&Snapshot::default()));
    for (time, expected) in &recorder.steps {
        for at in [*time, *time + TimeDelta::milliseconds(500)] {
            let past = snapshot_at(current, &events, at).unwrap();
            assert_eq!(content(&past), content(expected), "at {at}");
            assert!(past.features.is_sorted_by(|a, b| a.name < b.name));
        }
    }
}

fn decision(snapshot: &Snapshot, feature: &str, user: &str) -> (bool, String) {
    let decision = CompiledSnapshot::compile(snapshot).evaluate(
        feature,
        &Context::user(user),
        &CodeGroups::new(),
    );
    (decision.active, decision.reason.to_string())
}

fn users(ids: &[&str]) -> Vec<UserId> {
    ids.iter().map(|id| UserId::new(*id).unwrap()).collect()
}

#[test]
fn features_created_updated_and_deleted_after_the_time() {
    let mut recorder = Recorder::new();
    recorder.change("old", Change::Activate);
    let before_the_rest = recorder.time;
    let percentage = |value| Change::SetPercentage {
        percentage: Percentage::new(value).unwrap(),
    };
    recorder.change("chat", percentage(10.0));
    recorder.change("chat", percentage(50.0));
    recorder.change(
        "chat",
        Change::AddUsers {
            users: users(&["1", "2"]),
        },
    );
    recorder.change(
        "chat",
        Change::ExcludeUsers {
            users: users(&["2"]),
        },
    );
    recorder.change(
        "old",
        Change::SetData {
            data: json!({"owner": "ana"}).as_object().unwrap().clone(),
        },
    );
    recorder.delete("old");
    recorder.change("late", Change::Activate);
    assert_every_step_comes_back(&recorder);

    let past = snapshot_at(
        &recorder.snapshot,
        &recorder.newest_first(),
        before_the_rest,
    )
    .unwrap();
    let names: Vec<&str> = past.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["old"],
        "chat and late did not exist yet; old came back"
    );
    assert_eq!(decision(&past, "old", "9"), (true, "everyone".into()));
    assert_eq!(decision(&past, "chat", "9"), (false, "not_found".into()));
    assert_eq!(
        past.version, recorder.snapshot.version,
        "the version read is kept"
    );
}

#[test]
fn groups_edited_and_deleted_after_the_time_change_who_gets_a_feature() {
    let mut recorder = Recorder::new();
    recorder.put_group("beta", &["7"], &[]);
    recorder.change(
        "form",
        Change::AddGroups {
            groups: vec![GroupName::new("beta").unwrap()],
        },
    );
    let only_seven = recorder.time;
    recorder.put_group("beta", &["7", "8"], &["plan in [pro]"]);
    let seven_and_eight = recorder.time;
    recorder.delete_group("beta");
    recorder.put_group("other", &["1"], &[]);
    assert_every_step_comes_back(&recorder);

    let current = &recorder.snapshot;
    let events = recorder.newest_first();
    let at = |time| snapshot_at(current, &events, time).unwrap();
    assert_eq!(decision(current, "form", "7"), (false, "off".into()));
    assert_eq!(
        decision(&at(only_seven), "form", "7"),
        (true, "group beta".into())
    );
    assert_eq!(
        decision(&at(only_seven), "form", "8"),
        (false, "off".into())
    );
    assert_eq!(
        decision(&at(seven_and_eight), "form", "8"),
        (true, "group beta".into())
    );
    assert!(at(only_seven)
        .groups
        .iter()
        .all(|g| g.name.as_str() == "beta"));
}

#[test]
fn an_event_at_exactly_the_time_has_happened_and_older_ones_are_ignored() {
    let mut recorder = Recorder::new();
    recorder.change("chat", Change::Activate);
    let created = recorder.time;
    recorder.change("chat", Change::Deactivate);
    let events = recorder.newest_first();
    let past = snapshot_at(&recorder.snapshot, &events, created).unwrap();
    assert_eq!(decision(&past, "chat", "1"), (true, "everyone".into()));
    let just_before = created - TimeDelta::nanoseconds(1);
    let past = snapshot_at(&recorder.snapshot, &events, just_before).unwrap();
    assert!(past.features.is_empty());
    // Passing only the events that matter gives the same answer as passing all of them.
    let later_only = snapshot_at(&recorder.snapshot, &events[..1], created).unwrap();
    assert_eq!(content(&later_only), content(&recorder.steps[0].1));
}

#[test]
fn an_event_that_cannot_be_undone_is_an_error_naming_the_field() {
    let mut recorder = Recorder::new();
    recorder.change("chat", Change::Activate);
    let mut events = recorder.newest_first();
    events[0].action = Action::Updated;
    events[0].changes = vec![FieldChange::value(
        crate::ValueField::Percentage,
        json!("lots"),
        json!(100),
    )];
    let error = snapshot_at(&recorder.snapshot, &events, DateTime::UNIX_EPOCH).unwrap_err();
    assert!(error.to_string().contains("percentage"), "{error}");
}

/// One random step of a sequence.
#[derive(Debug, Clone)]
enum Step {
    Percentage(usize, u8),
    AddUser(usize, u8),
    RemoveUser(usize, u8),
    Exclude(usize, u8),
    AddGroup(usize),
    Delete(usize),
    PutGroup(Vec<u8>, bool),
    DeleteGroup,
}

fn step() -> impl Strategy<Value = Step> {
    let feature = 0..3usize;
    let user = 0..6u8;
    prop_oneof![
        (feature.clone(), 0..=100u8).prop_map(|(f, p)| Step::Percentage(f, p)),
        (feature.clone(), user.clone()).prop_map(|(f, u)| Step::AddUser(f, u)),
        (feature.clone(), user.clone()).prop_map(|(f, u)| Step::RemoveUser(f, u)),
        (feature.clone(), user.clone()).prop_map(|(f, u)| Step::Exclude(f, u)),
        feature.clone().prop_map(Step::AddGroup),
        feature.prop_map(Step::Delete),
        (proptest::collection::vec(user, 0..4), any::<bool>())
            .prop_map(|(members, rule)| Step::PutGroup(members, rule)),
        Just(Step::DeleteGroup),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_instant_of_a_random_sequence_comes_back(steps in proptest::collection::vec(step(), 1..40)) {
        let mut recorder = Recorder::new();
        let names = ["a", "b", "c"];
        let user = |id: u8| users(&[&id.to_string()]);
        for step in steps {
            match step {
                Step::Percentage(f, p) => recorder.change(names[f], Change::SetPercentage {
                    percentage: Percentage::new(f64::from(p)).unwrap(),
                }),
                Step::AddUser(f, u) => recorder.change(names[f], Change::AddUsers { users: user(u) }),
                Step::RemoveUser(f, u) => recorder.change(names[f], Change::RemoveUsers { users: user(u) }),
                Step::Exclude(f, u) => recorder.change(names[f], Change::ExcludeUsers { users: user(u) }),
                Step::AddGroup(f) => recorder.change(names[f], Change::AddGroups {
                    groups: vec![GroupName::new("beta").unwrap()],
                }),
                Step::Delete(f) => recorder.delete(names[f]),
                Step::PutGroup(members, rule) => {
                    let members: Vec<String> = members.iter().map(u8::to_string).collect();
                    let members: Vec<&str> = members.iter().map(String::as_str).collect();
                    let mut unique = members.clone();
                    unique.sort();
                    unique.dedup();
                    let rules: &[&str] = if rule { &["plan in [pro]"] } else { &[] };
                    recorder.put_group("beta", &unique, rules);
                }
                Step::DeleteGroup => recorder.delete_group("beta"),
            }
        }
        assert_every_step_comes_back(&recorder);
    }
}
