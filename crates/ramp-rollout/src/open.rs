//! Opening a store from a URL, or a Ramp server as a store: the one place that knows every
//! backend.

use std::sync::Arc;

use ramp_store::{MemoryStore, Store, StoreError};
use ramp_store_http::HttpStore;
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
        // A server needs a token, which does not belong in a URL that ends up in logs.
        "http" | "https" => Err(StoreError::invalid_url(
            url,
            "a Ramp server is not a store URL: use open_server(URL, TOKEN) \
             (on the command line: --server URL --token TOKEN)",
        )),
        _ => Err(StoreError::invalid_url(
            url,
            "expected sqlite://PATH, redis://HOST:PORT/DB, postgres://USER@HOST/DATABASE or memory://",
        )),
    }
}

/// Opens a Ramp server (`http://HOST:PORT` or `https://...`, as `ramp serve` prints it) as a
/// store that acts with `token`'s rights, after checking that the server answers and accepts
/// the token. Changes are recorded as made by the token's name, whatever actor the caller
/// gives; see [`ramp_store_http`] for what else differs.
pub async fn open_server(url: &str, token: &str) -> Result<Arc<dyn Store>, StoreError> {
    let store = HttpStore::new(url, token)?;
    store.check().await?;
    Ok(Arc::new(store))
}
