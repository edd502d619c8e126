//! Checks of writing and reading features.

use super::*;

/// A new store is empty.
pub async fn empty_store_has_nothing(store: Arc<dyn Store>) {
    let snapshot = store.snapshot().await.unwrap();
    assert!(snapshot.features.is_empty() && snapshot.groups.is_empty());
    assert!(store.feature(&name("chat")).await.unwrap().is_none());
    assert!(store
        .history(&HistoryQuery::default())
        .await
        .unwrap()
        .is_empty());
    assert!(store.groups().await.unwrap().is_empty());
    assert!(store.history_event(1).await.unwrap().is_none());
}

/// Applying a change to a missing feature creates it at version 1 and records who did it.
pub async fn first_change_creates_the_feature(store: Arc<dyn Store>) {
    let before = store.snapshot().await.unwrap().version;
    let applied = store
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    assert_eq!(applied.feature.percentage, Percentage::ALL);
    assert_eq!(applied.feature.version, 1);
    let event = applied.event.unwrap();
    assert_eq!(
        (event.action, event.actor.as_str(), event.comment.as_deref()),
        (Action::Created, "ana", Some("testing"))
    );
    assert_eq!(event.changes.len(), 1);
    assert_eq!(event.changes[0].field(), "percentage");
    let stored = store.feature(&name("chat")).await.unwrap().unwrap();
    assert_eq!(stored, applied.feature);
    let snapshot = store.snapshot().await.unwrap();
    assert!(snapshot.version > before);
    assert_eq!(snapshot.features, vec![stored]);

    let touched = store
        .apply(&name("empty"), &Change::Deactivate, None, &ana())
        .await
        .unwrap();
    assert_eq!(
        touched.feature.version, 1,
        "touching a missing feature saves it, like the gem"
    );
    assert_eq!(store.snapshot().await.unwrap().features.len(), 2);
}

/// Each kind of change does what the core says, and versions grow.
pub async fn every_change_kind_is_applied(store: Arc<dyn Store>) {
    let feature = name("checkout");
    let mut data = serde_json::Map::new();
    data.insert("owner".into(), json!("ana"));
    data.insert("note".into(), json!("a|b"));
    let steps = vec![
        Change::SetPercentage {
            percentage: Percentage::new(12.5).unwrap(),
        },
        Change::AddUsers {
            users: users(&["3", "1", "user-72"]),
        },
        Change::RemoveUsers {
            users: users(&["1"]),
        },
        Change::ExcludeUsers {
            users: users(&["9", "8"]),
        },
        Change::IncludeUsers {
            users: users(&["9"]),
        },
        Change::AddGroups {
            groups: vec![
                GroupName::new("beta").unwrap(),
                GroupName::new("all").unwrap(),
            ],
        },
        Change::RemoveGroups {
            groups: vec![GroupName::new("all").unwrap()],
        },
        Change::SetData { data },
        Change::SetStage {
            stage: Stage::RollingOut,
        },
    ];
    for (index, step) in steps.iter().enumerate() {
        let applied = store.apply(&feature, step, None, &ana()).await.unwrap();
        assert_eq!(applied.feature.version, index as u64 + 1, "after {step:?}");
    }
    let stored = store.feature(&feature).await.unwrap().unwrap();
    assert_eq!(stored.percentage.value(), 12.5);
    assert_eq!(stored.users, users(&["3", "user-72"]));
    assert_eq!(stored.excluded_users, users(&["8"]));
    assert_eq!(stored.groups, vec![GroupName::new("beta").unwrap()]);
    assert_eq!(stored.data.get("note"), Some(&json!("a|b")));
    assert_eq!(stored.stage, Stage::RollingOut);
    assert!(stored.updated_at >= stored.created_at);

    store
        .apply(
            &feature,
            &Change::SetUsers {
                users: users(&["5", "3"]),
            },
            None,
            &ana(),
        )
        .await
        .unwrap();
    store
        .apply(&feature, &Change::ClearData, None, &ana())
        .await
        .unwrap();
    let stored = store
        .apply(&feature, &Change::Deactivate, None, &ana())
        .await
        .unwrap()
        .feature;
    assert_eq!(stored.percentage, Percentage::ZERO);
    assert!(
        stored.users.is_empty() && stored.excluded_users.is_empty() && stored.groups.is_empty()
    );
    assert!(stored.data.is_empty());
    assert_eq!(
        stored.stage,
        Stage::RollingOut,
        "deactivate keeps the stage"
    );
}

/// No change, no event, no new version.
pub async fn a_change_that_changes_nothing_records_nothing(store: Arc<dyn Store>) {
    let feature = name("chat");
    store
        .apply(&feature, &Change::Activate, None, &ana())
        .await
        .unwrap();
    let version = store.snapshot().await.unwrap().version;
    let applied = store
        .apply(&feature, &Change::Activate, None, &ana())
        .await
        .unwrap();
    assert!(applied.event.is_none());
    assert_eq!(applied.feature.version, 1);
    assert_eq!(store.snapshot().await.unwrap().version, version);
    assert_eq!(
        store.history(&HistoryQuery::default()).await.unwrap().len(),
        1
    );
}

/// `expected_version` protects against lost updates.
pub async fn stale_expected_version_is_a_conflict(store: Arc<dyn Store>) {
    let feature = name("chat");
    store
        .apply(&feature, &Change::Activate, Some(0), &ana())
        .await
        .unwrap();
    let error = store
        .apply(&feature, &Change::Deactivate, Some(0), &ana())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Conflict {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{error:?}"
    );
    let error = store.delete(&feature, Some(7), &ana()).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");
    assert_eq!(
        store.feature(&feature).await.unwrap().unwrap().percentage,
        Percentage::ALL
    );
    store
        .apply(&feature, &Change::Deactivate, Some(1), &ana())
        .await
        .unwrap();
}

/// Bad input changes nothing and records nothing.
pub async fn invalid_change_leaves_the_store_unchanged(store: Arc<dyn Store>) {
    let feature = name("chat");
    store
        .apply(
            &feature,
            &Change::AddUsers {
                users: users(&["1"]),
            },
            None,
            &ana(),
        )
        .await
        .unwrap();
    let before = store.snapshot().await.unwrap();
    let duplicate = FeatureState {
        users: users(&["2", "2"]),
        ..FeatureState::default()
    };
    let error = store
        .apply(
            &feature,
            &Change::Replace { state: duplicate },
            None,
            &ana(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
    let mut reserved = serde_json::Map::new();
    reserved.insert("__ramp".into(), json!(1));
    assert!(store
        .apply(&feature, &Change::SetData { data: reserved }, None, &ana())
        .await
        .is_err());
    // NUL: some backends could keep it, PostgreSQL cannot, so none may (or a copy would fail).
    let mut nul = serde_json::Map::new();
    nul.insert("note".into(), json!({"nested": ["a\u{0}b"]}));
    let error = store
        .apply(
            &feature,
            &Change::SetData { data: nul.clone() },
            None,
            &ana(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
    let nul_comment = Attribution {
        actor: "ana".into(),
        comment: Some("a\u{0}b".into()),
    };
    let error = store
        .apply(&feature, &Change::Activate, None, &nul_comment)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
    let error = store
        .delete(&feature, None, &nul_comment)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
    let imported = ImportedFeature {
        name: name("search"),
        state: FeatureState {
            data: nul,
            ..FeatureState::default()
        },
    };
    let error = store.import(&[imported], &[], &ana()).await.unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
    assert_eq!(store.snapshot().await.unwrap(), before);
    assert_eq!(
        store.history(&HistoryQuery::default()).await.unwrap().len(),
        1
    );
}

/// Deleting removes the feature, records everything it held, and a second delete is NotFound.
pub async fn delete_removes_and_records(store: Arc<dyn Store>) {
    let feature = name("chat");
    store
        .apply(
            &feature,
            &Change::AddUsers {
                users: users(&["1", "2"]),
            },
            None,
            &ana(),
        )
        .await
        .unwrap();
    store
        .apply(
            &feature,
            &Change::SetPercentage {
                percentage: Percentage::new(30.0).unwrap(),
            },
            None,
            &ana(),
        )
        .await
        .unwrap();
    let event = store.delete(&feature, None, &ana()).await.unwrap();
    assert_eq!(event.action, Action::Deleted);
    assert!(event.id > 0);
    let fields: Vec<String> = event
        .changes
        .iter()
        .map(|change| change.field().into_owned())
        .collect();
    assert_eq!(fields, vec!["percentage", "users"]);
    assert!(store.feature(&feature).await.unwrap().is_none());
    assert!(store.snapshot().await.unwrap().features.is_empty());
    let error = store.delete(&feature, None, &ana()).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::NotFound {
                kind: "feature",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(store.history_event(event.id).await.unwrap(), Some(event));
}
