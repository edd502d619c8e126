//! Starting and stopping: first-start credential, binding, following the store, and a graceful
//! shutdown (in-flight requests finish; streams end).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use ramp_store::{Role, Store, StoreError};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{generate_token, token_credential};
use crate::clock::{Clock, SystemClock};
use crate::code_groups::CodeGroupRegistry;
use crate::connections::{self, ConnectionLimits};
use crate::credentials::CredentialCache;
use crate::live::Live;
use crate::login_throttle::LoginThrottle;
use crate::metrics::Metrics;
use crate::replay_gate::ReplayGate;
use crate::state::{AppState, Shared};
use crate::{routes, ServerConfig, ServerError};

/// Replays of history that run at once: each holds up to 100,000 events and a store
/// connection, and two keep both cores of a small machine busy.
const REPLAYS_AT_ONCE: usize = 2;

/// The name of the token created on first start.
pub const FIRST_ADMIN_NAME: &str = "admin";

/// A bound server, ready to run.
#[derive(Debug)]
pub struct Server {
    state: AppState,
    router: Router,
    listener: TcpListener,
    first_admin_token: Option<String>,
}

impl Server {
    /// Loads the snapshot and tokens, creates the first admin token if there is none (only on
    /// a loopback address: on a public one that would leave the server open until someone
    /// read the log), and binds the address.
    pub async fn bind(config: ServerConfig, store: Arc<dyn Store>) -> Result<Self, ServerError> {
        Self::bind_with_clock(config, store, Arc::new(SystemClock)).await
    }

    /// [`Server::bind`] with the clock that decisions depending on time read (session
    /// lifetime, the sweep of expired sessions, the login throttle, code-group expiry): tests
    /// pass a [`crate::clock::ManualClock`] and move it instead of waiting.
    pub async fn bind_with_clock(
        config: ServerConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ServerError> {
        let credentials = Arc::new(CredentialCache::default());
        credentials.refresh(store.as_ref()).await?;
        let mut first_admin_token = None;
        if credentials.is_empty() {
            if !config.bind.ip().is_loopback() {
                return Err(ServerError::Config(format!(
                    "refusing to listen on {}: no API token exists yet, so anyone on the network \
                     could get in. Create one first (`ramp token create --name NAME --role admin`) \
                     or listen on 127.0.0.1",
                    config.bind
                )));
            }
            let token = generate_token();
            let credential = token_credential(FIRST_ADMIN_NAME, Role::Admin, &token, "ramp serve");
            match store.create_credential(&credential).await {
                Ok(()) => first_admin_token = Some(token),
                // Another node created it at the same moment: use theirs.
                Err(StoreError::Conflict { .. }) => {}
                Err(error) => return Err(error.into()),
            }
            credentials.refresh(store.as_ref()).await?;
        }
        let live = Arc::new(Live::load(store.as_ref(), config.resume_buffer_bytes).await?);
        let metrics = Arc::new(Metrics::new(config.exposure_metrics_per_feature));
        metrics.set_snapshot(&live.current());
        let listener =
            TcpListener::bind(config.bind)
                .await
                .map_err(|source| ServerError::Listen {
                    address: config.bind.to_string(),
                    source,
                })?;
        let exposures =
            crate::exposures::Exposures::new(Arc::clone(&store), config.exposure_settings());
        let state = AppState::new(Shared {
            store,
            live,
            credentials,
            login_throttle: LoginThrottle::new(config.login_concurrency),
            metrics,
            code_groups: Mutex::new(CodeGroupRegistry::new(config.code_group_limit)),
            exposures,
            replays: ReplayGate::new(REPLAYS_AT_ONCE),
            stage_moves: tokio::sync::Mutex::new(()),
            clock,
            config,
            shutdown: CancellationToken::new(),
        });
        let (router, _) = routes::build(state.clone());
        Ok(Self {
            state,
            router,
            listener,
            first_admin_token,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener
            .local_addr()
            .map_err(|source| ServerError::Listen {
                address: self.state.config.bind.to_string(),
                source,
            })
    }

    /// The admin token created on this start, if one was: print it once.
    pub fn first_admin_token(&self) -> Option<&str> {
        self.first_admin_token.as_deref()
    }

    /// Serves until `stop` completes, then lets in-flight requests finish and ends streams.
    pub async fn run(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let shutdown = self.state.shutdown.clone();
        let address = self.local_addr()?;
        let live = tokio::spawn(self.state.live.clone().follow(
            self.state.store.clone(),
            self.state.metrics.clone(),
            shutdown.clone(),
        ));
        let tokens = tokio::spawn(
            self.state
                .credentials
                .clone()
                .follow(self.state.store.clone(), shutdown.clone()),
        );
        let limits = ConnectionLimits {
            max_connections: self.state.config.max_connections(),
            header_timeout: self.state.config.header_timeout(),
        };
        let exposures = tokio::spawn(crate::exposures::maintain(self.state.clone()));
        let serving = tokio::spawn(connections::serve(
            self.listener,
            self.router,
            limits,
            shutdown.clone(),
        ));
        tokio::select! {
            _ = stop => {}
            // Cancelled from elsewhere (a test's handle).
            _ = shutdown.cancelled() => {}
        }
        tracing::info!("shutting down: finishing requests, closing streams");
        shutdown.cancel();
        let result = serving.await;
        let _ = tokio::join!(live, tokens, exposures);
        result.map_err(|error| ServerError::Listen {
            address: address.to_string(),
            source: std::io::Error::other(error),
        })
    }
}

/// A future that completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this
/// is called, not when the future is first polled, so a signal that arrives while the server is
/// still starting is not lost (and does not kill the process the default way).
#[cfg(unix)]
pub fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, ServerError> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen_error = |source| ServerError::Config(format!("cannot listen for signals: {source}"));
    let mut interrupt = signal(SignalKind::interrupt()).map_err(listen_error)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(listen_error)?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// A future that completes on Ctrl-C.
#[cfg(not(unix))]
pub fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, ServerError> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
