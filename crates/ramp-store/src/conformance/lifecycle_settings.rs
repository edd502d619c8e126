//! Checks of the lifecycle settings (WIP limits): one versioned document per store, defaults
//! until first written, every change an event whose subject is `settings: lifecycle` (kept out
//! of features' and groups' histories), stale versions and bad limits refused without writing,
//! and concurrent writers expecting one version having exactly one winner.

use ramp_core::{FieldChange, LifecycleSettings, SettingsName, Subject, ValueField, MAX_WIP_LIMIT};

use super::*;

fn limits(pairs: &[(Stage, u32)]) -> LifecycleSettings {
    LifecycleSettings {
        wip_limits: pairs.iter().copied().collect(),
        ..LifecycleSettings::default()
    }
}

fn everything() -> HistoryQuery {
    HistoryQuery {
        limit: 100,
        ..HistoryQuery::default()
    }
}

/// Writes are read back with a growing version and recorded (who, why, each limit before and
/// after); a write that changes nothing records nothing; the snapshot's version is untouched.
pub async fn lifecycle_settings_round_trip_and_are_recorded(store: Arc<dyn Store>) {
    let fresh = store.lifecycle_settings().await.unwrap();
    assert_eq!(fresh.version, 0);
    assert_eq!(fresh.settings, LifecycleSettings::default());
    store
        .apply(&name("chat"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let snapshot_version = store.snapshot().await.unwrap().version;

    let first = limits(&[(Stage::Beta, 3), (Stage::RollingOut, 2)]);
    let applied = store
        .put_lifecycle_settings(&first, Some(0), &ana())
        .await
        .unwrap();
    assert_eq!(applied.version, 1);
    let event = applied.event.expect("a change is recorded");
    assert_eq!(event.subject, Subject::Settings(SettingsName::Lifecycle));
    assert_eq!(
        (event.actor.as_str(), event.comment.as_deref()),
        ("ana", Some("testing"))
    );
    assert_eq!(
        event.changes,
        vec![
            FieldChange::value(ValueField::WipLimit(Stage::Beta), json!(null), json!(3)),
            FieldChange::value(
                ValueField::WipLimit(Stage::RollingOut),
                json!(null),
                json!(2)
            ),
        ]
    );
    let stored = store.lifecycle_settings().await.unwrap();
    assert_eq!((stored.settings, stored.version), (first.clone(), 1));
    assert_eq!(
        store.history_event(event.id).await.unwrap(),
        Some(event.clone())
    );
    assert_eq!(store.history(&everything()).await.unwrap()[0], event);

    let unchanged = store
        .put_lifecycle_settings(&first, Some(1), &ana())
        .await
        .unwrap();
    assert_eq!((unchanged.version, unchanged.event), (1, None));

    let bo = Attribution::new("bo");
    let cleared = store
        .put_lifecycle_settings(&limits(&[(Stage::Beta, 3)]), None, &bo)
        .await
        .unwrap();
    assert_eq!(cleared.version, 2);
    assert_eq!(
        cleared.event.unwrap().changes,
        vec![FieldChange::value(
            ValueField::WipLimit(Stage::RollingOut),
            json!(2),
            json!(null)
        )]
    );

    // Settings events belong to no feature or group.
    let chat = HistoryQuery {
        feature: Some(name("chat")),
        limit: 100,
        ..HistoryQuery::default()
    };
    let features = store.history(&chat).await.unwrap();
    assert!(features.iter().all(|event| event.feature().is_some()));
    let latest = store.latest_events(&[name("chat")]).await.unwrap();
    assert_eq!(latest[&name("chat")].feature(), Some(&name("chat")));
    let settings_events = store
        .history(&everything())
        .await
        .unwrap()
        .into_iter()
        .filter(|event| matches!(event.subject, Subject::Settings(_)))
        .count();
    assert_eq!(settings_events, 2);
    assert_eq!(store.snapshot().await.unwrap().version, snapshot_version);
}

/// A stale version is a `Conflict` and a limit above the maximum `Invalid`; neither writes the
/// settings or records anything.
pub async fn bad_lifecycle_settings_writes_change_nothing(store: Arc<dyn Store>) {
    let kept = limits(&[(Stage::Beta, 4)]);
    store
        .put_lifecycle_settings(&kept, Some(0), &ana())
        .await
        .unwrap();
    let events = store.history(&everything()).await.unwrap().len();

    let stale = store
        .put_lifecycle_settings(&limits(&[(Stage::Beta, 9)]), Some(0), &ana())
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale,
            StoreError::Conflict {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{stale:?}"
    );
    let huge = limits(&[(Stage::Beta, 1), (Stage::Everyone, MAX_WIP_LIMIT + 1)]);
    let invalid = store
        .put_lifecycle_settings(&huge, Some(1), &ana())
        .await
        .unwrap_err();
    assert!(matches!(invalid, StoreError::Invalid(_)), "{invalid:?}");

    let stored = store.lifecycle_settings().await.unwrap();
    assert_eq!((stored.settings, stored.version), (kept, 1));
    assert_eq!(store.history(&everything()).await.unwrap().len(), events);
}

/// Of eight writers expecting version 0 at once, exactly one succeeds; the stored settings and
/// the one event are the winner's.
pub async fn concurrent_lifecycle_settings_writes_have_one_winner(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (1..=8u32)
        .map(|limit| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let settings = limits(&[(Stage::Beta, limit)]);
                let result = store
                    .put_lifecycle_settings(&settings, Some(0), &Attribution::new("racer"))
                    .await;
                (limit, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (limit, Ok(applied)) => winners.push((limit, applied)),
            (_, Err(StoreError::Conflict { .. })) => {}
            (_, Err(other)) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer wins");
    let (limit, applied) = winners.pop().unwrap();
    assert_eq!(applied.version, 1);
    let stored = store.lifecycle_settings().await.unwrap();
    assert_eq!(stored.settings.wip_limit(Stage::Beta), Some(limit));
    let recorded: Vec<HistoryEvent> = store
        .history(&everything())
        .await
        .unwrap()
        .into_iter()
        .filter(|event| matches!(event.subject, Subject::Settings(_)))
        .collect();
    assert_eq!(recorded, vec![applied.event.unwrap()]);
}
