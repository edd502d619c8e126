//! Test harness: a real `ramp serve` (the server library on a loopback port) that can be
//! stopped and started again on the same port over the same store, an admin HTTP helper, and
//! a quick refresh policy so outages and recoveries take milliseconds, not the defaults'
//! seconds.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ramp_client::RefreshPolicy;
use ramp_server::{Server, ServerConfig};
use ramp_store::Store;
use reqwest::Method;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server.
pub struct TestServer {
    pub address: SocketAddr,
    pub base: String,
    pub admin_token: String,
    pub store: Arc<dyn Store>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ramp_server::ServerError>>>,
}

impl TestServer {
    /// A server over a fresh in-memory store, on a free port.
    pub async fn memory() -> Self {
        let store = ramp_rollout::open_store("memory://").await.unwrap();
        Self::start(store, "127.0.0.1:0".parse().unwrap(), None).await
    }

    /// A server over `store` on `address`; `admin_token` when the store already has one.
    pub async fn start(
        store: Arc<dyn Store>,
        address: SocketAddr,
        admin_token: Option<String>,
    ) -> Self {
        let config = ServerConfig {
            bind: address,
            heartbeat_seconds: 1,
            ..ServerConfig::default()
        };
        let server = Server::bind(config, store.clone()).await.unwrap();
        let address = server.local_addr().unwrap();
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
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The same store and token on the same port, after `stop`.
    pub async fn restart(address: SocketAddr, store: Arc<dyn Store>, admin_token: String) -> Self {
        Self::start(store, address, Some(admin_token)).await
    }

    /// Stops the server (streams end) and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// A JSON request with the admin token; the status and body.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.admin_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sets a feature's percentage through the API.
    pub async fn set_percentage(&self, feature: &str, percentage: f64) {
        let path = format!("/api/v1/features/{feature}/percentage");
        let (status, body) = self
            .send(
                Method::PUT,
                &path,
                Some(serde_json::json!({ "percentage": percentage })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// A reader token.
    pub async fn reader_token(&self, name: &str) -> String {
        let body = serde_json::json!({ "name": name, "role": "reader" });
        let (status, body) = self.send(Method::POST, "/api/v1/tokens", Some(body)).await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }
}

/// Outages and recoveries in milliseconds.
pub fn quick_policy() -> RefreshPolicy {
    RefreshPolicy::default()
        .with_refresh_interval(Duration::from_millis(200))
        .with_backoff(Duration::from_millis(20), Duration::from_millis(400))
        .with_poll_after_failures(2)
        .with_request_timeout(Duration::from_secs(2))
        .with_stream_idle_timeout(Duration::from_secs(5))
}

/// Waits until `condition` holds, for at most `seconds`; false if it never did.
pub async fn eventually(seconds: u64, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}

/// A loopback address where nothing listens.
pub fn closed_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}
