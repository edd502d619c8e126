//! Checks of stored groups' history: every edit is an event whose subject is the group (who,
//! when, what changed), kept apart from features' events, read back by the group filter and by
//! id, undone exactly by the core, and recorded atomically with the write it describes.

use ramp_core::{group_before, FieldChange, HistoryEvent, ListField, Subject, ValueField};

use super::*;

fn beta(description: &str, members: &[&str], rules: &[&str]) -> StoredGroup {
    StoredGroup {
        name: GroupName::new("beta").unwrap(),
        description: description.into(),
        members: users(members),
        rules: rules.iter().map(|rule| rule.parse().unwrap()).collect(),
    }
}

fn group_query(name: &str) -> HistoryQuery {
    HistoryQuery {
        group: Some(GroupName::new(name).unwrap()),
        limit: 100,
        ..HistoryQuery::default()
    }
}

/// Membership is a set: compare groups with their members sorted.
fn sorted(group: Option<StoredGroup>) -> Option<StoredGroup> {
    group.map(|mut group| {
        group.members.sort();
        group
    })
}

/// Creating, editing, rewriting unchanged and deleting a group record three events, as the
/// group filter and `history_event` read them back; undoing them newest first gives back each
/// version. A feature of the same name keeps its own history.
pub async fn group_edits_are_recorded(store: Arc<dyn Store>) {
    store
        .apply(&name("beta"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let bo = Attribution {
        actor: "bo".into(),
        comment: Some("for the beta".into()),
    };
    let first = beta("testers", &["1", "2"], &[]);
    let created = store.put_group(&first, Some(0), &bo).await.unwrap();
    let event = created.event.clone().expect("a created group is recorded");
    assert_eq!(event.subject, Subject::Group(first.name.clone()));
    assert_eq!(event.action, Action::Created);
    assert_eq!(
        (event.actor.as_str(), event.comment.as_deref()),
        ("bo", Some("for the beta"))
    );
    assert_eq!(
        event.changes,
        vec![
            FieldChange::value(ValueField::Description, json!(""), json!("testers")),
            FieldChange::Members {
                field: ListField::Members,
                added: vec!["1".into(), "2".into()],
                removed: vec![],
            },
        ]
    );
    let unchanged = store
        .put_group(&first, Some(created.version), &ana())
        .await
        .unwrap();
    assert_eq!(
        unchanged.event, None,
        "a write that changes nothing records nothing"
    );
    let second = beta("testers", &["1", "2", "3"], &["plan in [pro]"]);
    let updated = store
        .put_group(&second, Some(unchanged.version), &ana())
        .await
        .unwrap();
    let update = updated.event.clone().expect("an edit is recorded");
    assert_eq!(update.action, Action::Updated);
    let fields: Vec<String> = update
        .changes
        .iter()
        .map(|change| change.field().into_owned())
        .collect();
    assert_eq!(fields, ["members", "rules"]);
    let deleted = store
        .delete_group(&second.name, Some(updated.version), &ana())
        .await
        .unwrap();
    assert_eq!(deleted.action, Action::Deleted);
    assert_eq!(deleted.subject, Subject::Group(second.name.clone()));

    let events = store.history(&group_query("beta")).await.unwrap();
    assert_eq!(events, vec![deleted.clone(), update.clone(), event.clone()]);
    for recorded in &events {
        assert_eq!(
            store.history_event(recorded.id).await.unwrap().as_ref(),
            Some(recorded)
        );
    }
    let versions = [Some(second.clone()), Some(first.clone()), None];
    for (undone, expected) in (1..=events.len()).zip(versions) {
        let before = group_before(None, &events[..undone]).unwrap();
        assert_eq!(sorted(before), sorted(expected), "{undone} events undone");
    }
    let feature_events = store
        .history(&HistoryQuery {
            feature: Some(name("beta")),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(feature_events.len(), 1);
    assert_eq!(feature_events[0].feature(), Some(&name("beta")));
    let everything = store.history(&HistoryQuery::default()).await.unwrap();
    assert_eq!(everything.len(), 4);
    assert_eq!(everything[..3], events[..]);
}

/// An import records an event for each group it creates or changes, with the import's
/// attribution, and none for a group it leaves as it was.
pub async fn imported_groups_are_recorded(store: Arc<dyn Store>) {
    let kept = StoredGroup {
        name: GroupName::new("kept").unwrap(),
        ..beta("stays", &["1"], &[])
    };
    store.put_group(&kept, None, &ana()).await.unwrap();
    store
        .put_group(&beta("old", &["1"], &[]), None, &ana())
        .await
        .unwrap();
    let importer = Attribution::new("importer");
    let fresh = StoredGroup {
        name: GroupName::new("fresh").unwrap(),
        ..beta("new", &["9"], &[])
    };
    store
        .import(
            &[],
            &[kept.clone(), beta("new", &["1", "2"], &[]), fresh],
            &importer,
        )
        .await
        .unwrap();
    let imported: Vec<HistoryEvent> = store
        .history(&HistoryQuery {
            actor: Some("importer".into()),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    let mut subjects: Vec<(String, Action)> = imported
        .iter()
        .map(|event| (event.subject.to_string(), event.action))
        .collect();
    subjects.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        subjects,
        vec![
            ("group beta".to_owned(), Action::Updated),
            ("group fresh".to_owned(), Action::Created),
        ]
    );
}

/// Concurrent writers of one group without expected versions: every write is recorded, and the
/// events chain: each one's `before` is the previous one's `after`, so no write's event was
/// computed from a version another writer had already replaced.
pub async fn concurrent_group_writes_chain_their_events(store: Arc<dyn Store>) {
    const WRITERS: usize = 12;
    store
        .put_group(&beta("start", &[], &[]), Some(0), &ana())
        .await
        .unwrap();
    let start = Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let (store, start) = (Arc::clone(&store), Arc::clone(&start));
        tasks.push(tokio::spawn(async move {
            let id = writer.to_string();
            let group = beta(&format!("writer {writer}"), &[id.as_str()], &[]);
            start.wait().await;
            store.put_group(&group, None, &ana()).await.unwrap()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().event.is_some());
    }
    let mut events = store.history(&group_query("beta")).await.unwrap();
    assert_eq!(events.len(), WRITERS + 1);
    events.reverse();
    assert_descriptions_chain(&events);
    let stored = store.snapshot().await.unwrap().groups;
    let last = events.last().unwrap();
    assert_eq!(
        description_of(last, true),
        Some(json!(stored[0].description)),
        "the last event ends at the stored group"
    );
    let rebuilt = group_before(
        Some(stored[0].clone()),
        &events.iter().rev().cloned().collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(
        rebuilt, None,
        "undoing every event, the creation last, removes the group"
    );
}

/// A group event's `description` change, before (`after` false) or after; `None` when the
/// event did not change it.
fn description_of(event: &HistoryEvent, after: bool) -> Option<serde_json::Value> {
    event.changes.iter().find_map(|change| match change {
        FieldChange::Value {
            field,
            before,
            after: is,
        } if field.name() == "description" => Some(if after { is } else { before }.clone()),
        _ => None,
    })
}

/// Checks that a group's events, oldest first, chain: each one's `description` before is the
/// previous one's after, so no write's event was computed from a version another writer had
/// already replaced. For backends' own multi-process tests too.
pub fn assert_descriptions_chain(events_oldest_first: &[HistoryEvent]) {
    for pair in events_oldest_first.windows(2) {
        assert_eq!(
            description_of(&pair[1], false),
            description_of(&pair[0], true),
            "event {} does not start where event {} ended",
            pair[1].id,
            pair[0].id
        );
    }
}

/// A group write by an attribution no store can record (NUL in the actor) is refused and
/// writes nothing; copied group events are kept once, as their group's.
pub async fn group_history_refuses_and_copies_like_features(store: Arc<dyn Store>) {
    let refused = store
        .put_group(&beta("x", &["1"], &[]), None, &Attribution::new("a\0b"))
        .await
        .unwrap_err();
    assert!(matches!(refused, StoreError::Invalid(_)), "{refused:?}");
    assert!(store.groups().await.unwrap().is_empty());
    assert!(store
        .history(&HistoryQuery::default())
        .await
        .unwrap()
        .is_empty());

    let source = crate::MemoryStore::new(false);
    source
        .put_group(&beta("a", &["1"], &[]), None, &ana())
        .await
        .unwrap();
    source
        .put_group(&beta("b", &["1", "2"], &[]), None, &ana())
        .await
        .unwrap();
    let mut copied = source.history(&HistoryQuery::default()).await.unwrap();
    copied.reverse();
    assert_eq!(store.import_history(&copied).await.unwrap(), 2);
    assert_eq!(store.import_history(&copied).await.unwrap(), 0);
    let read = store.history(&group_query("beta")).await.unwrap();
    assert_eq!(read.len(), 2);
    for (read, copied) in read.iter().rev().zip(&copied) {
        assert_eq!(
            (&read.subject, read.action, &read.changes, &read.actor),
            (
                &copied.subject,
                copied.action,
                &copied.changes,
                &copied.actor
            )
        );
        assert_eq!(read.time.timestamp_micros(), copied.time.timestamp_micros());
    }
}
