//! `ClientError`: what can go wrong while building a client or keeping its snapshot fresh.
//!
//! Only building a client returns one to the application (a bad URL, no Tokio runtime).
//! Everything that happens later (the server is down, the stream broke, the backup file is
//! unwritable) is logged and retried; evaluation itself never fails.

use std::path::PathBuf;
use std::time::Duration;

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
        /// How long the server asked clients to wait (`Retry-After` in seconds), if it did.
        retry_after: Option<Duration>,
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
    /// The server refused a request with its reason (a migration report over a bound, an
    /// unknown feature).
    #[error("{url} answered HTTP {status}: {message}")]
    Refused {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// What the application asked to send breaks one of the model's rules (nothing was sent).
    #[error(transparent)]
    Invalid(#[from] ramp_core::CoreError),
    /// A migration's setting cannot be used (a bad name, a batch size of 0).
    #[error("migration {migration:?}: {reason}")]
    MigrationSetting {
        /// The migration's name.
        migration: String,
        /// What is wrong.
        reason: String,
    },
    /// A migration's ledger or record source failed (its database is unreachable, its table
    /// unreadable): the pass stopped, and a later pass resumes where it left off.
    #[error("migration {migration:?}: {action} failed")]
    MigrationStorage {
        /// The migration's name.
        migration: String,
        /// What the migrator was doing (`reading the ledger`, `reading records`).
        action: &'static str,
        /// The database's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store (direct mode) failed.
    #[cfg(feature = "direct")]
    #[error(transparent)]
    Store(#[from] ramp_store::StoreError),
}

impl ClientError {
    /// The server could not be reached at all: the connection was refused or could not be
    /// made, rather than answered badly or timed out. A restarting server looks like this.
    pub(crate) fn is_refused(&self) -> bool {
        let source = match self {
            ClientError::Http { source, .. } => source,
            ClientError::Stream(ramp_stream::StreamError::Http { source, .. }) => source,
            _ => return false,
        };
        source.is_connect() && !source.is_timeout()
    }

    /// The server answered, but with a failure of its own (5xx) or "too many requests": it is
    /// up but struggling, so asking again at once, or another way, only adds to its load.
    pub(crate) fn is_server_busy(&self) -> bool {
        matches!(self, ClientError::Status { status, .. } if *status == 429 || *status >= 500)
    }

    /// How long the server asked to be left alone, when it answered with `Retry-After`.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request to `url` that failed to send, as the background task sees it.
    async fn http_error(url: &str) -> ClientError {
        let source = reqwest::get(url).await.expect_err("nothing listens there");
        ClientError::Http {
            url: url.to_owned(),
            source,
        }
    }

    #[tokio::test]
    async fn a_closed_port_is_a_refusal_and_an_error_status_is_not() {
        // A port that was just free: bind, note it, close.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let refused = http_error(&format!("http://{address}/api/v1/snapshot")).await;
        assert!(refused.is_refused(), "{refused:?}");
        let stream = ClientError::Stream(ramp_stream::StreamError::Http {
            url: String::new(),
            source: reqwest::get(format!("http://{address}/api/v1/stream"))
                .await
                .expect_err("nothing listens there"),
        });
        assert!(stream.is_refused());

        let answered = ClientError::Status {
            url: String::new(),
            status: 503,
            retry_after: None,
        };
        assert!(!answered.is_refused());
        let closed = ClientError::Stream(ramp_stream::StreamError::Closed { url: String::new() });
        assert!(!closed.is_refused());
    }
}
