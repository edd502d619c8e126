//! Checks of history filtered by the store (feature, actor, time window, paging) and of the
//! latest event per feature. Each filtered read is compared with `HistoryQuery::keeps` applied
//! to the whole history, page by page, so every backend's query agrees with one definition.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use ramp_core::{FieldChange, HistoryEvent, Subject, ValueField};
use serde_json::Value;

use super::*;

/// Copied events (so their actors and times are chosen) filtered by every filter alone and in
/// combination, each read in pages of several sizes. Some events are a group's, one of them
/// named like a feature: a feature's history never shows the group's, nor the other way.
pub async fn history_filters_match_their_definition(store: Arc<dyn Store>) {
    let start: DateTime<Utc> = "2026-03-01T09:00:00Z".parse().unwrap();
    let actors = ["ana", "bo", "cy"];
    let group = |name: &str| Subject::Group(GroupName::new(name).unwrap());
    let subjects = [
        Subject::Feature(name("chat")),
        Subject::Feature(name("search")),
        group("chat"),
        group("beta"),
    ];
    let copied: Vec<HistoryEvent> = (0..24)
        .map(|step| HistoryEvent {
            id: 0,
            subject: subjects[step % 4].clone(),
            action: Action::Updated,
            actor: actors[step % 3].into(),
            time: start + Duration::minutes(step as i64 * 7),
            comment: None,
            changes: vec![FieldChange::value(
                ValueField::Data("step".into()),
                Value::Null,
                json!(step),
            )],
        })
        .collect();
    assert_eq!(store.import_history(&copied).await.unwrap(), copied.len());
    let all = read_all(&store, &HistoryQuery::default()).await;
    assert_eq!(all.len(), copied.len());
    let time = |step: usize| all[all.len() - 1 - step].time;
    let queries = [
        HistoryQuery {
            actor: Some("bo".into()),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            actor: Some("nobody".into()),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            since: Some(time(10)),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            until: Some(time(10)),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            since: Some(time(5)),
            until: Some(time(17)),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            since: Some(time(20)),
            until: Some(time(4)),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            feature: Some(name("search")),
            actor: Some("ana".into()),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            feature: Some(name("chat")),
            actor: Some("cy".into()),
            since: Some(time(3)),
            until: Some(time(21)),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            actor: Some("ana".into()),
            since: Some(time(2) + Duration::seconds(1)),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            feature: Some(name("chat")),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            group: Some(GroupName::new("chat").unwrap()),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            group: Some(GroupName::new("beta").unwrap()),
            actor: Some("bo".into()),
            since: Some(time(4)),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            feature: Some(name("chat")),
            group: Some(GroupName::new("chat").unwrap()),
            ..HistoryQuery::default()
        },
    ];
    for query in &queries {
        let expected: Vec<&HistoryEvent> = all.iter().filter(|event| query.keeps(event)).collect();
        for limit in [1, 2, 5, 100] {
            let query = HistoryQuery {
                limit,
                ..query.clone()
            };
            let read = read_all(&store, &query).await;
            assert_eq!(
                read.iter().collect::<Vec<_>>(),
                expected,
                "{query:?} read in pages of {limit}"
            );
        }
    }
    assert!(
        queries
            .iter()
            .any(|query| all.iter().filter(|event| query.keeps(event)).count() > 5),
        "some query matches more than one page"
    );
}

/// The filters on events written through the store's own writes (so also through a server,
/// where the actor is the token's name): each filter, and paging, agree with the definition.
pub async fn history_filters_on_live_writes(store: Arc<dyn Store>) {
    for step in 0..8 {
        let feature = if step % 2 == 0 { "chat" } else { "search" };
        let who = Attribution::new(if step % 3 == 0 { "ana" } else { "bo" });
        let data = serde_json::Map::from_iter([("step".to_owned(), json!(step))]);
        store
            .apply(&name(feature), &Change::SetData { data }, None, &who)
            .await
            .unwrap();
    }
    let all = read_all(&store, &HistoryQuery::default()).await;
    assert_eq!(all.len(), 8);
    let queries = [
        HistoryQuery {
            actor: Some(all[0].actor.clone()),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            actor: Some("nobody".into()),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            since: Some(all[4].time),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            until: Some(all[2].time),
            ..HistoryQuery::default()
        },
        HistoryQuery {
            feature: Some(name("chat")),
            actor: Some(all[1].actor.clone()),
            since: Some(all[6].time),
            until: Some(all[0].time),
            ..HistoryQuery::default()
        },
    ];
    for query in queries {
        let expected: Vec<&HistoryEvent> = all.iter().filter(|event| query.keeps(event)).collect();
        let query = HistoryQuery { limit: 2, ..query };
        let read = read_all(&store, &query).await;
        assert_eq!(read.iter().collect::<Vec<_>>(), expected, "{query:?}");
    }
}

/// The latest event of each feature asked for, in one call: the same event its own history
/// starts with; features without history are absent.
pub async fn latest_events_are_each_features_newest(store: Arc<dyn Store>) {
    for (feature, percentage) in [("chat", 10.0), ("search", 20.0), ("chat", 30.0)] {
        store
            .apply(
                &name(feature),
                &Change::SetPercentage {
                    percentage: Percentage::new(percentage).unwrap(),
                },
                None,
                &ana(),
            )
            .await
            .unwrap();
    }
    store
        .apply(&name("gone"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    store.delete(&name("gone"), None, &ana()).await.unwrap();
    // A group named like a feature, edited last: its events are not the feature's.
    let chat_group = StoredGroup {
        name: GroupName::new("chat").unwrap(),
        description: "a group, not the feature".into(),
        members: users(&["1"]),
        rules: vec![],
    };
    store.put_group(&chat_group, None, &ana()).await.unwrap();
    let asked = [name("chat"), name("search"), name("gone"), name("never")];
    let latest = store.latest_events(&asked).await.unwrap();
    let mut expected = HashMap::new();
    for feature in &asked {
        let query = HistoryQuery {
            feature: Some(feature.clone()),
            limit: 1,
            ..HistoryQuery::default()
        };
        if let Some(event) = store.history(&query).await.unwrap().pop() {
            expected.insert(feature.clone(), event);
        }
    }
    assert_eq!(expected.len(), 3);
    assert_eq!(latest, expected);
    assert_eq!(latest[&name("gone")].action, Action::Deleted);
    assert_eq!(
        latest[&name("chat")].changes[0].to_string(),
        "percentage from 10.0 to 30.0"
    );
    assert!(store.latest_events(&[]).await.unwrap().is_empty());
}

/// Every event `query` matches, read page by page (`limit` at a time, each page starting
/// before the last one's oldest event) until a page comes back short.
async fn read_all(store: &Arc<dyn Store>, query: &HistoryQuery) -> Vec<HistoryEvent> {
    let mut events: Vec<HistoryEvent> = Vec::new();
    let limit = if query.limit == 0 { 1000 } else { query.limit };
    loop {
        let page = store
            .history(&HistoryQuery {
                limit,
                before_id: events.last().map(|event| event.id).or(query.before_id),
                ..query.clone()
            })
            .await
            .unwrap();
        assert!(page.len() <= limit, "a page holds at most its limit");
        assert!(
            page.iter().all(|event| query.keeps(event)),
            "every event read matches {query:?}"
        );
        let short = page.len() < limit;
        events.extend(page);
        if short {
            return events;
        }
    }
}
