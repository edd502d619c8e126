//! Stored groups' versions on a real Redis: they live in `{prefix}ramp:group-versions`, beside
//! the groups in `{prefix}ramp:groups` (and their history in `{prefix}ramp:group-events`) and
//! nowhere the Ruby gem looks, and a group written before Ramp kept versions reads at version 1
//! and is written conditionally like any other. The shared behaviour is in the conformance
//! suite.

mod common;

use ramp_core::{Attribution, GroupName, StoredGroup};
use ramp_store::{Store, StoreError};
use redis::AsyncCommands;

#[tokio::test]
async fn versions_live_beside_the_groups_and_old_groups_are_at_version_1() {
    if !common::redis_available("group versions") {
        return;
    }
    let (store, _guard) = common::store("").await;
    let prefix = store.url().prefix.clone();
    let mut redis = common::raw(0).await;
    let staff = StoredGroup {
        name: GroupName::new("staff").unwrap(),
        description: String::new(),
        members: vec![],
        rules: vec![],
    };
    let ana = Attribution::new("ana");
    let version = store
        .put_group(&staff, Some(0), &ana)
        .await
        .unwrap()
        .version;
    let mut keys: Vec<String> = redis.keys(format!("{prefix}*")).await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            format!("{prefix}ramp:group-events"),
            format!("{prefix}ramp:group-versions"),
            format!("{prefix}ramp:groups"),
            format!("{prefix}ramp:version"),
        ]
    );
    let recorded: u64 = redis
        .hget(format!("{prefix}ramp:group-versions"), "staff")
        .await
        .unwrap();
    assert_eq!(recorded, version);

    // As an older Ramp left it: the group without a recorded version.
    let _: () = redis
        .hdel(format!("{prefix}ramp:group-versions"), "staff")
        .await
        .unwrap();
    let groups = store.groups().await.unwrap();
    assert_eq!(
        (groups[0].group.clone(), groups[0].version),
        (staff.clone(), 1)
    );
    let error = store.put_group(&staff, Some(0), &ana).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Conflict {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{error:?}"
    );
    let rewritten = store.put_group(&staff, Some(1), &ana).await.unwrap();
    assert_eq!(
        rewritten.event, None,
        "the same group again changes nothing"
    );
    let rewritten = rewritten.version;
    assert!(rewritten > version, "{rewritten} after {version}");
    store
        .delete_group(&staff.name, Some(rewritten), &ana)
        .await
        .unwrap();
    let versions: std::collections::HashMap<String, String> = redis
        .hgetall(format!("{prefix}ramp:group-versions"))
        .await
        .unwrap();
    assert!(versions.is_empty(), "{versions:?}");
}
