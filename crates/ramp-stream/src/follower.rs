//! `Follower`: reads a server's change stream over HTTP, one event at a time.
//!
//! It opens `/api/v1/stream` (the caller builds the request: URL and credentials), resumes with
//! `Last-Event-ID` from the last event it read or the version the caller says it has, takes a
//! connection that sends nothing for the idle timeout (the server sends a heartbeat every 15 s
//! by default) for a broken one, and parses events as they arrive. When a connection fails the
//! next call opens another; how long to wait first is the caller's [`Backoff`](crate::Backoff).
//!
//! Every method is safe to cancel (to use in `tokio::select!`): events already read are kept
//! for the next call, and a half-made connection is simply made again.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::time::Duration;

use ramp_core::Feature;
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{RequestBuilder, Response};
use serde::de::DeserializeOwned;
use tokio::time::{timeout, timeout_at, Instant};

use crate::{SseEvent, SseParser, StreamError, StreamEvent};

/// Builds the stream's request: its URL and credentials (the follower adds the rest).
type MakeRequest = Box<dyn Fn() -> RequestBuilder + Send + Sync>;

/// A follower of one server's change stream, reading events of type `StreamEvent<F>`.
pub struct Follower<F = Feature> {
    make_request: MakeRequest,
    idle_timeout: Duration,
    /// The version to resume after (`Last-Event-ID`): the last event's id, or what the caller
    /// set. `None`: start afresh (the server then begins with a `reload`).
    resume_after: Option<u64>,
    connection: Option<Connection>,
    events: PhantomData<fn() -> F>,
}

/// One open stream.
struct Connection {
    url: String,
    response: Response,
    parser: SseParser,
    /// Events parsed and not returned yet (one chunk can hold several).
    ready: VecDeque<SseEvent>,
    /// Nothing received until then and the connection counts as broken.
    silent_until: Instant,
}

impl<F> std::fmt::Debug for Follower<F> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Follower")
            .field("idle_timeout", &self.idle_timeout)
            .field("resume_after", &self.resume_after)
            .field("connected", &self.connection.is_some())
            .finish()
    }
}

impl<F: DeserializeOwned> Follower<F> {
    /// A follower that is not connected yet; `make_request` gives the stream's request (a GET
    /// of `/api/v1/stream` with the credentials), `idle_timeout` how long a connection may stay
    /// silent.
    pub fn new(
        make_request: impl Fn() -> RequestBuilder + Send + Sync + 'static,
        idle_timeout: Duration,
    ) -> Self {
        Self {
            make_request: Box::new(make_request),
            idle_timeout,
            resume_after: None,
            connection: None,
            events: PhantomData,
        }
    }

    /// The next connection resumes after `version`: the server sends only what came later
    /// (or a `reload` when it no longer has all of it).
    pub fn resume_after(&mut self, version: u64) {
        self.resume_after = Some(version);
    }

    /// Whether a connection is open.
    pub fn is_connected(&self) -> bool {
        self.connection.is_some()
    }

    /// Opens a connection (closing any open one), resuming after the version set or last read.
    pub async fn connect(&mut self) -> Result<(), StreamError> {
        self.connection = None;
        let mut request = (self.make_request)().header(ACCEPT, "text/event-stream");
        if let Some(version) = self.resume_after {
            request = request.header("Last-Event-ID", version.to_string());
        }
        let (client, request) = request.build_split();
        let request = request.map_err(|source| StreamError::Http {
            url: source.url().map(ToString::to_string).unwrap_or_default(),
            source,
        })?;
        let url = request.url().to_string();
        // The answer's head is bounded by the idle timeout too: a server that accepts the
        // connection and then says nothing is as broken as one that goes silent later.
        let response = match timeout(self.idle_timeout, client.execute(request)).await {
            Err(_) => return Err(self.silent(url)),
            Ok(Err(source)) => return Err(StreamError::Http { url, source }),
            Ok(Ok(response)) => response,
        };
        if !response.status().is_success() {
            return Err(StreamError::Status {
                url,
                status: response.status().as_u16(),
            });
        }
        let is_event_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value: &HeaderValue| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        if !is_event_stream {
            return Err(StreamError::NotAnEventStream { url });
        }
        self.connection = Some(Connection {
            url,
            response,
            parser: SseParser::default(),
            ready: VecDeque::new(),
            silent_until: Instant::now() + self.idle_timeout,
        });
        Ok(())
    }

    /// The next event, connecting first when no connection is open. Events of kinds this
    /// version does not know are skipped. An error closes the connection; the next call opens
    /// a new one, resuming after the last event read.
    pub async fn next(&mut self) -> Result<StreamEvent<F>, StreamError> {
        loop {
            let connection = match self.connection.as_mut() {
                Some(connection) => connection,
                None => {
                    self.connect().await?;
                    continue;
                }
            };
            let event = match connection.next_event(self.idle_timeout).await {
                Ok(event) => event,
                Err(error) => {
                    self.connection = None;
                    return Err(error);
                }
            };
            if let Some(version) = event.id.as_deref().and_then(|id| id.trim().parse().ok()) {
                self.resume_after = Some(version);
            }
            if let Some(event) = StreamEvent::decode(&event) {
                return Ok(event);
            }
        }
    }

    fn silent(&self, url: String) -> StreamError {
        StreamError::Silent {
            url,
            seconds: self.idle_timeout.as_secs(),
        }
    }
}

impl Connection {
    /// The next SSE event on this connection.
    async fn next_event(&mut self, idle_timeout: Duration) -> Result<SseEvent, StreamError> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Ok(event);
            }
            let chunk = match timeout_at(self.silent_until, self.response.chunk()).await {
                Err(_) => {
                    return Err(StreamError::Silent {
                        url: self.url.clone(),
                        seconds: idle_timeout.as_secs(),
                    })
                }
                Ok(Err(source)) => {
                    return Err(StreamError::Http {
                        url: self.url.clone(),
                        source,
                    })
                }
                Ok(Ok(None)) => {
                    return Err(StreamError::Closed {
                        url: self.url.clone(),
                    })
                }
                Ok(Ok(Some(chunk))) => chunk,
            };
            // A heartbeat counts: the connection is alive.
            self.silent_until = Instant::now() + idle_timeout;
            self.ready.extend(self.parser.push(&chunk));
        }
    }
}
