//! What a hostile or unlucky client can make the server spend is bounded: login floods, change
//! events kept for resuming subscribers, half-sent requests, and code-group names. Each test
//! reproduces an attack that used to exhaust memory, CPU or file descriptors.
//!
//! Tests that measure the process's memory run one at a time (`MEASURING`), so that one's
//! allocations are not counted against another.

mod common;

use std::time::Duration;

use common::{json_of, TestServer};
use ramp_server::ServerConfig;
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

static MEASURING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIB: u64 = 1024 * 1024;

/// The resident memory of this test process.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .expect("VmRSS");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|value| value.parse().ok())
        .expect("a number of kB");
    kib * 1024
}

/// One metric's value from `/metrics`.
async fn metric(server: &TestServer, name: &str) -> f64 {
    let text = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| {
            let (key, value) = line.split_once(' ')?;
            (key == name).then(|| value.trim().parse().ok())?
        })
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

async fn login(server: &TestServer, username: String, password: &str) -> u16 {
    server
        .client
        .post(format!("{}/api/v1/session", server.base))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("login answered")
        .status()
        .as_u16()
}

async fn logins_at_once(server: &TestServer, usernames: Vec<String>) -> Vec<u16> {
    let attempts = usernames
        .into_iter()
        .map(|username| login(server, username, "wrong password"));
    futures::future::join_all(attempts).await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&each| each == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_checks_few_passwords_and_memory_stays_bounded() {
    let _one_at_a_time = MEASURING.lock().await;
    let server = TestServer::memory().await;
    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/accounts",
            json!({ "name": "alice", "role": "viewer", "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let before = resident_bytes();

    // 150 wrong passwords for one name at once: only ten are ever checked.
    let statuses = logins_at_once(&server, vec!["alice".to_owned(); 150]).await;
    assert_eq!(count(&statuses, 401), 10, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 140, "{statuses:?}");
    assert_eq!(metric(&server, "ramp_password_checks_total").await, 10.0);

    // 150 names that do not exist, at once: each one that is not turned away costs a password
    // check like a real name (so timing does not tell which names exist), and the rest are
    // turned away at once instead of piling up.
    let ghosts = (0..150).map(|index| format!("ghost{index}")).collect();
    let statuses = logins_at_once(&server, ghosts).await;
    let checked = count(&statuses, 401);
    assert_eq!(checked + count(&statuses, 503), 150, "{statuses:?}");
    assert!(checked >= 2, "some unknown names are checked: {statuses:?}");
    assert_eq!(
        metric(&server, "ramp_password_checks_total").await,
        (10 + checked) as f64,
        "an unknown name costs one password check, as a known one does"
    );
    let grown = resident_bytes().saturating_sub(before);
    assert!(
        grown < 300 * MIB,
        "300 login attempts grew memory by {} MiB",
        grown / MIB
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn change_events_kept_for_resuming_subscribers_are_bounded_in_bytes() {
    let _one_at_a_time = MEASURING.lock().await;
    let limit = 4 * 1024 * 1024;
    let config = ServerConfig {
        resume_buffer_bytes: limit,
        ..ServerConfig::default()
    };
    let store = ramp_rollout::open_store("memory://").await.expect("store");
    let server = TestServer::with_config(store, config, None).await;
    let users: String = (0..50_000).map(|id| format!("member-{id}\n")).collect();
    let response = server
        .request(Method::POST, "/api/v1/features/big/users/stream?mode=set")
        .body(users)
        .send()
        .await
        .expect("user list");
    assert_eq!(response.status(), 200);
    let first_version = metric(&server, "ramp_snapshot_version").await as u64;
    let before = resident_bytes();

    for index in 0..1000 {
        let (status, body) = server
            .send_json(
                Method::POST,
                "/api/v1/features/big/users",
                json!({ "users": [format!("added-{index}")] }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    // Each event carries the whole 50,000-user feature (about 1 MB of JSON): 1,000 of them
    // used to be kept, several GB. Now what is kept stays under the limit plus one event.
    let kept = metric(&server, "ramp_resume_buffer_bytes").await;
    assert!(
        kept > 0.0 && kept <= (limit + 2 * 1024 * 1024) as f64,
        "{kept}"
    );
    let grown = resident_bytes().saturating_sub(before);
    assert!(
        grown < 400 * MIB,
        "1,000 one-user adds grew memory by {} MiB",
        grown / MIB
    );

    // A subscriber that missed more than is kept is told to reload, not given a partial list.
    let response = server
        .request(
            Method::GET,
            &format!("/api/v1/stream?since={first_version}"),
        )
        .send()
        .await
        .expect("stream");
    let mut events = common::SseReader::new(response);
    let (_, kind, data) = events.next_event(10).await.expect("an event");
    assert_eq!(kind, "reload", "{data}");
    server.stop().await;
}

/// A server whose clients get one second for headers and body pieces.
async fn impatient_server(max_connections: usize) -> TestServer {
    let config = ServerConfig {
        header_timeout_seconds: 1,
        body_timeout_seconds: 1,
        max_connections: Some(max_connections),
        ..ServerConfig::default()
    };
    let store = ramp_rollout::open_store("memory://").await.expect("store");
    TestServer::with_config(store, config, None).await
}

/// Reads until the server closes the connection; what it sent.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(within, stream.read_to_end(&mut received)).await;
    assert!(
        read.is_ok(),
        "the server kept the connection open for {within:?}"
    );
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn half_sent_requests_are_closed_and_health_keeps_answering() {
    let server = impatient_server(16).await;
    let mut idle = Vec::new();
    for _ in 0..40 {
        let mut stream = TcpStream::connect(server.address).await.expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: ramp\r\n")
            .await
            .expect("half a request");
        idle.push(stream);
    }
    // More connections than the limit are open; the server still answers, once the slow ones
    // have had their second.
    let health = server
        .client
        .get(format!("{}/healthz", server.base))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("healthz answers");
    assert_eq!(health.status(), 200);
    for stream in &mut idle {
        let received = read_until_closed(stream, Duration::from_secs(30)).await;
        assert!(!received.starts_with("HTTP/1.1 200"), "{received}");
    }
    server.stop().await;
}

/// Regression: a client that connected and sent nothing at all kept its connection slot for
/// good (the wait for the first bytes, to tell HTTP/1 from HTTP/2, had no deadline).
#[tokio::test]
async fn silent_connections_are_closed_and_their_slots_freed() {
    let server = impatient_server(8).await;
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(TcpStream::connect(server.address).await.expect("connect"));
    }
    for stream in &mut silent {
        let received = read_until_closed(stream, Duration::from_secs(30)).await;
        assert_eq!(received, "");
    }
    // Every slot was taken by a silent client; once they are closed, requests are served again.
    let health = server
        .client
        .get(format!("{}/healthz", server.base))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("healthz answers");
    assert_eq!(health.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn a_body_shorter_than_announced_is_refused_in_time() {
    let server = impatient_server(64).await;
    let mut stream = TcpStream::connect(server.address).await.expect("connect");
    let head = format!(
        "POST /api/v1/features HTTP/1.1\r\nHost: ramp\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{{\"name\":",
        server.admin_token
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    let answer = read_until_closed(&mut stream, Duration::from_secs(30)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\":\"request_timeout\""), "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn code_group_names_are_capped_per_client_and_in_total() {
    let config = ServerConfig {
        code_group_limit: 1500,
        ..ServerConfig::default()
    };
    let store = ramp_rollout::open_store("memory://").await.expect("store");
    let server = TestServer::with_config(store, config, None).await;
    let first = server.token("app-one", "reader").await;
    let second = server.token("app-two", "reader").await;
    let report = |token: &str, range: std::ops::Range<usize>| {
        let names: Vec<String> = range.map(|index| format!("group{index}")).collect();
        server
            .request_as(token, Method::POST, "/api/v1/code-groups")
            .json(&json!({ "names": names }))
            .send()
    };
    let (status, body) = json_of(report(&first, 0..1001).await.unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("too_many_code_groups"))
    );
    assert_eq!(report(&first, 0..1000).await.unwrap().status(), 200);
    let (status, _) = json_of(report(&first, 1000..1001).await.unwrap()).await;
    assert_eq!(status, 422, "one client keeps at most 1000 names");
    let (status, body) = json_of(report(&second, 5000..6000).await.unwrap()).await;
    assert_eq!(status, 422, "the server keeps at most 1500 in all: {body}");
    assert_eq!(report(&second, 5000..5500).await.unwrap().status(), 200);
    let (status, body) = server.get_json("/api/v1/code-groups").await;
    assert_eq!(status, 200);
    assert_eq!(body["names"].as_array().map(Vec::len), Some(1500));
    server.stop().await;
}
