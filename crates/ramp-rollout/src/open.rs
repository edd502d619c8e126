//! Opening a store from a URL: the one place that knows every backend.

use std::sync::Arc;

use ramp_store::{MemoryStore, Store, StoreError};
use ramp_store_postgres::PostgresStore;
use ramp_store_redis::RedisStore;
use ramp_store_sqlite::SqliteStore;

/// The store used when none is named: `ramp.db` in the current directory.
pub const DEFAULT_STORE_URL: &str = "sqlite://ramp.db";

/// Opens the store a URL names: `sqlite://PATH[?randomize=true]`,
/// `redis://HOST:PORT/DB[?prefix=P&randomize=BOOL&history_limit=N]` (the rollout gem's data),
/// `postgres://USER@HOST:PORT/DATABASE[?schema=NAME&randomize=BOOL]` or `memory://`.
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let scheme = url
        .split_once("://")
        .map(|(scheme, _)| scheme)
        .unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Arc::new(SqliteStore::open_url(url)?)),
        "memory" => {
            let randomize = url.contains("randomize=true");
            Ok(Arc::new(MemoryStore::new(randomize)))
        }
        "redis" => Ok(Arc::new(RedisStore::open_url(url).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(PostgresStore::open_url(url).await?)),
        _ => Err(StoreError::InvalidUrl {
            url: url.to_owned(),
            reason: "expected sqlite://PATH, redis://HOST:PORT/DB, postgres://USER@HOST/DATABASE or memory://".into(),
        }),
    }
}
