//! `ramp serve`: Ramp's HTTP server.
//!
//! - the admin API under `/api/v1` (every operation of the library and command line, with
//!   `ETag`/`If-Match` optimistic concurrency and JSON errors), described by an OpenAPI document
//!   generated from the route table (`routes/mod.rs`);
//! - OFREP under `/ofrep/v1` for OpenFeature clients in any language (`routes/ofrep.rs`);
//! - the SDK feed: `/api/v1/snapshot` and the `/api/v1/stream` Server-Sent Events
//!   (`routes/stream.rs`), fed by `live.rs`, which follows the store's change notices so that
//!   several servers on one PostgreSQL or Redis stay in step;
//! - API tokens with roles (`auth.rs`, `credentials.rs`), `/healthz`, `/readyz` and `/metrics`
//!   (`metrics.rs`);
//! - the web UI (`ui/`, served by `routes/ui.rs`) with password logins and sessions
//!   (`session.rs`, `routes/session.rs`, `routes/accounts.rs`).
//!
//! ```no_run
//! # async fn run() -> Result<(), ramp_server::ServerError> {
//! let store = ramp_rollout::open_store("sqlite://ramp.db").await?;
//! let server = ramp_server::Server::bind(ramp_server::ServerConfig::default(), store).await?;
//! println!("listening on {}", server.local_addr()?);
//! server.run(ramp_server::shutdown_signal()?).await
//! # }
//! ```

pub mod auth;
mod body_deadline;
pub mod clock;
mod code_groups;
mod config;
mod connections;
pub mod credentials;
mod deletion_check;
mod error;
mod exposures;
mod extract;
mod fresh_snapshot;
mod graduation_guard;
pub mod health_report;
mod json_errors;
pub mod live;
mod login_throttle;
mod metrics;
mod ofrep_bulk;
mod password_memory;
mod replay_gate;
pub mod routes;
mod server;
pub mod session;
pub mod stage_time;
mod state;
mod waiting_line;
mod wip_guard;

pub use config::{ServerConfig, DEFAULT_BIND};
pub use error::{ApiError, ErrorBody, ServerError};
pub use server::{shutdown_signal, Server, FIRST_ADMIN_NAME};
pub use state::AppState;
