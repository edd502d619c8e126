//! The follower against a scripted HTTP server: events are read across chunks, unknown kinds
//! are skipped, a new connection resumes with `Last-Event-ID`, and a failed, wrong or silent
//! answer is an error that the next call recovers from.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ramp_core::{Feature, FeatureName};
use ramp_stream::{Follower, StreamError, StreamEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What one connection is answered.
struct Answer {
    head: &'static str,
    /// Written one after the other, each flushed on its own.
    chunks: Vec<&'static str>,
    /// Keep the connection open, silent, after the chunks.
    hold: bool,
}

fn event_stream(chunks: Vec<&'static str>, hold: bool) -> Answer {
    Answer {
        head: "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
        chunks,
        hold,
    }
}

/// Serves `answers` to successive connections; returns the base URL and the `Last-Event-ID`
/// each request carried.
async fn serve(answers: Vec<Answer>) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let resumed = Arc::new(Mutex::new(Vec::new()));
    let seen = resumed.clone();
    tokio::spawn(async move {
        for answer in answers {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let last_event_id = answer_one(socket, answer).await;
            seen.lock().unwrap().push(last_event_id);
        }
    });
    (format!("http://{address}/api/v1/stream"), resumed)
}

async fn answer_one(mut socket: TcpStream, answer: Answer) -> Option<String> {
    let mut head = Vec::new();
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let mut buffer = [0u8; 1024];
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let last_event_id = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("last-event-id")
            .then(|| value.trim().to_owned())
    });
    let _ = socket.write_all(answer.head.as_bytes()).await;
    for chunk in answer.chunks {
        let _ = socket.write_all(chunk.as_bytes()).await;
        let _ = socket.flush().await;
    }
    if answer.hold {
        // Silent but open, until the test ends.
        tokio::spawn(async move {
            let mut buffer = [0u8; 16];
            let _ = socket.read(&mut buffer).await;
        });
    }
    last_event_id
}

fn follower(url: String, idle: Duration) -> Follower<Feature> {
    let client = reqwest::Client::new();
    Follower::new(move || client.get(&url), idle)
}

#[tokio::test]
async fn events_are_read_and_a_new_connection_resumes_after_the_last_one() {
    let (url, resumed) = serve(vec![
        event_stream(
            vec![
                ": heartbeat\n\nid: 3\nevent: reload\ndata: {\"type\":\"reload\",",
                "\"version\":3}\n\nevent: newer-kind\ndata: {}\n\n",
                "id: 4\nevent: changed\ndata: {\"type\":\"changed\",\"version\":4,\"deleted\":[\"a\"]}\n\n",
            ],
            false,
        ),
        Answer {
            head: "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            chunks: Vec::new(),
            hold: false,
        },
        Answer {
            head: "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 2\r\nconnection: close\r\n\r\n",
            chunks: vec!["hi"],
            hold: false,
        },
    ])
    .await;
    let mut follower = follower(url, Duration::from_secs(30));
    assert_eq!(
        follower.next().await.unwrap(),
        StreamEvent::Reload { version: 3 }
    );
    assert_eq!(
        follower.next().await.unwrap(),
        StreamEvent::Changed {
            version: 4,
            features: Vec::new(),
            deleted: vec![FeatureName::new("a").unwrap()],
        }
    );
    assert!(matches!(
        follower.next().await,
        Err(StreamError::Closed { .. })
    ));
    assert!(!follower.is_connected());
    assert!(matches!(
        follower.next().await,
        Err(StreamError::Status { status: 503, .. })
    ));
    follower.resume_after(10);
    assert!(matches!(
        follower.next().await,
        Err(StreamError::NotAnEventStream { .. })
    ));
    assert_eq!(
        *resumed.lock().unwrap(),
        [None, Some("4".to_owned()), Some("10".to_owned())]
    );
}

#[tokio::test]
async fn a_silent_connection_is_broken() {
    let (url, _) = serve(vec![
        event_stream(
            vec!["id: 1\nevent: reload\ndata: {\"type\":\"reload\",\"version\":1}\n\n"],
            true,
        ),
        // Accepted, but never answered.
        Answer {
            head: "",
            chunks: Vec::new(),
            hold: true,
        },
    ])
    .await;
    let mut follower = follower(url, Duration::from_millis(300));
    assert_eq!(
        follower.next().await.unwrap(),
        StreamEvent::Reload { version: 1 }
    );
    assert!(matches!(
        follower.next().await,
        Err(StreamError::Silent { .. })
    ));
    assert!(matches!(
        follower.next().await,
        Err(StreamError::Silent { .. })
    ));
}
