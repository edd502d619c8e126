//! Stored groups' history on a real Redis: events live in `{prefix}ramp:group-events` only
//! (never in a set the gem reads), trimmed like the gem's sets; their ids are unique across
//! that set and the gem's global set and keep growing; writers in different processes (here:
//! two stores, which do not share their in-process turn-taking) still chain their events; and
//! nothing about groups is mistaken for a feature. The shared behaviour is in the conformance
//! suite.

mod common;

use std::sync::Arc;

use chrono::Utc;
use ramp_core::{Attribution, GroupName, HistoryEvent, StoredGroup, Subject, UserId};
use ramp_store::{HistoryQuery, Store};
use ramp_store_redis::RedisStore;
use redis::AsyncCommands;
use serde_json::Value;

fn group(description: &str, members: &[&str]) -> StoredGroup {
    StoredGroup {
        name: GroupName::new("beta").unwrap(),
        description: description.into(),
        members: members.iter().map(|id| UserId::new(*id).unwrap()).collect(),
        rules: vec![],
    }
}

fn group_query() -> HistoryQuery {
    HistoryQuery {
        group: Some(GroupName::new("beta").unwrap()),
        limit: 100,
        ..HistoryQuery::default()
    }
}

#[tokio::test]
async fn group_events_stay_out_of_the_gem_sets_and_are_trimmed() {
    if !common::redis_available("group history") {
        return;
    }
    let (store, _guard) = common::store("&history_limit=3").await;
    let prefix = store.url().prefix.clone();
    let ana = Attribution::new("ana");
    let mut redis = common::raw(0).await;
    // A gem event dated in the future: a group's event must still get a newer, distinct id.
    let future = (Utc::now().timestamp_micros() + 10_000_000) as f64;
    let gem_member = r#"{"feature":"chat","name":"update","data":{},"context":{"actor":"rb"}}"#;
    let _: () = redis
        .zadd(
            format!("{prefix}feature:_global_:logging:events"),
            gem_member,
            -future,
        )
        .await
        .unwrap();
    for step in 0..5 {
        let edit = group(&format!("step {step}"), &["1"]);
        let applied = store.put_group(&edit, None, &ana).await.unwrap();
        assert!(applied.event.unwrap().id > future as u64);
    }
    let members: Vec<(String, f64)> = redis
        .zrange_withscores(format!("{prefix}ramp:group-events"), 0, -1)
        .await
        .unwrap();
    assert_eq!(
        members.len(),
        3,
        "trimmed to history_limit like the gem's sets"
    );
    let newest: Value = serde_json::from_str(&members[0].0).unwrap();
    assert_eq!(newest["group"], "beta");
    assert!(
        newest.get("id").is_none(),
        "the id is the score, not the member"
    );
    let global: Vec<String> = redis
        .zrange(format!("{prefix}feature:_global_:logging:events"), 0, -1)
        .await
        .unwrap();
    assert_eq!(global, [gem_member], "no group event where the gem reads");
    let mut keys: Vec<String> = redis.keys(format!("{prefix}feature:*")).await.unwrap();
    keys.sort();
    assert_eq!(keys, [format!("{prefix}feature:_global_:logging:events")]);

    // Everything, newest first: the three group events (newer than the gem's), then the gem's.
    let all = store.history(&HistoryQuery::default()).await.unwrap();
    let subjects: Vec<String> = all.iter().map(|event| event.subject.to_string()).collect();
    assert_eq!(
        subjects,
        ["group beta", "group beta", "group beta", "feature chat"]
    );
    assert!(all.windows(2).all(|pair| pair[0].id > pair[1].id));
    // A group event copied with the time of a gem event newer than everything: it is kept (the
    // newest of its set) with an id of its own, so each id still finds one event.
    let later = all[0].id + 1_000;
    let later_member = gem_member.replace("rb", "rb later");
    let _: () = redis
        .zadd(
            format!("{prefix}feature:_global_:logging:events"),
            &later_member,
            -(later as f64),
        )
        .await
        .unwrap();
    let copied = HistoryEvent {
        id: 0,
        subject: Subject::Group(GroupName::new("gamma").unwrap()),
        time: chrono::DateTime::from_timestamp_micros(later as i64).unwrap(),
        ..all[0].clone()
    };
    assert_eq!(store.import_history(&[copied]).await.unwrap(), 1);
    let gamma = store
        .history(&HistoryQuery {
            group: Some(GroupName::new("gamma").unwrap()),
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(gamma.len(), 1);
    assert_ne!(gamma[0].id, later);
    let found = store.history_event(later).await.unwrap().unwrap();
    assert_eq!(found.feature().map(|name| name.as_str()), Some("chat"));
    let found = store.history_event(gamma[0].id).await.unwrap().unwrap();
    assert_eq!(found, gamma[0]);

    // Groups are not features: no digest, no registry entry, no unannounced change.
    assert!(store.snapshot().await.unwrap().features.is_empty());
    assert_eq!(store.check_for_outside_changes().await.unwrap(), 0);
    let digests: std::collections::HashMap<String, String> = redis
        .hgetall(format!("{prefix}ramp:digests"))
        .await
        .unwrap();
    assert!(digests.is_empty(), "{digests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_in_different_processes_chain_their_events() {
    const WRITERS: usize = 16;
    if !common::redis_available("group history") {
        return;
    }
    let (first, _guard) = common::store("").await;
    let url = format!("{}/0?prefix={}", common::REDIS, first.url().prefix);
    // Separate stores share no in-process lock: only the script's version check keeps their
    // events chained.
    let mut stores: Vec<Arc<RedisStore>> = vec![Arc::new(first)];
    for _ in 1..4 {
        stores.push(Arc::new(RedisStore::open_url(&url).await.unwrap()));
    }
    let ana = Attribution::new("ana");
    stores[0]
        .put_group(&group("start", &[]), Some(0), &ana)
        .await
        .unwrap();
    let start = Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = Arc::clone(&stores[writer % stores.len()]);
        let start = Arc::clone(&start);
        tasks.push(tokio::spawn(async move {
            let id = writer.to_string();
            let edit = group(&format!("writer {writer}"), &[id.as_str()]);
            start.wait().await;
            store
                .put_group(&edit, None, &Attribution::new("ana"))
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().event.is_some());
    }
    let mut events = stores[0].history(&group_query()).await.unwrap();
    assert_eq!(events.len(), WRITERS + 1);
    events.reverse();
    ramp_store::conformance::assert_descriptions_chain(&events);
}
