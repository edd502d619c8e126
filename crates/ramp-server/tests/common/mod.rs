//! Test harness: a real `ramp serve` (the library's `Server`, on a free loopback port) over a
//! real store, and a small HTTP client that knows its token.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use ramp_server::clock::{Clock, SystemClock};
use ramp_server::{Server, ServerConfig};
use ramp_store::Store;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server.
pub struct TestServer {
    pub address: SocketAddr,
    pub base: String,
    pub admin_token: String,
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ramp_server::ServerError>>>,
}

impl TestServer {
    /// A server over a fresh in-memory store.
    pub async fn memory() -> Self {
        let store = ramp_rollout::open_store("memory://")
            .await
            .expect("memory store");
        Self::over(store).await
    }

    /// A server over `store`; the first start creates the admin token.
    pub async fn over(store: Arc<dyn Store>) -> Self {
        Self::with_config(store, ServerConfig::default(), None).await
    }

    /// A server with settings; `admin_token` for a store that already has tokens.
    pub async fn with_config(
        store: Arc<dyn Store>,
        config: ServerConfig,
        admin_token: Option<String>,
    ) -> Self {
        Self::with_clock(store, config, admin_token, Arc::new(SystemClock)).await
    }

    /// A server whose decisions that depend on time read `clock`.
    pub async fn with_clock(
        store: Arc<dyn Store>,
        mut config: ServerConfig,
        admin_token: Option<String>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        config.bind = "127.0.0.1:0".parse().expect("address");
        let server = Server::bind_with_clock(config, store.clone(), clock)
            .await
            .expect("server binds");
        let address = server.local_addr().expect("address");
        let admin_token = admin_token
            .or_else(|| server.first_admin_token().map(str::to_owned))
            .expect("an admin token");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Self {
            address,
            base: format!("http://{address}"),
            admin_token,
            store,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A request with the admin token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.request_as(&self.admin_token, method, path)
    }

    /// A request with another token.
    pub fn request_as(&self, token: &str, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    /// GET with the admin token, expecting JSON.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        json_of(
            self.request(Method::GET, path)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    /// A JSON request with the admin token.
    pub async fn send_json(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        json_of(
            self.request(method, path)
                .json(&body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    /// Creates a token with a role and returns it.
    pub async fn token(&self, name: &str, role: &str) -> String {
        let (status, body) = self
            .send_json(
                Method::POST,
                "/api/v1/tokens",
                serde_json::json!({ "name": name, "role": role }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server ran");
        }
    }
}

/// Status and JSON body (Null when the body is empty or not JSON).
pub async fn json_of(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Whether the machine's services are required (CI) rather than optional.
pub fn services_required() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// One Server-Sent Event, or a comment line (heartbeat).
#[derive(Debug, Clone, PartialEq)]
pub enum Sse {
    Event {
        id: Option<String>,
        event: String,
        data: Value,
    },
    Comment(String),
}

/// Reads Server-Sent Events from a streaming response.
pub struct SseReader {
    stream: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl SseReader {
    pub fn new(response: Response) -> Self {
        Self {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event or comment; `None` when the stream ended. Panics after `seconds`.
    pub async fn next(&mut self, seconds: u64) -> Option<Sse> {
        use futures::StreamExt;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse_block(&block));
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .expect("no server-sent event in time");
            match chunk {
                Some(Ok(bytes)) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// The next event, skipping comments.
    pub async fn next_event(&mut self, seconds: u64) -> Option<(Option<String>, String, Value)> {
        loop {
            match self.next(seconds).await? {
                Sse::Event { id, event, data } => return Some((id, event, data)),
                Sse::Comment(_) => continue,
            }
        }
    }
}

fn parse_block(block: &str) -> Sse {
    let mut id = None;
    let mut event = String::from("message");
    let mut data = String::new();
    let mut comment = None;
    for line in block.lines() {
        if let Some(text) = line.strip_prefix(':') {
            comment = Some(text.trim().to_owned());
        } else if let Some(value) = line.strip_prefix("id:") {
            id = Some(value.trim().to_owned());
        } else if let Some(value) = line.strip_prefix("event:") {
            event = value.trim().to_owned();
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push_str(value.trim_start());
        }
    }
    match (comment, data.is_empty()) {
        (Some(text), true) => Sse::Comment(text),
        _ => Sse::Event {
            id,
            event,
            data: serde_json::from_str(&data).unwrap_or(Value::Null),
        },
    }
}

/// Whether a local service answers on `port`; under CI=true a missing one fails the test.
pub fn service_available(name: &str, port: u16) -> bool {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    if std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_secs(1)).is_ok() {
        return true;
    }
    assert!(
        !services_required(),
        "{name} is not reachable on 127.0.0.1:{port} and CI=true"
    );
    eprintln!("SKIPPED: {name} not reachable at 127.0.0.1:{port}");
    false
}

/// A name no other test run uses (for schemas and key prefixes).
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000_000;
    format!("{prefix}_{}_{nanos}", std::process::id())
}
