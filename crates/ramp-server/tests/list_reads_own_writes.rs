//! The feature list answers from the server's live snapshot (no copy of every feature per
//! search keystroke), yet a client that wrote through this server and then lists sees its
//! write: created, changed, moved and deleted features, one client after another and several
//! at once, on every store the server runs on.

mod common;

use common::{service_available, unique, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

/// The features a search for `name` lists (the UI's keystroke request).
async fn listed(server: &TestServer, name: &str) -> Vec<Value> {
    let (status, body) = server
        .get_json(&format!(
            "/api/v1/features?search={name}&limit=100&with=last_change,stage_since,health"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    body["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|feature| feature["name"] == name)
        .cloned()
        .collect()
}

async fn send(server: &TestServer, method: Method, path: &str, body: Value) {
    let (status, answer) = server.send_json(method, path, body).await;
    assert!((200..300).contains(&status), "{path}: {status} {answer}");
}

/// Create, change, move and delete, each followed at once by a list that must show it.
async fn one_client_sees_each_write(server: &TestServer) {
    let name = "rw-single";
    send(
        server,
        Method::POST,
        "/api/v1/features",
        json!({"name": name}),
    )
    .await;
    assert_eq!(listed(server, name).await.len(), 1, "created, then listed");
    for percentage in 1..=20 {
        let path = format!("/api/v1/features/{name}/percentage");
        send(
            server,
            Method::PUT,
            &path,
            json!({"percentage": percentage}),
        )
        .await;
        let shown = listed(server, name).await;
        assert_eq!(
            shown[0]["percentage"],
            json!(percentage as f64),
            "{shown:?}"
        );
    }
    for stage in ["beta", "development", "beta"] {
        let path = format!("/api/v1/features/{name}/stage");
        send(server, Method::PUT, &path, json!({"stage": stage})).await;
        let (status, body) = server
            .get_json(&format!("/api/v1/features?stage={stage}&search={name}"))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total"], 1, "moved to {stage}, then listed: {body}");
    }
    let (status, body) = server
        .send_json(
            Method::DELETE,
            &format!("/api/v1/features/{name}"),
            Value::Null,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    assert!(
        listed(server, name).await.is_empty(),
        "deleted, then listed"
    );
}

/// Several clients write different features at once, each listing right after its own write:
/// writes that commit in one order and are announced in another must not hide one.
async fn concurrent_clients_see_their_own_writes(server: &TestServer) {
    let clients = (0..6).map(|client| async move {
        let name = format!("rw-client-{client}");
        send(
            server,
            Method::POST,
            "/api/v1/features",
            json!({"name": name}),
        )
        .await;
        for percentage in 1..=15 {
            let path = format!("/api/v1/features/{name}/percentage");
            send(
                server,
                Method::PUT,
                &path,
                json!({"percentage": percentage}),
            )
            .await;
            let shown = listed(server, &name).await;
            assert_eq!(
                shown[0]["percentage"],
                json!(percentage as f64),
                "{name}: {shown:?}"
            );
        }
    });
    futures::future::join_all(clients).await;
}

async fn reads_own_writes(server: TestServer) {
    one_client_sees_each_write(&server).await;
    concurrent_clients_see_their_own_writes(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn the_list_shows_own_writes_on_memory() {
    reads_own_writes(TestServer::memory().await).await;
}

#[tokio::test]
async fn the_list_shows_own_writes_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", directory.path().join("ramp.db").display());
    let store = ramp_rollout::open_store(&url).await.unwrap();
    reads_own_writes(TestServer::over(store).await).await;
}

#[tokio::test]
async fn the_list_shows_own_writes_on_postgres() {
    if !service_available("PostgreSQL", 5432) {
        return;
    }
    let schema = unique("ramp_own_writes");
    let url = format!("postgres://postgres@127.0.0.1:5432/test?schema={schema}");
    let store = ramp_rollout::open_store(&url).await.unwrap();
    reads_own_writes(TestServer::over(store).await).await;
}

#[tokio::test]
async fn the_list_shows_own_writes_on_redis() {
    if !service_available("Redis", 6379) {
        return;
    }
    let prefix = unique("ramp-own-writes");
    let url = format!("redis://127.0.0.1:6379/12?prefix={prefix}:");
    let store = ramp_rollout::open_store(&url).await.unwrap();
    reads_own_writes(TestServer::over(store).await).await;
}
