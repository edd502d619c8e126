//! Turning driver and pool errors into `StoreError`, with the step that failed, so that a
//! message says what the store was doing.
//!
//! The classification is the contract callers rely on: a schema that is not Ramp's (a missing
//! table or column) is `Corrupt`, since retrying will not help; a value PostgreSQL cannot hold
//! (a NUL character in a comment, say) is `Invalid`; everything else the driver reports (refused
//! connections, a restarting server, timeouts, lost connections) is `Unavailable`, because
//! retrying later may work.

use std::time::Duration;

use ramp_core::CoreError;
use ramp_store::StoreError;
use tokio_postgres::error::SqlState;

/// The backend name in every error and in `Store::backend`.
pub(crate) const BACKEND: &str = "postgres";

/// A driver error and the step that hit it.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub(crate) struct PostgresFailure {
    context: String,
    #[source]
    source: ramp_store::Source,
}

/// An operation that did not finish in time (the server stopped answering).
#[derive(Debug, thiserror::Error)]
#[error("no answer within {0:?}")]
pub(crate) struct TimedOut(pub(crate) Duration);

/// `Unavailable` for any source error met while doing `context`.
pub(crate) fn unavailable(
    context: impl Into<String>,
    source: impl Into<ramp_store::Source>,
) -> StoreError {
    StoreError::Unavailable {
        backend: BACKEND,
        source: Box::new(PostgresFailure {
            context: context.into(),
            source: source.into(),
        }),
    }
}

/// Classifies a driver error met while doing `context`.
pub(crate) fn database_error(
    context: impl Into<String>,
    error: tokio_postgres::Error,
) -> StoreError {
    let context = context.into();
    let Some(code) = error.code() else {
        // No SQLSTATE: the connection failed, closed or timed out.
        return unavailable(context, error);
    };
    let class = &code.code()[..2];
    if *code == SqlState::UNDEFINED_TABLE
        || *code == SqlState::UNDEFINED_COLUMN
        || *code == SqlState::DUPLICATE_TABLE
    {
        return corrupt(format!(
            "{context}: the schema does not hold Ramp's tables as this version expects them: {error}"
        ));
    }
    if class == "22" {
        // Data exceptions: a value PostgreSQL cannot store (NUL in text or JSON, a time out of
        // its range). The memory store would keep it, but no write here can.
        let reason = error.as_db_error().map_or_else(
            || error.to_string(),
            |database| database.message().to_owned(),
        );
        return StoreError::Invalid(CoreError::InvalidChange {
            reason: format!("PostgreSQL cannot store this value ({context}): {reason}"),
        });
    }
    unavailable(context, error)
}

/// Whether an error with this SQLSTATE may go away by itself: a lost connection, a server
/// shutting down or starting up, too many connections, a lock or serialization conflict.
pub(crate) fn is_transient(code: &SqlState) -> bool {
    matches!(&code.code()[..2], "08" | "40" | "53" | "55" | "57" | "58")
}

/// For `map_err`: classifies a driver error met while doing `context`.
/// For the answer to a COMMIT: an error without SQLSTATE means the answer was lost (the
/// connection broke or timed out), so the commit may have happened: `OutcomeUnknown`.
pub(crate) fn commit_error(context: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |error| {
        if error.code().is_some() {
            return database_error(context, error);
        }
        StoreError::OutcomeUnknown {
            backend: BACKEND,
            source: Box::new(PostgresFailure {
                context: context.into(),
                source: error.into(),
            }),
        }
    }
}

pub(crate) fn sql(context: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |error| database_error(context, error)
}

/// Classifies a failure to get a connection from the pool.
pub(crate) fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    match error {
        deadpool_postgres::PoolError::Backend(error) => database_error("connecting", error),
        other => unavailable("connecting", other),
    }
}

/// Stored data that cannot be read back.
pub(crate) fn corrupt(detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        backend: BACKEND,
        detail: detail.into(),
    }
}
