//! Credentials on a real Redis: they live in `{prefix}ramp:credentials` and nowhere the Ruby
//! gem looks (no `feature:` key, no registry entry, no version bump), a Ruby app's write of a
//! feature of the same name is unaffected, and an entry tampered with is skipped rather than
//! hiding the others. The shared behaviour is in the conformance suite.

mod common;

use chrono::{DateTime, Utc};
use ramp_core::FeatureName;
use ramp_store::{Credential, CredentialKind, Role, Store};
use redis::AsyncCommands;

fn token(name: &str) -> Credential {
    Credential {
        name: name.to_owned(),
        kind: CredentialKind::Token,
        role: Role::Admin,
        secret_hash: "hash".to_owned(),
        created_at: DateTime::<Utc>::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
        created_by: "ana".to_owned(),
    }
}

/// Every key under `prefix`, sorted.
async fn keys(redis: &mut redis::aio::MultiplexedConnection, prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = redis.keys(format!("{prefix}*")).await.unwrap();
    keys.sort();
    keys
}

#[tokio::test]
async fn credentials_live_only_in_their_hash() {
    if !common::redis_available("credentials") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = store.url().prefix.clone();
    let mut redis = common::raw(0).await;
    // Names that would be features, or the registry, if they leaked into `feature:`.
    for name in ["chat", "__features__"] {
        store.create_credential(&token(name)).await.unwrap();
    }
    assert_eq!(
        keys(&mut redis, &prefix).await,
        [format!("{prefix}ramp:credentials")]
    );
    let stored: String = redis
        .hget(format!("{prefix}ramp:credentials"), "token:chat")
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Credential>(&stored).unwrap(),
        token("chat")
    );

    // A Ruby app activating a feature of the same name: both stay as they are.
    let _: () = redis
        .set(format!("{prefix}feature:chat"), "100|||{}")
        .await
        .unwrap();
    let _: () = redis
        .set(format!("{prefix}feature:__features__"), "chat")
        .await
        .unwrap();
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(snapshot.features.len(), 1);
    assert_eq!(snapshot.features[0].name, FeatureName::new("chat").unwrap());
    assert_eq!(store.credentials().await.unwrap().len(), 2);
    store
        .delete_credential(CredentialKind::Token, "chat")
        .await
        .unwrap();
    assert!(store
        .feature(&FeatureName::new("chat").unwrap())
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_tampered_entry_is_skipped() {
    if !common::redis_available("credentials") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let key = format!("{}ramp:credentials", store.url().prefix);
    store.create_credential(&token("good")).await.unwrap();
    let mut redis = common::raw(0).await;
    let moved = serde_json::to_string(&token("other")).unwrap();
    let _: () = redis.hset(&key, "token:junk", "{not json").await.unwrap();
    let _: () = redis.hset(&key, "password:other", moved).await.unwrap();
    assert_eq!(store.credentials().await.unwrap(), vec![token("good")]);
}
