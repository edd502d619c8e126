//! What the migration tests share: the test PostgreSQL (or a loud skip), a schema of their
//! own dropped afterwards, a table of records, a feature whose percentage the test moves, and
//! the covered set computed independently with `ramp_core`'s bucketing.
#![allow(dead_code)] // Each test file uses a different part.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, Pool};
use ramp_client::Client;
use ramp_rollout::Rollout;
use ramp_store::Store;
use tokio_postgres::NoTls;

/// The server every machine of this project runs (trust authentication).
pub const SERVER: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Whether the test server answers; outside CI a missing one prints a loud SKIPPED line, with
/// CI=true it fails the test.
pub async fn postgres_available(test: &str) -> bool {
    let connected = tokio::time::timeout(
        Duration::from_secs(3),
        tokio_postgres::connect(SERVER, NoTls),
    )
    .await;
    let problem = match connected {
        Ok(Ok(_)) => return true,
        Ok(Err(error)) => error.to_string(),
        Err(_) => "no answer within 3 s".to_owned(),
    };
    let message =
        format!("SKIPPED: PostgreSQL not reachable at 127.0.0.1:5432 ({problem}): {test}");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{message}; CI=true, so this is a failure");
    }
    let _ = writeln!(std::io::stderr(), "\n*** {message} ***\n");
    false
}

/// A schema private to one test, dropped (with its tables) when this is dropped.
pub struct Schema {
    pub name: String,
}

impl Schema {
    pub async fn create() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let name = format!("ramp_migration_{:016x}", hasher.finish());
        let (client, connection) = tokio_postgres::connect(SERVER, NoTls).await.unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .unwrap();
        Self { name }
    }

    /// The connection settings of this schema: its `search_path`, and commits that do not
    /// wait for the disk (a killed client process is what the tests simulate, not a crashed
    /// server, and the 100,000-row passes run on two cores).
    pub fn config(&self) -> tokio_postgres::Config {
        let mut config: tokio_postgres::Config = SERVER.parse().unwrap();
        config.options(format!(
            "-c search_path={} -c synchronous_commit=off",
            self.name
        ));
        config
    }

    pub fn url(&self) -> String {
        format!(
            "{SERVER}?options=-c%20search_path%3D{}%20-c%20synchronous_commit%3Doff",
            self.name
        )
    }

    pub fn pool(&self, size: usize) -> Pool {
        let manager = Manager::new(self.config(), NoTls);
        Pool::builder(manager).max_size(size).build().unwrap()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop cannot be async and the test's runtime may be gone: a thread with its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(SERVER, NoTls).await.unwrap();
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await
            })
        })
        .join();
    }
}

/// `records (id bigint, layout int)` with ids 1..=count at layout 1, and `effects`, where
/// every `forward` and `back` writes a row in its own transaction.
pub async fn seed(pool: &Pool, count: i64) {
    let client = pool.get().await.unwrap();
    client
        .batch_execute(&format!(
            "CREATE TABLE records (id bigint PRIMARY KEY, layout int NOT NULL DEFAULT 1);
             INSERT INTO records (id) SELECT generate_series(1, {count});
             CREATE TABLE effects (record_id bigint NOT NULL, direction text NOT NULL);"
        ))
        .await
        .unwrap();
}

/// Ids of one query's first column (bigint), sorted.
pub async fn ids(pool: &Pool, query: &str) -> BTreeSet<i64> {
    let client = pool.get().await.unwrap();
    let rows = client.query(query, &[]).await.unwrap();
    rows.iter().map(|row| row.get::<_, i64>(0)).collect()
}

/// One count.
pub async fn count(pool: &Pool, query: &str) -> i64 {
    let client = pool.get().await.unwrap();
    client.query_one(query, &[]).await.unwrap().get(0)
}

/// The ids of 1..=count that `feature` at `percentage` covers, from `ramp_core` alone.
pub fn covered(feature: &str, percentage: f64, count: i64) -> BTreeSet<i64> {
    (1..=count)
        .filter(|id| ramp_core::bucket::in_percentage(&id.to_string(), feature, percentage, false))
        .collect()
}

/// A feature in a memory store, and a direct client following it.
pub struct Feature {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    pub client: Client,
}

impl Feature {
    pub async fn new(name: &'static str) -> Self {
        let store = ramp_rollout::open_store("memory://").await.unwrap();
        let client = Client::with_store(store.clone())
            .count_checks(false)
            .connect()
            .await
            .unwrap();
        Self {
            name,
            store,
            client,
        }
    }

    /// Sets the percentage and waits (with a deadline) until the client has it.
    pub async fn set_percentage(&self, percentage: f64) {
        let rollout = Rollout::new(self.store.clone(), "test");
        rollout
            .activate_percentage(self.name, percentage)
            .await
            .unwrap();
        let version = self.store.snapshot().await.unwrap().version;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.client.version() < version {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the client never saw version {version}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Waits (polling, with a deadline) until `condition` holds.
pub async fn wait_for<F, Fut>(what: &str, seconds: u64, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
