//! What the PostgreSQL tests share: the test server's address, a store in a schema of its own
//! that is dropped afterwards, and the rule for a missing server (skip loudly on a developer's
//! machine, fail in CI).
// Not every test file uses every helper.
#![allow(dead_code)]

use std::io::Write;
use std::time::Duration;

use ramp_store_postgres::PostgresStore;

pub mod cluster;

/// The server every machine of this project runs (trust authentication).
pub const SERVER: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Whether the test server answers. When it does not: outside CI, prints a loud SKIPPED line
/// (straight to stderr, which the test harness does not capture) and returns `false`; in CI
/// (`CI=true`) fails the test, because a green run that tested nothing would hide a broken
/// machine.
pub async fn server_is_reachable() -> bool {
    let connected = tokio::time::timeout(
        Duration::from_secs(3),
        tokio_postgres::connect(SERVER, tokio_postgres::NoTls),
    )
    .await;
    let error = match connected {
        Ok(Ok(_)) => return true,
        Ok(Err(error)) => match std::error::Error::source(&error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
        Err(_) => "no answer within 3 s".to_owned(),
    };
    let message = format!("SKIPPED: PostgreSQL not reachable at 127.0.0.1:5432 ({error})");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{message}; CI=true, so this is a failure");
    }
    let _ = writeln!(std::io::stderr(), "\n*** {message} ***\n");
    false
}

/// A schema name no other test uses: `ramp_test_` and 16 random hexadecimal digits.
pub fn unique_schema() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    format!("ramp_test_{:016x}", hasher.finish())
}

/// The URL of `schema` on the test server.
pub fn url(schema: &str) -> String {
    format!("{SERVER}?schema={schema}")
}

/// Drops its schema, and every table in it, when dropped. Drop cannot be async, and a test's
/// runtime may be shutting down, so it connects from a thread with a runtime of its own.
pub struct DropSchema {
    pub schema: String,
    pub server: String,
}

impl DropSchema {
    pub fn on_test_server(schema: &str) -> Self {
        Self {
            schema: schema.to_owned(),
            server: SERVER.to_owned(),
        }
    }
}

impl Drop for DropSchema {
    fn drop(&mut self) {
        let (schema, server) = (self.schema.clone(), self.server.clone());
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
                    .await
                    .map_err(|error| error.to_string())?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await
                    .map_err(|error| error.to_string())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            // Never panic in Drop (it may run while a failed test unwinds): say it instead.
            let _ = writeln!(
                std::io::stderr(),
                "could not drop test schema {}: {dropped:?}",
                self.schema
            );
        }
    }
}

/// A store in a new schema of the test server, and the guard that drops that schema; `None`
/// (after a loud SKIPPED) when the server is not reachable outside CI.
pub async fn temporary_store() -> Option<(PostgresStore, DropSchema)> {
    if !server_is_reachable().await {
        return None;
    }
    let schema = unique_schema();
    let guard = DropSchema::on_test_server(&schema);
    let store = PostgresStore::open_url(&url(&schema)).await.unwrap();
    Some((store, guard))
}

/// Runs raw SQL in `schema` on the test server, as another program (or a damaged disk) would.
pub async fn tamper(schema: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(SERVER, tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!("SET search_path = {schema}; {sql}"))
        .await
        .unwrap();
    drop(client);
    let _ = driver.await;
}

/// The rows a query returns, in `schema` on the test server.
pub async fn query(schema: &str, sql: &str) -> Vec<tokio_postgres::Row> {
    let (client, connection) = tokio_postgres::connect(SERVER, tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!("SET search_path = {schema}"))
        .await
        .unwrap();
    let rows = client.query(sql, &[]).await.unwrap();
    drop(client);
    let _ = driver.await;
    rows
}

/// The text of every row of the last statement of `sql` (several statements), in `schema`.
pub async fn query_batch(schema: &str, sql: &str) -> Vec<String> {
    let (client, connection) = tokio_postgres::connect(SERVER, tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    let messages = client
        .simple_query(&format!("SET search_path = {schema}; {sql}"))
        .await
        .unwrap();
    drop(client);
    let _ = driver.await;
    messages
        .iter()
        .filter_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .collect()
}

/// A feature name that is known to be valid.
pub fn name(text: &str) -> ramp_core::FeatureName {
    ramp_core::FeatureName::new(text).unwrap()
}

/// The person the tests' changes are made by.
pub fn ana() -> ramp_core::Attribution {
    ramp_core::Attribution::new("ana")
}

/// A change adding the users `ids`.
pub fn add_users(ids: &[&str]) -> ramp_core::Change {
    ramp_core::Change::AddUsers {
        users: ids
            .iter()
            .map(|id| ramp_core::UserId::new(*id).unwrap())
            .collect(),
    }
}

/// Asserts that `error` is PostgreSQL's `Corrupt` naming every one of `expected_words`.
pub fn assert_corrupt(error: ramp_store::StoreError, expected_words: &[&str]) {
    let ramp_store::StoreError::Corrupt {
        backend: "postgres",
        detail,
    } = &error
    else {
        panic!("expected Corrupt, got {error:?}");
    };
    for word in expected_words {
        assert!(
            detail.contains(word),
            "{detail:?} does not mention {word:?}"
        );
    }
}
