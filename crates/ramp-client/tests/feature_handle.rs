//! `Client::feature`: a handle answers exactly as a check by name does, through changes that
//! move every feature's position (a feature added before it, itself deleted and created
//! again), and is counted exactly as checks by name are, users included.
//!
//! Waits are for conditions with a deadline, never sleeps.

mod common;

use std::collections::BTreeMap;

use common::{eventually, quick_policy};
use ramp_client::{Client, ReasonKind};
use ramp_core::Context;
use ramp_rollout::Rollout;

async fn direct_client(count: bool) -> (Client, Rollout) {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let rollout = Rollout::new(store.clone(), "test");
    rollout.activate_percentage("m-half", 50.0).await.unwrap();
    rollout
        .activate_users("m-listed", ["7", "ana", "12345678901234567890"])
        .await
        .unwrap();
    let client = Client::with_store(store)
        .refresh_policy(quick_policy())
        .count_checks(count)
        .connect()
        .await
        .unwrap();
    (client, rollout)
}

fn contexts() -> Vec<Context> {
    [
        "7",
        "8",
        "ana",
        "bo",
        "12345678901234567890",
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    .into_iter()
    .map(Context::user)
    .chain([Context::anonymous()])
    .collect()
}

fn assert_agrees(client: &Client, when: &str) {
    for name in ["m-half", "m-listed", "missing"] {
        let handle = client.feature(name);
        for context in &contexts() {
            assert_eq!(
                handle.is_active(context),
                client.is_active(name, context),
                "{when}: {name} for {context:?}"
            );
            assert_eq!(handle.explain(context), client.explain(name, context));
        }
    }
}

#[tokio::test]
async fn a_handle_answers_as_the_name_does_through_every_change() {
    let (client, rollout) = direct_client(false).await;
    let listed = client.feature("m-listed");
    assert_eq!(listed.name(), "m-listed");
    assert!(listed.is_active(&Context::user("ana")));
    assert_agrees(&client, "at first");

    // A feature sorted before both moves their positions (a new layout).
    let version = client.version();
    rollout.activate_percentage("a-first", 100.0).await.unwrap();
    assert!(eventually(10, || client.version() > version).await);
    assert!(
        listed.is_active(&Context::user("ana")),
        "after a feature came"
    );
    assert_agrees(&client, "after a feature came");

    // A change in place keeps positions; the answer must still follow it.
    let version = client.version();
    rollout.activate_user("m-listed", "bo").await.unwrap();
    assert!(eventually(10, || client.version() > version).await);
    assert!(
        listed.is_active(&Context::user("bo")),
        "after a change in place"
    );

    let version = client.version();
    rollout.delete("m-listed").await.unwrap();
    assert!(eventually(10, || client.version() > version).await);
    assert!(!listed.is_active(&Context::user("ana")), "after the delete");
    assert_agrees(&client, "after the delete");

    let version = client.version();
    rollout.activate_user("m-listed", "zoe").await.unwrap();
    assert!(eventually(10, || client.version() > version).await);
    assert!(listed.is_active(&Context::user("zoe")), "created again");
    assert!(!listed.is_active(&Context::user("ana")));
    assert_agrees(&client, "created again");
    client.close().await;
}

/// Checks per (feature, reason), and each (feature, answer)'s user sketch registers, from
/// one drain: the same users must raise the same registers.
type Counted = (
    BTreeMap<(String, ReasonKind), u64>,
    BTreeMap<(String, bool), Vec<u8>>,
);

fn counted(client: &Client) -> Counted {
    let batch = client.exposure_counts();
    let mut checks = BTreeMap::new();
    for count in &batch.counts {
        *checks
            .entry((count.feature.clone(), count.reason))
            .or_default() += count.count;
    }
    let users = batch
        .users
        .iter()
        .map(|users| {
            let key = (users.feature.clone(), users.active);
            (key, users.sketch.registers().to_vec())
        })
        .collect();
    (checks, users)
}

#[tokio::test]
async fn a_handle_is_counted_as_checks_by_name_are() {
    let (client, _rollout) = direct_client(true).await;
    let ids: Vec<String> = (0..300).map(|n| format!("user-{n}")).collect();
    let run = |by_handle: bool| {
        for name in ["m-half", "m-listed", "missing"] {
            let handle = client.feature(name);
            for id in ids.iter().map(String::as_str).chain(["7", "ana"]) {
                let context = Context::user(id);
                if by_handle {
                    handle.is_active(&context);
                } else {
                    client.is_active(name, &context);
                }
            }
        }
        counted(&client)
    };
    let _ = counted(&client);
    let by_name = run(false);
    let by_handle = run(true);
    assert!(by_name.0.len() >= 4, "{:?}", by_name.0);
    assert!(by_name.1.len() >= 4, "users counted per feature and answer");
    assert_eq!(by_handle, by_name);
    client.close().await;
}
