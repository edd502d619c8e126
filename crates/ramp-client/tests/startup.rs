//! Starting without a server: from the backup file, or with nothing (every feature inactive,
//! no error, no panic); and the backup file itself (atomic, always a whole snapshot).

mod common;

use common::{closed_address, eventually, quick_policy, TestServer};
use ramp_client::{Client, ClientError, Source};
use ramp_core::{Context, Reason, Snapshot};

#[tokio::test]
async fn the_backup_is_written_atomically_and_follows_changes() {
    let directory = tempfile::tempdir().unwrap();
    let backup = directory.path().join("ramp-backup.json");
    let server = TestServer::memory().await;
    server.set_percentage("chat", 100.0).await;
    let token = server.reader_token("app").await;
    let client = Client::builder(&server.base, token)
        .refresh_policy(quick_policy())
        .backup_file(&backup)
        .connect()
        .await
        .unwrap();
    let saved =
        || -> Option<Snapshot> { serde_json::from_slice(&std::fs::read(&backup).ok()?).ok() };
    assert!(eventually(5, || saved().is_some_and(|s| s.version == client.version())).await);

    server.set_percentage("chat", 50.0).await;
    let version = server.store.snapshot().await.unwrap().version;
    assert!(eventually(5, || saved().is_some_and(|s| s.version == version)).await);
    let snapshot = saved().unwrap();
    assert_eq!(snapshot.features[0].percentage.value(), 50.0);
    // Nothing half-written is left next to it.
    let names: Vec<String> = std::fs::read_dir(directory.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["ramp-backup.json"]);
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn with_the_server_down_the_client_starts_from_its_backup() {
    let directory = tempfile::tempdir().unwrap();
    let backup = directory.path().join("ramp-backup.json");
    // A backup left by an earlier run.
    let server = TestServer::memory().await;
    server.set_percentage("chat", 100.0).await;
    let token = server.reader_token("app").await;
    let first = Client::builder(&server.base, &token)
        .backup_file(&backup)
        .connect()
        .await
        .unwrap();
    assert!(eventually(5, || backup.exists()).await);
    first.close().await;
    server.stop().await;

    let client = Client::builder(format!("http://{}", closed_address()), &token)
        .refresh_policy(quick_policy())
        .backup_file(&backup)
        .connect()
        .await
        .unwrap();
    assert_eq!(client.source(), Source::Backup);
    assert!(client.is_ready());
    assert!(client.is_active("chat", &Context::user("42")));
    assert_eq!(
        client.explain("chat", &Context::anonymous()).reason,
        Reason::Everyone
    );
    // It keeps trying in the background, and keeps answering meanwhile.
    assert!(eventually(5, || client.sync_status().failed_attempts >= 3).await);
    assert_eq!(client.source(), Source::Backup);
    assert!(client.is_active("chat", &Context::user("42")));
    client.close().await;
}

#[tokio::test]
async fn with_neither_server_nor_backup_every_feature_is_inactive() {
    let directory = tempfile::tempdir().unwrap();
    let client = Client::builder(format!("http://{}", closed_address()), "token")
        .refresh_policy(quick_policy())
        .backup_file(directory.path().join("missing.json"))
        .connect()
        .await
        .unwrap();
    assert!(!client.is_ready());
    assert_eq!(client.source(), Source::None);
    let user = Context::user("42");
    assert!(!client.is_active("chat", &user));
    assert_eq!(client.explain("chat", &user).reason, Reason::NotFound);
    assert!(client.feature_states(&user).is_empty());
    assert!(client.active_features(&user).is_empty());
    assert_eq!(client.version(), 0);
    // A backup is never written from nothing, however often the client tries.
    assert!(eventually(5, || client.sync_status().failed_attempts >= 3).await);
    assert!(!directory.path().join("missing.json").exists());
    client.close().await;
}

#[tokio::test]
async fn a_client_that_started_without_the_server_catches_up_when_it_comes() {
    let address = closed_address();
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    ramp_rollout::Rollout::new(store.clone(), "test")
        .activate("chat")
        .await
        .unwrap();
    let token = ramp_server::auth::generate_token();
    let credential =
        ramp_server::auth::token_credential("admin", ramp_store::Role::Admin, &token, "test");
    store.create_credential(&credential).await.unwrap();
    let client = Client::builder(format!("http://{address}"), &token)
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    assert_eq!(client.source(), Source::None);
    let server = TestServer::restart(address, store, token).await;
    assert!(eventually(5, || client.source() == Source::Server).await);
    assert!(client.is_active("chat", &Context::anonymous()));
    client.close().await;
    server.stop().await;
}

#[tokio::test]
async fn bad_settings_are_errors() {
    assert!(matches!(
        Client::connect("ftp://example.invalid", "token").await,
        Err(ClientError::InvalidUrl { .. })
    ));
    assert!(matches!(
        Client::connect("not a url", "token").await,
        Err(ClientError::InvalidUrl { .. })
    ));
}
