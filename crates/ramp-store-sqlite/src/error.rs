//! Turning driver errors into `StoreError`, with what the store was doing, so that a message
//! says which file and which step failed.
//!
//! The classification is the contract callers rely on: damaged or foreign files are `Corrupt`
//! (retrying will not help), everything else the driver reports (busy, locked, cannot open,
//! disk full) is `Unavailable` (retrying later may).

use rusqlite::ErrorCode;

use ramp_store::StoreError;

/// The backend name in every error and in `Store::backend`.
pub(crate) const BACKEND: &str = "sqlite";

/// A driver error and the step that hit it.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub(crate) struct SqliteFailure {
    context: String,
    #[source]
    source: rusqlite::Error,
}

/// Classifies a driver error met while doing `context`.
pub(crate) fn sqlite_error(context: impl Into<String>, error: rusqlite::Error) -> StoreError {
    let context = context.into();
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Corrupt {
            backend: BACKEND,
            detail: format!("{context}: {error}"),
        },
        _ => StoreError::Unavailable {
            backend: BACKEND,
            source: Box::new(SqliteFailure {
                context,
                source: error,
            }),
        },
    }
}

/// For `map_err`: classifies a driver error met while doing `context`.
pub(crate) fn sql(context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |error| sqlite_error(context, error)
}

/// Stored data that cannot be read back.
pub(crate) fn corrupt(detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        backend: BACKEND,
        detail: detail.into(),
    }
}
