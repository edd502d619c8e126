//! Writers in several processes at once: two stores (as two Ramp processes, each with its own
//! connections and in-process locks) and an outside writer that edits the gem's payload by hand
//! (atomically, as a careful Ruby script would) all add users to one feature. WATCH makes every
//! Ramp write start again when someone else wrote first, so nobody's users are lost.

mod common;

use std::collections::HashSet;

use ramp_core::{Attribution, Change, FeatureName, UserId};
use ramp_store::Store;
use ramp_store_redis::RedisStore;

const WRITERS_PER_STORE: usize = 4;
const USERS_EACH: usize = 60;
const OUTSIDE_USERS: usize = 60;

/// Appends a user to a gem payload's second field.
fn with_user(payload: &str, user: &str) -> String {
    let mut fields: Vec<String> = payload.splitn(4, '|').map(str::to_owned).collect();
    fields.resize(4.max(fields.len()), String::new());
    if !fields[1].is_empty() {
        fields[1].push(',');
    }
    fields[1].push_str(user);
    fields.join("|")
}

/// What a careful outside writer does: WATCH, read, write in MULTI/EXEC, retry on conflict.
async fn outside_writer(prefix: String) {
    let mut redis = common::raw(0).await;
    let key = format!("{prefix}feature:contended");
    for index in 0..OUTSIDE_USERS {
        loop {
            let _: () = redis::cmd("WATCH")
                .arg(&key)
                .query_async(&mut redis)
                .await
                .unwrap();
            let payload: Option<String> = redis::cmd("GET")
                .arg(&key)
                .query_async(&mut redis)
                .await
                .unwrap();
            let payload = with_user(
                payload.as_deref().unwrap_or("0|||{}"),
                &format!("ruby-{index}"),
            );
            let committed: Option<()> = redis::pipe()
                .atomic()
                .set(&key, payload)
                .ignore()
                .query_async(&mut redis)
                .await
                .unwrap();
            if committed.is_some() {
                break;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_ramp_processes_and_an_outside_writer_lose_nothing() {
    if !common::redis_available("concurrency") {
        return;
    }
    let (first, _guard) = common::store("").await;
    let prefix = first.url().prefix.clone();
    let second = RedisStore::open_url(&format!("{}/0?prefix={prefix}", common::REDIS))
        .await
        .unwrap();
    let feature = FeatureName::new("contended").unwrap();
    first
        .apply(
            &feature,
            &Change::Activate,
            None,
            &Attribution::new("setup"),
        )
        .await
        .unwrap();
    let stores = std::sync::Arc::new([first, second]);
    let mut tasks = vec![tokio::spawn(outside_writer(prefix.clone()))];
    for (which, writer) in
        (0..2).flat_map(|which| (0..WRITERS_PER_STORE).map(move |writer| (which, writer)))
    {
        let (stores, feature) = (std::sync::Arc::clone(&stores), feature.clone());
        tasks.push(tokio::spawn(async move {
            for user in 0..USERS_EACH {
                let id = UserId::new(format!("{which}-{writer}-{user}")).unwrap();
                let change = Change::AddUsers { users: vec![id] };
                stores[which]
                    .apply(&feature, &change, None, &Attribution::new("w"))
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stored = stores[0].feature(&feature).await.unwrap().unwrap();
    let users: HashSet<&str> = stored.users.iter().map(UserId::as_str).collect();
    let expected = 2 * WRITERS_PER_STORE * USERS_EACH + OUTSIDE_USERS;
    assert_eq!(
        stored.users.len(),
        expected,
        "every writer's users are there, once"
    );
    assert_eq!(users.len(), expected);
    assert!((0..OUTSIDE_USERS).all(|index| users.contains(format!("ruby-{index}").as_str())));
}
