//! Turning driver errors into `StoreError`, with what the store was doing.
//!
//! The classification is the contract callers rely on: a key of Ramp's own holding another
//! Redis type is `Corrupt` (retrying will not help); everything else the driver reports
//! (refused, timed out, dropped, loading, read-only, out of memory) is `Unavailable` (retrying
//! later may).

use ramp_store::StoreError;

/// The backend name in every error and in `Store::backend`.
pub(crate) const BACKEND: &str = "redis";

/// A driver error and the step that hit it.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub(crate) struct RedisFailure {
    context: &'static str,
    #[source]
    source: redis::RedisError,
}

/// Why an operation gave up without a driver error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GaveUp {
    /// Other writers kept changing the feature between our read and our commit.
    #[error("gave up after {attempts} attempts: other writers kept changing {what} meanwhile")]
    Contention { what: String, attempts: usize },
    /// The server took longer than the timeout to accept a connection.
    #[error("no connection within {0:?}")]
    ConnectTimeout(std::time::Duration),
    /// A reply that is not what the script returns (another program's script of the same
    /// shape, or a server that is not Redis).
    #[error("unexpected reply to {0}")]
    UnexpectedReply(&'static str),
}

/// Classifies a driver error met while doing `context`.
pub(crate) fn redis_error(context: &'static str, error: redis::RedisError) -> StoreError {
    if error.code() == Some("WRONGTYPE") {
        return StoreError::Corrupt {
            backend: BACKEND,
            detail: format!("{context}: a key holds another Redis type than Ramp wrote ({error})"),
        };
    }
    StoreError::Unavailable {
        backend: BACKEND,
        source: Box::new(RedisFailure {
            context,
            source: error,
        }),
    }
}

/// Whether the connection that returned `error` is unusable (so it must not go back to the
/// pool, and the pool's other idle connections are suspect too).
pub(crate) fn is_connection_error(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
        || error.is_unrecoverable_error()
}

/// An `Unavailable` that is not a driver error.
pub(crate) fn gave_up(reason: GaveUp) -> StoreError {
    StoreError::Unavailable {
        backend: BACKEND,
        source: Box::new(reason),
    }
}
