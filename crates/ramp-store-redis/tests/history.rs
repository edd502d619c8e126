//! History in the gem's logging format on a real Redis: what Ramp writes is what the gem's
//! logger writes (plus `context.ramp`), trimmed like the gem; events the gem wrote (raw members
//! here; the real gem in `differential.rs`) are listed, paged and found by id.

mod common;

use ramp_core::{Action, Attribution, Change, FeatureName, Percentage, UserId};
use ramp_store::{HistoryQuery, Store};
use redis::AsyncCommands;
use serde_json::{json, Value};

fn name(text: &str) -> FeatureName {
    FeatureName::new(text).unwrap()
}

#[tokio::test]
async fn ramp_events_are_gem_events_trimmed_like_the_gem() {
    if !common::redis_available("history") {
        return;
    }
    let (store, _guard) = common::store("&history_limit=5").await;
    let prefix = store.url().prefix.clone();
    let chat = name("chat");
    let ana = Attribution {
        actor: "ana".into(),
        comment: Some("launch".into()),
    };
    store
        .apply(
            &chat,
            &Change::SetPercentage {
                percentage: Percentage::new(20.0).unwrap(),
            },
            None,
            &ana,
        )
        .await
        .unwrap();
    let applied = store
        .apply(
            &chat,
            &Change::AddUsers {
                users: vec![UserId::new("7").unwrap()],
            },
            None,
            &ana,
        )
        .await
        .unwrap();
    let event = applied.event.unwrap();
    let mut redis = common::raw(0).await;
    let newest: Vec<(String, f64)> = redis
        .zrange_withscores(format!("{prefix}feature:chat:logging:events"), 0, 0)
        .await
        .unwrap();
    let (member, score) = &newest[0];
    assert_eq!(-*score as u64, event.id, "the score is minus the id");
    let member: Value = serde_json::from_str(member).unwrap();
    assert_eq!(member["feature"], "chat");
    assert_eq!(member["name"], "update");
    assert_eq!(member["data"]["before"], json!({"users": []}));
    assert_eq!(member["data"]["after"], json!({"users": ["7"]}));
    assert_eq!(member["context"]["actor"], "ana");
    assert_eq!(member["context"]["comment"], "launch");
    assert!(member["created_at"].as_str().unwrap().ends_with(" +0000"));

    for step in 3..=8 {
        let percentage = Percentage::new(f64::from(step)).unwrap();
        store
            .apply(&chat, &Change::SetPercentage { percentage }, None, &ana)
            .await
            .unwrap();
    }
    let kept: usize = redis
        .zcard(format!("{prefix}feature:chat:logging:events"))
        .await
        .unwrap();
    let global: usize = redis
        .zcard(format!("{prefix}feature:_global_:logging:events"))
        .await
        .unwrap();
    assert_eq!((kept, global), (5, 5), "trimmed to history_limit");
    let listed = store.history(&HistoryQuery::default()).await.unwrap();
    assert_eq!(listed.len(), 5);
    assert_eq!(
        listed[0].changes[0].to_string(),
        "percentage from 7.0 to 8.0"
    );
}

/// What gem 2.5.0's logger stores (its `Event#serialize`), at a given time in microseconds.
fn gem_member(feature: &str, before: Value, after: Value, actor: Option<&str>) -> String {
    let context = actor.map_or(json!({}), |actor| json!({"actor": actor}));
    json!({"feature": feature, "name": "update", "data": {"before": before, "after": after}, "context": context})
        .to_string()
}

#[tokio::test]
async fn gem_events_are_listed_paged_and_found() {
    if !common::redis_available("history") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = store.url().prefix.clone();
    let mut redis = common::raw(0).await;
    let _: () = redis
        .set(format!("{prefix}feature:chat"), "30|1,2|beta|{}")
        .await
        .unwrap();
    let _: () = redis
        .set(format!("{prefix}feature:quiet"), "0|||{}")
        .await
        .unwrap();
    let _: () = redis
        .set(format!("{prefix}feature:__features__"), "chat,quiet")
        .await
        .unwrap();
    let base = 1_700_000_000_000_000_i64;
    let events = [
        (
            base + 1,
            gem_member(
                "chat",
                json!({"percentage": 0}),
                json!({"percentage": 30}),
                Some("rb"),
            ),
        ),
        (
            base + 2,
            gem_member(
                "chat",
                json!({"users": ["1"]}),
                json!({"users": ["1", "2"]}),
                None,
            ),
        ),
        (
            base + 3,
            gem_member(
                "chat",
                json!({"groups": [], "data.owner": null}),
                json!({"groups": ["beta"], "data.owner": "x"}),
                Some("rb"),
            ),
        ),
    ];
    for (time, member) in &events {
        for key in [
            "feature:chat:logging:events",
            "feature:_global_:logging:events",
        ] {
            let _: () = redis
                .zadd(format!("{prefix}{key}"), member, -time)
                .await
                .unwrap();
        }
    }
    // A gem without `global: true` writes only the per-feature set.
    let lone = gem_member(
        "quiet",
        json!({"percentage": 5}),
        json!({"percentage": 0}),
        Some("rb"),
    );
    let _: () = redis
        .zadd(
            format!("{prefix}feature:quiet:logging:events"),
            &lone,
            -(base + 4),
        )
        .await
        .unwrap();

    let all = store.history(&HistoryQuery::default()).await.unwrap();
    let ids: Vec<u64> = all.iter().map(|event| event.id).collect();
    assert_eq!(ids, [base as u64 + 3, base as u64 + 2, base as u64 + 1]);
    assert_eq!(all[0].changes.len(), 2);
    assert_eq!(all[0].changes[0].to_string(), "groups +1 (beta)");
    assert_eq!(all[1].actor, ramp_store_redis::UNKNOWN_ACTOR);
    assert_eq!(all[2].time.timestamp_micros(), base + 1);
    assert_eq!(all[2].action, Action::Updated);

    let page = HistoryQuery {
        feature: Some(name("chat")),
        before_id: Some(ids[0]),
        limit: 1,
        ..HistoryQuery::default()
    };
    let page = store.history(&page).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, ids[1]);

    assert_eq!(
        store.history_event(ids[2]).await.unwrap().unwrap().actor,
        "rb"
    );
    let found = store
        .history_event(base as u64 + 4)
        .await
        .unwrap()
        .expect("found in its feature's set");
    assert_eq!(found.feature(), Some(&name("quiet")));
    assert!(store
        .history_event(base as u64 + 5)
        .await
        .unwrap()
        .is_none());

    // Revert-style undo of a gem event gives the gem's "before".
    let before = all[1]
        .undo(Some(
            store.feature(&name("chat")).await.unwrap().unwrap().state(),
        ))
        .unwrap()
        .unwrap();
    assert_eq!(before.users, vec![UserId::new("1").unwrap()]);
}
