//! Checks of a feature's kind: every backend stores it, whichever way it is written (its own
//! change, a whole-state replace, an import), shows it in the snapshot, records it in history
//! and puts it back on a revert.

use ramp_core::{FieldChange, ValueField};

use super::*;

/// A kind set by `SetKind`, by `Replace` and by an import reads back, is in the snapshot and
/// in history as `kind` before/after; reverting the event gives the old kind back.
pub async fn kinds_round_trip_and_are_recorded(store: Arc<dyn Store>) {
    let feature = name("checkout");
    let created = store
        .apply(&feature, &Change::Activate, None, &ana())
        .await
        .unwrap();
    assert_eq!(created.feature.kind, FeatureKind::Release, "the default");

    let applied = store
        .apply(
            &feature,
            &Change::SetKind {
                kind: FeatureKind::Experiment,
            },
            None,
            &ana(),
        )
        .await
        .unwrap();
    assert_eq!(applied.feature.kind, FeatureKind::Experiment);
    let event = applied.event.unwrap();
    assert_eq!(
        event.changes,
        vec![FieldChange::value(
            ValueField::Kind,
            json!("release"),
            json!("experiment")
        )]
    );
    let stored = store.feature(&feature).await.unwrap().unwrap();
    assert_eq!(stored.kind, FeatureKind::Experiment);

    // A whole state (create with settings, revert) carries the kind too.
    let state = FeatureState {
        kind: FeatureKind::KillSwitch,
        stage: Stage::Beta,
        ..stored.state()
    };
    let replaced = store
        .apply(&feature, &Change::Replace { state }, None, &ana())
        .await
        .unwrap();
    assert_eq!(replaced.feature.kind, FeatureKind::KillSwitch);
    let replace_event = replaced.event.unwrap();
    let recorded = store
        .history_event(replace_event.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded, replace_event);
    assert!(
        recorded.changes.contains(&FieldChange::value(
            ValueField::Kind,
            json!("experiment"),
            json!("kill_switch")
        )),
        "{:?}",
        recorded.changes
    );

    let snapshot = store.snapshot().await.unwrap();
    let in_snapshot = snapshot
        .features
        .iter()
        .find(|candidate| candidate.name == feature)
        .unwrap();
    assert_eq!(in_snapshot.kind, FeatureKind::KillSwitch);

    // Revert the replace, as the server does: undo it on the current state and replace.
    let current = store.feature(&feature).await.unwrap().unwrap();
    let reverted = recorded.undo(Some(current.state())).unwrap().unwrap();
    assert_eq!(reverted.kind, FeatureKind::Experiment);
    let applied = store
        .apply(&feature, &Change::Replace { state: reverted }, None, &ana())
        .await
        .unwrap();
    assert_eq!(applied.feature.kind, FeatureKind::Experiment);
    assert_eq!(applied.feature.stage, Stage::Development);
    let reread = store.feature(&feature).await.unwrap().unwrap();
    assert_eq!(reread.kind, FeatureKind::Experiment);

    // An import writes the kind of each feature, new or existing.
    let imported = |feature: &str, kind| ImportedFeature {
        name: name(feature),
        state: FeatureState {
            kind,
            ..FeatureState::default()
        },
    };
    store
        .import(
            &[
                imported("checkout", FeatureKind::Permission),
                imported("maintenance", FeatureKind::Operational),
            ],
            &[],
            &ana(),
        )
        .await
        .unwrap();
    let kinds: Vec<(String, FeatureKind)> = store
        .snapshot()
        .await
        .unwrap()
        .features
        .into_iter()
        .map(|feature| (feature.name.as_str().to_owned(), feature.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("checkout".to_owned(), FeatureKind::Permission),
            ("maintenance".to_owned(), FeatureKind::Operational),
        ]
    );
}
