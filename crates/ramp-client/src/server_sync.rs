//! Following a Ramp server: the background task of a server-mode client.
//!
//! The task loads the snapshot, then follows `/api/v1/stream` (with `ramp_stream::Follower`),
//! applying each `changed` event to its snapshot locally and refetching only on `reload`. When
//! the stream breaks it reconnects with `Last-Event-ID` (its version) after a jittered
//! exponential backoff, so it receives just what it missed. After `poll_after_failures` failures in a row it also polls the snapshot
//! (with `If-None-Match`) every `refresh_interval`, and retries the stream at once when a poll
//! shows the server is back. While connections are refused (a restart), retries stay within
//! `quick_retry_max` of each other for `quick_retry_for`, without polling (see `policy.rs`).
//! A server that answers 5xx or 429 is asked once per attempt, not twice (no `GET` after a
//! failed `HEAD`), and its `Retry-After` is waited out before the usual jittered backoff.
//!
//! The task never panics and never gives up; the application keeps answering from the last
//! snapshot whatever happens here.

use std::sync::Arc;
use std::time::Duration;

use ramp_stream::{Follower, StreamEvent};
use tokio::sync::Notify;
use tokio::time::{sleep, sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use crate::http::{Fetched, Http};
use crate::state::{Shared, Source};
use crate::{backup, ClientError, RefreshPolicy};

/// How often the names of code groups are reported again while a stream stays open.
const REPORT_CODE_GROUPS_AGAIN: Duration = Duration::from_secs(60 * 60);

/// The background task's state.
pub(crate) struct ServerSync {
    pub shared: Arc<Shared>,
    pub http: Http,
    pub policy: RefreshPolicy,
    /// Signalled by `define_group`, so the new name reaches the server.
    pub groups_defined: Arc<Notify>,
    /// The stream, resumed from the snapshot's version at each connection.
    stream: Follower,
    failures: u32,
    last_poll_failed: bool,
    /// When connections began to be refused, in this run of failures.
    refused_since: Option<Instant>,
}

impl ServerSync {
    pub fn new(
        shared: Arc<Shared>,
        http: Http,
        policy: RefreshPolicy,
        groups_defined: Arc<Notify>,
    ) -> Self {
        Self {
            shared,
            stream: http.follower(policy.stream_idle_timeout),
            http,
            policy,
            groups_defined,
            failures: 0,
            last_poll_failed: false,
            refused_since: None,
        }
    }

    /// The first load, while the client is being built: the server's snapshot, else the
    /// backup file's, else nothing (every feature inactive).
    pub async fn start(&mut self) {
        let Err(error) = self.fetch().await else {
            return;
        };
        self.shared.sync.failed();
        tracing::warn!(error = %error, "Ramp server unreachable at start");
        load_backup_file(&self.shared);
    }

    /// Follows the server until `shutdown` is cancelled.
    pub async fn run(mut self, shutdown: CancellationToken) {
        loop {
            let result = tokio::select! {
                _ = shutdown.cancelled() => return,
                result = self.follow_stream() => result,
            };
            self.failures = self.failures.saturating_add(1);
            self.shared.sync.failed();
            if let Err(error) = &result {
                if self.failures == 1 {
                    tracing::warn!(error = %error, "Ramp stream lost; answering from the last snapshot");
                } else {
                    tracing::debug!(error = %error, failures = self.failures, "Ramp stream still down");
                }
            }
            if matches!(&result, Err(error) if error.is_refused()) {
                self.refused_since.get_or_insert_with(Instant::now);
            } else {
                self.refused_since = None;
            }
            let refused_for = self.refused_since.map(|since| since.elapsed());
            let wait = match &result {
                Err(error) if error.is_server_busy() => self
                    .policy
                    .retry_wait_after(self.failures, error.retry_after()),
                _ => self.policy.retry_wait(self.failures, refused_for),
            };
            let quick = self.policy.retries_quickly(refused_for);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.wait(wait, quick) => {}
            }
        }
    }

    /// One stream connection, from catching up to its end (always an error: the stream is
    /// meant to last forever).
    async fn follow_stream(&mut self) -> Result<(), ClientError> {
        let since = self.catch_up().await?;
        self.stream.resume_after(since);
        self.stream.connect().await?;
        self.shared.sync.connected();
        self.failures = 0;
        self.refused_since = None;
        self.last_poll_failed = false;
        self.report_code_groups().await;
        let groups_defined = Arc::clone(&self.groups_defined);
        // The server forgets names not reported for a day; a stream can stay open for longer.
        let mut report_again = tokio::time::interval_at(
            Instant::now() + REPORT_CODE_GROUPS_AGAIN,
            REPORT_CODE_GROUPS_AGAIN,
        );
        loop {
            tokio::select! {
                _ = groups_defined.notified() => self.report_code_groups().await,
                _ = report_again.tick() => self.report_code_groups().await,
                event = self.stream.next() => self.handle(event?).await?,
            }
        }
    }

    /// Makes the snapshot safe to resume the stream from, and returns its version.
    ///
    /// A snapshot that came from the server resumes as it is, unless the server is now behind
    /// it (its store was reset or replaced): resuming then would skip every event up to our
    /// version, so the server's snapshot is fetched instead. A `HEAD` tells the version
    /// without sending the snapshot.
    async fn catch_up(&mut self) -> Result<u64, ClientError> {
        let loaded = self.shared.current.load();
        if loaded.source == Source::Server {
            match self.http.version().await {
                Ok(version) if version >= loaded.snapshot.version => {
                    return Ok(loaded.snapshot.version)
                }
                // A struggling server: asking again with a GET would only double its load.
                Err(error) if error.is_server_busy() => return Err(error),
                // Behind us, or a server that cannot answer HEAD: fetch.
                Ok(_) | Err(ClientError::Status { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        self.fetch().await
    }

    /// Fetches the snapshot unless the server has our version; returns the version now.
    async fn fetch(&self) -> Result<u64, ClientError> {
        let loaded = self.shared.current.load();
        let have = (loaded.source != Source::None).then_some(loaded.snapshot.version);
        match self.http.snapshot(have).await? {
            Fetched::NotModified => self.shared.confirm(Source::Server),
            Fetched::Snapshot(snapshot) => {
                self.shared.replace(snapshot, Source::Server);
            }
        }
        Ok(self.shared.current.load().snapshot.version)
    }

    /// Applies one event. An event the stream could not read arrives as a reload (see
    /// `StreamEvent::decode`): the snapshot says the same and more.
    async fn handle(&mut self, event: StreamEvent) -> Result<(), ClientError> {
        match event {
            StreamEvent::Changed {
                version,
                features,
                deleted,
            } => {
                self.shared.patch(version, features, deleted);
            }
            StreamEvent::Reload { version } => {
                let current = self.shared.current.load();
                if version != current.snapshot.version || current.source != Source::Server {
                    drop(current);
                    self.fetch().await?;
                }
            }
        }
        Ok(())
    }

    /// Waits `wait` before the next stream attempt; once the stream has failed often, polls
    /// the snapshot meanwhile, returning early when the server comes back. Not while retrying
    /// `quick`ly: the next attempt comes sooner than a poll would help.
    async fn wait(&mut self, wait: Duration, quick: bool) {
        if quick || self.failures < self.policy.poll_after_failures {
            sleep(wait).await;
            return;
        }
        let deadline = Instant::now() + wait;
        loop {
            match self.fetch().await {
                Ok(_) if self.last_poll_failed => {
                    self.last_poll_failed = false;
                    return;
                }
                Ok(_) => {}
                Err(error) => {
                    self.shared.sync.failed();
                    tracing::debug!(error = %error, "Ramp snapshot poll failed");
                    self.last_poll_failed = true;
                }
            }
            let next = Instant::now() + self.policy.refresh_interval;
            if next >= deadline {
                sleep_until(deadline).await;
                return;
            }
            sleep_until(next).await;
        }
    }

    async fn report_code_groups(&self) {
        let names = self.shared.current.load().code_groups.names();
        if names.is_empty() {
            return;
        }
        if let Err(error) = self.http.report_code_groups(names).await {
            // Only the web UI's suggestions depend on it.
            tracing::debug!(error = %error, "could not report code groups to the Ramp server");
        }
    }
}

/// Starts from the backup file, when there is one and it can be read.
pub(crate) fn load_backup_file(shared: &Arc<Shared>) {
    let Some(path) = shared.backup_path() else {
        tracing::warn!("no Ramp backup file: every feature is inactive until the first load");
        return;
    };
    match backup::load(path) {
        Ok(snapshot) => {
            tracing::warn!(version = snapshot.version, path = %path.display(),
                "Ramp starting from its backup file");
            shared.load_backup(snapshot);
        }
        Err(error) => {
            tracing::warn!(error = %error, "no usable Ramp backup: every feature is inactive until the first load");
        }
    }
}
