//! Checks of history, import and copied history.

use super::*;

/// History is newest first, per feature or global, and pages by id.
pub async fn history_is_newest_first_and_pages(store: Arc<dyn Store>) {
    for step in 1..=6 {
        let feature = if step % 2 == 0 {
            name("even")
        } else {
            name("odd")
        };
        let percentage = Percentage::new(f64::from(step) * 10.0).unwrap();
        store
            .apply(
                &feature,
                &Change::SetPercentage { percentage },
                None,
                &ana(),
            )
            .await
            .unwrap();
    }
    let all = store.history(&HistoryQuery::default()).await.unwrap();
    assert_eq!(all.len(), 6);
    assert!(
        all.windows(2).all(|pair| pair[0].id > pair[1].id),
        "newest first"
    );
    assert!(all.windows(2).all(|pair| pair[0].time >= pair[1].time));
    let even = store
        .history(&HistoryQuery {
            feature: Some(name("even")),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(even.len(), 3);
    assert!(even.iter().all(|event| event.subject.name() == "even"));
    assert_eq!(
        even[0].changes[0].to_string(),
        "percentage from 40.0 to 60.0"
    );
    let first_page = store
        .history(&HistoryQuery {
            limit: 4,
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(first_page, all[..4]);
    let next_page = store
        .history(&HistoryQuery {
            limit: 4,
            before_id: Some(first_page[3].id),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(next_page, all[4..]);
}

/// An import with one bad feature imports nothing; a good one imports everything.
pub async fn import_is_all_or_nothing(store: Arc<dyn Store>) {
    store
        .apply(&name("kept"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let before = store.snapshot().await.unwrap();
    let good = |feature: &str, percentage: f64| ImportedFeature {
        name: name(feature),
        state: FeatureState {
            percentage: Percentage::new(percentage).unwrap(),
            ..FeatureState::default()
        },
    };
    let bad = ImportedFeature {
        name: name("bad"),
        state: FeatureState {
            users: users(&["1", "1"]),
            ..FeatureState::default()
        },
    };
    let group = StoredGroup {
        name: GroupName::new("beta").unwrap(),
        description: String::new(),
        members: vec![],
        rules: vec![],
    };
    let result = store
        .import(
            &[good("new", 5.0), bad, good("kept", 50.0)],
            std::slice::from_ref(&group),
            &ana(),
        )
        .await;
    assert!(result.is_err());
    assert_eq!(
        store.snapshot().await.unwrap(),
        before,
        "a failed import changes nothing"
    );

    let summary = store
        .import(
            &[good("new", 5.0), good("kept", 50.0), good("same", 0.0)],
            &[group],
            &ana(),
        )
        .await
        .unwrap();
    assert_eq!(
        (summary.created, summary.updated, summary.groups),
        (2, 1, 1)
    );
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(snapshot.features.len(), 3);
    assert_eq!(snapshot.groups.len(), 1);
    assert_eq!(
        store
            .feature(&name("kept"))
            .await
            .unwrap()
            .unwrap()
            .percentage
            .value(),
        50.0
    );
    let again = store
        .import(&[good("new", 5.0)], &[], &ana())
        .await
        .unwrap();
    assert_eq!(again.unchanged, 1);
}

/// History copied from another store keeps its actors and times, and copying twice adds nothing.
pub async fn copied_history_is_kept_once(store: Arc<dyn Store>) {
    let source = crate::MemoryStore::default();
    source
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let bo = Attribution::new("bo");
    source
        .apply(
            &name("chat"),
            &Change::AddUsers {
                users: users(&["1"]),
            },
            None,
            &bo,
        )
        .await
        .unwrap();
    let mut events = source.history(&HistoryQuery::default()).await.unwrap();
    events.reverse();
    assert_eq!(store.import_history(&events).await.unwrap(), 2);
    assert_eq!(
        store.import_history(&events).await.unwrap(),
        0,
        "copying twice adds nothing"
    );
    let copied = store.history(&HistoryQuery::default()).await.unwrap();
    assert_eq!(copied.len(), 2);
    assert_eq!(copied[0].actor, "bo");
    assert_eq!(copied[0].changes, events[1].changes);
    assert_eq!(
        copied[1].time.timestamp_micros(),
        events[0].time.timestamp_micros()
    );
    assert_eq!(copied[1].comment.as_deref(), Some("testing"));
}
