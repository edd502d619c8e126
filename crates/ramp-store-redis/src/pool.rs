//! A small pool of dedicated connections with timeouts, which heals itself after Redis restarts.
//!
//! Dedicated rather than one shared multiplexed connection because a write WATCHes its payload
//! and WATCH belongs to a connection: two writers sharing one would see each other's watches.
//! Connections that fail are dropped (with every idle one, which likely died with the same
//! server), and the next operation connects afresh: so operations fail fast while Redis is down
//! and work again by themselves once it is back.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ramp_store::StoreError;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, Pipeline, Value};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::{gave_up, is_connection_error, redis_error, GaveUp};

/// How long connecting may take before the operation fails with `Unavailable`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long one reply may take before the operation fails with `Unavailable` (a snapshot of
/// 10,000 features, or a feature with a million users, takes tens of milliseconds).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);

/// At most this many connections at once; more concurrent operations wait for one.
const MAX_CONNECTIONS: usize = 32;

/// The pool of one store.
pub(crate) struct Pool {
    client: Client,
    config: AsyncConnectionConfig,
    idle: Mutex<Vec<MultiplexedConnection>>,
    permits: Semaphore,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Pool").finish_non_exhaustive()
    }
}

/// A request to send: one command or a pipeline (possibly a MULTI/EXEC transaction).
pub(crate) enum Request<'a> {
    Command(&'a Cmd),
    Pipeline(&'a Pipeline),
}

impl Pool {
    pub(crate) fn new(client: Client) -> Self {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        Self {
            client,
            config,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(MAX_CONNECTIONS),
        }
    }

    /// The client, for connections the pool does not manage (Pub/Sub).
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// A connection for one operation: an idle one, or a new one.
    pub(crate) async fn get(&self) -> Result<Connection<'_>, StoreError> {
        // The semaphore is never closed, so acquiring only waits.
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| gave_up(GaveUp::UnexpectedReply("the connection pool")))?;
        let idle = lock(&self.idle).pop();
        let reused = idle.is_some();
        let connection = match idle {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        Ok(Connection {
            connection: Some(connection),
            reused,
            watching: false,
            pool: self,
            _permit: permit,
        })
    }

    /// A connection outside the pool, for the watcher (whose WATCH must outlive operations).
    pub(crate) async fn dedicated(&self) -> Result<MultiplexedConnection, StoreError> {
        self.connect().await
    }

    async fn connect(&self) -> Result<MultiplexedConnection, StoreError> {
        let connecting = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config);
        // The driver's own timeout covers the TCP connect; this one also covers the handshake.
        match tokio::time::timeout(CONNECT_TIMEOUT * 2, connecting).await {
            Ok(Ok(connection)) => Ok(connection),
            Ok(Err(error)) => Err(redis_error("connecting", error)),
            Err(_) => Err(gave_up(GaveUp::ConnectTimeout(CONNECT_TIMEOUT * 2))),
        }
    }

    fn forget_idle(&self) {
        lock(&self.idle).clear();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded Vec is consistent between statements: a poisoned lock is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One connection, lent for one operation; it goes back to the pool when dropped unless it
/// failed.
pub(crate) struct Connection<'a> {
    connection: Option<MultiplexedConnection>,
    /// Taken from the pool rather than just opened: it may have died while idle.
    reused: bool,
    /// A WATCH may be active: such a connection never goes back to the pool (the next
    /// operation's transaction would abort on keys it never read).
    watching: bool,
    pool: &'a Pool,
    _permit: SemaphorePermit<'a>,
}

impl Connection<'_> {
    /// Sends the first request of an operation. A connection error on a pooled connection
    /// (it died with a restarted server) is retried once on a fresh connection: safe because
    /// an operation's first request only reads (or WATCHes and reads).
    pub(crate) async fn first(
        &mut self,
        context: &'static str,
        request: Request<'_>,
    ) -> Result<Value, StoreError> {
        match self.send(&request).await {
            // Not after a timeout: the server is slow, not gone, and waiting twice is not fast.
            Err(error) if self.reused && is_connection_error(&error) && !error.is_timeout() => {
                self.pool.forget_idle();
                self.connection = Some(self.pool.connect().await?);
                self.reused = false;
                self.send(&request)
                    .await
                    .map_err(|error| self.failed(context, error))
            }
            result => result.map_err(|error| self.failed(context, error)),
        }
    }

    /// Sends a later request of an operation (never retried: it may write).
    pub(crate) async fn then(
        &mut self,
        context: &'static str,
        request: Request<'_>,
    ) -> Result<Value, StoreError> {
        self.send(&request)
            .await
            .map_err(|error| self.failed(context, error))
    }

    /// Sends the request that commits a write (never retried). When the connection breaks or
    /// times out after the request may have left, Redis may have run it: the error is
    /// `OutcomeUnknown`, never a plain failure.
    pub(crate) async fn commit(
        &mut self,
        context: &'static str,
        request: Request<'_>,
    ) -> Result<Value, StoreError> {
        let sent_before = self.connection.is_some();
        match self.send(&request).await {
            Ok(value) => Ok(value),
            Err(error) if sent_before && may_have_run(&error) => {
                let failure = self.failed(context, error);
                Err(outcome_unknown(failure))
            }
            Err(error) => Err(self.failed(context, error)),
        }
    }

    /// Records whether a WATCH may be active (set before sending one, cleared by EXEC).
    pub(crate) fn set_watching(&mut self, watching: bool) {
        self.watching = watching;
    }

    /// Forgets a WATCH after deciding not to write, so the connection goes back clean. A
    /// failure only costs the connection.
    pub(crate) async fn unwatch(&mut self) {
        let unwatch = redis::cmd("UNWATCH");
        match self.send(&Request::Command(&unwatch)).await {
            Ok(_) => self.watching = false,
            Err(error) => {
                self.failed("forgetting a WATCH", error);
            }
        }
    }

    async fn send(&mut self, request: &Request<'_>) -> Result<Value, redis::RedisError> {
        let Some(connection) = self.connection.as_mut() else {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "the connection failed earlier in this operation",
            )));
        };
        match request {
            Request::Command(command) => command.query_async(connection).await,
            Request::Pipeline(pipeline) => pipeline.query_async(connection).await,
        }
    }

    /// Classifies an error, dropping the connection (and the idle ones) if it is broken.
    fn failed(&mut self, context: &'static str, error: redis::RedisError) -> StoreError {
        if is_connection_error(&error) {
            self.connection = None;
            self.pool.forget_idle();
        }
        redis_error(context, error)
    }
}

/// Whether a request that failed this way may still have been carried out: the answer was
/// lost (a timeout, a broken connection), not refused.
fn may_have_run(error: &redis::RedisError) -> bool {
    (error.is_timeout() || error.is_io_error() || error.is_connection_dropped())
        && !error.is_connection_refusal()
}

/// The same failure, as an unknown outcome.
fn outcome_unknown(failure: StoreError) -> StoreError {
    match failure {
        StoreError::Unavailable { backend, source } => {
            StoreError::OutcomeUnknown { backend, source }
        }
        other => other,
    }
}

impl Drop for Connection<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            if !self.watching {
                lock(&self.pool.idle).push(connection);
            }
        }
    }
}
