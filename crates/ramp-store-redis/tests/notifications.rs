//! Change notices across programs: another Ramp process's writes arrive through Pub/Sub with
//! the feature's name; a Ruby app's writes (raw SETs here, exactly what the gem sends) are
//! noticed within a second by the watcher's digest poll; nothing changed means no notice.

mod common;

use std::time::{Duration, Instant};

use ramp_core::{Attribution, Change, FeatureName};
use ramp_store::{ChangeNotice, Store};
use ramp_store_redis::RedisStore;
use redis::AsyncCommands;
use tokio::sync::broadcast::Receiver;

fn name(text: &str) -> FeatureName {
    FeatureName::new(text).unwrap()
}

async fn next(notices: &mut Receiver<ChangeNotice>, within: Duration) -> Option<ChangeNotice> {
    tokio::time::timeout(within, notices.recv())
        .await
        .ok()
        .map(Result::unwrap)
}

/// A second store on the same prefix, as another Ramp process would open.
async fn twin(store: &RedisStore) -> RedisStore {
    let url = format!("{}/0?prefix={}", common::REDIS, store.url().prefix);
    RedisStore::open_url(&url).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_ramp_process_is_heard_with_the_feature_name() {
    if !common::redis_available("notifications") {
        return;
    }
    let (writer, _guard) = common::store("").await;
    let reader = twin(&writer).await;
    let mut notices = reader.subscribe();
    // The watcher subscribes at once, but a message sent before it has is only caught by the
    // poll, without the name: probe until a write is heard by name, so Pub/Sub is live.
    let deadline = Instant::now() + Duration::from_secs(10);
    for percentage in 1.. {
        assert!(Instant::now() < deadline, "no probe was heard by name");
        let change = Change::SetPercentage {
            percentage: ramp_core::Percentage::new(f64::from(percentage)).unwrap(),
        };
        writer
            .apply(&name("probe"), &change, None, &Attribution::new("ana"))
            .await
            .unwrap();
        let heard = next(&mut notices, Duration::from_millis(200)).await;
        if heard.and_then(|notice| notice.feature) == Some(name("probe")) {
            break;
        }
    }
    while next(&mut notices, Duration::from_millis(50))
        .await
        .is_some()
    {}
    writer
        .apply(
            &name("chat"),
            &Change::Activate,
            None,
            &Attribution::new("ana"),
        )
        .await
        .unwrap();
    let notice = next(&mut notices, Duration::from_secs(2))
        .await
        .expect("a notice");
    assert_eq!(notice.feature, Some(name("chat")));
    assert_eq!(notice.version, writer.snapshot().await.unwrap().version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_by_programs_that_publish_nothing_are_noticed_within_a_second() {
    if !common::redis_available("notifications") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = store.url().prefix.clone();
    store
        .apply(
            &name("chat"),
            &Change::Activate,
            None,
            &Attribution::new("ana"),
        )
        .await
        .unwrap();
    let mut notices = store.subscribe();
    let version = store.snapshot().await.unwrap().version;
    assert!(
        next(&mut notices, Duration::from_millis(1200))
            .await
            .is_none(),
        "no change, no notice"
    );

    let mut redis = common::raw(0).await;
    let started = Instant::now();
    // The gem's activate_percentage on a new feature: SET the payload, SET the registry.
    let _: () = redis
        .set(format!("{prefix}feature:ruby"), "20|||{}")
        .await
        .unwrap();
    let _: () = redis
        .set(format!("{prefix}feature:__features__"), "chat,ruby")
        .await
        .unwrap();
    let notice = next(&mut notices, Duration::from_secs(1))
        .await
        .expect("noticed within 1 s");
    assert!(
        notice.version > version && notice.feature.is_none(),
        "{notice:?}"
    );
    eprintln!("a Ruby write was noticed after {:?}", started.elapsed());
    assert_eq!(store.snapshot().await.unwrap().version, notice.version);

    // Changing an existing payload without changing its length is noticed too.
    let _: () = redis
        .set(format!("{prefix}feature:ruby"), "30|||{}")
        .await
        .unwrap();
    let notice = next(&mut notices, Duration::from_secs(1))
        .await
        .expect("noticed");
    assert!(notice.feature.is_none());

    // And so is the gem's delete (registry rewritten, key deleted).
    let _: () = redis
        .set(format!("{prefix}feature:__features__"), "chat")
        .await
        .unwrap();
    let _: () = redis.del(format!("{prefix}feature:ruby")).await.unwrap();
    next(&mut notices, Duration::from_secs(1))
        .await
        .expect("noticed");
    assert_eq!(store.snapshot().await.unwrap().features.len(), 1);
}

#[tokio::test]
async fn an_explicit_check_finds_outside_changes_at_once() {
    if !common::redis_available("notifications") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = store.url().prefix.clone();
    assert_eq!(store.check_for_outside_changes().await.unwrap(), 0);
    let mut redis = common::raw(0).await;
    let _: () = redis
        .set(format!("{prefix}feature:a"), "100|||")
        .await
        .unwrap();
    let _: () = redis
        .set(format!("{prefix}feature:__features__"), "a")
        .await
        .unwrap();
    let mut notices = store.subscribe();
    assert_eq!(store.check_for_outside_changes().await.unwrap(), 1);
    assert!(notices.try_recv().is_ok());
    assert_eq!(store.check_for_outside_changes().await.unwrap(), 0);
    // Ramp's own writes keep the digests current: they are never mistaken for outside ones.
    store
        .apply(
            &name("a"),
            &Change::Deactivate,
            None,
            &Attribution::new("ana"),
        )
        .await
        .unwrap();
    assert_eq!(store.check_for_outside_changes().await.unwrap(), 0);
}
