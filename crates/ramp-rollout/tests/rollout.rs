//! The library handle over the memory and SQLite stores: the gem's vocabulary, revert and
//! export/import.

use chrono::Utc;
use ramp_core::{Context, Percentage, Stage};
use ramp_rollout::{Export, RevertScope, Reverted, Rollout, RolloutError};

async fn memory() -> Rollout {
    Rollout::connect("memory://", "ana").await.unwrap()
}

#[tokio::test]
async fn the_gems_vocabulary_works() {
    let rollout = memory().await;
    rollout.activate_percentage("chat", 20.0).await.unwrap();
    rollout.activate_users("chat", ["10", "11"]).await.unwrap();
    rollout.deactivate_user("chat", "11").await.unwrap();
    rollout.exclude_user("chat", "2").await.unwrap();
    rollout.define_group("admins", |context: &Context| {
        context.user_id() == Some("root")
    });
    rollout.activate_group("chat", "admins").await.unwrap();

    let check = |user: &str| {
        let rollout = rollout.clone();
        let user = user.to_owned();
        async move { rollout.explain("chat", &Context::user(user)).await.unwrap() }
    };
    assert_eq!(check("10").await.reason.as_str(), "user");
    assert_eq!(
        check("11").await.reason.as_str(),
        "outside_percentage",
        "no longer listed, and outside the 20 %"
    );
    assert_eq!(
        check("2").await.reason.as_str(),
        "excluded",
        "in the 20 % but excluded"
    );
    assert_eq!(check("6").await.reason.as_str(), "percentage");
    assert_eq!(check("root").await.reason.group(), Some("admins"));

    rollout.include_user("chat", "2").await.unwrap();
    assert!(rollout
        .is_active("chat", &Context::user("2"))
        .await
        .unwrap());
    rollout.deactivate_group("chat", "admins").await.unwrap();
    let root = rollout
        .explain("chat", &Context::user("root"))
        .await
        .unwrap();
    assert_ne!(root.reason.as_str(), "group");

    rollout.set_stage("chat", Stage::Beta).await.unwrap();
    let mut data = serde_json::Map::new();
    data.insert("description".into(), "Chat box".into());
    let feature = rollout.set_feature_data("chat", data).await.unwrap();
    assert_eq!(feature.description(), Some("Chat box"));
    assert_eq!(feature.stage, Stage::Beta);
    assert!(rollout
        .clear_feature_data("chat")
        .await
        .unwrap()
        .data
        .is_empty());

    rollout.activate("other").await.unwrap();
    let names: Vec<String> = rollout
        .features()
        .await
        .unwrap()
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(names, ["chat", "other"]);
    let active: Vec<String> = rollout
        .active_features(&Context::anonymous())
        .await
        .unwrap()
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(active, ["other"]);
    assert_eq!(
        rollout
            .feature_states(&Context::user("6"))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(rollout.exists("other").await.unwrap());
    let found = rollout.multi_get(&["other", "missing"]).await.unwrap();
    assert!(found[0].is_some() && found[1].is_none());
    rollout.deactivate_percentage("chat").await.unwrap();
    rollout.deactivate("chat").await.unwrap();
    rollout.delete("other").await.unwrap();
    assert!(!rollout.exists("other").await.unwrap());
}

#[tokio::test]
async fn bad_input_is_an_error_and_stores_nothing() {
    let rollout = memory().await;
    assert!(matches!(
        rollout.activate_percentage("chat", 101.0).await,
        Err(RolloutError::Invalid(_))
    ));
    assert!(matches!(
        rollout.activate_percentage("chat", f64::NAN).await,
        Err(RolloutError::Invalid(_))
    ));
    assert!(rollout.activate("a,b").await.is_err());
    assert!(rollout
        .activate_users("chat", ["ok", "not|ok"])
        .await
        .is_err());
    assert!(rollout.features().await.unwrap().is_empty());
}

#[tokio::test]
async fn revert_restores_the_state_before_an_event() {
    let rollout = memory().await;
    rollout.activate_percentage("chat", 10.0).await.unwrap();
    let raise = rollout
        .change(
            "chat",
            ramp_core::Change::SetPercentage {
                percentage: Percentage::new(25.0).unwrap(),
            },
        )
        .await
        .unwrap();
    rollout.activate_users("chat", ["1", "2"]).await.unwrap();
    rollout.set_stage("chat", Stage::RollingOut).await.unwrap();

    // Reverting the raise also undoes what came after it: the state just before it.
    let raise_id = raise.event.unwrap().id;
    let outcome = rollout.revert("chat", raise_id).await.unwrap();
    let Reverted::Restored(Some(event)) = outcome else {
        panic!("expected a restore, got {outcome:?}")
    };
    assert_eq!(
        event.comment.as_deref(),
        Some(&*format!("revert of event {raise_id}"))
    );
    let feature = rollout.get("chat").await.unwrap().unwrap();
    assert_eq!(feature.percentage.value(), 10.0);
    assert!(feature.users.is_empty());
    assert_eq!(feature.stage, Stage::Development);

    // The revert is itself an event, and reverting it brings everything back.
    rollout.revert("chat", event.id).await.unwrap();
    let feature = rollout.get("chat").await.unwrap().unwrap();
    assert_eq!(feature.percentage.value(), 25.0);
    assert_eq!(feature.users.len(), 2);
    assert_eq!(feature.stage, Stage::RollingOut);
}

#[tokio::test]
async fn undoing_one_event_keeps_later_changes_and_honours_the_expected_version() {
    let rollout = memory().await;
    rollout.activate_percentage("chat", 10.0).await.unwrap();
    rollout.activate_users("chat", ["1", "2"]).await.unwrap();
    let off = rollout
        .change("chat", ramp_core::Change::Deactivate)
        .await
        .unwrap();
    rollout.activate_users("chat", ["3"]).await.unwrap();
    rollout.set_stage("chat", Stage::Beta).await.unwrap();
    let version = rollout.get("chat").await.unwrap().unwrap().version;

    let stale = rollout
        .revert_with(
            "chat",
            off.event.as_ref().unwrap().id,
            RevertScope::OnlyThisEvent,
            Some(version - 1),
        )
        .await;
    assert!(
        matches!(
            stale,
            Err(RolloutError::Store(ramp_store::StoreError::Conflict { .. }))
        ),
        "{stale:?}"
    );
    assert_eq!(
        rollout.get("chat").await.unwrap().unwrap().version,
        version,
        "nothing written"
    );

    // Undoing only "off" brings back its percentage and users; user 3 and the stage stay.
    rollout
        .revert_with(
            "chat",
            off.event.unwrap().id,
            RevertScope::OnlyThisEvent,
            Some(version),
        )
        .await
        .unwrap();
    let feature = rollout.get("chat").await.unwrap().unwrap();
    assert_eq!(feature.percentage.value(), 10.0);
    let mut users: Vec<&str> = feature.users.iter().map(|user| user.as_str()).collect();
    users.sort_unstable();
    assert_eq!(users, ["1", "2", "3"]);
    assert_eq!(feature.stage, Stage::Beta);
}

#[tokio::test]
async fn reverting_a_creation_deletes_and_reverting_a_deletion_restores() {
    let rollout = memory().await;
    let created = rollout
        .change("chat", ramp_core::Change::Activate)
        .await
        .unwrap()
        .event
        .unwrap();
    rollout.activate_users("chat", ["7"]).await.unwrap();
    rollout.delete("chat").await.unwrap();
    let deleted = rollout
        .history(Some("chat"), None, 1)
        .await
        .unwrap()
        .remove(0);
    rollout.revert("chat", deleted.id).await.unwrap();
    let feature = rollout.get("chat").await.unwrap().unwrap();
    assert_eq!(
        (feature.percentage.value(), feature.users.len()),
        (100.0, 1)
    );

    let outcome = rollout.revert("chat", created.id).await.unwrap();
    assert!(matches!(outcome, Reverted::Deleted(_)), "{outcome:?}");
    assert!(rollout.get("chat").await.unwrap().is_none());

    let other = rollout
        .change("other", ramp_core::Change::Activate)
        .await
        .unwrap()
        .event
        .unwrap();
    assert!(matches!(
        rollout.revert("chat", other.id).await,
        Err(RolloutError::EventOfAnotherSubject { .. })
    ));
    assert!(rollout.revert("chat", 9_999).await.is_err());
}

#[tokio::test]
async fn export_then_import_reproduces_every_feature_and_group() {
    let directory = tempfile::tempdir().unwrap();
    let source = Rollout::connect(
        &format!("sqlite://{}", directory.path().join("a.db").display()),
        "ana",
    )
    .await
    .unwrap();
    source.activate_percentage("chat", 12.5).await.unwrap();
    source
        .activate_users("chat", ["1", "user-72"])
        .await
        .unwrap();
    source.exclude_user("chat", "3").await.unwrap();
    source.activate_group("beta-ui", "staff").await.unwrap();
    let staff = ramp_core::StoredGroup {
        name: ramp_core::GroupName::new("staff").unwrap(),
        description: "Employees".into(),
        members: vec![ramp_core::UserId::new("9").unwrap()],
        rules: vec!["plan in [pro]".parse().unwrap()],
    };
    source.save_stored_group(&staff).await.unwrap();
    let text = serde_json::to_string(&source.export(Utc::now()).await.unwrap()).unwrap();

    let target = Rollout::connect(
        &format!("sqlite://{}", directory.path().join("b.db").display()),
        "bo",
    )
    .await
    .unwrap();
    let export = Export::parse(&text).unwrap();
    let summary = target.import(&export).await.unwrap();
    assert_eq!((summary.created, summary.groups), (2, 1));
    let states = |snapshot: ramp_core::Snapshot| {
        snapshot
            .features
            .into_iter()
            .map(|feature| (feature.name.clone(), feature.state()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        states(target.store().snapshot().await.unwrap()),
        states(source.store().snapshot().await.unwrap())
    );
    assert_eq!(target.stored_groups().await.unwrap(), vec![staff]);
}

#[test]
fn broken_import_files_are_refused_with_the_reason() {
    let cases = [
        ("{", "line 1"),
        (
            r#"{"format":"other","version":1,"exported_at":"2026-01-01T00:00:00Z","features":[]}"#,
            "expected format",
        ),
        (
            r#"{"format":"ramp-export","version":1,"exported_at":"2026-01-01T00:00:00Z","features":[{"name":"a,b"}]}"#,
            "','",
        ),
        (
            r#"{"format":"ramp-export","version":1,"exported_at":"2026-01-01T00:00:00Z","features":[{"name":"a"},{"name":"a"}]}"#,
            "twice",
        ),
        (
            r#"{"format":"ramp-export","version":1,"exported_at":"2026-01-01T00:00:00Z","features":[{"name":"a","users":["1","1"]}]}"#,
            "twice",
        ),
        (
            r#"{"format":"ramp-export","version":1,"exported_at":"2026-01-01T00:00:00Z","features":[{"name":"a","percentage":101}]}"#,
            "percentage",
        ),
    ];
    for (text, expected) in cases {
        let error = Export::parse(text).unwrap_err().to_string();
        assert!(error.contains(expected), "{text}: {error}");
    }
}
