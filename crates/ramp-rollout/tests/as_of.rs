//! `Rollout::check_at` and `snapshot_at` over the memory and SQLite stores: a recorded sequence
//! of changes, each answer remembered right after its write, asked again afterwards at every
//! remembered time and between them.
//!
//! No sleeps: the times are the ones the writes' own events carry. Two writes may share a time,
//! and then the answer at that time is the later write's (an event at the time has happened).

use chrono::{DateTime, TimeDelta, Utc};
use ramp_core::{Attribution, Context, Decision, GroupName, HistoryEvent, StoredGroup, UserId};
use ramp_rollout::Rollout;

const USERS: [&str; 8] = ["1", "2", "3", "4", "7", "9", "42", "314"];
const FEATURE: &str = "new-form";

/// The answers for every user, from the current snapshot, compiled independently of `check_at`.
async fn answers_now(rollout: &Rollout) -> Vec<Decision> {
    let compiled = rollout.compiled_snapshot().await.unwrap();
    let groups = ramp_core::CodeGroups::new();
    USERS
        .iter()
        .map(|user| compiled.evaluate(FEATURE, &Context::user(*user), &groups))
        .collect()
}

async fn answers_at(rollout: &Rollout, at: DateTime<Utc>) -> Vec<Decision> {
    let mut answers = Vec::new();
    for user in USERS {
        answers.push(
            rollout
                .check_at(FEATURE, &Context::user(user), at)
                .await
                .unwrap(),
        );
    }
    answers
}

fn beta(members: &[&str]) -> StoredGroup {
    StoredGroup {
        name: GroupName::new("beta").unwrap(),
        description: "testers".into(),
        members: members.iter().map(|id| UserId::new(*id).unwrap()).collect(),
        rules: Vec::new(),
    }
}

/// Runs the sequence, remembering (event time, answers right after) for each write.
async fn record(rollout: &Rollout) -> Vec<(DateTime<Utc>, Vec<Decision>)> {
    let store = rollout.store().clone();
    let who = Attribution::new("ana");
    let mut remembered = Vec::new();
    let event_of = |applied: ramp_store::Applied| applied.event.expect("a change was recorded");
    let mut steps: Vec<HistoryEvent> = Vec::new();
    macro_rules! step {
        ($event:expr) => {{
            let event: HistoryEvent = $event;
            steps.push(event.clone());
            remembered.push((event.time, answers_now(rollout).await));
        }};
    }
    use ramp_core::{Change, Percentage};
    let percentage = |value| Change::SetPercentage {
        percentage: Percentage::new(value).unwrap(),
    };
    // Created with an entry in the allow list, so creation records an event whatever the store.
    step!(event_of(
        rollout
            .change(
                FEATURE,
                Change::AddUsers {
                    users: vec![UserId::new("314").unwrap()]
                }
            )
            .await
            .unwrap()
    ));
    step!(event_of(
        rollout.change(FEATURE, percentage(10.0)).await.unwrap()
    ));
    step!(event_of(
        rollout.change(FEATURE, percentage(50.0)).await.unwrap()
    ));
    step!(event_of(
        rollout
            .change(
                FEATURE,
                Change::AddUsers {
                    users: vec![UserId::new("7").unwrap()]
                }
            )
            .await
            .unwrap()
    ));
    step!(event_of(
        rollout
            .change(
                FEATURE,
                Change::ExcludeUsers {
                    users: vec![UserId::new("7").unwrap()]
                }
            )
            .await
            .unwrap()
    ));
    step!(store
        .put_group(&beta(&["9"]), None, &who)
        .await
        .unwrap()
        .event
        .unwrap());
    step!(event_of(
        rollout
            .change(
                FEATURE,
                Change::AddGroups {
                    groups: vec![GroupName::new("beta").unwrap()]
                }
            )
            .await
            .unwrap()
    ));
    step!(store
        .put_group(&beta(&["9", "42"]), None, &who)
        .await
        .unwrap()
        .event
        .unwrap());
    step!(store
        .delete_group(&GroupName::new("beta").unwrap(), None, &who)
        .await
        .unwrap());
    step!(event_of(
        rollout.change(FEATURE, percentage(0.0)).await.unwrap()
    ));
    step!(rollout
        .store()
        .delete(&ramp_core::FeatureName::new(FEATURE).unwrap(), None, &who)
        .await
        .unwrap());
    assert!(steps.windows(2).all(|pair| pair[0].id < pair[1].id));
    remembered
}

async fn every_remembered_answer_comes_back(rollout: Rollout) {
    let remembered = record(&rollout).await;
    // Answers differed along the way, so the comparison below is not trivially true.
    assert!(remembered
        .iter()
        .any(|(_, answers)| answers.iter().any(|d| d.active)));
    assert!(remembered
        .iter()
        .any(|(_, answers)| answers.iter().any(|d| d.reason.group() == Some("beta"))));
    assert!(remembered
        .iter()
        .any(|(_, answers)| answers.iter().any(|d| d.reason.as_str() == "excluded")));

    let first = remembered[0].0;
    for answer in answers_at(&rollout, first - TimeDelta::microseconds(1)).await {
        assert_eq!(
            (answer.active, answer.reason.as_str()),
            (false, "not_found"),
            "before anything"
        );
    }
    for (index, (time, _)) in remembered.iter().enumerate() {
        // The last write made at this time decides the answer at it, and until the next time.
        let last_at_time = remembered
            .iter()
            .rposition(|(other, _)| other == time)
            .unwrap();
        let expected = &remembered[last_at_time].1;
        assert_eq!(
            &answers_at(&rollout, *time).await,
            expected,
            "after write {index}, at {time}"
        );
        if let Some((next, _)) = remembered.get(last_at_time + 1) {
            let between = *time + (*next - *time) / 2;
            if between > *time {
                assert_eq!(
                    &answers_at(&rollout, between).await,
                    expected,
                    "between {time} and {next}"
                );
            }
        }
    }
    // The future is now; the feature is deleted, and so nobody has it.
    let future = remembered.last().unwrap().0 + TimeDelta::days(365);
    assert!(answers_at(&rollout, future)
        .await
        .iter()
        .all(|d| d.reason.as_str() == "not_found"));
    let states = rollout
        .feature_states_at(&Context::user("9"), remembered[7].0)
        .await
        .unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].1.reason.group(), Some("beta"));
}

#[tokio::test]
async fn check_at_gives_back_every_answer_on_the_memory_store() {
    every_remembered_answer_comes_back(Rollout::connect("memory://", "ana").await.unwrap()).await;
}

#[tokio::test]
async fn check_at_gives_back_every_answer_on_the_sqlite_store() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", directory.path().join("ramp.db").display());
    every_remembered_answer_comes_back(Rollout::connect(&url, "ana").await.unwrap()).await;
}

#[tokio::test]
async fn events_imported_with_chosen_times_are_replayed_by_their_times() {
    // A store holding only history copied in, ending with a deletion, so that its current
    // state (empty) agrees with the events.
    let source = Rollout::connect("memory://", "ana").await.unwrap();
    source.activate(FEATURE).await.unwrap();
    source.deactivate(FEATURE).await.unwrap();
    source.delete(FEATURE).await.unwrap();
    let mut events = source.store().history(&Default::default()).await.unwrap();
    events.reverse();
    let day = |day: u32| {
        format!("2001-11-0{day}T10:00:00Z")
            .parse::<DateTime<Utc>>()
            .unwrap()
    };
    for (event, time) in events.iter_mut().zip([day(1), day(3), day(5)]) {
        event.time = time;
    }
    let rollout = Rollout::connect("memory://", "ana").await.unwrap();
    assert_eq!(rollout.store().import_history(&events).await.unwrap(), 3);
    let user = Context::user("1");
    let reason_at = |time| {
        let (rollout, user) = (rollout.clone(), user.clone());
        async move {
            rollout
                .check_at(FEATURE, &user, time)
                .await
                .unwrap()
                .reason
                .as_str()
        }
    };
    assert_eq!(reason_at(day(1) - TimeDelta::seconds(1)).await, "not_found");
    assert_eq!(reason_at(day(1)).await, "everyone");
    assert_eq!(reason_at(day(2)).await, "everyone");
    assert_eq!(reason_at(day(3)).await, "off");
    assert_eq!(reason_at(day(4)).await, "off");
    assert_eq!(reason_at(day(5)).await, "not_found");
}
