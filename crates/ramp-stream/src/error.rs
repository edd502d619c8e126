//! `StreamError`: why a follower's connection to the stream failed or ended.

/// Why the stream could not be opened, or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The request could not be sent, or the body could not be read.
    #[error("request to {url} failed")]
    Http {
        /// The stream's URL.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a status other than success.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The stream's URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The answer is not `text/event-stream` (a proxy's page, an older server).
    #[error("{url} did not answer with an event stream")]
    NotAnEventStream {
        /// The stream's URL.
        url: String,
    },
    /// Nothing arrived, not even a heartbeat, for the idle timeout: a half-open connection
    /// never reports an error by itself.
    #[error("nothing received from {url} for {seconds} s")]
    Silent {
        /// The stream's URL.
        url: String,
        /// The idle timeout, in seconds.
        seconds: u64,
    },
    /// The server closed the stream (it is meant to last forever).
    #[error("{url} closed the stream")]
    Closed {
        /// The stream's URL.
        url: String,
    },
}
