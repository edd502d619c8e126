//! `AppState`: what every request handler shares (the store, the live snapshot, tokens,
//! metrics, settings).

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use ramp_store::Store;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::credentials::CredentialCache;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::ServerConfig;

/// The shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AppState")
            .field("backend", &self.store.backend())
            .field("live", &self.live)
            .finish()
    }
}

/// The fields behind [`AppState`].
pub struct Shared {
    /// Where features live.
    pub store: Arc<dyn Store>,
    /// The snapshot evaluations use and the change feed.
    pub live: Arc<Live>,
    /// Known API tokens and web-UI accounts.
    pub credentials: Arc<CredentialCache>,
    /// Recent wrong passwords, per username.
    pub login_throttle: crate::login_throttle::LoginThrottle,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Settings.
    pub config: ServerConfig,
    /// Cancelled when the server is asked to stop; open streams end then.
    pub shutdown: CancellationToken,
    /// Where decisions that depend on time read it (a test's clock can be moved).
    pub clock: Arc<dyn Clock>,
    /// Names of code-defined groups that applications reported, for the web UI.
    pub code_groups: Mutex<crate::code_groups::CodeGroupRegistry>,
    /// Counts of checks: those applications report and the server's own, on their way to the
    /// store.
    pub exposures: crate::exposures::Exposures,
    /// Turns for the requests that replay history (answers as of a past time, stamps).
    pub replays: crate::replay_gate::ReplayGate,
    /// Held from a stage move's WIP count to its write, so two moves into the last free
    /// place of a stage cannot both pass (see `wip_guard.rs`).
    pub stage_moves: tokio::sync::Mutex<()>,
}

impl AppState {
    /// Wraps the shared fields.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
