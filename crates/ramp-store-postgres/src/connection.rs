//! Connecting: the session settings every connection gets (the schema as `search_path`,
//! timeouts, keepalives), the pool that the store's operations borrow connections from, and
//! dedicated connections for migrating and listening.
//!
//! Every wait here is bounded, so an unreachable server is an `Unavailable` error within
//! seconds, never a hang; and the pool checks each connection before lending it, so the
//! connections a server restart broke are thrown away instead of failing the next operation.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use ramp_store::StoreError;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config, NoTls};

use crate::error::{database_error, pool_error, sql, unavailable, TimedOut};
use crate::PostgresUrl;

/// How long connecting may take, from the first packet to a ready session, unless the URL
/// sets `connect_timeout`. A local server answers in milliseconds; one that does not answer in
/// three seconds is down, and callers are better told so than kept waiting.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one operation may take once it has a connection. Loading a million-user feature
/// takes a fraction of a second; this only stops a server that stopped answering from
/// hanging its caller forever.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections in the pool. Writes to one feature queue on its row lock whatever the pool size,
/// so a modest pool serves many writers; it also keeps several stores (a test suite, a server
/// and its CLI) well under PostgreSQL's default limit of 100 connections.
pub const POOL_SIZE: usize = 16;

/// Idle connections ask the kernel to probe the server after this long, so a server that
/// vanished without closing its sockets is noticed.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

/// Unacknowledged data this old means the server is gone: the kernel closes the connection.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(20);

/// The settings every connection of a store uses: the URL's, plus the schema as `search_path`
/// (so every statement names tables without a schema, and migrations create them in it),
/// bounded timeouts and keepalives where the URL sets none.
pub(crate) fn session_config(url: &PostgresUrl) -> Config {
    let mut config = url.config().clone();
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(TCP_USER_TIMEOUT);
    }
    if config.get_keepalives_idle() == Config::new().get_keepalives_idle() {
        config.keepalives_idle(KEEPALIVE_IDLE);
    }
    if config.get_application_name().is_none() {
        config.application_name("ramp");
    }
    // The schema name needs no quoting (the URL parser allows only [a-z0-9_]). JIT off: every
    // statement here touches a row or an index range, and PostgreSQL, misled by estimates for
    // tiny tables, would otherwise spend a second compiling a plan that runs in microseconds,
    // on every execution (JIT code is not cached).
    let search_path = format!("-c search_path={} -c jit=off", url.schema());
    let options = match config.get_options() {
        Some(existing) if !existing.is_empty() => format!("{existing} {search_path}"),
        _ => search_path,
    };
    config.options(options);
    config
}

/// The whole-connection deadline: the URL's `connect_timeout` covers only the TCP connect, but a
/// server can accept a socket and then never finish the startup handshake.
pub(crate) fn connect_deadline(config: &Config) -> Duration {
    config
        .get_connect_timeout()
        .copied()
        .unwrap_or(CONNECT_TIMEOUT)
}

/// The pool of connections the store's operations use.
pub(crate) fn pool(config: Config) -> Result<Pool, StoreError> {
    let deadline = connect_deadline(&config);
    // Verified: one empty query per checkout (tens of microseconds on a local network), so a
    // connection broken by a server restart is discarded here rather than failing an operation.
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Verified,
        },
    );
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(deadline))
        .recycle_timeout(Some(deadline))
        .wait_timeout(Some(OPERATION_TIMEOUT))
        .build()
        .map_err(|error| unavailable("creating the connection pool", error))
}

/// A connection from the pool.
pub(crate) async fn pooled(pool: &Pool) -> Result<Object, StoreError> {
    pool.get().await.map_err(pool_error)
}

/// A connection of its own (for migrating, or for listening), and the task that drives it.
/// The task ends when the client is dropped.
pub(crate) async fn dedicated(
    config: &Config,
    purpose: &'static str,
) -> Result<(Client, JoinHandle<()>), StoreError> {
    let (client, connection) =
        tokio::time::timeout(connect_deadline(config), config.connect(NoTls))
            .await
            .map_err(|_| unavailable(purpose, TimedOut(connect_deadline(config))))?
            .map_err(|error| database_error(purpose, error))?;
    let driver = tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, purpose, "a dedicated PostgreSQL connection ended");
        }
    });
    Ok((client, driver))
}

/// The store version: how many writes were ever committed to this schema.
pub(crate) async fn store_version(
    client: &impl tokio_postgres::GenericClient,
) -> Result<u64, StoreError> {
    let row = client
        .query_one("SELECT version FROM meta", &[])
        .await
        .map_err(sql("reading the store version"))?;
    let version: i64 = row
        .try_get(0)
        .map_err(|error| crate::error::corrupt(format!("the store version: {error}")))?;
    u64::try_from(version).map_err(|_| crate::error::corrupt("the store version is negative"))
}
