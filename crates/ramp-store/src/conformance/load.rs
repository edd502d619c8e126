//! Checks of notices, large lists and concurrent writers.

use super::*;

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
