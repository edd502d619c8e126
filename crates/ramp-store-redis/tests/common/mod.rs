//! Helpers every Redis test file shares: finding the test Redis (or skipping loudly), a key
//! prefix private to each test, and a guard that deletes only that prefix's keys.
//!
//! Tests never FLUSHALL or FLUSHDB a database others use: everything they write is under a
//! random `ramp-test-…:` prefix in database 0 (the differential tests, which need the gem's
//! unprefixed keys, use a database of their own; see `differential.rs`).
#![allow(dead_code)]

pub mod ruby;

/// Prints past the test harness's capture (which hides a passing test's `eprintln!`), so that a
/// skipped test is seen in every run's output.
#[macro_export]
macro_rules! loud {
    ($($argument:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($argument)*);
    }};
}

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ramp_store_redis::RedisStore;

/// Where CI and developers run Redis.
pub const REDIS: &str = "redis://127.0.0.1:6379";

/// Whether the test Redis answers. When it does not, prints a loud SKIPPED line and returns
/// false, except with CI=true, where a missing service must fail the run.
pub fn redis_available(test: &str) -> bool {
    let answered = redis::Client::open(format!("{REDIS}/0"))
        .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(2)))
        .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection));
    match answered {
        Ok(_) => true,
        Err(error) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("Redis not reachable at 127.0.0.1:6379 ({error}) and CI=true: {test} must run")
        }
        Err(error) => {
            loud!("SKIPPED: Redis not reachable at 127.0.0.1:6379 ({error}): {test}");
            false
        }
    }
}

/// A key prefix no other test (or run) uses.
pub fn unique_prefix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = (
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|time| time.as_nanos())
            .unwrap_or_default(),
    );
    let hash =
        std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), seed);
    format!("ramp-test-{hash:016x}:")
}

/// A store on the test Redis under a fresh prefix, and the guard that cleans that prefix.
pub async fn store(parameters: &str) -> (RedisStore, KeyGuard) {
    let prefix = unique_prefix();
    let url = format!("{REDIS}/0?prefix={prefix}{parameters}");
    let store = RedisStore::open_url(&url).await.unwrap();
    (store, KeyGuard::new(REDIS, 0, &prefix))
}

/// An async connection to the test Redis, to write as the gem (or a person) would.
pub async fn raw(database: u32) -> redis::aio::MultiplexedConnection {
    redis::Client::open(format!("{REDIS}/{database}"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Deletes every key under its prefix when dropped (after the store's last use).
pub struct KeyGuard {
    url: String,
    prefix: String,
}

impl KeyGuard {
    pub fn new(server: &str, database: u32, prefix: &str) -> Self {
        assert!(
            !prefix.is_empty(),
            "an empty prefix would delete other tests' keys"
        );
        Self {
            url: format!("{server}/{database}"),
            prefix: prefix.to_owned(),
        }
    }
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        let (url, pattern) = (self.url.clone(), format!("{}*", self.prefix));
        // A plain thread: Drop may run on an async runtime's worker, which must not block.
        let cleaning = std::thread::spawn(move || -> redis::RedisResult<()> {
            let client = redis::Client::open(url)?;
            let mut connection = client.get_connection_with_timeout(Duration::from_secs(2))?;
            // SCAN rather than KEYS: the test Redis may be busy with other tests.
            let keys: Vec<String> =
                redis::Commands::scan_match::<_, String>(&mut connection, &pattern)?
                    .collect::<Result<_, _>>()?;
            for chunk in keys.chunks(500) {
                redis::cmd("DEL").arg(chunk).query::<()>(&mut connection)?;
            }
            Ok(())
        });
        if let Ok(Err(error)) = cleaning.join() {
            eprintln!("could not delete the test keys {}*: {error}", self.prefix);
        }
    }
}
