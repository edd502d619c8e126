//! The gem's format on a real Redis: payloads and registry strings written by hand (as the gem
//! or an old UI left them) are read as leniently as the gem reads them, a broken one never
//! breaks the others, and what Ramp writes is byte for byte the gem's layout.

mod common;

use ramp_core::{
    Attribution, Change, CodeGroups, CompiledSnapshot, Context, FeatureName, Percentage, UserId,
};
use ramp_store::Store;
use ramp_store_redis::RedisStore;
use redis::AsyncCommands;
use serde_json::json;

fn name(text: &str) -> FeatureName {
    FeatureName::new(text).unwrap()
}

fn ana() -> Attribution {
    Attribution::new("ana")
}

/// Writes raw payloads and the registry under `prefix`, as the gem would.
async fn write_raw(prefix: &str, payloads: &[(&str, &str)], registry: &str) {
    let mut redis = common::raw(0).await;
    for (feature, payload) in payloads {
        let _: () = redis
            .set(format!("{prefix}feature:{feature}"), *payload)
            .await
            .unwrap();
    }
    let _: () = redis
        .set(format!("{prefix}feature:__features__"), registry)
        .await
        .unwrap();
}

fn prefix_of(store: &RedisStore) -> String {
    store.url().prefix.clone()
}

#[tokio::test]
async fn hand_written_payloads_read_as_the_gem_reads_them() {
    if !common::redis_available("gem_format") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = prefix_of(&store);
    let payloads = [
        ("on", "100|||{}"),
        ("old", "20|1,2|beta"),
        ("underscore", "1_0|||"),
        ("point", ".5|||"),
        ("exponent", "1e1|||"),
        ("junk", "12abc|||"),
        ("empties", "0|,1,,2,||"),
        ("blank", "30|||   "),
        ("duplicates", r#"0|||{"owner":"a","owner":"b"}"#),
        ("pipes", r#"5|||{"description":"a|b|c"}"#),
        ("above", "150|||{}"),
        ("broken", r#"100|1|beta|{"description":"#),
        ("control", "0|1,\u{1}x,2||{}"),
    ];
    let registry = "on,old,underscore,point,exponent,junk,empties,blank,duplicates,pipes,above,broken,control,,missing,has space,";
    write_raw(&prefix, &payloads, registry).await;

    let snapshot = store.snapshot().await.unwrap();
    let get = |feature: &str| {
        snapshot
            .features
            .iter()
            .find(|candidate| candidate.name.as_str() == feature)
            .unwrap_or_else(|| panic!("{feature} is missing"))
    };
    let names: Vec<&str> = snapshot
        .features
        .iter()
        .map(|feature| feature.name.as_str())
        .collect();
    assert_eq!(
        names.len(),
        payloads.len(),
        "{names:?}: no `missing`, no `has space`, no empty name"
    );
    assert_eq!(get("on").percentage, Percentage::ALL);
    let old = get("old");
    assert_eq!(
        (old.percentage.value(), old.users.len(), old.groups.len()),
        (20.0, 2, 1)
    );
    assert_eq!(get("underscore").percentage.value(), 10.0);
    assert_eq!(get("point").percentage.value(), 0.5);
    assert_eq!(get("exponent").percentage.value(), 10.0);
    assert_eq!(get("junk").percentage.value(), 12.0);
    let empties: Vec<&str> = get("empties").users.iter().map(UserId::as_str).collect();
    assert_eq!(empties, ["1", "2"]);
    assert!(get("blank").data.is_empty());
    assert_eq!(get("duplicates").data.get("owner"), Some(&json!("b")));
    assert_eq!(get("pipes").description(), Some("a|b|c"));
    assert_eq!(get("control").users.len(), 2);
    let broken = get("broken");
    assert!(broken.damaged.as_deref().unwrap().contains("JSON"));

    let compiled = CompiledSnapshot::compile(&snapshot);
    let groups = CodeGroups::new();
    assert!(
        !compiled.is_active("broken", &Context::user("1"), &groups),
        "damaged is off"
    );
    assert!(
        compiled.is_active("above", &Context::user("1"), &groups),
        "above 100: every user"
    );
    assert!(
        !compiled.is_active("above", &Context::anonymous(), &groups),
        "but not nobody"
    );
    assert!(compiled.is_active("on", &Context::anonymous(), &groups));

    // The next write replaces the damaged payload.
    let repaired = store
        .apply(&name("broken"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    assert!(repaired.feature.damaged.is_none());
    assert!(store
        .feature(&name("broken"))
        .await
        .unwrap()
        .unwrap()
        .damaged
        .is_none());
}

#[tokio::test]
async fn a_key_of_another_type_is_one_damaged_feature() {
    if !common::redis_available("gem_format") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = prefix_of(&store);
    write_raw(&prefix, &[("fine", "100|||{}")], "fine,hashed").await;
    let mut redis = common::raw(0).await;
    let _: () = redis
        .hset(format!("{prefix}feature:hashed"), "a", "b")
        .await
        .unwrap();
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(snapshot.features.len(), 2);
    assert!(
        snapshot.features[1].damaged.is_some(),
        "{:?}",
        snapshot.features[1]
    );
    let hashed = store.feature(&name("hashed")).await.unwrap().unwrap();
    assert!(hashed.damaged.unwrap().contains("type"));
    store
        .apply(&name("hashed"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    assert!(store
        .feature(&name("hashed"))
        .await
        .unwrap()
        .unwrap()
        .damaged
        .is_none());
}

#[tokio::test]
async fn ramp_writes_the_gems_layout() {
    if !common::redis_available("gem_format") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = prefix_of(&store);
    let chat = name("chat");
    let steps = [
        Change::SetPercentage {
            percentage: Percentage::new(12.5).unwrap(),
        },
        Change::AddUsers {
            users: vec![UserId::new("1").unwrap(), UserId::new("user-72").unwrap()],
        },
        Change::AddGroups {
            groups: vec!["beta".parse().unwrap()],
        },
        Change::SetData {
            data: json!({"description": "a|b"}).as_object().unwrap().clone(),
        },
        Change::ExcludeUsers {
            users: vec![UserId::new("9").unwrap()],
        },
    ];
    for step in &steps {
        store.apply(&chat, step, None, &ana()).await.unwrap();
    }
    store
        .apply(&name("beta-flag"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let mut redis = common::raw(0).await;
    let payload: String = redis.get(format!("{prefix}feature:chat")).await.unwrap();
    let (head, data) = payload.split_at(payload.find('{').unwrap());
    assert_eq!(head, "12.5|1,user-72|beta|");
    let data: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(data["description"], "a|b");
    assert_eq!(data["__ramp"]["version"], 5);
    assert_eq!(data["__ramp"]["excluded"], json!(["9"]));
    let registry: String = redis
        .get(format!("{prefix}feature:__features__"))
        .await
        .unwrap();
    assert_eq!(registry, "chat,beta-flag", "first-saved order");
    let on: String = redis
        .get(format!("{prefix}feature:beta-flag"))
        .await
        .unwrap();
    assert!(on.starts_with("100.0|||{\"__ramp\":"), "{on}");
    let read = store.feature(&chat).await.unwrap().unwrap();
    assert!(
        !read.data.contains_key("__ramp"),
        "the reserved key stays inside"
    );
    assert_eq!(read.excluded_users, vec![UserId::new("9").unwrap()]);

    store.delete(&chat, None, &ana()).await.unwrap();
    let registry: String = redis
        .get(format!("{prefix}feature:__features__"))
        .await
        .unwrap();
    assert_eq!(registry, "beta-flag");
    let exists: bool = redis.exists(format!("{prefix}feature:chat")).await.unwrap();
    assert!(!exists);
}

#[tokio::test]
async fn the_registry_is_merged_like_the_gem_merges_it() {
    if !common::redis_available("gem_format") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = prefix_of(&store);
    write_raw(&prefix, &[("x", "0|||"), ("y", "0|||")], "x,,y,x,").await;
    store
        .apply(&name("z"), &Change::Activate, None, &ana())
        .await
        .unwrap();
    let mut redis = common::raw(0).await;
    let registry: String = redis
        .get(format!("{prefix}feature:__features__"))
        .await
        .unwrap();
    // Ruby: ("x,,y,x,".split(",") | ["z"]).join(",")
    assert_eq!(registry, "x,,y,z");
    // A key the registry lost (the gem's racing writers) is still readable by name.
    let _: () = redis
        .set(format!("{prefix}feature:lost"), "100|||")
        .await
        .unwrap();
    assert!(store.feature(&name("lost")).await.unwrap().is_some());
    assert!(store
        .snapshot()
        .await
        .unwrap()
        .features
        .iter()
        .all(|feature| feature.name.as_str() != "lost"));
}

#[tokio::test]
async fn an_outside_edit_bumps_the_feature_and_store_versions() {
    if !common::redis_available("gem_format") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = prefix_of(&store);
    let chat = name("chat");
    store
        .apply(&chat, &Change::Activate, None, &ana())
        .await
        .unwrap();
    let before = store.snapshot().await.unwrap();
    let mut redis = common::raw(0).await;
    let key = format!("{prefix}feature:chat");
    let payload: String = redis.get(&key).await.unwrap();
    // What the gem's activate_user does to Ramp's payload: users change, `__ramp` is kept.
    let edited = payload.replacen("100.0||", "100.0|42|", 1);
    let _: () = redis.set(&key, edited).await.unwrap();
    let after = store.snapshot().await.unwrap();
    assert!(
        after.version > before.version,
        "the store version reflects the edit"
    );
    let feature = &after.features[0];
    assert_eq!(feature.version, 2, "the edit counts as a version");
    assert_eq!(feature.users, vec![UserId::new("42").unwrap()]);
    let stale = store
        .apply(&chat, &Change::Deactivate, Some(1), &ana())
        .await;
    assert!(
        matches!(
            stale,
            Err(ramp_store::StoreError::Conflict { actual: 2, .. })
        ),
        "{stale:?}"
    );
}
