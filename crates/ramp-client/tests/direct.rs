//! Direct mode: no server, the client follows a store's change notices.

mod common;

use common::{eventually, quick_policy};
use ramp_client::{Client, Source};
use ramp_core::{Context, Reason};
use ramp_rollout::Rollout;

#[tokio::test]
async fn a_write_to_a_sqlite_file_reaches_a_client_following_it() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", directory.path().join("ramp.db").display());
    let writer = Rollout::connect(&url, "test").await.unwrap();
    writer.activate_percentage("chat", 0.0).await.unwrap();

    let client = Client::direct(&url)
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    assert_eq!(client.source(), Source::Store);
    let user = Context::user("42");
    assert!(!client.is_active("chat", &user));

    // Another handle on the same file: the client hears of it through the store's notices.
    writer.activate_user("chat", "42").await.unwrap();
    assert!(eventually(5, || client.is_active("chat", &user)).await);
    assert_eq!(client.explain("chat", &user).reason, Reason::User);
    client.close().await;
}

#[tokio::test]
async fn a_burst_of_changes_ends_in_the_last_state() {
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let client = Client::with_store(store.clone())
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    let rollout = Rollout::new(store.clone(), "test");
    for user in 0..200 {
        rollout
            .activate_user("chat", &user.to_string())
            .await
            .unwrap();
    }
    let version = store.snapshot().await.unwrap().version;
    assert!(eventually(5, || client.version() == version).await);
    assert!(client.is_active("chat", &Context::user("199")));
    client.close().await;
}

#[tokio::test]
async fn from_store_url_refuses_an_unknown_scheme_by_starting_empty() {
    // An unusable store is not an application failure: the client starts with nothing.
    let client = Client::direct("nosuch://x")
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    assert_eq!(client.source(), Source::None);
    assert!(!client.is_active("chat", &Context::user("1")));
    client.close().await;
}
