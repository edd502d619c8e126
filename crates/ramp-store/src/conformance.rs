//! The conformance suite: the behaviour every `Store` backend must show. Each backend's tests
//! call [`conformance_tests!`](crate::conformance_tests) with a factory that makes an empty
//! store, and get one `#[tokio::test]` per check below.
// This is test code compiled as a library: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;

use ramp_core::{
    Action, Attribution, Change, FeatureName, FeatureState, GroupName, Percentage, Stage,
    StoredGroup, UserId,
};
use serde_json::json;

use crate::{HistoryQuery, ImportedFeature, Store, StoreError};

/// Generates one test per conformance check. `$factory` is an expression callable with no
/// arguments that returns a future of a [`Fixture`] (or an `Arc<dyn Store>`): an empty store
/// private to the test.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@each $factory;
            empty_store_has_nothing,
            first_change_creates_the_feature,
            every_change_kind_is_applied,
            a_change_that_changes_nothing_records_nothing,
            stale_expected_version_is_a_conflict,
            invalid_change_leaves_the_store_unchanged,
            delete_removes_and_records,
            stored_groups_round_trip,
            history_is_newest_first_and_pages,
            import_is_all_or_nothing,
            copied_history_is_kept_once,
            subscribers_hear_of_changes,
            large_user_lists_round_trip,
            concurrent_writers_lose_nothing
        );
    };
    (@each $factory:expr; $($check:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let fixture: $crate::conformance::Fixture = ($factory)().await.into();
                $crate::conformance::$check(std::sync::Arc::clone(&fixture.store)).await;
                drop(fixture);
            }
        )+
    };
}

/// A store under test, with whatever must live as long as it (a temporary directory) and be
/// cleaned up after it (a guard whose `Drop` removes a schema or key prefix).
pub struct Fixture {
    /// The store the checks run against.
    pub store: Arc<dyn Store>,
    /// Dropped after the check, after the store's last use.
    _guard: Option<Box<dyn Send + Sync>>,
}

impl Fixture {
    /// A store and the guard that must outlive it.
    pub fn with_guard(store: Arc<dyn Store>, guard: impl Send + Sync + 'static) -> Self {
        Self {
            store,
            _guard: Some(Box::new(guard)),
        }
    }
}

impl From<Arc<dyn Store>> for Fixture {
    fn from(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            _guard: None,
        }
    }
}

fn name(text: &str) -> FeatureName {
    FeatureName::new(text).unwrap()
}

fn users(ids: &[&str]) -> Vec<UserId> {
    ids.iter().map(|id| UserId::new(*id).unwrap()).collect()
}

fn ana() -> Attribution {
    Attribution {
        actor: "ana".into(),
        comment: Some("testing".into()),
    }
}

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
    let fields: Vec<&str> = event.changes.iter().map(|change| change.field()).collect();
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

/// Stored groups can be written, listed, replaced and deleted, and appear in snapshots.
pub async fn stored_groups_round_trip(store: Arc<dyn Store>) {
    let staff = StoredGroup {
        name: GroupName::new("staff").unwrap(),
        description: "Employees".into(),
        members: users(&["1", "2"]),
        rules: vec![
            "email ends_with @corp.com".parse().unwrap(),
            "age >= 18".parse().unwrap(),
        ],
    };
    let beta = StoredGroup {
        name: GroupName::new("beta").unwrap(),
        description: String::new(),
        members: users(&["7"]),
        rules: vec![],
    };
    store.put_group(&staff).await.unwrap();
    store.put_group(&beta).await.unwrap();
    assert_eq!(
        store.groups().await.unwrap(),
        vec![beta.clone(), staff.clone()]
    );
    let renamed = StoredGroup {
        description: "All employees".into(),
        ..staff.clone()
    };
    store.put_group(&renamed).await.unwrap();
    assert_eq!(
        store.snapshot().await.unwrap().groups,
        vec![beta.clone(), renamed]
    );
    store.delete_group(&beta.name).await.unwrap();
    let error = store.delete_group(&beta.name).await.unwrap_err();
    assert!(
        matches!(error, StoreError::NotFound { kind: "group", .. }),
        "{error:?}"
    );
    assert_eq!(store.groups().await.unwrap().len(), 1);
}

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
    assert!(even.iter().all(|event| event.feature.as_str() == "even"));
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
            feature: None,
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

/// A subscriber hears of every change with the version it produced.
pub async fn subscribers_hear_of_changes(store: Arc<dyn Store>) {
    let mut notices = store.subscribe();
    let applied = store
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let version = store.snapshot().await.unwrap().version;
    let notice = tokio::time::timeout(std::time::Duration::from_secs(5), notices.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(notice.version, version);
    assert_eq!(notice.feature.as_ref(), Some(&applied.feature.name));
}

/// 100,000 users survive a round trip in order.
pub async fn large_user_lists_round_trip(store: Arc<dyn Store>) {
    let ids: Vec<UserId> = (0..100_000)
        .map(|id| UserId::new(format!("user-{id}")).unwrap())
        .collect();
    store
        .apply(
            &name("big"),
            &Change::AddUsers { users: ids.clone() },
            None,
            &ana(),
        )
        .await
        .unwrap();
    let stored = store.feature(&name("big")).await.unwrap().unwrap();
    assert_eq!(stored.users, ids);
    let event = store
        .history(&HistoryQuery::default())
        .await
        .unwrap()
        .remove(0);
    assert_eq!(event.changes.len(), 1);
}

/// 16 writers each add 500 distinct users to one feature, one call per user: all 8,000 stay.
pub async fn concurrent_writers_lose_nothing(store: Arc<dyn Store>) {
    const WRITERS: usize = 16;
    const USERS_EACH: usize = 500;
    let feature = name("contended");
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = Arc::clone(&store);
        let feature = feature.clone();
        tasks.push(tokio::spawn(async move {
            for user in 0..USERS_EACH {
                let id = UserId::new(format!("{writer}-{user}")).unwrap();
                store
                    .apply(
                        &feature,
                        &Change::AddUsers { users: vec![id] },
                        None,
                        &Attribution::new(format!("writer-{writer}")),
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stored = store.feature(&feature).await.unwrap().unwrap();
    let distinct: HashSet<&str> = stored.users.iter().map(UserId::as_str).collect();
    assert_eq!(stored.users.len(), WRITERS * USERS_EACH);
    assert_eq!(distinct.len(), WRITERS * USERS_EACH);
    assert_eq!(stored.version, (WRITERS * USERS_EACH) as u64);
}
