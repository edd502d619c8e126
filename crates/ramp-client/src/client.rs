//! `Client`, the handle applications check features with, and `ClientBuilder`.
//!
//! Every check reads one atomically swapped snapshot: no lock, no allocation, no I/O, no
//! panic, whatever the server is doing. Building a client loads the first snapshot (from the
//! server or store, else the backup file, else none) and spawns the one background task that
//! keeps it fresh; the task stops when the last clone of the client is dropped, or on `close`.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ramp_core::{CodeGroups, Context, Decision};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::exposure::sender::Sender;
use crate::exposure::{ExposureBatch, ExposureSettings};
use crate::http::Http;
use crate::migration_report::Reporter;
use crate::server_sync::ServerSync;
use crate::state::{lock, ChangeEvent, Shared, Source};
use crate::{ClientError, RefreshPolicy};

/// Where a client gets its snapshots.
enum Origin {
    Server {
        url: String,
        token: String,
    },
    #[cfg(feature = "direct")]
    Store(crate::store_sync::StoreOrigin),
}

/// Settings for a [`Client`]; [`ClientBuilder::connect`] builds it.
pub struct ClientBuilder {
    origin: Origin,
    backup_file: Option<PathBuf>,
    policy: RefreshPolicy,
    code_groups: CodeGroups,
    exposures: ExposureSettings,
}

impl ClientBuilder {
    /// Saves every new snapshot to this file (atomically), and starts from it when the server
    /// (or store) cannot be reached at start. Use one file per application instance.
    pub fn backup_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.backup_file = Some(path.into());
        self
    }

    /// How to follow the server and back off when it is down.
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Defines a code group (see [`Client::define_group`]) before the first snapshot loads.
    pub fn code_group(
        mut self,
        name: impl Into<String>,
        predicate: impl Fn(&Context) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.code_groups.define(name, contained(predicate));
        self
    }

    /// Whether to count checks per feature, answer and reason (on by default) and, for a
    /// server client, send the counts to the server. Off, a check costs nothing extra.
    pub fn count_checks(mut self, enabled: bool) -> Self {
        self.exposures.enabled = enabled;
        self
    }

    /// Whether checks with a user id also count distinct users per feature and answer (on by
    /// default, when checks are counted). Each user id is hashed into a HyperLogLog sketch of
    /// 1 KiB per feature and answer; ids are never kept or sent.
    pub fn count_users(mut self, enabled: bool) -> Self {
        self.exposures.count_users = enabled;
        self
    }

    /// The application name sent with the counts (default: the executable's file name).
    pub fn application(mut self, name: impl Into<String>) -> Self {
        self.exposures.application = name.into();
        self
    }

    /// This running instance's name sent with the counts (default: `HOSTNAME-PID`).
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.exposures.instance = name.into();
        self
    }

    /// How often counts are sent to the server (default: 10 s; also once on `close`).
    pub fn exposure_interval(mut self, interval: Duration) -> Self {
        self.exposures.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The most count entries (one per feature and reason, plus one per batch) kept while the
    /// server cannot be reached (default: 100,000, a few MiB); past it the oldest batches are
    /// dropped, and the number of checks dropped is reported with the next batch.
    pub fn exposure_pending_limit(mut self, entries: usize) -> Self {
        self.exposures.pending_entries = entries;
        self
    }

    /// How long `close` may spend sending the last counts (default: 2 s).
    pub fn exposure_close_deadline(mut self, deadline: Duration) -> Self {
        self.exposures.close_deadline = deadline;
        self
    }

    /// Where batches of counts take their times from (default: the system clock).
    pub fn exposure_clock(
        mut self,
        clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
    ) -> Self {
        self.exposures.clock = Arc::new(clock);
        self
    }

    /// Loads the first snapshot and starts following changes. Fails only for a bad setting
    /// (an invalid URL, no Tokio runtime): an unreachable server or store is not an error,
    /// the client starts from the backup file or with every feature inactive, and says so
    /// through [`Client::source`].
    pub async fn connect(self) -> Result<Client, ClientError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ClientError::NoRuntime)?;
        let counting = self.exposures.enabled;
        let shared = Arc::new(Shared::new(
            self.code_groups,
            self.backup_file,
            self.exposures,
        ));
        let shutdown = CancellationToken::new();
        let groups_defined = Arc::new(Notify::new());
        let mut handles = Vec::new();
        let (handle, reporter) = match self.origin {
            Origin::Server { url, token } => {
                let http = Http::new(&url, &token, &self.policy)?;
                let reporter = Reporter::Server(http.clone());
                if counting {
                    let sender = Sender::new(shared.clone(), http.clone());
                    handles.push(runtime.spawn(sender.run(shutdown.clone())));
                }
                let mut sync =
                    ServerSync::new(shared.clone(), http, self.policy, groups_defined.clone());
                sync.start().await;
                (runtime.spawn(sync.run(shutdown.clone())), reporter)
            }
            #[cfg(feature = "direct")]
            Origin::Store(origin) => {
                let reporter = Reporter::of_store(&origin);
                let mut sync =
                    crate::store_sync::StoreSync::new(shared.clone(), origin, self.policy);
                sync.start().await;
                (runtime.spawn(sync.run(shutdown.clone())), reporter)
            }
        };
        handles.push(handle);
        Ok(Client {
            shared,
            reporter: Arc::new(reporter),
            task: Arc::new(Task {
                shutdown,
                handles: Mutex::new(handles),
                groups_defined,
            }),
        })
    }
}

/// The background tasks (following changes, sending counts), stopped when the last client
/// clone goes.
struct Task {
    shutdown: CancellationToken,
    handles: Mutex<Vec<JoinHandle<()>>>,
    groups_defined: Arc<Notify>,
}

impl Drop for Task {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Evaluates features locally from a snapshot that a background task keeps fresh.
///
/// Cheap to clone (clones share the snapshot and the task). Checks never block, never
/// allocate (for `is_active`), never fail and never panic: with no snapshot at all, every
/// feature is inactive.
///
/// ```no_run
/// use ramp_client::{Client, Source};
/// use ramp_core::Context;
///
/// # async fn run() -> Result<(), ramp_client::ClientError> {
/// let client = Client::builder("http://127.0.0.1:4242", "READER-TOKEN")
///     .backup_file("/var/lib/myapp/ramp-backup.json")
///     .code_group("staff", |context: &Context| {
///         context.user_id().is_some_and(|id| id.ends_with("@corp.com"))
///     })
///     .connect()
///     .await?;
/// if client.source() != Source::Server {
///     eprintln!("Ramp: answering from {:?} until the server is back", client.source());
/// }
/// if client.is_active("new-checkout", &Context::user("42")) { /* the new path */ }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
    /// Where [`Client::report_migration`] sends reports.
    pub(crate) reporter: Arc<Reporter>,
    task: Arc<Task>,
}

impl Client {
    /// A client of the Ramp server at `server_url` (`http://host:port`), with a token of
    /// role `reader` (or `admin`).
    pub fn builder(server_url: impl Into<String>, token: impl Into<String>) -> ClientBuilder {
        Self::with_origin(Origin::Server {
            url: server_url.into(),
            token: token.into(),
        })
    }

    /// A client of the Ramp server with default settings.
    pub async fn connect(
        server_url: impl Into<String>,
        token: impl Into<String>,
    ) -> Result<Client, ClientError> {
        Self::builder(server_url, token).connect().await
    }

    /// A client that follows a store directly, with no server: `sqlite://PATH`,
    /// `redis://HOST:PORT/DB`, `postgres://USER@HOST/DATABASE` (see
    /// `ramp_rollout::open_store`).
    #[cfg(feature = "direct")]
    pub fn direct(store_url: impl Into<String>) -> ClientBuilder {
        Self::with_origin(Origin::Store(crate::store_sync::StoreOrigin::Url(
            store_url.into(),
        )))
    }

    /// A client that follows a store the application has opened.
    #[cfg(feature = "direct")]
    pub fn with_store(store: Arc<dyn ramp_store::Store>) -> ClientBuilder {
        Self::with_origin(Origin::Store(crate::store_sync::StoreOrigin::Store(store)))
    }

    /// A client that follows a store directly, with default settings.
    #[cfg(feature = "direct")]
    pub async fn from_store_url(store_url: impl Into<String>) -> Result<Client, ClientError> {
        Self::direct(store_url).connect().await
    }

    fn with_origin(origin: Origin) -> ClientBuilder {
        ClientBuilder {
            origin,
            backup_file: None,
            policy: RefreshPolicy::default(),
            code_groups: CodeGroups::new(),
            exposures: ExposureSettings::default(),
        }
    }

    /// Whether `feature` is active for `context`. Unknown features are inactive. Counted
    /// (one relaxed atomic increment) unless counting is off.
    #[inline(always)]
    pub fn is_active(&self, feature: &str, context: &Context) -> bool {
        self.shared
            .current
            .with(|loaded| loaded.is_active(feature, context))
    }

    /// Whether `feature` is active for `context`, and why (`not_found` for unknown features).
    /// Counted like `is_active`.
    pub fn explain(&self, feature: &str, context: &Context) -> Decision {
        self.shared
            .current
            .with(|loaded| loaded.explain(feature, context))
    }

    /// Whether `feature` covers the user `user_id`: the answer `is_active` gives for
    /// `Context::user(user_id)` (same bucketing, lists, stored and code groups), but NOT counted
    /// as a check. For programs that walk records rather than serve users (a data migration,
    /// [`crate::migration`]): counting a million records as exposures would drown the real ones.
    pub fn covers(&self, feature: &str, user_id: &str) -> bool {
        let context = Context::user(user_id);
        self.shared.current.with(|loaded| {
            loaded
                .compiled
                .is_active(feature, &context, &loaded.code_groups)
        })
    }

    /// The percentage of `feature` in the current snapshot, when it exists.
    pub(crate) fn percentage_of(&self, feature: &str) -> Option<ramp_core::Percentage> {
        let loaded = self.shared.current.load();
        loaded
            .snapshot
            .features
            .binary_search_by(|candidate| candidate.name.as_str().cmp(feature))
            .ok()
            .map(|index| loaded.snapshot.features[index].percentage)
    }

    /// Takes the counts of checks made since the last drain (every counter back to zero) as
    /// one batch. A server client's background task drains and sends them by itself, so
    /// counts taken here are not sent; this is for direct-mode clients and tests.
    pub fn exposure_counts(&self) -> ExposureBatch {
        self.shared.exposures.drain(&self.shared.current.load())
    }

    /// Every feature, active or not, for `context` (the gem's `feature_states`).
    pub fn feature_states(&self, context: &Context) -> BTreeMap<String, bool> {
        let loaded = self.shared.current.load();
        loaded
            .compiled
            .evaluate_all(context, &loaded.code_groups)
            .map(|(name, decision)| (name.to_owned(), decision.active))
            .collect()
    }

    /// The names of the features active for `context`, sorted (the gem's `active_features`).
    pub fn active_features(&self, context: &Context) -> Vec<String> {
        let loaded = self.shared.current.load();
        let mut names: Vec<String> = loaded
            .compiled
            .evaluate_all(context, &loaded.code_groups)
            .filter(|(_, decision)| decision.active)
            .map(|(name, _)| name.to_owned())
            .collect();
        names.sort_unstable();
        names
    }

    /// Whether the snapshot has a feature of this name.
    pub fn contains(&self, feature: &str) -> bool {
        self.shared
            .current
            .with(|loaded| loaded.compiled.contains(feature))
    }

    /// Registers (or replaces) a code group, like the gem's `define_group`: a feature that
    /// lists the group is active for contexts the predicate accepts. A predicate that panics
    /// counts as "not a member". The name is reported to the server so its web UI can offer it.
    pub fn define_group(
        &self,
        name: impl Into<String>,
        predicate: impl Fn(&Context) -> bool + Send + Sync + 'static,
    ) {
        self.shared
            .define_group(name.into(), Arc::new(contained(predicate)));
        self.task.groups_defined.notify_one();
    }

    /// Calls `callback` after every change of the snapshot (from the background task, so keep
    /// it short). A callback that panics is logged and kept.
    pub fn on_change(&self, callback: impl Fn(&ChangeEvent) + Send + Sync + 'static) {
        self.shared.add_callback(Arc::new(callback));
    }

    /// Whether the client has a snapshot to answer from (fresh or from the backup file).
    /// When false, every feature is inactive.
    pub fn is_ready(&self) -> bool {
        self.source() != Source::None
    }

    /// Where the current snapshot came from.
    pub fn source(&self) -> Source {
        self.shared.current.with(|loaded| loaded.source)
    }

    /// Whether the background task is following the server (or store) now, and how many of
    /// its attempts to reach it have failed.
    pub fn sync_status(&self) -> crate::SyncStatus {
        self.shared.sync.status()
    }

    /// The version of the current snapshot (0 when there is none).
    pub fn version(&self) -> u64 {
        self.shared.current.with(|loaded| loaded.snapshot.version)
    }

    /// Where sending the counts of checks to the server stands: batches sent and waiting,
    /// and checks whose counts were dropped. Updated after each send round.
    pub fn exposure_status(&self) -> crate::ExposureStatus {
        self.shared.exposures.status.read()
    }

    /// Asks the background task to send the counts now rather than at the next interval;
    /// returns at once (`exposure_status().rounds` grows when the round is done).
    pub fn flush_exposures(&self) {
        self.shared.exposures.flush_now.notify_one();
    }

    /// Stops following changes (checks keep answering from the last snapshot), sends the
    /// last counts of checks (within the close deadline, 2 s by default) and waits for the
    /// background tasks to end. Dropping every clone of the client stops them too.
    pub async fn close(&self) {
        self.task.shutdown.cancel();
        let handles = std::mem::take(&mut *lock(&self.task.handles));
        for handle in handles {
            let _ = handle.await;
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loaded = self.shared.current.load();
        formatter
            .debug_struct("Client")
            .field("version", &loaded.snapshot.version)
            .field("source", &loaded.source)
            .field("features", &loaded.compiled.len())
            .finish()
    }
}

/// A predicate whose panic means "not a member" instead of reaching the application's check.
fn contained(
    predicate: impl Fn(&Context) -> bool + Send + Sync + 'static,
) -> impl Fn(&Context) -> bool + Send + Sync + 'static {
    move |context| catch_unwind(AssertUnwindSafe(|| predicate(context))).unwrap_or(false)
}
