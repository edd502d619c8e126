//! The SDK feed: snapshot with ETag/304, and the event stream (changes, resume with
//! Last-Event-ID, heartbeats, closing on shutdown).

mod common;

use common::{Sse, SseReader, TestServer};
use ramp_server::ServerConfig;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn snapshot_has_an_etag_and_answers_304() {
    let server = TestServer::memory().await;
    server
        .send_json(
            Method::PUT,
            "/api/v1/features/a/percentage",
            json!({"percentage": 5}),
        )
        .await;
    let fresh = server
        .request(Method::GET, "/api/v1/snapshot?fresh=true")
        .send()
        .await
        .unwrap();
    let version = fresh.headers()["etag"].to_str().unwrap().to_owned();
    let snapshot: serde_json::Value = fresh.json().await.unwrap();
    assert_eq!(snapshot["features"][0]["name"], "a");
    assert_eq!(version, format!("\"{}\"", snapshot["version"]));
    // The live copy catches up within milliseconds; then a matching If-None-Match is a 304.
    let mut status = 0;
    for _ in 0..100 {
        let response = server
            .request(Method::GET, "/api/v1/snapshot")
            .header("If-None-Match", &version)
            .send()
            .await
            .unwrap();
        status = response.status().as_u16();
        if status == 304 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, 304);
    let other = server
        .request(Method::GET, "/api/v1/snapshot")
        .header("If-None-Match", "\"0\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn changes_stream_to_subscribers_who_can_resume() {
    let config = ServerConfig {
        heartbeat_seconds: 1,
        ..ServerConfig::default()
    };
    let store = ramp_rollout::open_store("memory://").await.unwrap();
    let server = TestServer::with_config(store, config, None).await;
    let response = server
        .request(Method::GET, "/api/v1/stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut events = SseReader::new(response);
    let (_, kind, first) = events.next_event(5).await.unwrap();
    assert_eq!(
        kind, "reload",
        "a new subscriber learns the current version"
    );
    let start = first["version"].as_u64().unwrap();

    server
        .send_json(
            Method::POST,
            "/api/v1/features/chat/users",
            json!({"users": ["7"]}),
        )
        .await;
    let (id, kind, changed) = events.next_event(5).await.unwrap();
    assert_eq!(kind, "changed");
    assert_eq!(changed["features"][0]["name"], "chat");
    assert_eq!(changed["features"][0]["users"], json!(["7"]));
    assert_eq!(changed["deleted"], json!([]));
    let after_first = changed["version"].as_u64().unwrap();
    assert!(after_first > start);
    assert_eq!(id.as_deref(), Some(after_first.to_string().as_str()));

    server
        .request(Method::DELETE, "/api/v1/features/chat")
        .send()
        .await
        .unwrap();
    let (_, kind, deleted) = events.next_event(5).await.unwrap();
    assert_eq!(kind, "changed");
    assert_eq!(deleted["deleted"], json!(["chat"]));
    assert_eq!(deleted["features"], json!([]));

    // Heartbeats keep an idle stream alive.
    let mut saw_heartbeat = false;
    for _ in 0..3 {
        if let Some(Sse::Comment(text)) = events.next(5).await {
            saw_heartbeat = text == "heartbeat";
            break;
        }
    }
    assert!(saw_heartbeat);

    // A subscriber that had `after_first` gets exactly what it missed.
    let resumed = server
        .request(Method::GET, "/api/v1/stream")
        .header("Last-Event-ID", after_first.to_string())
        .send()
        .await
        .unwrap();
    let mut resumed = SseReader::new(resumed);
    let (_, kind, missed) = resumed.next_event(5).await.unwrap();
    assert_eq!(kind, "changed");
    assert_eq!(missed, deleted);

    // One that is too far behind is told to reload.
    let behind = server
        .request(Method::GET, "/api/v1/stream?since=0")
        .send()
        .await
        .unwrap();
    let mut behind = SseReader::new(behind);
    let (_, kind, _) = behind.next_event(5).await.unwrap();
    assert!(kind == "reload" || kind == "changed");

    // Stopping the server ends the streams instead of waiting for them.
    let stopping = tokio::spawn(server.stop());
    let mut ended = false;
    for _ in 0..10 {
        if events.next(10).await.is_none() {
            ended = true;
            break;
        }
    }
    assert!(ended, "the stream closed on shutdown");
    tokio::time::timeout(std::time::Duration::from_secs(10), stopping)
        .await
        .expect("shutdown finished")
        .unwrap();
}
