//! `ClientError`: what can go wrong while building a client or keeping its snapshot fresh.
//!
//! Only building a client returns one to the application (a bad URL, no Tokio runtime).
//! Everything that happens later (the server is down, the stream broke, the backup file is
//! unwritable) is logged and retried; evaluation itself never fails.

use std::path::PathBuf;

/// An error of the Ramp client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server URL cannot be used.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The client was built outside a Tokio runtime, so it could not start its task.
    #[error("a Ramp client must be built inside a Tokio runtime")]
    NoRuntime,
    /// A request could not be sent, or its answer could not be read.
    #[error("request to {url} failed")]
    Http {
        /// The URL requested.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an unexpected status.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The server's answer is not what Ramp sends (a snapshot, a stream event).
    #[error("unreadable answer from {url}")]
    Decode {
        /// The URL requested.
        url: String,
        /// Why it could not be read.
        #[source]
        source: serde_json::Error,
    },
    /// The event stream broke or ended.
    #[error("the event stream from {url} ended: {reason}")]
    StreamEnded {
        /// The stream's URL.
        url: String,
        /// What ended it.
        reason: String,
    },
    /// The event stream could not be opened, or broke.
    #[error(transparent)]
    Stream(#[from] ramp_stream::StreamError),
    /// The backup file could not be read or written.
    #[error("backup file {path}")]
    Backup {
        /// The backup file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The backup file does not hold a snapshot.
    #[error("backup file {path} does not hold a Ramp snapshot")]
    BackupFormat {
        /// The backup file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: serde_json::Error,
    },
    /// The store (direct mode) failed.
    #[cfg(feature = "direct")]
    #[error(transparent)]
    Store(#[from] ramp_store::StoreError),
}
