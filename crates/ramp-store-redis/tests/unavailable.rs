//! An unreachable Redis: operations fail fast with `StoreError::Unavailable` (never hang, never
//! panic) and work again by themselves once Redis is back. Runs against a private
//! `redis-server` that the test starts on a free port, kills, freezes and restarts, so it never
//! disturbs the shared test Redis.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ramp_core::{Attribution, Change, FeatureName};
use ramp_store::{HistoryQuery, Store, StoreError};
use ramp_store_redis::{RedisStore, RESPONSE_TIMEOUT};

/// A redis-server of the test's own, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server.answers() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn answers(&self) -> bool {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .and_then(|client| client.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection))
            .is_ok()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status();
        assert!(status.is_ok_and(|status| status.success()), "kill {signal}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.signal("-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Prints past the test harness's capture, so that a skipped test is seen.
macro_rules! loud {
    ($($argument:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($argument)*);
    }};
}

fn redis_server_available() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "redis-server is missing and CI=true"
        );
        loud!("SKIPPED: redis-server is not installed: the unavailable-Redis test");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chat() -> FeatureName {
    FeatureName::new("chat").unwrap()
}

/// Every kind of operation, each bounded so that a hang fails the test instead of stalling it.
async fn every_operation_fails_fast(store: &RedisStore, within: Duration) {
    let ana = Attribution::new("ana");
    let started = Instant::now();
    let results: Vec<(&str, Result<(), StoreError>)> = vec![
        (
            "snapshot",
            bounded(within, store.snapshot()).await.map(drop),
        ),
        (
            "feature",
            bounded(within, store.feature(&chat())).await.map(drop),
        ),
        (
            "apply",
            bounded(within, store.apply(&chat(), &Change::Activate, None, &ana))
                .await
                .map(drop),
        ),
        (
            "delete",
            bounded(within, store.delete(&chat(), None, &ana))
                .await
                .map(drop),
        ),
        ("groups", bounded(within, store.groups()).await.map(drop)),
        (
            "history",
            bounded(within, store.history(&HistoryQuery::default()))
                .await
                .map(drop),
        ),
        (
            "history_event",
            bounded(within, store.history_event(1)).await.map(drop),
        ),
    ];
    for (operation, result) in results {
        assert!(
            matches!(
                result,
                Err(StoreError::Unavailable {
                    backend: "redis",
                    ..
                })
            ),
            "{operation}: {result:?}"
        );
    }
    eprintln!(
        "7 operations failed with Unavailable in {:?}",
        started.elapsed()
    );
}

async fn bounded<T>(
    within: Duration,
    operation: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(within, operation)
        .await
        .expect("the operation hung")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_fail_fast_while_redis_is_down_and_recover_by_themselves() {
    if !redis_server_available() {
        return;
    }
    let port = free_port();
    let server = Server::start(port);
    let store = RedisStore::open_url(&format!("redis://127.0.0.1:{port}/0?prefix=app:"))
        .await
        .unwrap();
    let ana = Attribution::new("ana");
    store
        .apply(&chat(), &Change::Activate, None, &ana)
        .await
        .unwrap();
    let _notices = store.subscribe();
    drop(server);

    let started = Instant::now();
    every_operation_fails_fast(&store, Duration::from_secs(3)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "refused connections fail at once"
    );

    let server = Server::start(port);
    // The store reconnects by itself: no reopening, no retry loop in the caller.
    store
        .apply(&chat(), &Change::Activate, None, &ana)
        .await
        .unwrap();
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(
        snapshot.features.len(),
        1,
        "a fresh server (no persistence) with the new write"
    );

    // A server that accepts nothing (frozen) times out instead of hanging.
    server.signal("-STOP");
    let started = Instant::now();
    let frozen = bounded(RESPONSE_TIMEOUT * 3, store.snapshot()).await;
    assert!(
        matches!(frozen, Err(StoreError::Unavailable { .. })),
        "{frozen:?}"
    );
    eprintln!(
        "a frozen server failed the snapshot after {:?}",
        started.elapsed()
    );
    server.signal("-CONT");
    store.snapshot().await.unwrap();
}

/// A commit that reached Redis but whose answer was lost (the connection broke right after
/// `EXEC` was sent) is `OutcomeUnknown`, not `Unavailable`: it was stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_answer_is_lost_is_outcome_unknown() {
    if !common::redis_available("a_commit_whose_answer_is_lost_is_outcome_unknown") {
        return;
    }
    let upstream = "127.0.0.1:6379".parse().unwrap();
    let proxy = ramp_store::conformance::CuttingProxy::start(upstream, b"EXEC").await;
    let prefix = common::unique_prefix();
    let _guard = common::KeyGuard::new(common::REDIS, 0, &prefix);
    let through_proxy =
        RedisStore::open_url(&format!("redis://{}/0?prefix={prefix}", proxy.address))
            .await
            .unwrap();
    let direct = RedisStore::open_url(&format!("{}/0?prefix={prefix}", common::REDIS))
        .await
        .unwrap();
    ramp_store::conformance::a_lost_commit_answer_is_outcome_unknown(
        std::sync::Arc::new(through_proxy),
        std::sync::Arc::new(direct),
        &proxy,
    )
    .await;
}
