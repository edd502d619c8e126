//! When the stream keeps failing (here a server, or a proxy in front of it, answers 503 on
//! `/api/v1/stream`) the client polls the snapshot with `If-None-Match`, so it still catches
//! up, and an unchanged snapshot costs a 304 rather than the whole snapshot.
//!
//! The server is a minimal HTTP/1.1 responder written for this test, because the real server
//! always streams.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::DateTime;
use common::{eventually, quick_policy};
use ramp_client::{Client, Source};
use ramp_core::{Context, Feature, FeatureName, Percentage, Snapshot};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
struct Served {
    snapshot: Snapshot,
    /// "METHOD PATH STATUS" of every request.
    log: Vec<String>,
}

fn snapshot(version: u64, percentage: f64) -> Snapshot {
    let mut chat = Feature::new(FeatureName::new("chat").unwrap(), DateTime::UNIX_EPOCH);
    chat.percentage = Percentage::new(percentage).unwrap();
    Snapshot {
        version,
        features: vec![chat],
        ..Snapshot::default()
    }
}

async fn start(served: Arc<Mutex<Served>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(answer(socket, served.clone()));
        }
    });
    address
}

/// Answers one request and closes the connection.
async fn answer(mut socket: TcpStream, served: Arc<Mutex<Served>>) {
    let mut head = Vec::new();
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let mut chunk = [0u8; 1024];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&chunk[..read]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut words = head.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let if_none_match = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("if-none-match")
            .then(|| value.trim().to_owned())
    });
    let (status, headers, body) = {
        let served = served.lock().unwrap();
        let etag = format!("\"{}\"", served.snapshot.version);
        match path {
            "/api/v1/snapshot" if if_none_match.as_deref() == Some(etag.as_str()) => {
                ("304 Not Modified", format!("etag: {etag}\r\n"), Vec::new())
            }
            "/api/v1/snapshot" => (
                "200 OK",
                format!("etag: {etag}\r\ncontent-type: application/json\r\n"),
                serde_json::to_vec(&served.snapshot).unwrap(),
            ),
            "/api/v1/stream" => ("503 Service Unavailable", String::new(), Vec::new()),
            _ => ("404 Not Found", String::new(), Vec::new()),
        }
    };
    served
        .lock()
        .unwrap()
        .log
        .push(format!("{method} {path} {}", &status[..3]));
    let body = if method == "HEAD" { &[][..] } else { &body[..] };
    let response = format!(
        "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n",
        if method == "HEAD" { 0 } else { body.len() }
    );
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.write_all(body).await;
    let _ = socket.shutdown().await;
}

#[tokio::test]
async fn without_a_stream_the_client_polls_with_etags_and_catches_up() {
    let served = Arc::new(Mutex::new(Served {
        snapshot: snapshot(1, 0.0),
        log: Vec::new(),
    }));
    let address = start(served.clone()).await;
    let client = Client::builder(format!("http://{address}"), "token")
        .refresh_policy(quick_policy())
        .connect()
        .await
        .unwrap();
    assert_eq!(client.source(), Source::Server);
    let user = Context::user("42");
    assert!(!client.is_active("chat", &user));

    // Unchanged: polls are answered 304.
    let polled = || {
        let served = served.lock().unwrap();
        served
            .log
            .iter()
            .filter(|line| *line == "GET /api/v1/snapshot 304")
            .count()
    };
    assert!(eventually(5, || polled() >= 2).await);

    served.lock().unwrap().snapshot = snapshot(2, 100.0);
    assert!(eventually(5, || client.is_active("chat", &user)).await);
    assert_eq!(client.version(), 2);
    assert_eq!(client.source(), Source::Server);
    let log = served.lock().unwrap().log.clone();
    assert!(
        log.iter().any(|line| line == "GET /api/v1/stream 503"),
        "{log:?}"
    );
    // The whole snapshot was sent twice only: at start, and once it changed.
    let full = log
        .iter()
        .filter(|line| *line == "GET /api/v1/snapshot 200")
        .count();
    assert_eq!(full, 2, "{log:?}");
    client.close().await;
}
