//! Accepting connections within limits, so that clients who open connections and send nothing
//! (or half a request) cannot exhaust the server's file descriptors: at most `max_connections`
//! are served at once (more wait in the kernel's queue until one closes), request headers must
//! arrive within the header timeout (so must a connection's first byte), and an idle keep-alive
//! connection is closed after it.
//! Request bodies and handlers have their own deadlines in the router (`routes/mod.rs`).
//!
//! This replaces `axum::serve`, which has no setting for either limit.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// How long a graceful shutdown waits for open connections before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Most HTTP/2 requests in flight on one connection.
const MAX_STREAMS_PER_CONNECTION: u32 = 64;

/// Largest buffer for one HTTP/1 request head (request line and headers), in bytes.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How HTTP/2's connection preface begins ("PRI * HTTP/2.0"); `PRI` is reserved for it and is
/// no HTTP/1 method, so a connection whose first bytes differ from these is HTTP/1.
const HTTP2_PREFACE_START: &[u8] = b"PRI";

/// Limits on connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Time allowed for a request's headers to arrive (and for an idle keep-alive connection).
    pub header_timeout: Duration,
}

/// How connections are served: built once, shared by every connection's task.
struct Protocols {
    /// HTTP/1 on its own. Its connection task is about half the size of the auto builder's,
    /// which has room for HTTP/2's state too: that matters with thousands of idle stream
    /// subscribers, each holding one connection.
    http1: http1::Builder,
    /// HTTP/2 (prior knowledge), and anything whose first bytes do not settle the question.
    auto: auto::Builder<TokioExecutor>,
    header_timeout: Duration,
    /// A connection still waiting for its first byte is dropped at shutdown, not served.
    shutdown: CancellationToken,
}

impl Protocols {
    fn new(limits: ConnectionLimits, shutdown: CancellationToken) -> Self {
        let mut http1 = http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(MAX_HEAD_BYTES);
        let mut auto = auto::Builder::new(TokioExecutor::new());
        auto.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(MAX_HEAD_BYTES);
        auto.http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
            .keep_alive_interval(limits.header_timeout)
            .keep_alive_timeout(limits.header_timeout);
        Self {
            http1,
            auto,
            header_timeout: limits.header_timeout,
            shutdown,
        }
    }

    /// Waits for the connection's first bytes (within the header timeout, so that a client
    /// that connects and sends nothing does not keep its slot), then serves it in a task of
    /// its own, sized for the protocol it speaks.
    async fn serve(
        self: Arc<Self>,
        stream: TcpStream,
        router: Router,
        watcher: Watcher,
        slot: OwnedSemaphorePermit,
    ) {
        let mut first = [0; HTTP2_PREFACE_START.len()];
        let first_bytes = tokio::time::timeout(self.header_timeout, stream.peek(&mut first));
        let peeked = tokio::select! {
            _ = self.shutdown.cancelled() => return,
            peeked = first_bytes => match peeked {
                // Closed before a byte, failed, or silent for too long: nothing to serve.
                Ok(Ok(0) | Err(_)) | Err(_) => return,
                Ok(Ok(peeked)) => peeked,
            },
        };
        let service = TowerToHyperService::new(router);
        let io = TokioIo::new(stream);
        if HTTP2_PREFACE_START.starts_with(&first[..peeked]) {
            let connection = self.auto.serve_connection(io, service).into_owned();
            tokio::spawn(finish(watcher.watch(connection), slot));
        } else {
            let connection = self.http1.serve_connection(io, service);
            tokio::spawn(finish(watcher.watch(connection), slot));
        }
    }
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then lets requests in flight
/// finish (for at most [`SHUTDOWN_GRACE`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let protocols = Arc::new(Protocols::new(limits, shutdown.clone()));
    let graceful = GracefulShutdown::new();
    loop {
        let slot = tokio::select! {
            _ = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    wait_after_accept_error(error).await;
                    continue;
                }
            },
        };
        tokio::spawn(
            protocols
                .clone()
                .serve(stream, router.clone(), graceful.watcher(), slot),
        );
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period; closing them");
    }
}

/// Runs one connection to its end, then frees its slot.
async fn finish<E>(connection: impl Future<Output = Result<(), E>>, slot: OwnedSemaphorePermit) {
    // A peer that resets or times out is routine, not worth a log line each.
    let _ = connection.await;
    drop(slot);
}

/// After a failed accept: errors about one connection are routine; running out of file
/// descriptors is not, and retrying at once would spin, so wait a little.
async fn wait_after_accept_error(error: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// The connection limit to use when none is configured: three quarters of the open-files
/// limit (raised first to the most the system allows), keeping the rest for the store's
/// connections and files.
pub fn default_max_connections() -> usize {
    let files = open_files_limit();
    (files / 4 * 3).clamp(64, 100_000)
}

#[cfg(unix)]
fn open_files_limit() -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    // `None` is unlimited.
    let raise = match (limit.current, limit.maximum) {
        (Some(current), Some(maximum)) => current < maximum,
        (Some(_), None) => true,
        _ => false,
    };
    let mut current = limit.current;
    if raise {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            current = limit.maximum;
        }
    }
    current.map_or(usize::MAX, |current| {
        usize::try_from(current).unwrap_or(usize::MAX)
    })
}

#[cfg(not(unix))]
fn open_files_limit() -> usize {
    1024
}
