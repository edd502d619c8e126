//! Checks of stored groups: writing, reading and deleting them, and their versions, which the
//! store itself checks, so that conditional writes from several processes cannot race.

use super::*;

use crate::VersionedGroup;

fn group(name: &str, description: &str, members: &[&str]) -> StoredGroup {
    StoredGroup {
        name: GroupName::new(name).unwrap(),
        description: description.into(),
        members: users(members),
        rules: vec![],
    }
}

/// Writes a group as `ana`, returning its new version.
async fn put(
    store: &Arc<dyn Store>,
    group: &StoredGroup,
    expected_version: Option<u64>,
) -> Result<u64, StoreError> {
    store
        .put_group(group, expected_version, &ana())
        .await
        .map(|applied| applied.version)
}

/// Deletes a group as `ana`.
async fn delete(
    store: &Arc<dyn Store>,
    name: &GroupName,
    expected_version: Option<u64>,
) -> Result<(), StoreError> {
    store
        .delete_group(name, expected_version, &ana())
        .await
        .map(drop)
}

/// The stored groups without their versions, and the version of `name` (0 when absent).
async fn groups_and_version(store: &Arc<dyn Store>, name: &str) -> (Vec<StoredGroup>, u64) {
    let groups = store.groups().await.unwrap();
    let version = groups
        .iter()
        .find(|stored| stored.group.name.as_str() == name)
        .map_or(0, |stored| stored.version);
    let groups = groups.into_iter().map(|stored| stored.group).collect();
    (groups, version)
}

fn is_group_conflict(error: &StoreError, name: &str, expected: u64, actual: u64) -> bool {
    matches!(
        error,
        StoreError::Conflict { feature, expected: e, actual: a }
            if feature == &format!("group:{name}") && *e == expected && *a == actual
    )
}

/// Stored groups can be written, listed, replaced and deleted, and appear in snapshots; every
/// write gives the group a greater version, which `groups()` reports.
pub async fn stored_groups_round_trip(store: Arc<dyn Store>) {
    let staff = StoredGroup {
        rules: vec![
            "email ends_with @corp.com".parse().unwrap(),
            "age >= 18".parse().unwrap(),
        ],
        ..group("staff", "Employees", &["1", "2"])
    };
    let beta = group("beta", "", &["7"]);
    let staff_version = put(&store, &staff, None).await.unwrap();
    let beta_version = put(&store, &beta, None).await.unwrap();
    assert!(staff_version > 0 && beta_version > 0);
    assert_eq!(
        store.groups().await.unwrap(),
        vec![
            VersionedGroup {
                group: beta.clone(),
                version: beta_version
            },
            VersionedGroup {
                group: staff.clone(),
                version: staff_version
            },
        ]
    );
    let renamed = StoredGroup {
        description: "All employees".into(),
        ..staff.clone()
    };
    let renamed_version = put(&store, &renamed, None).await.unwrap();
    assert!(
        renamed_version > staff_version,
        "{renamed_version} after {staff_version}"
    );
    assert_eq!(
        store.snapshot().await.unwrap().groups,
        vec![beta.clone(), renamed]
    );
    delete(&store, &beta.name, None).await.unwrap();
    let error = delete(&store, &beta.name, None).await.unwrap_err();
    assert!(
        matches!(error, StoreError::NotFound { kind: "group", .. }),
        "{error:?}"
    );
    assert_eq!(store.groups().await.unwrap().len(), 1);
    // An import rewrites the group: a writer holding the old version must not win.
    store
        .import(&[], std::slice::from_ref(&staff), &ana())
        .await
        .unwrap();
    let (_, imported_version) = groups_and_version(&store, "staff").await;
    assert!(
        imported_version > renamed_version,
        "{imported_version} after {renamed_version}"
    );
}

/// Creating a group "if absent" twice: the second is a `Conflict` and the first stays.
pub async fn group_create_if_absent_twice_conflicts(store: Arc<dyn Store>) {
    let first = group("beta", "first", &["1"]);
    let version = put(&store, &first, Some(0)).await.unwrap();
    let second = group("beta", "second", &["2"]);
    let error = put(&store, &second, Some(0)).await.unwrap_err();
    assert!(is_group_conflict(&error, "beta", 0, version), "{error:?}");
    assert_eq!(
        groups_and_version(&store, "beta").await,
        (vec![first], version)
    );
}

/// A write at a version that is no longer the group's is a `Conflict` and changes nothing; at
/// the current version it succeeds.
pub async fn stale_group_version_is_a_conflict(store: Arc<dyn Store>) {
    let read = put(&store, &group("beta", "read", &["1"]), Some(0))
        .await
        .unwrap();
    let changed = group("beta", "changed by someone else", &["2"]);
    let current = put(&store, &changed, Some(read)).await.unwrap();
    assert!(current > read, "{current} after {read}");
    let store_version = store.snapshot().await.unwrap().version;
    let error = put(&store, &group("beta", "stale", &["3"]), Some(read))
        .await
        .unwrap_err();
    assert!(
        is_group_conflict(&error, "beta", read, current),
        "{error:?}"
    );
    assert_eq!(
        groups_and_version(&store, "beta").await,
        (vec![changed], current)
    );
    assert_eq!(store.snapshot().await.unwrap().version, store_version);
    // A version for a group that does not exist is stale too, and creates nothing.
    let error = put(&store, &group("gamma", "", &[]), Some(read))
        .await
        .unwrap_err();
    assert!(is_group_conflict(&error, "gamma", read, 0), "{error:?}");
    assert_eq!(groups_and_version(&store, "gamma").await.1, 0);
    let fresh = group("beta", "fresh", &["4"]);
    let next = put(&store, &fresh, Some(current)).await.unwrap();
    assert_eq!(
        groups_and_version(&store, "beta").await,
        (vec![fresh], next)
    );
}

/// A delete at a stale version is refused and the group stays; a group deleted and created
/// again never gets back a version it had, so a version read before the deletion is stale.
pub async fn group_delete_at_stale_version_is_refused(store: Arc<dyn Store>) {
    let first = put(&store, &group("beta", "first", &[]), None)
        .await
        .unwrap();
    let kept = group("beta", "second", &["1"]);
    let second = put(&store, &kept, None).await.unwrap();
    let error = delete(&store, &kept.name, Some(first)).await.unwrap_err();
    assert!(
        is_group_conflict(&error, "beta", first, second),
        "{error:?}"
    );
    assert_eq!(
        groups_and_version(&store, "beta").await,
        (vec![kept.clone()], second)
    );
    delete(&store, &kept.name, Some(second)).await.unwrap();
    let error = delete(&store, &kept.name, Some(second)).await.unwrap_err();
    assert!(is_group_conflict(&error, "beta", second, 0), "{error:?}");
    let recreated = put(&store, &kept, Some(0)).await.unwrap();
    assert!(recreated > second, "{recreated} after {second}");
    let error = delete(&store, &kept.name, Some(second)).await.unwrap_err();
    assert!(
        is_group_conflict(&error, "beta", second, recreated),
        "{error:?}"
    );
    assert_eq!(groups_and_version(&store, "beta").await.1, recreated);
}

/// Of 16 concurrent "create if absent" writes of one group, exactly one succeeds; the others
/// are `Conflict`s and the stored group is the winner's.
pub async fn concurrent_group_creates_have_one_winner(store: Arc<dyn Store>) {
    const WRITERS: usize = 16;
    let start = Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let (store, start) = (Arc::clone(&store), Arc::clone(&start));
        tasks.push(tokio::spawn(async move {
            let candidate = group("beta", &format!("writer {writer}"), &[]);
            start.wait().await;
            let outcome = put(&store, &candidate, Some(0)).await;
            (candidate, outcome)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (candidate, Ok(version)) => winners.push((candidate, version)),
            (_, Err(error)) => assert!(
                matches!(&error, StoreError::Conflict { expected: 0, actual, .. } if *actual > 0),
                "{error:?}"
            ),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let (winner, version) = winners.remove(0);
    assert_eq!(
        groups_and_version(&store, "beta").await,
        (vec![winner], version)
    );
}

/// A group no store can hold alike (a NUL in its description, which PostgreSQL refuses and
/// the others would keep) is refused by every store, and nothing is written.
pub async fn invalid_group_stores_nothing(store: Arc<dyn Store>) {
    let bad = group("nul", "before\0after", &["1"]);
    let refused = put(&store, &bad, None).await.unwrap_err();
    assert!(matches!(refused, StoreError::Invalid(_)), "{refused:?}");
    let (groups, version) = groups_and_version(&store, "nul").await;
    assert!(groups.is_empty() && version == 0, "{groups:?}");
}
